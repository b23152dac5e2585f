"""Recurring wall-clock events (plages d'ouverture, absences) expanded into UTC intervals.

Occurrences keep the same local time across DST changes: each occurrence is built from its
local date and local times, then converted to UTC. Durations are therefore real durations
(a 02:00–04:00 occurrence on the March DST Sunday lasts one hour).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

RecurrenceKind = Literal["none", "weekly", "monthly"]


@dataclass(frozen=True)
class Recurrence:
    """How an event repeats.

    - none: once, on `first_date` of the event;
    - weekly: every `interval` weeks (counted from the week of the first date) on `weekdays`
      (0 = Monday … 6 = Sunday; empty means the weekday of the first date);
    - monthly: every `interval` months on the same weekday rank as the first date
      ("2e mardi"); rank 5 means "the last" such weekday of the month; with `last_of_month`, always
      the last such weekday ("dernier vendredi"), whatever the rank of the first date.
    `until` is the last date an occurrence may start on (inclusive), or None.
    """

    kind: RecurrenceKind = "none"
    interval: int = 1
    weekdays: frozenset[int] = frozenset()
    until: date | None = None
    last_of_month: bool = False


@dataclass(frozen=True)
class RecurringEvent:
    """A wall-clock event: starts `start_time` on a date, ends `end_time` `span_days` later.

    `exceptions` maps an occurrence's original date to None (cancelled) or to replacement
    (start_time, end_time) for that single occurrence.
    """

    first_date: date
    start_time: time
    end_time: time
    recurrence: Recurrence = Recurrence()
    span_days: int = 0
    exceptions: Mapping[date, tuple[time, time] | None] = field(default_factory=dict)
    tz: ZoneInfo = PARIS


def to_utc(day: date, at: time, tz: ZoneInfo = PARIS) -> datetime:
    """The instant of a local wall-clock time. A time inside a DST gap maps to the instant it
    would have with the offset in force before the change (02:30 → 03:30 CEST); an ambiguous
    time (October) takes its first occurrence."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def local_day_interval(day: date, tz: ZoneInfo = PARIS) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of a day, in UTC (23 or 25 hours on DST days)."""
    return to_utc(day, time(0), tz), to_utc(day + timedelta(days=1), time(0), tz)


def _weekly_dates(event: RecurringEvent, start: date, end: date) -> Iterator[date]:
    rec = event.recurrence
    weekdays = rec.weekdays or frozenset({event.first_date.weekday()})
    first_monday = event.first_date - timedelta(days=event.first_date.weekday())
    interval = max(1, rec.interval)
    begin = max(start, event.first_date)
    day = begin - timedelta(days=begin.weekday())  # the Monday of the first useful week
    weeks = (day - first_monday).days // 7
    if weeks % interval:
        skip = interval - weeks % interval
        day += timedelta(weeks=skip)
    while day <= end:
        for weekday in sorted(weekdays):
            current = day + timedelta(days=weekday)
            if begin <= current <= end:
                yield current
        day += timedelta(weeks=interval)


def _nth_weekday(year: int, month: int, weekday: int, rank: int) -> date | None:
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    if rank >= 5:  # the last such weekday of the month
        day = first + timedelta(days=offset + 28)
        if day.month != month:
            day -= timedelta(days=7)
        return day
    day = first + timedelta(days=offset + 7 * (rank - 1))
    return day if day.month == month else None


def _monthly_dates(event: RecurringEvent, start: date, end: date) -> Iterator[date]:
    first = event.first_date
    weekday = first.weekday()
    rank = 5 if event.recurrence.last_of_month else (first.day - 1) // 7 + 1
    interval = max(1, event.recurrence.interval)
    months = (start.year - first.year) * 12 + (start.month - first.month)
    months = max(0, months - months % interval)
    while True:
        year, month = divmod(first.month - 1 + months, 12)
        year += first.year
        month += 1
        if date(year, month, 1) > end:
            return
        day = _nth_weekday(year, month, weekday, rank)
        if day is not None and max(start, first) <= day <= end:
            yield day
        months += interval


def occurrence_dates(event: RecurringEvent, start: date, end: date) -> Iterator[date]:
    """Local start dates of the occurrences starting within [start, end] (inclusive)."""
    rec = event.recurrence
    if rec.until is not None:
        end = min(end, rec.until)
    if end < start:
        return
    if rec.kind == "none":
        if start <= event.first_date <= end:
            yield event.first_date
    elif rec.kind == "weekly":
        yield from _weekly_dates(event, start, end)
    elif rec.kind == "monthly":
        yield from _monthly_dates(event, start, end)
    else:  # pragma: no cover - guarded by the type
        raise ValueError(f"unknown recurrence {rec.kind!r}")


# Days whose wall-clock instants may not exist in UTC (year 1 east of Greenwich, year 9999 west of it):
# an event that starts or ends beyond them is taken to start or end there, which no window reaches.
FIRST_SAFE_DAY, LAST_SAFE_DAY = date(2, 1, 1), date(9998, 12, 31)


def _plus_days(day: date, days: int) -> date:
    """`day` + `days`, held within the calendar (date.min … date.max) instead of overflowing."""
    if days >= 0:
        return day + timedelta(days=min(days, (date.max - day).days))
    return day - timedelta(days=min(-days, (day - date.min).days))


def _safe_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    return to_utc(min(max(day, FIRST_SAFE_DAY), LAST_SAFE_DAY), at, tz)


def expand(event: RecurringEvent, start: date, end: date) -> list[tuple[datetime, datetime]]:
    """UTC (start, end) of every occurrence that overlaps the local dates [start, end].

    Occurrences that started up to `span_days` before `start` are included, since they may
    still be running. Dates at the ends of the calendar (an absence « from year 1 to 9999 ») never
    overflow: they are held at the first or last day whose instants exist in UTC."""
    result = []
    for day in occurrence_dates(event, _plus_days(start, -event.span_days), end):
        if day in event.exceptions:
            times = event.exceptions[day]
            if times is None:  # this occurrence is cancelled
                continue
        else:
            times = (event.start_time, event.end_time)
        begin = _safe_utc(day, times[0], event.tz)
        finish = _safe_utc(_plus_days(day, event.span_days), times[1], event.tz)
        if finish > begin:
            result.append((begin, finish))
    return result
