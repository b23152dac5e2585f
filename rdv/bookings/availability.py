"""Load what the pure engine needs from the database, in a constant number of queries.

One function serves every use: the public month/week view, the agent-side search, the next
availability (per lieu, or the first slot), and the re-check inside booking (`is_slot_free`).
There is no second path.

The rule (rdv.availability.slots): free ranges are cut from their own start (or, once begun,
from the next 5-minute step after now), THEN filtered: agents keep the starts from now on; online
keeps now + minimum delay <= start <= now + maximum delay, both ends inclusive.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import connections
from django.utils import timezone

from rdv.agendas.calendar import holiday_zone
from rdv.agendas.holidays import holiday_dates
from rdv.agendas.models import (
    ABSENCE_LOOKBACK_DAYS,
    EVENT_FIELDS,
    Absence,
    PlageException,
    PlageOuverture,
    RecurrenceKind,
)
from rdv.availability import Recurrence, RecurringEvent, Slot, booking_window, expand
from rdv.availability.recurrence import local_day_interval
from rdv.availability.slots import (
    compute_slot_seconds,
    merge_seconds,
    seconds_ceil,
    slots_from_seconds,
    subtract_seconds,
    window_seconds,
)
from rdv.bookings.models import RdvAgent, SlotHold
from rdv.territories.models import zone_info


@dataclass(frozen=True)
class MotifRule:
    id: int
    duration: timedelta
    min_delay: timedelta
    max_delay: timedelta


def motif_rule(motif) -> MotifRule:
    return MotifRule(
        id=motif.pk,
        duration=timedelta(minutes=motif.default_duration_minutes),
        min_delay=timedelta(minutes=motif.min_booking_delay_minutes or 0),
        max_delay=timedelta(minutes=motif.max_booking_delay_minutes or 0),
    )


# A start the engine displayed at an earlier instant (`displayed_at`) is still accepted at the
# re-check for this long: the usager chose it on a page shown then.
DISPLAYED_AT_TOLERANCE = timedelta(minutes=30)


@dataclass
class EngineInputs:
    """Everything the pure engine needs, per motif id, in POSIX seconds (see
    rdv.availability.slots: the integer core)."""

    rules: dict[int, MotifRule]
    openings: dict[int, list[tuple[int, int | None, int, int]]]  # (agent, lieu, start, end)
    busy: dict[int, list[tuple[int, int]]]  # agent -> (start, end)
    windows: dict[int, tuple[int, int] | None]  # starts in [earliest, latest); None: nothing bookable
    origin: int = 0  # now, the cut origin of the free ranges (seconds, rounded up)


@lru_cache(maxsize=8192)
def _expand_seconds(event: RecurringEvent, start_date: date, end_date: date) -> tuple[tuple[int, int], ...]:
    """Occurrences of a plage or absence in seconds. Expansions are pure, so they are cached
    across requests (the key holds every field of the event, exceptions included)."""
    return tuple((int(s.timestamp()), int(e.timestamp())) for s, e in expand(event, start_date, end_date))


def _event(row: dict, prefix: str = "", span_days: int = 0, exceptions=None) -> RecurringEvent:
    """The event of a plage or absence row, in the wall-clock time of its own espace."""
    kind = row[prefix + "recurrence"]
    return RecurringEvent(
        tz=zone_info(row[prefix + "organisation__territory__time_zone"]),
        first_date=row[prefix + "first_date"],
        start_time=row[prefix + "start_time"],
        end_time=row[prefix + "end_time"],
        recurrence=Recurrence(
            kind=kind,
            interval=row[prefix + "recurrence_interval"] or 1,
            weekdays=frozenset(row[prefix + "recurrence_weekdays"] or ()),
            until=row[prefix + "until"] if kind != RecurrenceKind.NONE else row[prefix + "first_date"],
            last_of_month=kind == RecurrenceKind.MONTHLY and row[prefix + "recurrence_last_of_month"],
        ),
        span_days=span_days,
        exceptions=_FrozenExceptions(exceptions or {}),
    )


class _FrozenExceptions(dict):
    """A hashable mapping, so that events can be cache keys."""

    def __hash__(self):  # type: ignore[override]
        return hash(frozenset(self.items()))


def motifs_zone(motifs) -> ZoneInfo:
    """The wall-clock time of the motifs' espace (they belong to one organisation)."""
    return motifs[0].organisation.territory.zone


