"""Free slots: opening occurrences minus busy intervals, cut at the motif duration.

The cutting rule is the established platform's, in two steps:
1. cut: each free range (an opening occurrence minus the busy intervals) is cut from its own
   start, stepping by the duration, while start + duration <= range end. A free range that began
   before now (the cut origin) starts at the first 5-minute step at or after now, counted from the
   range's start: begin + 5 min × ceil((now − begin) / 5 min).
2. then filter: keep the starts inside the booking window. Agents: start >= now. Online:
   now + minimum delay <= start <= now + maximum delay, both ends inclusive (`booking_window`).
Cutting never starts from now + minimum delay: a slot shown at 10:07 for a range starting at
10:30 is still there, at the same time, at 10:12.

Every computation is on UTC instants. The core works on integer POSIX seconds (the loader can
feed it directly, which avoids building tens of thousands of datetime objects); the public
functions take and return aware datetimes.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

STEP_SECONDS = 5 * 60


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
    """Which slot starts are wanted: start in [earliest, latest), cut from `now`.

    `now` is the cut origin: a free range that began before it starts at the first 5-minute step
    at or after it (counted from the range's start). None: `earliest` (an agent's search, where
    the window starts now). Build online windows with `booking_window`."""

    earliest: datetime
    latest: datetime
    now: datetime | None = None

    @property
    def origin(self) -> datetime:
        return self.earliest if self.now is None else self.now


RESOLUTION = timedelta(microseconds=1)  # of datetime: start <= t is start < t + 1 µs


def booking_window(
    now: datetime,
    start: datetime,
    end: datetime,
    *,
    min_delay: timedelta | None = None,
    max_delay: timedelta | None = None,
) -> BookingWindow | None:
    """The slot starts wanted between two instants [start, end) (a range of local days), cut from
    now: never before now; with delays (online), now + min_delay <= slot start <= now + max_delay,
    both ends inclusive. None when nothing can be wanted. Delays are added to the instant (UTC),
    not to a wall-clock time: a day of delay across a DST change is 24 real hours."""
    now = now.astimezone(UTC)
    earliest, latest = max(now, start), end
    if min_delay is not None:
        earliest = max(earliest, now + min_delay)
    if max_delay is not None:
        latest = min(latest, now + max_delay + RESOLUTION)
    if earliest >= latest:
        return None
    return BookingWindow(earliest, latest, now)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    lieu_id: int | None
    agent_ids: tuple[int, ...]


# Integer core ----------------------------------------------------------------------------
# An opening is (agent_id, lieu_id, start, end) and a busy interval (start, end), in seconds.


def merge_seconds(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of intervals (touching intervals are merged)."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def subtract_seconds(start: int, end: int, busy: Sequence[tuple[int, int]], busy_ends: Sequence[int]):
    """[start, end) minus merged, sorted `busy` intervals (`busy_ends` = their ends, for bisect)."""
    free = []
    cursor = start
    index = bisect_right(busy_ends, start)  # busy intervals ending at or before `start` don't matter
    while index < len(busy) and busy[index][0] < end:
        busy_start, busy_end = busy[index]
        if busy_start > cursor:
            free.append((cursor, busy_start))
        cursor = busy_end  # merged intervals: each ends after the cursor
        index += 1
    if cursor < end:
        free.append((cursor, end))
    return free


def cut_seconds(start: int, end: int, duration: int, origin: int, earliest: int, latest: int) -> range:
    """Slot starts in the free range [start, end) for a duration, cut from `origin` (now), kept
    within [earliest, latest)."""
    first = start
    if first < origin:  # the range has begun: the next 5-minute step from its start
        first = start + -((start - origin) // STEP_SECONDS) * STEP_SECONDS
    if first < earliest:  # skip the starts before the window, on the same grid
        first += -((first - earliest) // duration) * duration
    last_start = min(end - duration, latest - 1)  # start + duration <= end and start < latest
    return range(first, last_start + 1, duration)


def compute_slot_seconds(
    openings: Iterable[tuple[int, int | None, int, int]],
    busy_by_agent: Mapping[int, Iterable[tuple[int, int]]],
    duration: int,
    origin: int,
    earliest: int,
    latest: int,
) -> dict[tuple[int, int | None], set[int]]:
    """{(slot start, lieu): agents free then}, all in seconds: free ranges cut from `origin` (now),
    starts kept within [earliest, latest).

    The hot loop of every slot search: `subtract_seconds` and `cut_seconds` are inlined here
    (same rules, see their docstrings) because a month of a 200-agent espace runs it ~10,000
    times."""
    if duration <= 0:
        raise ValueError("duration must be positive")
    prepared: dict[int, tuple[list[tuple[int, int]], list[int]]] = {}
    grouped: dict[tuple[int, int | None], set[int]] = defaultdict(set)
    step = STEP_SECONDS
    for agent_id, lieu_id, start, end in openings:
        if end <= earliest or start >= latest:
            continue
        entry = prepared.get(agent_id)
        if entry is None:
            busy = merge_seconds(busy_by_agent.get(agent_id, ()))
            entry = prepared[agent_id] = (busy, [e for _, e in busy])
        busy, ends = entry
        # free ranges of [start, end) outside the busy intervals
        cursor = start
        index = bisect_right(ends, start)
        count = len(busy)
        while True:
            if index < count and busy[index][0] < end:
                free_start, free_end = cursor, busy[index][0]
                cursor = busy[index][1]  # merged intervals: each ends after the cursor
                index += 1
                if free_end <= free_start:
                    continue
            elif cursor < end:
                free_start, free_end, cursor = cursor, end, end
            else:
                break
            # slot starts in [free_start, free_end)
            first = free_start
            if first < origin:
                first = free_start + -((free_start - origin) // step) * step
            if first < earliest:
                first += -((first - earliest) // duration) * duration
            last_start = free_end - duration
            if last_start >= latest:
                last_start = latest - 1
            for slot_start in range(first, last_start + 1, duration):
                grouped[(slot_start, lieu_id)].add(agent_id)
    return grouped


def slots_from_seconds(grouped: Mapping[tuple[int, int | None], set[int]], duration: int) -> list[Slot]:
    result = []
    for (start, lieu_id), agents in sorted(grouped.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        begin = datetime.fromtimestamp(start, UTC)
        result.append(Slot(begin, begin + timedelta(seconds=duration), lieu_id, tuple(sorted(agents))))
    return result


# Datetime API -----------------------------------------------------------------------------


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def seconds(instant: datetime) -> int:
    """POSIX seconds of an aware datetime, rounded down (exact: no float)."""
    return (instant - EPOCH) // SECOND


def seconds_ceil(instant: datetime) -> int:
    """POSIX seconds rounded up: for whole-second starts, start >= t and start < t are the same
    tests with t or with ceil(t), so window bounds with microseconds (now) stay exact."""
    return -((EPOCH - instant) // SECOND)


def window_seconds(window: BookingWindow) -> tuple[int, int, int]:
    """(origin, earliest, latest) of a window in seconds, for the integer core."""
    return seconds_ceil(window.origin), seconds_ceil(window.earliest), seconds_ceil(window.latest)


def merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, non-overlapping union of intervals (touching intervals are merged)."""
    return [
        (datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC))
        for s, e in merge_seconds((seconds(s), seconds(e)) for s, e in intervals)
    ]


