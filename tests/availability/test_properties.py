"""Property tests: the availability engine against the brute-force reference (rdv/availability/reference.py).

Random agendas over 1–4 weeks, often around the DST changes of 2026 and 2027 and the French public
holidays: weekly / monthly / one-off plages with exceptions, absences (some over several days),
RDVs on or off the 5-minute grid, random durations and booking windows.
"""

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rdv.availability import (
    BookingWindow,
    Opening,
    Recurrence,
    RecurringEvent,
    booking_window,
    compute_slots,
    expand,
    free_intervals,
    local_day_interval,
)
from rdv.availability import reference as ref
from rdv.availability.slots import cut

# Mutation testing (mutation/availability-slots.toml) only needs to know that a test fails: no shrinking.
FAIL_FAST = os.environ.get("RDV_PROPERTY_FAIL_FAST") == "1"
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=(Phase.explicit, Phase.reuse, Phase.generate) if FAIL_FAST else tuple(Phase),
)

DST_SUNDAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]
HOLIDAYS_NEARBY = [date(2026, 5, 1), date(2026, 7, 14), date(2027, 3, 29), date(2026, 11, 1)]
FRANCE = holidays.country_holidays("FR", years=range(2025, 2029))


def as_slot_map(slots) -> ref.SlotMap:
    result: ref.SlotMap = {}
    for slot in slots:
        key = (slot.start, slot.lieu_id)
        assert key not in result, f"duplicate slot {key}"
        result[key] = (slot.end, slot.agent_ids)
    return result


def check_against_reference(slots, expected: ref.SlotMap) -> None:
    starts = [slot.start for slot in slots]
    assert starts == sorted(starts), "slots are not sorted by start"
    got = as_slot_map(slots)
    missing = sorted(set(expected) - set(got), key=str)[:5]
    extra = sorted(set(got) - set(expected), key=str)[:5]
    assert not missing and not extra, f"missing {missing}, extra {extra}"
    assert got == expected


# --------------------------------------------------------------------------- strategies


def clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def first_days(draw) -> date:
    """The first local date of the searched range: around a DST change, a holiday, or anywhere."""
    choice = draw(st.integers(0, 3))
    if choice <= 1:
        return draw(st.sampled_from(DST_SUNDAYS)) - timedelta(days=draw(st.integers(0, 13)))
    if choice == 2:
        return draw(st.sampled_from(HOLIDAYS_NEARBY)) - timedelta(days=draw(st.integers(0, 10)))
    return draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))


def _fifth_weekday_before(day: date) -> date:
    while day.day < 29:
        day -= timedelta(days=1)
    return day


@st.composite
def recurrences(draw, range_start: date, range_end: date) -> tuple[date, Recurrence]:
    """A rule and its first date, chosen so that the rule often produces occurrences in the range."""
    kind = draw(st.sampled_from(["weekly", "weekly", "weekly", "monthly", "none"]))
    if kind == "weekly":
        first = range_start + timedelta(days=draw(st.integers(-42, (range_end - range_start).days)))
        rule = Recurrence(
            "weekly",
            interval=draw(st.integers(1, 3)),
            weekdays=draw(st.frozensets(st.integers(0, 6), max_size=7)),
        )
    elif kind == "monthly":
        first = range_start + timedelta(days=draw(st.integers(-150, (range_end - range_start).days)))
        if draw(st.booleans()):  # a 5th weekday of its month: the rule means "the last one"
            first = _fifth_weekday_before(first)
        rule = Recurrence("monthly", interval=draw(st.integers(1, 3)))
    else:
        first = range_start + timedelta(days=draw(st.integers(-1, (range_end - range_start).days)))
        rule = Recurrence("none")
    if draw(st.integers(0, 3)) == 0:
        until = range_start + timedelta(days=draw(st.integers(-3, (range_end - range_start).days + 3)))
        rule = Recurrence(rule.kind, rule.interval, rule.weekdays, until)
    return first, rule