def load_inputs(
    motifs: Iterable,
    start_date: date,
    end_date: date,
    *,
    now: datetime | None = None,
    agent_ids: Iterable[int] | None = None,
    lieu_ids: Iterable[int] | None = None,
    online: bool = False,
    holiday_zone: str = "",
    exclude_rdv_ids: Iterable[int] = (),
    tz: ZoneInfo | None = None,
    holder_key: str = "",
) -> EngineInputs:
    """Load openings and busy intervals between two local dates (inclusive) of the motifs' espace
    (`tz`: its time zone; read from the first motif when not given).

    Four queries whatever the number of agents, days and RDVs: plages × motifs, plage
    exceptions, absences, RDVs with slot holds (one UNION; holidays are computed in memory).
    Plages and absences are expanded in the time of their own espace (an agent may work in
    several). The windows keep the starts from now on; `online` keeps now + minimum delay <=
    start <= now + maximum delay instead (both inclusive); free ranges are cut from now either way
    (`origin`). `exclude_rdv_ids` ignores RDVs (a RDV being moved). Slots held online (SlotHold)
    that have not expired are busy too, except the holds of `holder_key` (the person booking sees
    and books the slot they hold)."""
    now = (now or timezone.now()).astimezone(UTC)  # delays are added to instants, not wall clocks
    motifs = list(motifs)
    rules = {m.pk: motif_rule(m) for m in motifs}
    if not motifs:
        return EngineInputs(rules, defaultdict(list), defaultdict(list), {}, seconds_ceil(now))
    tz = tz or motifs_zone(motifs)
    window_start, _ = local_day_interval(start_date, tz)
    _, window_end = local_day_interval(end_date, tz)
    windows: dict[int, tuple[int, int] | None] = {}
    for motif_id, rule in rules.items():
        delays = {"min_delay": rule.min_delay, "max_delay": rule.max_delay} if online else {}
        window = booking_window(now, window_start, window_end, **delays)
        windows[motif_id] = window_seconds(window)[1:] if window else None
    inputs = EngineInputs(rules, defaultdict(list), defaultdict(list), windows, seconds_ceil(now))
    if not rules or all(window is None for window in windows.values()):
        return inputs

    through = PlageOuverture.motifs.through
    rows = through.objects.filter(
        motif_id__in=list(rules),
        plageouverture__in=PlageOuverture.objects.overlapping_dates(start_date, end_date).filter(
            lieu__archived_at__isnull=True, lieu__is_open=True
        ),
    )
    if agent_ids is not None:
        rows = rows.filter(plageouverture__agent_id__in=list(agent_ids))
    if lieu_ids is not None:
        rows = rows.filter(plageouverture__lieu_id__in=list(lieu_ids))
    rows = list(
        rows.values(
            "motif_id",
            "plageouverture_id",
            "plageouverture__agent_id",
            "plageouverture__lieu_id",
            *(f"plageouverture__{f}" for f in EVENT_FIELDS),
            "plageouverture__organisation__territory__time_zone",
        )
    )
    if not rows:
        return inputs
    plage_ids = {row["plageouverture_id"] for row in rows}
    exceptions: dict[int, dict] = defaultdict(dict)
    for exc in PlageException.objects.filter(plage_id__in=plage_ids).values(
        "plage_id", "date", "cancelled", "start_time", "end_time"
    ):
        exceptions[exc["plage_id"]][exc["date"]] = None if exc["cancelled"] else (exc["start_time"], exc["end_time"])

    agents = {row["plageouverture__agent_id"] for row in rows}
    busy = inputs.busy
    for absence in (
        Absence.objects.filter(agent_id__in=agents)
        .overlapping_dates(start_date - timedelta(days=ABSENCE_LOOKBACK_DAYS), end_date)
        .values("agent_id", "end_date", *EVENT_FIELDS, "organisation__territory__time_zone")
    ):
        span = (absence["end_date"] - absence["first_date"]).days
        busy[absence["agent_id"]].extend(_expand_seconds(_event(absence, span_days=span), start_date, end_date))
    rdv_busy = RdvAgent.objects.filter(
        agent_id__in=agents, blocks_agenda=True, starts_at__lt=window_end, ends_at__gt=window_start
    )
    if exclude_rdv_ids:  # a RDV being moved does not block its own new time
        rdv_busy = rdv_busy.exclude(rdv_id__in=list(exclude_rdv_ids))
    holds = SlotHold.objects.filter(
        agent_id__in=agents, expires_at__gt=now, starts_at__lt=window_end, ends_at__gt=window_start
    )
    if holder_key:
        holds = holds.exclude(holder_key=holder_key)
    # RDVs and live holds in one query
    for agent_id, starts_at, ends_at in _busy_seconds(rdv_busy).union(_busy_seconds(holds), all=True):
        busy[agent_id].append((starts_at, ends_at))
    holidays = [  # whole days of the espace
        tuple(int(i.timestamp()) for i in local_day_interval(day, tz))
        for day in holiday_dates(holiday_zone, start_date, end_date)
    ]
    if holidays:
        for agent_id in agents:
            busy[agent_id].extend(holidays)

    for row in rows:
        plage_id = row["plageouverture_id"]
        occurrences = _expand_seconds(
            _event(row, "plageouverture__", exceptions=exceptions.get(plage_id)), start_date, end_date
        )
        agent_id, lieu_id = row["plageouverture__agent_id"], row["plageouverture__lieu_id"]
        inputs.openings[row["motif_id"]].extend((agent_id, lieu_id, s, e) for s, e in occurrences)
    return inputs


