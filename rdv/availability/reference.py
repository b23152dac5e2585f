"""A deliberately slow, independent reference of the availability engine, written from the spec.

Nothing here is shared with rdv.availability except the input dataclasses it reads
(`RecurringEvent`, `Recurrence`). It works minute by minute and date by date, so that it is
obviously right rather than fast.

Spec (the established platform's cutting rule, see /work/shared/DOMAIN.md "Slots"):
- busy intervals are half-open [s, e); a minute [t, t + 1 min) is busy when s <= t < e
  (every opening and busy bound is on the minute grid);
- free ranges are computed per opening: the maximal runs of free minutes of that opening
  (two adjacent openings of an agent are not merged, each is cut from its own start);
- each free range [b, e) is cut into c0, c0 + d, c0 + 2d… while c + d <= e, where c0 = b if
  b >= now, else the first b + k × 5 min (k = 1, 2, …) at or after now (the cut origin, which is
  `earliest` when no `now` is given); THEN only the c with earliest <= c < latest are kept;
- online, the kept starts are now + min delay <= c <= now + max delay, both ends inclusive, and
  within the searched local days (`reference_online_slots`);
- candidates are grouped by (start, lieu) with the set of agents; overlapping openings of one
  agent at one lieu give the union of their candidates.

Recurrences are decided date by date from the rule, and local wall-clock times are turned into
instants with zoneinfo Europe/Paris.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rdv.availability import RecurringEvent

PARIS = ZoneInfo("Europe/Paris")
MINUTE = timedelta(minutes=1)
STEP = timedelta(minutes=5)

# A reference slot, keyed by (start, lieu_id): (end, sorted agent ids).
SlotMap = dict[tuple[datetime, int | None], tuple[datetime, tuple[int, ...]]]


# --------------------------------------------------------------------------- slots


def _minute(instant: datetime) -> int:
    """Minutes since the epoch of an aware instant that must lie on the minute grid."""
    seconds = instant.timestamp()
    assert instant.tzinfo is not None and seconds % 60 == 0, f"{instant!r} is not on the minute grid"
    return int(seconds) // 60


def free_ranges(
    start: datetime, end: datetime, busy: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Maximal runs of free minutes of the opening [start, end), minute by minute."""
    first, last = _minute(start), _minute(end)
    relevant = [(_minute(s), _minute(e)) for s, e in busy]
    relevant = [(s, e) for s, e in relevant if s < last and e > first]  # only to keep it bearable
    runs: list[tuple[datetime, datetime]] = []
    run_start = None
    for minute in range(first, last):
        is_free = not any(s <= minute < e for s, e in relevant)
        if is_free and run_start is None:
            run_start = minute
        elif not is_free and run_start is not None:
            runs.append((run_start, minute))
            run_start = None
    if run_start is not None:
        runs.append((run_start, last))
    return [(start + (b - first) * MINUTE, start + (e - first) * MINUTE) for b, e in runs]


def cut_range(begin: datetime, end: datetime, duration: timedelta, now: datetime) -> list[datetime]:
    """Every slot start of one free range [begin, end), cut from now (no window)."""
    cursor = begin
    while cursor < now and cursor < end:  # begun: the first 5-minute step from begin at or after now
        cursor += STEP
    starts = []
    while cursor + duration <= end:
        starts.append(cursor)
        cursor += duration
    return starts


def candidates(
    begin: datetime,
    end: datetime,
    duration: timedelta,
    earliest: datetime,
    latest: datetime,
    now: datetime | None = None,
) -> list[datetime]:
    """Slot starts of one free range [begin, end), cut from now, kept in [earliest, latest)."""
    return [c for c in cut_range(begin, end, duration, earliest if now is None else now) if earliest <= c < latest]


def _grouped(openings, busy_by_agent, duration: timedelta, now: datetime, keep) -> SlotMap:
    grouped: dict[tuple[datetime, int | None], set[int]] = {}
    for agent_id, lieu_id, start, end in openings:
        for begin, finish in free_ranges(start, end, busy_by_agent.get(agent_id, ())):
            for slot_start in cut_range(begin, finish, duration, now):
                if keep(slot_start):
                    grouped.setdefault((slot_start, lieu_id), set()).add(agent_id)
    return {key: (key[0] + duration, tuple(sorted(agents))) for key, agents in grouped.items()}