def free_intervals(
    openings: Iterable[Opening], busy_by_agent: Mapping[int, Iterable[tuple[datetime, datetime]]]
) -> list[tuple[Opening, datetime, datetime]]:
    """Each opening minus its agent's busy intervals: (opening, free start, free end)."""
    prepared: dict[int, tuple[list[tuple[int, int]], list[int]]] = {}
    result = []
    for opening in openings:
        if opening.agent_id not in prepared:
            busy = merge_seconds((seconds(s), seconds_ceil(e)) for s, e in busy_by_agent.get(opening.agent_id, ()))
            prepared[opening.agent_id] = (busy, [e for _, e in busy])
        busy, ends = prepared[opening.agent_id]
        for start, end in subtract_seconds(seconds_ceil(opening.start), seconds(opening.end), busy, ends):
            result.append((opening, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)))
    return result


def cut(start: datetime, end: datetime, duration: timedelta, window: BookingWindow) -> list[datetime]:
    """Slot starts in the free range [start, end) for a duration, within the window."""
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    starts = cut_seconds(seconds(start), seconds(end), int(duration.total_seconds()), *window_seconds(window))
    return [datetime.fromtimestamp(s, UTC) for s in starts]


def compute_slots(
    openings: Iterable[Opening],
    busy_by_agent: Mapping[int, Iterable[tuple[datetime, datetime]]],
    duration: timedelta,
    window: BookingWindow,
) -> list[Slot]:
    """Free slots of `duration`, grouped by (start, lieu) with the agents free then, sorted."""
    duration_s = int(duration.total_seconds())
    grouped = compute_slot_seconds(
        # Sub-second parts never widen free time: openings shrink, busy intervals grow.
        ((o.agent_id, o.lieu_id, seconds_ceil(o.start), seconds(o.end)) for o in openings),
        {agent: [(seconds(s), seconds_ceil(e)) for s, e in busy] for agent, busy in busy_by_agent.items()},
        duration_s,
        *window_seconds(window),
    )
    return slots_from_seconds(grouped, duration_s)