@st.composite
def wall_times(draw, night: bool) -> tuple[time, time]:
    """Start and end of a plage: on a 5- or 15-minute grid between 07:00 and 19:00, or at night
    (crossing 02:00–03:00, which matters on DST Sundays)."""
    if night:
        start = draw(st.integers(0, 11)) * 15 + 30  # 00:30 … 03:15
        end = draw(st.integers(max(start // 15 + 1, 9), 17)) * 15  # 02:15 … 04:15
        return clock(start), clock(end)
    grid = draw(st.sampled_from([5, 15]))
    start = draw(st.integers(7 * 60 // grid, 19 * 60 // grid)) * grid
    length = draw(st.integers(1, 6 * 60 // grid)) * grid
    return clock(start), clock(min(start + length, 23 * 60 + 55))


@st.composite
def exceptions(draw, event: RecurringEvent, range_start: date, range_end: date):
    """Cancel or move a few of the occurrences actually produced in the range."""
    days = ref.reference_dates(event, range_start - timedelta(days=event.span_days), range_end)
    if not days or draw(st.booleans()):
        return {}
    result = {}
    for day in draw(st.lists(st.sampled_from(days), max_size=3, unique=True)):
        if draw(st.booleans()):
            result[day] = None
        else:
            result[day] = draw(wall_times(night=draw(st.integers(0, 5)) == 0))
    return result


@st.composite
def plages(draw, range_start: date, range_end: date) -> RecurringEvent:
    first, rule = draw(recurrences(range_start, range_end))
    night = draw(st.integers(0, 7)) == 0
    if night and draw(st.booleans()):  # a night plage right on a DST Sunday
        first = draw(st.sampled_from(DST_SUNDAYS))
        weekdays = (rule.weekdays | {6}) if rule.weekdays else rule.weekdays  # empty: the first date's weekday
        rule = Recurrence(rule.kind, rule.interval, weekdays, rule.until)
    start_time, end_time = draw(wall_times(night))
    event = RecurringEvent(first, start_time, end_time, rule)
    return RecurringEvent(first, start_time, end_time, rule, exceptions=draw(exceptions(event, range_start, range_end)))


@st.composite
def absences(draw, range_start: date, range_end: date) -> RecurringEvent:
    span_days = draw(st.sampled_from([0, 0, 1, 2, 3]))
    first, rule = draw(recurrences(range_start, range_end))
    if rule.kind == "monthly" or span_days:  # multi-day absences are mostly one-off
        first = range_start + timedelta(days=draw(st.integers(-span_days - 1, (range_end - range_start).days)))
        rule = Recurrence("none") if span_days else rule
    start = draw(st.integers(6 * 12, 20 * 12)) * 5
    end = draw(st.integers(6 * 12, 21 * 12)) * 5
    return RecurringEvent(first, clock(start), clock(end), rule, span_days=span_days)


@st.composite
def rdvs(draw, range_start: date, days: int) -> tuple[datetime, datetime]:
    """An existing RDV, on the 5-minute grid or at any minute."""
    day = draw(st.integers(0, days - 1))
    if draw(st.booleans()):
        minute, length = draw(st.integers(6 * 12, 20 * 12)) * 5, draw(st.integers(1, 24)) * 5
    else:
        minute, length = draw(st.integers(6 * 60, 20 * 60)), draw(st.integers(1, 150))
    start = ref.local_day(range_start + timedelta(days=day))[0] + timedelta(minutes=minute)
    return start, start + timedelta(minutes=length)


@dataclass
class Scenario:
    range_start: date
    range_end: date
    plages: list[tuple[int, int, RecurringEvent]]  # (agent, lieu, plage)
    absences: dict[int, list[RecurringEvent]]
    rdvs: dict[int, list[tuple[datetime, datetime]]]
    holidays: list[date]
    duration: timedelta
    now: datetime  # the cut origin
    earliest: datetime
    latest: datetime

    @property
    def agents(self) -> list[int]:
        return sorted(self.absences)

    def reference_openings(self):
        return [
            (agent, lieu, start, end)
            for agent, lieu, plage in self.plages
            for start, end in ref.reference_expand(plage, self.range_start, self.range_end)
        ]

    def reference_busy(self):
        busy = {}
        for agent in self.agents:
            busy[agent] = list(self.rdvs[agent]) + [ref.local_day(day) for day in self.holidays]
            for absence in self.absences[agent]:
                busy[agent] += ref.reference_expand(absence, self.range_start, self.range_end)
        return busy


@st.composite
def scenarios(draw) -> Scenario:
    range_start = draw(first_days())
    days = 7 * draw(st.integers(1, 4))
    range_end = range_start + timedelta(days=days - 1)
    agents = list(range(1, draw(st.integers(1, 4)) + 1))
    lieux = [1, 2][: draw(st.integers(1, 2))]
    agenda = [
        (agent, draw(st.sampled_from(lieux)), draw(plages(range_start, range_end)))
        for agent in agents
        for _ in range(draw(st.integers(1, 3)))
    ]
    scenario = Scenario(
        range_start=range_start,
        range_end=range_end,
        plages=agenda,
        absences={agent: draw(st.lists(absences(range_start, range_end), max_size=3)) for agent in agents},
        rdvs={agent: draw(st.lists(rdvs(range_start, days), max_size=8)) for agent in agents},
        holidays=[day for day in (range_start + timedelta(days=i) for i in range(days)) if day in FRANCE],
        duration=timedelta(
            minutes=draw(st.one_of(st.integers(1, 24).map(lambda steps: 5 * steps), st.integers(5, 120)))
        ),
        now=datetime.min.replace(tzinfo=UTC),
        earliest=datetime.min.replace(tzinfo=UTC),
        latest=datetime.max.replace(tzinfo=UTC),
    )
    # "now": inside an opening (at a non-round minute, maybe with seconds), anywhere, or before the range
    openings = scenario.reference_openings()
    range_begin, range_finish = ref.local_day(range_start)[0], ref.local_day(range_end)[1]
    choice = draw(st.integers(0, 3))
    if openings and choice <= 1:
        _, _, start, end = draw(st.sampled_from(openings))
        now = start + timedelta(seconds=draw(st.integers(0, int((end - start).total_seconds()))))
        if draw(st.booleans()):
            now = now.replace(second=0)
    elif choice == 2:
        now = range_begin + timedelta(minutes=draw(st.integers(0, days * 1440)))
    else:
        now = range_begin - timedelta(days=1)
    scenario.now = now
    scenario.earliest = now + timedelta(minutes=draw(st.sampled_from([0, 0, 30, 120, 24 * 60])))
    choice = draw(st.integers(0, 3))
    if choice <= 1:
        scenario.latest = range_finish
    elif choice == 2:
        scenario.latest = scenario.earliest + timedelta(hours=draw(st.integers(1, 72)))
    else:
        scenario.latest = scenario.earliest + timedelta(seconds=draw(st.integers(1, days * 86400)))
    return scenario


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(scenarios())
def test_end_to_end_matches_reference(scenario: Scenario):
    """expand + local_day_interval + compute_slots == the brute-force reference of the whole pipeline."""
    openings = [
        Opening(agent, lieu, start, end)
        for agent, lieu, plage in scenario.plages
        for start, end in expand(plage, scenario.range_start, scenario.range_end)
    ]
    busy = {}
    for agent in scenario.agents:
        busy[agent] = list(scenario.rdvs[agent]) + [local_day_interval(day) for day in scenario.holidays]
        for absence in scenario.absences[agent]:
            busy[agent] += expand(absence, scenario.range_start, scenario.range_end)
    window = BookingWindow(scenario.earliest, scenario.latest, scenario.now)
    slots = compute_slots(openings, busy, scenario.duration, window)

    expected = ref.reference_slots(
        scenario.reference_openings(),
        scenario.reference_busy(),
        scenario.duration,
        scenario.earliest,
        scenario.latest,
        scenario.now,
    )
    check_against_reference(slots, expected)
    for slot in slots:
        assert slot.end - slot.start == scenario.duration
        assert scenario.earliest <= slot.start < scenario.latest


@st.composite
def raw_agendas(draw):
    """Openings and busy intervals drawn directly (no recurrence) on a small span, so that adjacent,
    overlapping and nested openings of one agent, and busy intervals touching their bounds, are common."""
    origin = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    agents = list(range(1, draw(st.integers(1, 3)) + 1))
    lieux = draw(st.sampled_from([[1], [1, 2], [None, 1]]))
    grid = draw(st.sampled_from([1, 5, 15]))

    def interval(max_steps):
        start = draw(st.integers(0, 600 // grid)) * grid
        length = draw(st.integers(0, max_steps)) * grid
        return origin + timedelta(minutes=start), origin + timedelta(minutes=start + length)

    openings = []
    for agent in agents:
        for _ in range(draw(st.integers(1, 4))):
            lieu = draw(st.sampled_from(lieux))
            start, end = interval(draw(st.sampled_from([30, 240, 480])) // grid)
            openings.append((agent, lieu, start, end))
            if draw(st.integers(0, 3)) == 0:  # an adjacent opening of the same agent
                openings.append((agent, lieu, end, end + timedelta(minutes=grid * draw(st.integers(1, 120 // grid)))))
    busy = {agent: [interval(90 // grid) for _ in range(draw(st.integers(0, 6)))] for agent in agents}
    # durations that often divide the free ranges (so slots ending exactly at a range end are common)
    duration = timedelta(minutes=draw(st.one_of(st.sampled_from([5, 10, 15, 20, 30, 45, 60]), st.integers(1, 90))))
    now = draw(instants_around(openings, origin))
    choice = draw(st.integers(0, 3))
    if choice == 0:  # agents: the window starts now
        earliest = now
    elif choice == 1:  # online: a minimum delay on the 5-minute grid, so often exactly a candidate
        earliest = now + timedelta(minutes=5 * draw(st.integers(0, 36)))
    elif choice == 2:
        earliest = now + timedelta(seconds=draw(st.integers(0, 600 * 60)))
    else:  # the first searched day began after now (or before it: any window is cut from now)
        earliest = origin + timedelta(minutes=grid * draw(st.integers(-12, 900 // grid)))
    choice = draw(st.integers(0, 2))
    if choice == 0:
        latest = origin + timedelta(days=1)
    elif choice == 1:  # on the grid: latest is often exactly a candidate start
        latest = origin + timedelta(minutes=grid * draw(st.integers(0, 900 // grid)))
    else:
        latest = earliest + timedelta(minutes=draw(st.integers(1, 900)), seconds=draw(st.sampled_from([0, 30])))
    latest += timedelta(microseconds=draw(st.sampled_from([0, 1, 999_999])))
    return openings, busy, duration, now, earliest, latest


@st.composite
def instants_around(draw, openings, origin: datetime) -> datetime:
    """ "now": before everything, inside an opening (maybe between two minutes, maybe on a 5-minute
    step from its start), or anywhere; a datetime with microseconds the engine must not round the
    wrong way."""
    choice = draw(st.integers(0, 2))
    if choice == 0:
        now = origin - timedelta(minutes=draw(st.integers(0, 60)))
    elif choice == 1:
        _, _, start, end = draw(st.sampled_from(openings))
        length = int((end - start).total_seconds())
        now = start + timedelta(
            seconds=draw(st.one_of(st.integers(0, length), st.integers(0, length // 300).map(lambda k: 300 * k)))
        )
    else:
        now = origin + timedelta(seconds=draw(st.integers(0, 900 * 60)))
    return now + timedelta(microseconds=draw(st.sampled_from([0, 0, 1, 999_999])))


@PROPERTY
@given(raw_agendas())
def test_compute_slots_matches_reference(agenda):
    openings, busy, duration, now, earliest, latest = agenda
    window = BookingWindow(earliest, latest, now)
    slots = compute_slots([Opening(*opening) for opening in openings], busy, duration, window)
    check_against_reference(slots, ref.reference_slots(openings, busy, duration, earliest, latest, now))


@PROPERTY
@given(raw_agendas())
def test_free_intervals_and_cut_match_reference(agenda):
    """The step-by-step helpers (`free_intervals`, `cut`) follow the same rules as `compute_slots`."""
    openings, busy, duration, now, earliest, latest = agenda
    free = free_intervals([Opening(*opening) for opening in openings], busy)
    assert free == [
        (Opening(*opening), begin, end)
        for opening in openings
        for begin, end in ref.free_ranges(opening[2], opening[3], busy.get(opening[0], ()))
    ]
    for _, begin, end in free:
        assert cut(begin, end, duration, BookingWindow(earliest, latest, now)) == ref.candidates(
            begin, end, duration, earliest, latest, now
        )


def delays():
    """A minimum or maximum delay: none (agents), on the 5-minute grid (the edges then often fall
    exactly on a candidate start), or any number of seconds."""
    return st.one_of(
        st.none(),
        st.integers(0, 48).map(lambda k: timedelta(minutes=5 * k)),
        st.integers(0, 15 * 3600).map(lambda n: timedelta(seconds=n)),
    )


@PROPERTY
@given(raw_agendas(), st.data())
def test_online_window_matches_the_spec(agenda, data):
    """`booking_window` + `compute_slots` == cut from now, then keep the searched days and
    now + min delay <= start <= now + max delay (both inclusive), as the spec words it."""
    openings, busy, duration, now, _, _ = agenda
    origin = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    days_start = origin + timedelta(minutes=5 * data.draw(st.integers(-24, 200)))
    days_end = days_start + timedelta(hours=data.draw(st.integers(1, 30)))
    # delays that put now + delay exactly on a start (or a second off), so the edges are tested
    cut_starts = sorted(
        {
            start
            for agent, _, begin, end in openings
            for free_start, free_end in ref.free_ranges(begin, end, busy.get(agent, ()))
            for start in ref.cut_range(free_start, free_end, duration, now)
            if start >= now
        }
    )
    onto_a_start = (
        st.tuples(st.sampled_from(cut_starts), st.sampled_from([-1, 0, 0, 1])).map(
            lambda pick: max(timedelta(0), pick[0] - now + timedelta(seconds=pick[1]))
        )
        if cut_starts
        else st.none()
    )
    min_delay = data.draw(st.one_of(delays(), onto_a_start))
    max_delay = data.draw(st.one_of(delays(), onto_a_start))
    if min_delay is not None and max_delay is not None and max_delay < min_delay:
        min_delay, max_delay = max_delay, min_delay  # the motif's maximum delay is beyond its minimum one
    window = booking_window(now, days_start, days_end, min_delay=min_delay, max_delay=max_delay)
    expected = ref.reference_online_slots(
        openings, busy, duration, now, (days_start, days_end), min_delay=min_delay, max_delay=max_delay
    )
    if window is None:
        assert expected == {}
        return
    slots = compute_slots([Opening(*opening) for opening in openings], busy, duration, window)
    check_against_reference(slots, expected)


def test_online_window_edges_are_inclusive_and_counted_in_real_time():
    """Both delays are added to the instant: across the March DST change a day of delay is 24 real
    hours (23 hours of wall clock); now + maximum delay is a possible start, half a second before
    it is not."""
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 3, 28, 9, 59, 59, 500_000, tzinfo=paris)  # Saturday, CET: 08:59:59.5 UTC
    days = (now - timedelta(days=1), now + timedelta(days=9))
    window = booking_window(now, *days, min_delay=timedelta(days=1), max_delay=timedelta(days=2))
    assert window.now == datetime(2026, 3, 28, 8, 59, 59, 500_000, tzinfo=UTC)
    assert window.earliest.astimezone(paris).isoformat() == "2026-03-29T10:59:59.500000+02:00"
    monday = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # 11:00 CEST, half a second after now + 2 days
    openings = [Opening(1, 1, monday - timedelta(hours=1), monday + timedelta(hours=1))]
    starts = [slot.start for slot in compute_slots(openings, {}, timedelta(minutes=30), window)]
    assert starts == [monday - timedelta(hours=1), monday - timedelta(minutes=30)]
    exact = booking_window(now + timedelta(milliseconds=500), *days, max_delay=timedelta(days=2))
    assert [slot.start for slot in compute_slots(openings, {}, timedelta(minutes=30), exact)][-1] == monday


@st.composite
def events_and_ranges(draw):
    range_start = draw(first_days())
    range_end = range_start + timedelta(days=draw(st.integers(-1, 70)))
    first, rule = draw(recurrences(range_start, range_end))
    span_days = draw(st.sampled_from([0, 0, 0, 1, 3]))
    # any wall-clock time on the 5-minute grid, often around the DST gap / the repeated hour 02:00–03:00
    any_time = st.integers(0, 287).map(lambda step: clock(5 * step))
    night_time = st.integers(18, 42).map(lambda step: clock(5 * step))  # 01:30 … 03:30
    start_time = draw(st.one_of(any_time, night_time))
    end_time = draw(st.one_of(any_time, night_time))
    event = RecurringEvent(first, start_time, end_time, rule, span_days=span_days)
    event = RecurringEvent(
        first,
        start_time,
        end_time,
        rule,
        span_days=span_days,
        exceptions=draw(exceptions(event, range_start, range_end)),
    )
    return event, range_start, range_end


@PROPERTY
@given(events_and_ranges())
def test_expand_matches_reference(case):
    event, range_start, range_end = case
    assert expand(event, range_start, range_end) == ref.reference_expand(event, range_start, range_end)


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@PROPERTY
@given(st.one_of(st.sampled_from(DST_SUNDAYS), st.dates(date(2025, 1, 1), date(2028, 12, 31))))
def test_local_day_interval_matches_reference(day):
    start, end = local_day_interval(day)
    assert (start, end) == ref.local_day(day)
    hours = {_last_sunday(day.year, 3): 23, _last_sunday(day.year, 10): 25}.get(day, 24)
    assert end - start == timedelta(hours=hours)