def reference_slots(
    openings: Iterable[tuple[int, int | None, datetime, datetime]],
    busy_by_agent: Mapping[int, Iterable[tuple[datetime, datetime]]],
    duration: timedelta,
    earliest: datetime,
    latest: datetime,
    now: datetime | None = None,
) -> SlotMap:
    """openings: (agent_id, lieu_id, UTC start, UTC end). Returns {(start, lieu): (end, agents)}
    of the starts in [earliest, latest), cut from `now` (default: earliest)."""
    origin = earliest if now is None else now
    return _grouped(openings, busy_by_agent, duration, origin, lambda c: earliest <= c < latest)


def reference_online_slots(
    openings: Iterable[tuple[int, int | None, datetime, datetime]],
    busy_by_agent: Mapping[int, Iterable[tuple[datetime, datetime]]],
    duration: timedelta,
    now: datetime,
    days: tuple[datetime, datetime],
    min_delay: timedelta | None = None,
    max_delay: timedelta | None = None,
) -> SlotMap:
    """The rule as the spec words it: cut from now, then keep the starts of the searched days
    [days[0], days[1]) that are not past, and, online (delays given),
    now + min_delay <= start <= now + max_delay (both inclusive; instants, not wall clock)."""
    now = now.astimezone(UTC)

    def keep(c: datetime) -> bool:
        if not (days[0] <= c < days[1] and c >= now):
            return False
        if min_delay is not None and not now + min_delay <= c:
            return False
        return max_delay is None or c <= now + max_delay

    return _grouped(openings, busy_by_agent, duration, now, keep)


# --------------------------------------------------------------------------- recurrences


def local_instant(day: date, at: time) -> datetime:
    """The UTC instant of a Europe/Paris wall-clock time (zoneinfo semantics, fold=0)."""
    return datetime(day.year, day.month, day.day, at.hour, at.minute, tzinfo=PARIS).astimezone(UTC)


def local_day(day: date) -> tuple[datetime, datetime]:
    """The whole local day [00:00, next 00:00) in UTC."""
    return local_instant(day, time(0)), local_instant(day + timedelta(days=1), time(0))


def _rank(day: date) -> int:
    return (day.day - 1) // 7 + 1


def occurs_on(event: RecurringEvent, day: date) -> bool:
    """Does the rule of `event` (exceptions aside) put an occurrence on `day`?"""
    rule = event.recurrence
    first = event.first_date
    if day < first or (rule.until is not None and day > rule.until):
        return False
    if rule.kind == "none":
        return day == first
    if rule.kind == "weekly":
        weekdays = rule.weekdays or {first.weekday()}
        week_index = (day - (first - timedelta(days=first.weekday()))).days // 7
        return day.weekday() in weekdays and week_index % rule.interval == 0
    if rule.kind == "monthly":
        if day.weekday() != first.weekday():
            return False
        if ((day.year - first.year) * 12 + day.month - first.month) % rule.interval:
            return False
        if _rank(first) == 5:  # "le dernier <jour> du mois"
            return (day + timedelta(days=7)).month != day.month
        return _rank(day) == _rank(first)
    raise AssertionError(rule.kind)


def reference_dates(event: RecurringEvent, start: date, end: date) -> list[date]:
    """Every date of [start, end] on which the rule puts an occurrence, one date at a time."""
    days = []
    day = start
    while day <= end:
        if occurs_on(event, day):
            days.append(day)
        day += timedelta(days=1)
    return days


def reference_expand(event: RecurringEvent, start: date, end: date) -> list[tuple[datetime, datetime]]:
    """UTC intervals of the occurrences starting on [start − span_days, end] (they may still run
    on `start`), exceptions applied, empty ones dropped."""
    intervals = []
    for day in reference_dates(event, start - timedelta(days=event.span_days), end):
        times = event.exceptions.get(day, (event.start_time, event.end_time))
        if times is None:
            continue
        begin = local_instant(day, times[0])
        finish = local_instant(day + timedelta(days=event.span_days), times[1])
        if finish > begin:
            intervals.append((begin, finish))
    return intervals
