"""Named cases of the pure availability engine: DST, holidays, absences, exceptions, "now", recurrences."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from rdv.availability import (
    BookingWindow,
    Interval,
    Opening,
    Recurrence,
    RecurringEvent,
    compute_slots,
    expand,
    local_day_interval,
)
from rdv.availability.slots import booking_window, compute_slot_seconds, cut, merge

PARIS = ZoneInfo("Europe/Paris")
FRANCE = holidays.country_holidays("FR", years=range(2026, 2028))
ALWAYS = BookingWindow(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
MON_TO_FRI = frozenset(range(5))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args) -> datetime:
    """A Europe/Paris wall-clock time, as a UTC instant."""
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def weekly(first: date, start: time, end: time, weekdays=(), interval=1, until=None, **kwargs) -> RecurringEvent:
    return RecurringEvent(first, start, end, Recurrence("weekly", interval, frozenset(weekdays), until), **kwargs)


def slots(plages, first: date, last: date, minutes: int, busy=(), window=ALWAYS, agent=1, lieu=1):
    openings = [Opening(agent, lieu, s, e) for plage in plages for s, e in expand(plage, first, last)]
    return compute_slots(openings, {agent: list(busy)}, timedelta(minutes=minutes), window)


def local(slot_list) -> list[str]:
    """Slot starts as Paris wall clock with their UTC offset, e.g. '2026-03-29 09:00+02:00'."""
    return [slot.start.astimezone(PARIS).isoformat(" ", "minutes") for slot in slot_list]


def hours(day: str, *starts: str, offset="+02:00") -> list[str]:
    return [f"{day} {start}{offset}" for start in starts]


# --------------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("saturday", "sunday"), [(date(2026, 3, 28), date(2026, 3, 29)), (date(2027, 3, 27), date(2027, 3, 28))]
)
def test_march_dst_sunday_keeps_local_time(saturday, sunday):
    plage = weekly(saturday - timedelta(days=7), time(9), time(12), weekdays={5, 6})
    assert expand(plage, saturday, sunday) == [
        (datetime.combine(saturday, time(8), UTC), datetime.combine(saturday, time(11), UTC)),  # CET, UTC+1
        (datetime.combine(sunday, time(7), UTC), datetime.combine(sunday, time(10), UTC)),  # CEST, UTC+2
    ]
    assert local(slots([plage], saturday, sunday, 60)) == [
        *hours(str(saturday), "09:00", "10:00", "11:00", offset="+01:00"),
        *hours(str(sunday), "09:00", "10:00", "11:00", offset="+02:00"),
    ]


@pytest.mark.parametrize(
    ("saturday", "sunday"), [(date(2026, 10, 24), date(2026, 10, 25)), (date(2027, 10, 30), date(2027, 10, 31))]
)
def test_october_dst_sunday_keeps_local_time(saturday, sunday):
    plage = weekly(saturday - timedelta(days=7), time(9), time(12), weekdays={5, 6})
    assert expand(plage, saturday, sunday) == [
        (datetime.combine(saturday, time(7), UTC), datetime.combine(saturday, time(10), UTC)),  # CEST, UTC+2
        (datetime.combine(sunday, time(8), UTC), datetime.combine(sunday, time(11), UTC)),  # CET, UTC+1
    ]
    assert local(slots([plage], saturday, sunday, 60)) == [
        *hours(str(saturday), "09:00", "10:00", "11:00", offset="+02:00"),
        *hours(str(sunday), "09:00", "10:00", "11:00", offset="+01:00"),
    ]


def test_night_plage_on_march_dst_sunday_lasts_one_hour_and_skips_the_gap():
    # 01:30 CET → 03:30 CEST: 02:00–03:00 does not exist that night, the plage lasts 1 h.
    plage = RecurringEvent(date(2026, 3, 29), time(1, 30), time(3, 30))
    assert expand(plage, date(2026, 3, 29), date(2026, 3, 29)) == [(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30))]
    day = date(2026, 3, 29)
    half_hours = slots([plage], day, day, 30)
    assert local(half_hours) == ["2026-03-29 01:30+01:00", "2026-03-29 03:00+02:00"]
    assert [slot.end.astimezone(PARIS).isoformat(" ", "minutes") for slot in half_hours] == [
        "2026-03-29 03:00+02:00",  # 30 real minutes: 01:30 CET → 02:00 CET = 03:00 CEST
        "2026-03-29 03:30+02:00",
    ]
    for slot in half_hours:
        assert slot.end - slot.start == timedelta(minutes=30)
    assert local(slots([plage], day, day, 45)) == ["2026-03-29 01:30+01:00"]
    assert local(slots([plage], day, day, 60)) == ["2026-03-29 01:30+01:00"]
    assert slots([plage], day, day, 65) == []  # 2 h of wall clock, only 1 h of real time


def test_night_plage_on_october_dst_sunday_lasts_three_hours():
    # 01:30 CEST → 03:30 CET: 02:00–03:00 happens twice, the plage lasts 3 h.
    plage = RecurringEvent(date(2026, 10, 25), time(1, 30), time(3, 30))
    day = date(2026, 10, 25)
    assert expand(plage, day, day) == [(utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 2, 30))]
    assert local(slots([plage], day, day, 60)) == [
        "2026-10-25 01:30+02:00",
        "2026-10-25 02:30+02:00",
        "2026-10-25 02:30+01:00",  # the same wall-clock time, one hour later
    ]


def test_wall_clock_time_in_the_march_gap_is_read_with_the_winter_offset():
    # 02:30 does not exist on 29 March 2026: zoneinfo (fold=0) reads it as 02:30 CET = 03:30 CEST.
    plage = RecurringEvent(date(2026, 3, 29), time(2, 30), time(4))
    assert expand(plage, date(2026, 3, 29), date(2026, 3, 29)) == [(utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2))]


def test_local_day_interval_on_dst_days():
    assert local_day_interval(date(2026, 3, 29)) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))  # 23 h
    assert local_day_interval(date(2026, 10, 25)) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))  # 25 h
    assert local_day_interval(date(2026, 7, 14)) == (utc(2026, 7, 13, 22), utc(2026, 7, 14, 22))


# --------------------------------------------------------------------------- holidays, absences, exceptions


@pytest.mark.parametrize("holiday", [date(2026, 5, 1), date(2026, 7, 14)])
def test_public_holiday_blocks_the_whole_local_day(holiday):
    assert holiday in FRANCE
    before, after = holiday - timedelta(days=1), holiday + timedelta(days=1)
    day_plage = weekly(before, time(9), time(12), weekdays=range(7))
    night_plage = weekly(before, time(23), time(1), weekdays=range(7), span_days=1)  # 23:00 → 01:00
    busy = [local_day_interval(day) for day in (before, holiday, after) if day in FRANCE]
    result = local(slots([day_plage, night_plage], before, after, 30, busy=busy))
    assert not [start for start in result if start.startswith(str(holiday))]
    assert result == [
        *hours(str(before), "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "23:00", "23:30"),
        # the night from the eve into the holiday stops at local midnight, not at UTC midnight
        # the night from the holiday into the next day resumes at local midnight
        *hours(str(after), "00:00", "00:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "23:00", "23:30"),
        *hours(str(after + timedelta(days=1)), "00:00", "00:30"),
    ]


def test_absence_over_several_days_removes_exactly_its_slots():
    monday = date(2026, 6, 15)
    friday = monday + timedelta(days=4)
    morning = weekly(monday, time(9), time(12), weekdays=MON_TO_FRI)
    afternoon = weekly(monday, time(14), time(17), weekdays=MON_TO_FRI)
    absence = RecurringEvent(date(2026, 6, 17), time(14), time(12), span_days=2)  # Wednesday 14:00 → Friday 12:00
    busy = expand(absence, monday, friday)
    assert busy == [(paris(2026, 6, 17, 14), paris(2026, 6, 19, 12))]
    all_day = ("09:00", "10:00", "11:00", "14:00", "15:00", "16:00")
    assert local(slots([morning, afternoon], monday, friday, 60, busy=busy)) == [
        *hours("2026-06-15", *all_day),
        *hours("2026-06-16", *all_day),
        *hours("2026-06-17", "09:00", "10:00", "11:00"),
        # Thursday: nothing
        *hours("2026-06-19", "14:00", "15:00", "16:00"),
    ]
    # expanding from Thursday still finds the absence that began on Wednesday
    assert expand(absence, date(2026, 6, 18), friday) == busy


def test_plage_exception_cancels_or_moves_one_occurrence_only():
    first = date(2026, 9, 1)
    plage = weekly(
        first,
        time(9),
        time(12),
        exceptions={date(2026, 9, 8): None, date(2026, 9, 15): (time(14), time(16))},
    )
    assert expand(plage, first, date(2026, 9, 29)) == [
        (paris(2026, 9, 1, 9), paris(2026, 9, 1, 12)),
        (paris(2026, 9, 15, 14), paris(2026, 9, 15, 16)),
        (paris(2026, 9, 22, 9), paris(2026, 9, 22, 12)),
        (paris(2026, 9, 29, 9), paris(2026, 9, 29, 12)),
    ]
    assert local(slots([plage], date(2026, 9, 7), date(2026, 9, 16), 60)) == hours("2026-09-15", "14:00", "15:00")


# --------------------------------------------------------------------------- cutting


def test_now_inside_a_free_range_starts_at_the_next_5_minute_step_from_the_range_start():
    day = date(2026, 6, 15)
    plage = RecurringEvent(day, time(9), time(12))
    window = BookingWindow(paris(2026, 6, 15, 9, 7), paris(2026, 6, 16))
    assert local(slots([plage], day, day, 30, window=window)) == hours(
        "2026-06-15", "09:10", "09:40", "10:10", "10:40", "11:10"
    )
    # exactly on a step: that step; a microsecond after: the next one
    on_step = BookingWindow(paris(2026, 6, 15, 9, 5), paris(2026, 6, 16))
    assert local(slots([plage], day, day, 30, window=on_step))[0] == "2026-06-15 09:05+02:00"
    just_after = BookingWindow(paris(2026, 6, 15, 9, 5) + timedelta(microseconds=1), paris(2026, 6, 16))
    assert local(slots([plage], day, day, 30, window=just_after))[0] == "2026-06-15 09:10+02:00"


def test_steps_are_counted_from_a_range_start_off_the_grid():
    day = date(2026, 6, 15)
    plage = RecurringEvent(day, time(8, 30), time(12))
    rdv = (paris(2026, 6, 15, 8, 30), paris(2026, 6, 15, 9, 2))  # the free range starts at 09:02
    assert local(slots([plage], day, day, 30, busy=[rdv])) == hours(
        "2026-06-15", "09:02", "09:32", "10:02", "10:32", "11:02"
    )
    window = BookingWindow(paris(2026, 6, 15, 9, 3), paris(2026, 6, 16))
    assert local(slots([plage], day, day, 30, busy=[rdv], window=window)) == hours(
        "2026-06-15", "09:07", "09:37", "10:07", "10:37", "11:07"
    )


def test_a_slot_never_crosses_a_rdv_or_the_plage_end():
    day = date(2026, 6, 15)
    plage = RecurringEvent(day, time(9), time(11, 50))
    rdv = (paris(2026, 6, 15, 10), paris(2026, 6, 15, 10, 20))
    # [09:00, 10:00): 09:45 would end at 10:30; [10:20, 11:50): 11:05 ends exactly at 11:50
    assert local(slots([plage], day, day, 45, busy=[rdv])) == hours("2026-06-15", "09:00", "10:20", "11:05")
    assert local(slots([plage], day, day, 45)) == hours("2026-06-15", "09:00", "09:45", "10:30")


def test_rdv_is_half_open():
    day = date(2026, 6, 15)
    plage = RecurringEvent(day, time(9), time(11))
    rdv = (paris(2026, 6, 15, 9, 30), paris(2026, 6, 15, 10))  # 09:30–10:00 leaves 09:00–09:30 and 10:00–11:00
    assert local(slots([plage], day, day, 30, busy=[rdv])) == hours("2026-06-15", "09:00", "10:00", "10:30")


def test_adjacent_openings_are_cut_separately_and_overlapping_ones_are_grouped():
    start = paris(2026, 6, 15, 9)
    minutes = timedelta(minutes=1)
    openings = [
        Opening(1, 1, start, start + 50 * minutes),  # 09:00–09:50
        Opening(1, 1, start + 50 * minutes, start + 120 * minutes),  # 09:50–11:00, not merged with the first
        Opening(2, 1, start, start + 60 * minutes),  # another agent, same lieu
        Opening(2, 2, start, start + 60 * minutes),  # the same agent, another lieu
        Opening(2, 1, start, start + 30 * minutes),  # overlapping opening of agent 2 at lieu 1
    ]
    result = compute_slots(openings, {}, timedelta(minutes=30), ALWAYS)
    assert [(s.start.astimezone(PARIS).strftime("%H:%M"), s.lieu_id, s.agent_ids) for s in result] == [
        ("09:00", 1, (1, 2)),
        ("09:00", 2, (2,)),
        ("09:30", 1, (2,)),
        ("09:30", 2, (2,)),
        ("09:50", 1, (1,)),
        ("10:20", 1, (1,)),
    ]
    for slot in result:
        assert slot.end - slot.start == timedelta(minutes=30)


def test_slots_at_one_start_are_ordered_by_lieu_without_lieu_first():
    start = paris(2026, 6, 15, 9)
    end = start + timedelta(minutes=30)
    openings = [Opening(1, 2, start, end), Opening(2, 1, start, end), Opening(3, None, start, end)]
    result = compute_slots(openings, {}, timedelta(minutes=30), ALWAYS)
    assert [(slot.lieu_id, slot.agent_ids) for slot in result] == [(None, (3,)), (1, (2,)), (2, (1,))]


def test_engine_values_are_hashable_values():
    """Frozen dataclasses: usable in sets and as keys, equal when their fields are."""
    start = paris(2026, 6, 15, 9)
    opening = Opening(1, 1, start, start + timedelta(hours=1))
    slot = compute_slots([opening], {}, timedelta(minutes=30), ALWAYS)[0]
    values = [opening, slot, BookingWindow(start, start + timedelta(hours=1)), Interval(start, start)]
    assert len({*values, Opening(1, 1, start, start + timedelta(hours=1))}) == 4


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_duration_must_be_positive(minutes):
    with pytest.raises(ValueError, match="positive"):
        cut(paris(2026, 6, 15, 9), paris(2026, 6, 15, 12), timedelta(minutes=minutes), ALWAYS)
    with pytest.raises(ValueError, match="positive"):
        compute_slots([], {}, timedelta(minutes=minutes), ALWAYS)


def test_latest_bound_is_exclusive():
    day = date(2026, 6, 15)
    plage = RecurringEvent(day, time(9), time(12))
    window = BookingWindow(paris(2026, 6, 15, 8), paris(2026, 6, 15, 10))
    assert local(slots([plage], day, day, 30, window=window)) == hours("2026-06-15", "09:00", "09:30")


# --------------------------------------------------------------------------- recurrences


def starts(event: RecurringEvent, first: date, last: date) -> list[date]:
    return [begin.astimezone(PARIS).date() for begin, _ in expand(event, first, last)]


def test_monthly_second_tuesday_keeps_local_time_across_dst():
    event = RecurringEvent(date(2026, 1, 13), time(9), time(12), Recurrence("monthly"))  # 2e mardi
    assert starts(event, date(2026, 1, 1), date(2026, 6, 30)) == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 14),
        date(2026, 5, 12),
        date(2026, 6, 9),
    ]
    occurrences = expand(event, date(2026, 3, 1), date(2026, 4, 30))
    assert occurrences == [
        (utc(2026, 3, 10, 8), utc(2026, 3, 10, 11)),  # winter time
        (utc(2026, 4, 14, 7), utc(2026, 4, 14, 10)),  # summer time, still 09:00 local
    ]


def test_monthly_every_two_months():
    event = RecurringEvent(date(2026, 1, 13), time(9), time(12), Recurrence("monthly", interval=2))
    assert starts(event, date(2026, 2, 1), date(2026, 7, 31)) == [
        date(2026, 3, 10),
        date(2026, 5, 12),
        date(2026, 7, 14),
    ]


def test_monthly_last_friday():
    # 30 January 2026 is the 5th Friday of its month: rank 5 means "le dernier vendredi"
    event = RecurringEvent(date(2026, 1, 30), time(14), time(16), Recurrence("monthly"))
    assert starts(event, date(2026, 1, 1), date(2026, 6, 30)) == [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 27),
        date(2026, 4, 24),
        date(2026, 5, 29),
        date(2026, 6, 26),
    ]


def test_every_two_weeks_on_two_weekdays():
    event = weekly(date(2026, 3, 2), time(9), time(12), weekdays={0, 3}, interval=2)  # Mondays and Thursdays
    assert starts(event, date(2026, 3, 2), date(2026, 3, 8)) == [date(2026, 3, 2), date(2026, 3, 5)]
    # starting the search in an "off" week
    assert starts(event, date(2026, 3, 9), date(2026, 4, 5)) == [
        date(2026, 3, 16),
        date(2026, 3, 19),
        date(2026, 3, 30),
        date(2026, 4, 2),
    ]


def test_weekly_weeks_are_counted_from_the_monday_of_the_first_date():
    # first date on a Thursday, also on Mondays every 2 weeks: the Monday of that first week counts as week 0
    # but comes before the first date, so it is not an occurrence
    event = weekly(date(2026, 3, 5), time(9), time(12), weekdays={0, 3}, interval=2)
    assert starts(event, date(2026, 3, 1), date(2026, 3, 31)) == [
        date(2026, 3, 5),
        date(2026, 3, 16),
        date(2026, 3, 19),
        date(2026, 3, 30),
    ]


def test_until_is_inclusive():
    event = weekly(date(2026, 3, 2), time(9), time(12), until=date(2026, 3, 23))
    assert starts(event, date(2026, 3, 1), date(2026, 4, 30)) == [
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
        date(2026, 3, 23),
    ]
    monthly = RecurringEvent(date(2026, 1, 13), time(9), time(12), Recurrence("monthly", until=date(2026, 3, 10)))
    assert starts(monthly, date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
    ]


def test_one_off_event():
    event = RecurringEvent(date(2026, 6, 17), time(9), time(10))
    assert starts(event, date(2026, 6, 1), date(2026, 6, 30)) == [date(2026, 6, 17)]
    assert starts(event, date(2026, 6, 18), date(2026, 6, 30)) == []


def test_a_busy_interval_ending_within_a_second_still_blocks_that_second():
    opening = Opening(1, 1, utc(2026, 6, 1, 8, 0), utc(2026, 6, 1, 10, 0))
    busy = [(utc(2026, 6, 1, 8, 0), utc(2026, 6, 1, 8, 2, 0, 500_000))]
    starts = [s.start for s in compute_slots([opening], {1: busy}, timedelta(minutes=30), ALWAYS)]
    assert starts[0] == utc(2026, 6, 1, 8, 2, 1)  # never 08:02:00, which overlaps by half a second


def test_monthly_last_weekday_even_when_the_series_starts_on_a_fourth_one():
    # Friday 22 January 2027 is the 4th (and last) Friday; "le dernier vendredi" must give the
    # 5th Friday of April (30) and not the 4th (23).
    event = RecurringEvent(
        date(2027, 1, 22), time(14), time(16), Recurrence("monthly", last_of_month=True, until=date(2027, 5, 31))
    )
    days = [
        paris_start.astimezone(PARIS).date() for paris_start, _ in expand(event, date(2027, 1, 1), date(2027, 5, 31))
    ]
    assert days == [date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26), date(2027, 4, 30), date(2027, 5, 28)]
    ranked = RecurringEvent(date(2027, 1, 22), time(14), time(16), Recurrence("monthly", until=date(2027, 5, 31)))
    assert date(2027, 4, 23) in [
        s.astimezone(PARIS).date() for s, _ in expand(ranked, date(2027, 4, 1), date(2027, 4, 30))
    ]


# --------------------------------------------------------------------------- merging and the window's end


def test_merge_joins_touching_intervals_and_drops_empty_or_reversed_ones():
    nine, ten, eleven, noon = (utc(2027, 6, 16, hour) for hour in (9, 10, 11, 12))
    assert merge([(ten, eleven), (nine, ten)]) == [(nine, eleven)]
    assert merge([(eleven, ten), (noon, noon)]) == []


def test_a_slot_starting_exactly_at_the_end_of_the_window_is_not_offered():
    window = BookingWindow(utc(2027, 6, 16, 20), utc(2027, 6, 17, 0))
    opening = Opening(1, 1, utc(2027, 6, 16, 23), utc(2027, 6, 17, 0, 30))
    found = compute_slots([opening], {}, timedelta(minutes=30), window)
    assert [slot.start for slot in found] == [utc(2027, 6, 16, 23), utc(2027, 6, 16, 23, 30)]


def test_cut_keeps_the_starts_before_the_end_of_the_window():
    window = BookingWindow(utc(2027, 6, 16, 8), utc(2027, 6, 16, 10))
    starts = cut(utc(2027, 6, 16, 9), utc(2027, 6, 16, 11), timedelta(minutes=30), window)
    assert starts == [utc(2027, 6, 16, 9), utc(2027, 6, 16, 9, 30)]


def test_a_start_one_microsecond_beyond_now_plus_the_maximum_delay_is_not_offered():
    slot = utc(2027, 6, 16, 10)
    now = slot - timedelta(days=2, microseconds=1)
    window = booking_window(
        now, utc(2027, 6, 16), utc(2027, 6, 17), min_delay=timedelta(0), max_delay=timedelta(days=2)
    )
    found = compute_slots([Opening(1, 1, utc(2027, 6, 16, 9), utc(2027, 6, 16, 11))], {}, timedelta(minutes=30), window)
    assert [s.start for s in found] == [utc(2027, 6, 16, 9), utc(2027, 6, 16, 9, 30)]


def test_no_window_for_a_day_that_ends_now_or_before():
    day, next_day = utc(2027, 6, 16), utc(2027, 6, 17)
    assert booking_window(next_day, day, next_day) is None
    assert booking_window(next_day + timedelta(hours=8), day, next_day) is None


def test_any_positive_duration_is_cut_even_one_second():
    assert compute_slot_seconds([(1, 1, 0, 3)], {}, 1, 0, 0, 10) == {(0, 1): {1}, (1, 1): {1}, (2, 1): {1}}
    with pytest.raises(ValueError, match="positive"):
        compute_slot_seconds([(1, 1, 0, 3)], {}, 0, 0, 0, 10)


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Cayenne", "Pacific/Noumea"])
def test_an_event_from_the_first_to_the_last_day_of_the_calendar_covers_today_without_overflowing(zone):
    """An absence entered « from year 1 to 9999 » (the API accepts any date) is busy all along:
    no date before year 1 nor instant beyond 9999 is computed."""
    tz = ZoneInfo(zone)
    absence = RecurringEvent(date.min, time(0), time(23, 59), span_days=(date.max - date.min).days, tz=tz)
    day = date(2027, 3, 9)
    [(begin, finish)] = expand(absence, day, day)
    assert begin <= datetime.combine(day, time(0), tzinfo=tz) and finish >= datetime.combine(day, time(23), tzinfo=tz)
    late = RecurringEvent(date(9999, 12, 30), time(9), time(12), span_days=5, tz=tz)  # would end after 9999
    assert expand(late, date(9999, 12, 29), date.max) != []
    assert expand(late, day, day) == []