def _busy_seconds(queryset):
    """(agent id, start, end) of RDVs in POSIX seconds, computed by the database: converting
    tens of thousands of timestamps to datetime objects costs more than the slot computation."""
    if connections[queryset.db].vendor == "postgresql":
        epoch = "EXTRACT(EPOCH FROM {})::bigint"
    else:
        epoch = "CAST(strftime('%%s', {}) AS INTEGER)"
    queryset = queryset.extra(  # noqa: S610 - constant SQL, no user input
        select={"start_s": epoch.format("starts_at"), "end_s": epoch.format("ends_at")}
    ).values_list("agent_id", "start_s", "end_s")
    return queryset


def find_slots(motifs: Iterable, start_date: date, end_date: date, **options) -> dict[int, list[Slot]]:
    """Free slots per motif id between two local dates (inclusive); see `load_inputs` for the
    options (now, agent_ids, lieu_ids, online, holiday_zone, tz)."""
    inputs = load_inputs(motifs, start_date, end_date, **options)
    result = {}
    for motif_id, rule in inputs.rules.items():
        window = inputs.windows[motif_id]
        if window is None:
            result[motif_id] = []
            continue
        duration = int(rule.duration.total_seconds())
        grouped = compute_slot_seconds(inputs.openings.get(motif_id, ()), inputs.busy, duration, inputs.origin, *window)
        result[motif_id] = slots_from_seconds(grouped, duration)
    return result


