"""Free slots: opening occurrences minus busy intervals, cut at the motif duration.

The cutting rule is the established platform's: each free range (an opening occurrence minus
the busy intervals) is cut from its own start, stepping by the duration, while
start + duration <= range end. A free range that began before the earliest bookable instant
(now, plus the motif's minimum delay online) starts at the first 5-minute step at or after that
instant, counted from the range's start. Every computation is on UTC instants.
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

STEP = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Opening:
    """One occurrence of a plage d'ouverture (UTC instants)."""

    agent_id: int
    lieu_id: int | None
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class BookingWindow:
    """Which slot starts are wanted: start in [earliest, latest)."""

    earliest: datetime
    latest: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    lieu_id: int | None
    agent_ids: tuple[int, ...]


def merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, non-overlapping union of intervals (touching intervals are merged)."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def subtract(start: datetime, end: datetime, busy: Sequence[tuple[datetime, datetime]], busy_ends: Sequence[datetime]):
    """[start, end) minus merged, sorted `busy` intervals (`busy_ends` = their ends, for bisect)."""
    free = []
    cursor = start
    index = bisect_left(busy_ends, start)  # first busy interval ending after `start` (or at it)
    while index < len(busy) and busy[index][0] < end:
        busy_start, busy_end = busy[index]
        if busy_start > cursor:
            free.append((cursor, busy_start))
        if busy_end > cursor:
            cursor = busy_end
        index += 1
    if cursor < end:
        free.append((cursor, end))
    return free


def free_intervals(
    openings: Iterable[Opening], busy_by_agent: Mapping[int, Iterable[tuple[datetime, datetime]]]
) -> list[tuple[Opening, datetime, datetime]]:
    """Each opening minus its agent's busy intervals: (opening, free start, free end)."""
    prepared = {}
    result = []
    for opening in openings:
        if opening.agent_id not in prepared:
            busy = merge(busy_by_agent.get(opening.agent_id, ()))
            prepared[opening.agent_id] = (busy, [e for _, e in busy])
        busy, ends = prepared[opening.agent_id]
        for start, end in subtract(opening.start, opening.end, busy, ends):
            result.append((opening, start, end))
    return result


def cut(start: datetime, end: datetime, duration: timedelta, window: BookingWindow) -> list[datetime]:
    """Slot starts in the free range [start, end) for a duration, within the window."""
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    cursor = start
    if cursor < window.earliest:
        steps = -((start - window.earliest) // STEP)  # ceil((earliest - start) / STEP)
        cursor = start + steps * STEP
    starts = []
    while cursor + duration <= end and cursor < window.latest:
        starts.append(cursor)
        cursor += duration
    return starts


def compute_slots(
    openings: Iterable[Opening],
    busy_by_agent: Mapping[int, Iterable[tuple[datetime, datetime]]],
    duration: timedelta,
    window: BookingWindow,
) -> list[Slot]:
    """Free slots of `duration`, grouped by (start, lieu) with the agents free then, sorted."""
    grouped: dict[tuple[datetime, int | None], set[int]] = defaultdict(set)
    for opening, start, end in free_intervals(openings, busy_by_agent):
        if end <= window.earliest or start >= window.latest:
            continue
        for slot_start in cut(start, end, duration, window):
            grouped[(slot_start, opening.lieu_id)].add(opening.agent_id)
    return [
        Slot(start, start + duration, lieu_id, tuple(sorted(agents)))
        for (start, lieu_id), agents in sorted(grouped.items(), key=lambda item: (item[0][0], item[0][1] or 0))
    ]
