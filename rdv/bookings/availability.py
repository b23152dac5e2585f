"""Load what the pure engine needs from the database, in a constant number of queries.

One function serves every use: the public month/week view, the agent-side search, the next
availability per lieu, and the re-check inside booking (`is_slot_free`). There is no second
path.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
from rdv.availability import Recurrence, RecurringEvent, Slot, expand
from rdv.availability.recurrence import local_day_interval
from rdv.availability.slots import (
    compute_slot_seconds,
    merge_seconds,
    seconds_ceil,
    slots_from_seconds,
    subtract_seconds,
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


@dataclass
class EngineInputs:
    """Everything the pure engine needs, per motif id, in POSIX seconds (see
    rdv.availability.slots: the integer core)."""

    rules: dict[int, MotifRule]
    openings: dict[int, list[tuple[int, int | None, int, int]]]  # (agent, lieu, start, end)
    busy: dict[int, list[tuple[int, int]]]  # agent -> (start, end)
    windows: dict[int, tuple[int, int] | None]  # (earliest, latest); None: nothing bookable


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
    exceptions, absences, RDVs (holidays are computed in memory). Plages and absences are
    expanded in the time of their own espace (an agent may work in several). `online` applies the
    motifs' minimum and maximum booking delays to the windows; `exclude_rdv_ids` ignores RDVs (a
    RDV being moved). Slots held online (SlotHold) that have not expired are busy too, except the
    holds of `holder_key` (the person booking sees and books the slot they hold)."""
    now = now or timezone.now()
    motifs = list(motifs)
    rules = {m.pk: motif_rule(m) for m in motifs}
    if not motifs:
        return EngineInputs(rules, defaultdict(list), defaultdict(list), {})
    tz = tz or motifs_zone(motifs)
    window_start, _ = local_day_interval(start_date, tz)
    _, window_end = local_day_interval(end_date, tz)
    windows: dict[int, tuple[int, int] | None] = {}
    for motif_id, rule in rules.items():
        earliest, latest = max(now, window_start), window_end
        if online:
            earliest = max(earliest, now + rule.min_delay)
            latest = min(latest, now + rule.max_delay)
        windows[motif_id] = (seconds_ceil(earliest), seconds_ceil(latest)) if earliest < latest else None
    inputs = EngineInputs(rules, defaultdict(list), defaultdict(list), windows)
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
        grouped = compute_slot_seconds(inputs.openings.get(motif_id, ()), inputs.busy, duration, *window)
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
) -> bool:
    """The re-check inside booking, on the same data and engine as the displayed slots.

    Online (usagers): `start` must be one of the motif's displayed slots for this agent.
    Agents: [start, start + duration) must lie inside a free range of a plage of this agent that
    offers the motif (at `lieu_id` when given), at any start time, not only the displayed grid."""
    tz = tz or motifs_zone([motif])
    local_day = timezone.localtime(start, tz).date()
    inputs = load_inputs(
        [motif],
        local_day,
        local_day,
        now=now,
        agent_ids=[agent_id],
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
    if online:
        grouped = compute_slot_seconds(inputs.openings.get(motif.pk, ()), inputs.busy, duration, *window)
        return any(start_s == slot_start and agent_id in agents for (slot_start, _), agents in grouped.items())
    if start_s < window[0]:
        return False
    busy = merge_seconds(inputs.busy.get(agent_id, ()))
    ends = [e for _, e in busy]
    for _, opening_lieu, opening_start, opening_end in inputs.openings.get(motif.pk, ()):
        if lieu_id is not None and opening_lieu != lieu_id:
            continue
        for free_start, free_end in subtract_seconds(opening_start, opening_end, busy, ends):
            if free_start <= start_s and start_s + duration <= free_end:
                return True
    return False


def next_availability_by_lieu(
    motifs: Iterable, *, now: datetime | None = None, horizon_days: int = 92, online: bool = True, chunk_days: int = 7
) -> dict[int, Slot]:
    """The first free slot per lieu, looking `chunk_days` at a time up to the horizon (stops as
    soon as every lieu with a plage for these motifs has one)."""
    now = now or timezone.now()
    motifs = list(motifs)
    if not motifs:
        return {}
    territory = motifs[0].organisation.territory
    zone, tz = holiday_zone(territory), territory.zone
    expected = set(
        PlageOuverture.objects.filter(motifs__in=motifs, lieu__archived_at__isnull=True, lieu__is_open=True)
        .values_list("lieu_id", flat=True)
        .distinct()
    )
    found: dict[int, Slot] = {}
    start = timezone.localtime(now, tz).date()
    for offset in range(0, horizon_days, chunk_days):
        chunk_start = start + timedelta(days=offset)
        chunk_end = min(start + timedelta(days=horizon_days), chunk_start + timedelta(days=chunk_days - 1))
        chunk = find_slots(motifs, chunk_start, chunk_end, now=now, online=online, holiday_zone=zone, tz=tz)
        for slots in chunk.values():
            for slot in slots:
                if slot.lieu_id not in found or slot.start < found[slot.lieu_id].start:
                    found[slot.lieu_id] = slot
        if expected <= set(found):
            break
    return found


__all__ = ["EngineInputs", "MotifRule", "find_slots", "is_slot_free", "load_inputs", "next_availability_by_lieu"]