def is_slot_free(
    motif,
    agent_id: int,
    start: datetime,
    *,
    now: datetime | None = None,
    online: bool = False,
    exclude_rdv_ids: Iterable[int] = (),
    holiday_zone: str = "",
    duration: timedelta | None = None,
    lieu_id: int | None = None,
    tz: ZoneInfo | None = None,
    holder_key: str = "",
    displayed_at: datetime | None = None,
) -> bool:
    """The re-check inside booking, on the same data and engine as the displayed slots.

    Online (usagers): `start` must be one of the motif's slots for this agent at this lieu (any
    lieu when `lieu_id` is None), as displayed now, or as displayed at `displayed_at` when it is
    given and within the last 30 minutes: a range that had begun then was cut from that instant
    (its steps may have moved since); the window (delays) is always the real now's.
    Agents: [start, start + duration) must lie inside a free range of a plage of this agent that
    offers the motif (at `lieu_id` when given), at any start time from now on, not only the
    displayed grid."""
    now = (now or timezone.now()).astimezone(UTC)
    tz = tz or motifs_zone([motif])
    local_day = timezone.localtime(start, tz).date()
    inputs = load_inputs(
        [motif],
        local_day,
        local_day,
        now=now,
        agent_ids=[agent_id],
        lieu_ids=None if lieu_id is None else [lieu_id],
        online=online,
        exclude_rdv_ids=exclude_rdv_ids,
        holiday_zone=holiday_zone,
        tz=tz,
        holder_key=holder_key,
    )
    window = inputs.windows[motif.pk]
    if window is None:
        return False
    duration = int((duration or inputs.rules[motif.pk].duration).total_seconds())
    start_s = int(start.timestamp())
    openings = [o for o in inputs.openings.get(motif.pk, ()) if lieu_id is None or o[1] == lieu_id]
    if online:
        origins = [inputs.origin]
        if displayed_at is not None and displayed_at.tzinfo and now - DISPLAYED_AT_TOLERANCE <= displayed_at <= now:
            origins.append(seconds_ceil(displayed_at))
        for origin in origins:
            grouped = compute_slot_seconds(openings, inputs.busy, duration, origin, *window)
            if any(start_s == slot_start and agent_id in agents for (slot_start, _), agents in grouped.items()):
                return True
        return False
    if start_s < window[0]:
        return False
    busy = merge_seconds(inputs.busy.get(agent_id, ()))
    ends = [e for _, e in busy]
    for _, _, opening_start, opening_end in openings:
        for free_start, free_end in subtract_seconds(opening_start, opening_end, busy, ends):
            if free_start <= start_s and start_s + duration <= free_end:
                return True
    return False


# « Prochaine disponibilité » -----------------------------------------------------------------

AGENT_HORIZON_DAYS = 92  # agents have no maximum delay: how far the next availability looks for them
MAX_CHUNK_DAYS = 56


def _search_days(motifs, now: datetime, tz: ZoneInfo, *, online: bool, after: datetime | None, horizon_days):
    """(first, last) local dates to search: from `after` (or now) up to the motifs' largest
    maximum delay online, `horizon_days` (default 92) for agents."""
    first = timezone.localtime(max(now, after or now), tz).date()
    if horizon_days is None and online:
        last = timezone.localtime(now + max(motif_rule(m).max_delay for m in motifs), tz).date()
    else:
        last = timezone.localtime(now, tz).date() + timedelta(days=horizon_days or AGENT_HORIZON_DAYS)
    return first, last


def _chunks(first: date, last: date, chunk_days: int):
    """[start, end] date ranges covering [first, last]: `chunk_days` first (the week usually
    wanted), then twice as long each time up to 8 weeks, so a distant slot costs few queries."""
    size, start = max(1, chunk_days), first
    while start <= last:
        end = min(last, start + timedelta(days=size - 1))
        yield start, end
        start, size = end + timedelta(days=1), min(size * 2, max(chunk_days, MAX_CHUNK_DAYS))


def next_availability_by(
    motifs: Iterable,
    key: Callable[[int, Slot], Hashable | None],
    expected: Iterable[Hashable],
    *,
    now: datetime | None = None,
    horizon_days: int | None = None,
    online: bool = True,
    chunk_days: int = 7,
    holder_key: str = "",
    lieu_ids: Iterable[int] | None = None,
) -> dict[Hashable, Slot]:
    """The first free slot per key, where `key(motif_id, slot)` says what a slot counts for (None:
    for nothing): per lieu, per (motif, lieu), per motif… Online it searches as far as the motifs'
    largest maximum delay (each motif keeps its own window; `horizon_days` forces a horizon;
    agents: 92 days), a week first, then longer chunks, each one call of `find_slots` for all the
    motifs (a constant number of queries); it stops as soon as every key of `expected` has its slot
    (the keys the caller knows can have one). `lieu_ids`: only the plages at those lieux. The holds
    of `holder_key` do not hide slots from their holder."""
    now = (now or timezone.now()).astimezone(UTC)
    motifs = list(motifs)
    if not motifs:
        return {}
    expected = set(expected)
    territory = motifs[0].organisation.territory
    zone, tz = holiday_zone(territory), territory.zone
    found: dict[Hashable, Slot] = {}
    first, last = _search_days(motifs, now, tz, online=online, after=None, horizon_days=horizon_days)
    for chunk_start, chunk_end in _chunks(first, last, chunk_days):
        chunk = find_slots(
            motifs,
            chunk_start,
            chunk_end,
            now=now,
            online=online,
            holiday_zone=zone,
            tz=tz,
            holder_key=holder_key,
            lieu_ids=None if lieu_ids is None else sorted(lieu_ids),
        )
        for motif_id, slots in chunk.items():
            for slot in slots:
                wanted = key(motif_id, slot)
                if wanted is not None and (wanted not in found or slot.start < found[wanted].start):
                    found[wanted] = slot
        if expected <= set(found):
            break
    return found


def next_availability_by_lieu(
    motifs: Iterable,
    *,
    now: datetime | None = None,
    horizon_days: int | None = None,
    online: bool = True,
    chunk_days: int = 7,
    holder_key: str = "",
    lieu_ids: Iterable[int] | None = None,
) -> dict[int, Slot]:
    """The first free slot per lieu (any of the motifs). Online it searches as far as the motifs'
    maximum delay (`horizon_days` forces a horizon; agents: 92 days), a week first, then longer
    chunks, each in a constant number of queries; it stops as soon as every lieu with a plage for
    these motifs has one (`lieu_ids`: only those lieux, which the caller already knows). The holds
    of `holder_key` do not hide slots from their holder."""
    motifs = list(motifs)
    if not motifs:
        return {}
    if lieu_ids is not None:
        expected = set(lieu_ids)
    else:
        expected = set(
            PlageOuverture.objects.filter(motifs__in=motifs, lieu__archived_at__isnull=True, lieu__is_open=True)
            .values_list("lieu_id", flat=True)
            .distinct()
        )
    return next_availability_by(
        motifs,
        lambda _motif_id, slot: slot.lieu_id,
        expected,
        now=now,
        horizon_days=horizon_days,
        online=online,
        chunk_days=chunk_days,
        holder_key=holder_key,
        lieu_ids=None if lieu_ids is None else expected,
    )


def next_available_slot(
    motif,
    *,
    lieu_id: int | None = None,
    after: datetime | None = None,
    now: datetime | None = None,
    holder_key: str = "",
    chunk_days: int = 7,
) -> Slot | None:
    """The first slot bookable online for this motif (at this lieu when given) starting at or
    after `after` (default: now), or None: « prochaine disponibilité le … ». Searches as far as
    the motif's maximum delay, a week first, then longer chunks, in a constant number of queries
    each. The holds of `holder_key` do not hide slots from their holder."""
    now = (now or timezone.now()).astimezone(UTC)
    territory = motif.organisation.territory
    zone, tz = holiday_zone(territory), territory.zone
    first, last = _search_days([motif], now, tz, online=True, after=after, horizon_days=None)
    options = {
        "now": now,
        "online": True,
        "holiday_zone": zone,
        "tz": tz,
        "holder_key": holder_key,
        "lieu_ids": None if lieu_id is None else [lieu_id],
    }
    for chunk_start, chunk_end in _chunks(first, last, chunk_days):
        for slot in find_slots([motif], chunk_start, chunk_end, **options)[motif.pk]:
            if after is None or slot.start >= after:
                return slot
    return None


__all__ = [
    "DISPLAYED_AT_TOLERANCE",
    "EngineInputs",
    "MotifRule",
    "find_slots",
    "is_slot_free",
    "load_inputs",
    "next_availability_by",
    "next_availability_by_lieu",
    "next_available_slot",
]
