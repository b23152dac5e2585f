"""Reads of RDVs, scoped by the context (rdv.bookings.policies): the agenda of several agents (as
a list of days or as a time grid), the RDV list and its CSV export, the API's search, a RDV's
participants and history, the agents of a motif.

The agenda loads plages, absences, holidays and RDVs of several agents over a few days in a
constant number of queries (whatever the number of RDVs, plages or days). RDVs the viewer may not
see (another service, another organisation) keep their place in the agenda as "Occupé", without
any detail.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, partial
from itertools import groupby

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery, prefetch_related_objects
from django.utils import timezone

from rdv.accounts.models import Agent, AgentService
from rdv.agendas.holidays import holiday_dates
from rdv.agendas.models import ABSENCE_LOOKBACK_DAYS, Absence, PlageException, PlageOuverture
from rdv.availability import expand
from rdv.availability.recurrence import local_day_interval
from rdv.bookings import policies
from rdv.bookings.models import CANCELLED_STATUSES, Participation, Rdv, RdvAgent, RdvFacts, RdvStatus
from rdv.core.audit import describe_entries
from rdv.core.context import Context
from rdv.core.db import EpochSeconds
from rdv.core.models import AuditLog
from rdv.motifs.models import LOCATION_LABELS, Motif
from rdv.usagers import policies as usager_policies
from rdv.usagers.models import Usager


@dataclass(frozen=True, slots=True)
class AgendaMotif:
    name: str
    color: str


@dataclass(frozen=True, slots=True)
class AgendaLieu:
    name: str


@dataclass(frozen=True, slots=True)
class PlageMotif:
    """A motif a plage offers, named as Motif.__str__ names it (Motif.label_of: « Accueil (sur
    place) »), read as plain values (a week of 12 agents names hundreds)."""

    pk: int
    name: str
    label: str

    def __str__(self) -> str:
        return self.label


@dataclass(slots=True)
class AgendaRdv(RdvFacts):
    """What the agenda (grid and list) shows of a RDV, read as plain values: a week of 12 agents
    holds hundreds of them, and model instances (a RDV, its motif, its lieu) cost most of its time."""

    pk: int
    starts_at: datetime
    ends_at: datetime
    status: str
    collective: bool
    arrived_at: datetime | None
    motif: AgendaMotif
    lieu: AgendaLieu | None

    def get_status_display(self) -> str:
        return str(RdvStatus(self.status).label)


@dataclass
class RdvItem:
    rdv: AgendaRdv
    visible: bool
    start: datetime
    end: datetime
    usagers: list = field(default_factory=list)  # their names (« Jeanne DUPONT »)
    nested: bool = False  # shown inside the plage occurrence that holds it
    kind: str = "rdv"

    @property
    def names(self) -> str:
        return ", ".join(str(usager) for usager in self.usagers)

    @property
    def movable(self) -> bool:
        """Members who may see a RDV may move it (rdv.bookings.policies.can_move), unless cancelled."""
        return self.visible and not self.rdv.is_cancelled


@dataclass
class AbsenceItem:
    title: str
    start: datetime
    end: datetime
    whole_day: bool
    kind: str = "absence"


@dataclass
class PlageItem:
    plage: PlageOuverture
    start: datetime
    end: datetime
    motifs: list
    rdvs: list = field(default_factory=list)
    kind: str = "plage"


@dataclass
class Cell:
    agent: object
    day: date
    items: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.items


@dataclass
class DayRow:
    day: date
    holiday: str
    is_today: bool
    cells: list


@dataclass
class Agenda:
    first_day: date
    last_day: date
    agents: list
    rows: list
    rdv_ids: list  # visible RDVs shown (the waiting-room polling refreshes their arrival marks)
    arrived: list  # RdvItems of visible RDVs whose usager is in the waiting room


# "Journée entière" absences end at 23:59 (docs/adr/0006-agendas.md): they cover the whole day.
WHOLE_DAY_SLACK = timedelta(minutes=1)


def _local_days(start: datetime, end: datetime, first_day: date, last_day: date, tz):
    """The local days (in `tz`) of [first_day, last_day] that [start, end) touches, with the clipped
    times and whether the whole day is covered."""
    day = max(timezone.localtime(start, tz).date(), first_day)
    while day <= last_day:
        day_start, day_end = local_day_interval(day, tz)
        if day_start >= end:
            break
        clipped_start, clipped_end = max(start, day_start), min(end, day_end)
        if clipped_start < clipped_end:
            whole = clipped_start == day_start and clipped_end >= day_end - WHOLE_DAY_SLACK
            yield day, clipped_start, clipped_end, whole
        day += timedelta(days=1)


# What the agenda (grid and list) reads of each RDV of the period, with its motif and lieu, in the
# order `build_agenda` unpacks them.
AGENDA_LINK_FIELDS = (
    "agent_id",
    "visible",
    "rdv_id",
    "rdv__starts_at",
    "rdv__ends_at",
    "rdv__status",
    "rdv__collective",
    "rdv__arrived_at",
    "rdv__motif_id",
    "rdv__motif__name",
    "rdv__motif__color",
    "rdv__lieu_id",
    "rdv__lieu__name",
)


def _plage_motifs(plage_ids: list[int]) -> dict[int, list[PlageMotif]]:
    """The motifs of each plage, by name (then type), as plain values (one query)."""
    known: dict[int, PlageMotif] = {}
    by_plage: dict[int, list[PlageMotif]] = defaultdict(list)
    for plage_id, motif_id, name, location_type in PlageOuverture.motifs.through.objects.filter(
        plageouverture_id__in=plage_ids
    ).values_list("plageouverture_id", "motif_id", "motif__name", "motif__location_type"):
        motif = known.get(motif_id)
        if motif is None:
            motif = known[motif_id] = PlageMotif(motif_id, name, Motif.label_of(name, location_type))
        by_plage[plage_id].append(motif)
    for motifs in by_plage.values():
        motifs.sort(key=lambda motif: (motif.name, motif.label, motif.pk))
    return by_plage


def build_agenda(
    ctx: Context,
    agents: list,
    first_day: date,
    last_day: date,
    *,
    show_cancelled: bool = False,
    holiday_zone: str = "",
) -> Agenda:
    organisation = ctx.organisation
    tz = ctx.territory.zone  # days and times of the espace
    agent_ids = [agent.pk for agent in agents]
    window_start, _ = local_day_interval(first_day, tz)
    _, window_end = local_day_interval(last_day, tz)
    cells: dict[tuple[int, date], Cell] = {}
    for agent in agents:
        day = first_day
        while day <= last_day:
            cells[(agent.pk, day)] = Cell(agent, day)
            day += timedelta(days=1)

    # RDVs of the agents (any organisation), with whether the viewer may see each one. Only the
    # columns the agenda shows: a week of 12 agents loads hundreds of RDVs.
    # The RDVs' ids first (the agents' links, on their index), then their data by id: in one join,
    # PostgreSQL reads the whole RDV table to hash it (5 ms for 20,000 RDVs, growing with them).
    window = RdvAgent.objects.filter(agent_id__in=agent_ids, starts_at__lt=window_end, ends_at__gt=window_start)
    rdv_ids = sorted(set(window.values_list("rdv_id", flat=True)))
    links = (
        window.filter(rdv_id__in=rdv_ids)
        .annotate(visible=Exists(policies.scope(ctx).filter(pk=OuterRef("rdv_id"))))
        .order_by("starts_at", "rdv_id")
    )
    if not show_cancelled:
        links = links.exclude(rdv__status__in=CANCELLED_STATUSES)
    links = list(links.values_list(*AGENDA_LINK_FIELDS))
    visible_ids = sorted({link[2] for link in links if link[1]})
    usagers = defaultdict(list)
    if visible_ids:
        for rdv_id, first_name, last_name in (
            Participation.objects.filter(rdv_id__in=visible_ids)
            .order_by("usager__last_name_key", "usager__first_name_key", "pk")
            .values_list("rdv_id", "usager__first_name", "usager__last_name")
        ):
            usagers[rdv_id].append(Usager.name_of(first_name, last_name))
    rdvs: dict[int, AgendaRdv] = {}
    motifs: dict[int, AgendaMotif] = {}
    lieux: dict[int, AgendaLieu] = {}
    rdv_items: dict[tuple[int, date], list[RdvItem]] = defaultdict(list)
    arrived = {}
    for agent_id, visible, rdv_id, starts_at, ends_at, status, collective, arrived_at, *more in links:
        rdv = rdvs.get(rdv_id)
        if rdv is None:
            motif_id, motif_name, motif_color, lieu_id, lieu_name = more
            motif = motifs.get(motif_id) or motifs.setdefault(motif_id, AgendaMotif(motif_name, motif_color))
            lieu = None if lieu_id is None else (lieux.get(lieu_id) or lieux.setdefault(lieu_id, AgendaLieu(lieu_name)))
            rdv = rdvs[rdv_id] = AgendaRdv(rdv_id, starts_at, ends_at, status, collective, arrived_at, motif, lieu)
        item = RdvItem(rdv, visible, starts_at, ends_at, usagers.get(rdv_id, []))
        day = timezone.localtime(starts_at, tz).date()
        if (agent_id, day) in cells:
            rdv_items[(agent_id, day)].append(item)
        if visible and arrived_at and not rdv.is_cancelled:
            arrived.setdefault(rdv_id, item)

    # Plages of this organisation, expanded over the days (exceptions applied).
    plages = list(
        PlageOuverture.objects.filter(agent_id__in=agent_ids, organisation=organisation)
        .overlapping_dates(first_day, last_day)
        .select_related("lieu")
    )
    exceptions = defaultdict(dict)
    plage_motifs = defaultdict(list)
    if plages:
        for exception in PlageException.objects.filter(plage__in=plages):
            exceptions[exception.plage_id][exception.date] = exception.as_rule()
        plage_motifs = _plage_motifs([plage.pk for plage in plages])
    plage_items: dict[tuple[int, date], list[PlageItem]] = defaultdict(list)
    for plage in plages:
        motifs = plage_motifs.get(plage.pk, [])
        for start, end in expand(plage.event(exceptions.get(plage.pk), tz=tz), first_day, last_day):
            day = timezone.localtime(start, tz).date()
            if (plage.agent_id, day) in cells:
                plage_items[(plage.agent_id, day)].append(PlageItem(plage, start, end, motifs))

    # Absences (any organisation: the agent is away for everyone).
    for absence in (
        Absence.objects.filter(agent_id__in=agent_ids)
        .overlapping_dates(first_day - timedelta(days=ABSENCE_LOOKBACK_DAYS), last_day)
        .select_related("organisation__territory")  # expanded in the time of its own espace
    ):
        title = absence.title if absence.organisation_id == organisation.pk else "Absence"
        for start, end in expand(absence.event(), first_day, last_day):
            for day, clipped_start, clipped_end, whole_day in _local_days(start, end, first_day, last_day, tz):
                cells[(absence.agent_id, day)].items.append(AbsenceItem(title, clipped_start, clipped_end, whole_day))

    # Nest each RDV in the plage occurrence that contains its start; the others stand alone.
    for key, cell in cells.items():
        blocks = sorted(plage_items.get(key, []), key=lambda item: item.start)
        for item in rdv_items.get(key, []):
            host = next((block for block in blocks if block.start <= item.start < block.end), None)
            if host is not None:
                item.nested = True
                host.rdvs.append(item)
            else:
                cell.items.append(item)
        cell.items.extend(blocks)
        cell.items.sort(key=lambda item: (item.start, {"absence": 0, "plage": 1, "rdv": 2}[item.kind]))

    holidays = holiday_dates(holiday_zone, first_day, last_day)
    today = timezone.localdate(timezone=tz)
    rows = []
    day = first_day
    while day <= last_day:
        rows.append(DayRow(day, holidays.get(day, ""), day == today, [cells[(agent.pk, day)] for agent in agents]))
        day += timedelta(days=1)
    return Agenda(
        first_day,
        last_day,
        agents,
        rows,
        visible_ids,
        sorted(arrived.values(), key=lambda item: item.start),
    )


# The agenda as a time grid ---------------------------------------------------------------------


@dataclass
class GridColumn:
    """One column of the time grid: one agent on one day, with what the grid draws in it."""

    day: date
    agent: object
    holiday: str
    is_today: bool
    plages: list  # PlageItems of this organisation (background)
    absences: list  # AbsenceItems, clipped to the day
    rdvs: list  # RdvItems starting that day ("Occupé" when not visible)


@dataclass
class AgendaGrid:
    first_day: date
    last_day: date
    agents: list
    columns: list  # day by day, and within a day agent by agent
    rdv_ids: list
    arrived: list


def build_agenda_grid(
    ctx: Context,
    agents: list,
    first_day: date,
    last_day: date,
    *,
    show_cancelled: bool = False,
    holiday_zone: str = "",
) -> AgendaGrid:
    """The same data as `build_agenda` (same queries, same visibility rules), as columns of a time
    grid: one per day and agent."""
    agenda = build_agenda(ctx, agents, first_day, last_day, show_cancelled=show_cancelled, holiday_zone=holiday_zone)
    columns = []
    for row in agenda.rows:
        for cell in row.cells:
            plages, absences, rdvs = [], [], []
            for item in cell.items:
                if item.kind == "plage":
                    plages.append(item)
                    rdvs.extend(item.rdvs)
                elif item.kind == "absence":
                    absences.append(item)
                else:
                    rdvs.append(item)
            rdvs.sort(key=lambda item: (item.start, item.end, item.rdv.pk))
            columns.append(GridColumn(row.day, cell.agent, row.holiday, row.is_today, plages, absences, rdvs))
    return AgendaGrid(first_day, last_day, agenda.agents, columns, agenda.rdv_ids, agenda.arrived)


def move_lieu(ctx: Context, rdv: Rdv, agent, new_start: datetime):
    """The lieu a RDV takes when dropped on `agent`'s agenda at `new_start`: the lieu of the plage
    (of this organisation, offering the RDV's motif) that holds the whole RDV there; None when no
    plage does, or when the motif takes no lieu (the RDV then keeps its own)."""
    if rdv.lieu_id is None:
        return None
    new_end = new_start + timedelta(minutes=rdv.duration_minutes)
    tz = ctx.territory.zone
    day = timezone.localtime(new_start, tz).date()
    plages = list(
        PlageOuverture.objects.filter(
            organisation=ctx.organisation, agent_id=agent.pk, motifs=rdv.motif_id, lieu__archived_at__isnull=True
        )
        .overlapping_dates(day, day)
        .select_related("lieu")
        .order_by("pk")
    )
    if not plages:
        return None
    exceptions = defaultdict(dict)
    for exception in PlageException.objects.filter(plage__in=plages, date=day):
        exceptions[exception.plage_id][exception.date] = exception.as_rule()
    for plage in plages:
        for start, end in expand(plage.event(exceptions.get(plage.pk), tz=tz), day, day):
            if start <= new_start and new_end <= end:
                return plage.lieu
    return None


# List and export -------------------------------------------------------------------------------


def _midnight(day: date, tz) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def _filtered(ctx: Context, filters: dict):
    """The RDVs the context may see, filtered (du, au, agent, motif, statut, lieu, usager)."""
    queryset = policies.scope(ctx)
    if filters.get("du"):
        queryset = queryset.filter(starts_at__gte=_midnight(filters["du"], ctx.territory.zone))
    if filters.get("au"):
        queryset = queryset.filter(starts_at__lt=_midnight(filters["au"] + timedelta(days=1), ctx.territory.zone))
    if filters.get("agent"):
        queryset = queryset.filter(Exists(RdvAgent.objects.filter(rdv_id=OuterRef("pk"), agent=filters["agent"])))
    if filters.get("motif"):
        queryset = queryset.filter(motif=filters["motif"])
    if filters.get("statut"):
        queryset = queryset.filter(status=filters["statut"])
    if filters.get("lieu"):
        queryset = queryset.filter(lieu=filters["lieu"])
    if filters.get("usager"):
        matching = Usager.objects.filter(territory_id=ctx.territory.pk).search(filters["usager"])
        queryset = queryset.filter(
            Exists(Participation.objects.filter(rdv_id=OuterRef("pk"), usager__in=matching.values("pk")))
        )
    return queryset


def rdv_list(ctx: Context, filters: dict):
    """The RDVs the context may see, filtered (du, au, agent, motif, statut, lieu, usager), with their
    participants and agents, by start (the list page: one page of model instances at a time)."""
    return (
        _filtered(ctx, filters)
        .select_related("motif__service", "lieu")
        .prefetch_related(
            Prefetch(
                "participations",
                queryset=Participation.objects.select_related("usager").order_by(
                    "usager__last_name_key", "usager__first_name_key", "pk"
                ),
            ),
            Prefetch(
                "agent_links",
                queryset=RdvAgent.objects.select_related("agent").order_by("agent__last_name", "agent__first_name"),
            ),
        )
        .order_by("starts_at", "pk")
    )


def _instant(value: datetime | date, tz) -> datetime:
    """An aware datetime as it is; a date as its midnight in the espace's time zone."""
    return value if isinstance(value, datetime) else _midnight(value, tz)


def rdv_search(
    ctx: Context,
    *,
    starts_after: datetime | date | None = None,
    starts_before: datetime | date | None = None,
    agent_id: int | None = None,
    usager_id: int | None = None,
    status: str | None = None,
    motif_id: int | None = None,
    lieu_id: int | None = None,
):
    """The RDVs the context may see, by start, filtered by ids and times (the API's list): starting
    at or after `starts_after`, strictly before `starts_before` (a date stands for its midnight in
    the espace), with this agent, this usager (as a participant), this status, motif or lieu. Ids
    outside the context's reach simply match nothing."""
    queryset = policies.scope(ctx)
    tz = ctx.territory.zone
    if starts_after is not None:
        queryset = queryset.filter(starts_at__gte=_instant(starts_after, tz))
    if starts_before is not None:
        queryset = queryset.filter(starts_at__lt=_instant(starts_before, tz))
    if agent_id is not None:
        queryset = queryset.filter(Exists(RdvAgent.objects.filter(rdv_id=OuterRef("pk"), agent_id=agent_id)))
    if usager_id is not None:
        queryset = queryset.filter(Exists(Participation.objects.filter(rdv_id=OuterRef("pk"), usager_id=usager_id)))
    if status is not None:
        queryset = queryset.filter(status=status)
    if motif_id is not None:
        queryset = queryset.filter(motif_id=motif_id)
    if lieu_id is not None:
        queryset = queryset.filter(lieu_id=lieu_id)
    return queryset.order_by("starts_at", "pk")


EXPORT_HEADERS = [
    "Date",
    "Heure de début",
    "Heure de fin",
    "Durée (minutes)",
    "Motif",
    "Service",
    "Type",
    "Lieu",
    "Agents",
    "Usagers",
    "Statut",
    "Arrivé(e) à",
    "Motif d'annulation",
    "Pris le",
]
EXPORT_CHUNK = 2000  # rows fetched at a time from each of the three cursors


def _names_by_rdv(rows):
    """Group (start, rdv_id, name) rows, ordered by (start, rdv_id), into ((start, rdv_id), "name,
    name") pairs."""
    for key, group in groupby(rows, key=lambda row: (row[0], row[1])):
        yield key, ", ".join(row[2] for row in group)


class _Merge:
    """Follows an ordered stream of (key, value) pairs alongside the RDVs, which come in the same
    order: `take(key)` skips what comes before `key` (a RDV changed between the queries) and
    returns the value of `key`, or ""."""

    def __init__(self, pairs):
        self.pairs = iter(pairs)
        self.head = next(self.pairs, None)

    def take(self, key) -> str:
        while self.head is not None and self.head[0] < key:
            self.head = next(self.pairs, None)
        if self.head is not None and self.head[0] == key:
            value, self.head = self.head[1], next(self.pairs, None)
            return value
        return ""


def _agent_name(first_name: str, last_name: str, email: str) -> str:
    return f"{first_name} {last_name}".strip() or email  # Agent.__str__


def _usager_name(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name.upper()}".strip()  # Usager.__str__


def export_rows(ctx: Context, filters: dict):
    """The header then one row of values per RDV the context may see with these filters (those of
    rdv_list), by start: streamed, in constant memory and three queries whatever the number of rows.

    The RDVs, their agents and their usagers are read as plain values (no model instance) by three
    cursors over the same filtered RDVs, in the same order (start, id), and merged as they stream
    (`iterator()` over a queryset with prefetches ran two more queries per chunk and built every
    model instance). Times are read as POSIX seconds: parsing timestamps cost more than the rest of
    the export. The Contexte column only when the espace shows the field."""
    context_enabled = ctx.territory.rdv_field_enabled("context")
    yield [*EXPORT_HEADERS, *(["Contexte"] if context_enabled else [])]
    rdvs = _filtered(ctx, filters).annotate(start=EpochSeconds("starts_at"))
    # The agents and the usagers: one row per RDV and person, from the same filtered RDVs (joined
    # from them, not looked up again), ordered like the RDVs then by name.
    agents = _Merge(
        _names_by_rdv(
            (start, rdv_id, _agent_name(first, last, email))
            for start, rdv_id, first, last, email in rdvs.filter(agent_links__isnull=False)
            .order_by(
                "starts_at", "pk", "agent_links__agent__last_name", "agent_links__agent__first_name", "agent_links__pk"
            )
            .values_list(
                "start",
                "pk",
                "agent_links__agent__first_name",
                "agent_links__agent__last_name",
                "agent_links__agent__email",
            )
            .iterator(chunk_size=EXPORT_CHUNK)
        )
    )
    usagers = _Merge(
        _names_by_rdv(
            (start, rdv_id, _usager_name(first, last))
            for start, rdv_id, first, last in rdvs.filter(participations__isnull=False)
            .order_by(
                "starts_at",
                "pk",
                "participations__usager__last_name_key",
                "participations__usager__first_name_key",
                "participations__pk",
            )
            .values_list("start", "pk", "participations__usager__first_name", "participations__usager__last_name")
            .iterator(chunk_size=EXPORT_CHUNK)
        )
    )
    statuses = dict(RdvStatus.choices)
    zone = ctx.territory.zone  # wall-clock times of the espace
    local = partial(datetime.fromtimestamp, tz=zone)

    @cache  # a month of RDVs has a few hundred distinct start and end times
    def day_and_time(seconds: int) -> tuple[str, str]:
        moment = local(seconds)
        return f"{moment:%d/%m/%Y}", f"{moment:%H:%M}"

    rows = (
        rdvs.annotate(
            end=EpochSeconds("ends_at"),
            arrived=EpochSeconds("arrived_at"),
            created=EpochSeconds("created_at"),
        )
        .order_by("starts_at", "pk")
        .values_list(
            "pk",
            "start",
            "end",
            "motif__name",
            "motif__service__name",
            "motif__location_type",
            "lieu__name",
            "status",
            "arrived",
            "cancel_reason",
            "created",
            *(["context"] if context_enabled else []),
        )
    )
    for values in rows.iterator(chunk_size=EXPORT_CHUNK):
        pk, start_s, end_s, motif, service, location_type, lieu, status, arrived, reason, created = values[:11]
        day, start = day_and_time(start_s)
        key = (start_s, pk)
        row = [
            day,
            start,
            day_and_time(end_s)[1],
            (end_s - start_s) // 60,
            motif,
            service,
            LOCATION_LABELS.get(location_type, location_type),
            lieu or "",
            agents.take(key),
            usagers.take(key),
            statuses.get(status, status),
            f"{local(arrived):%H:%M}" if arrived is not None else "",
            reason,
            f"{local(created):%d/%m/%Y %H:%M}",
        ]
        yield row + list(values[11:])  # the Contexte, when shown


def polled_rdvs(ctx: Context, ids: list[int]) -> list[Rdv]:
    """The RDVs among `ids` the context may see, with their participants (the agenda's polling)."""
    if not ids:
        return []
    return list(
        policies.scope(ctx)
        .filter(pk__in=ids)
        .prefetch_related(
            Prefetch("participations", queryset=Participation.objects.select_related("usager").order_by("pk"))
        )
        .order_by("starts_at", "pk")
    )


# One RDV --------------------------------------------------------------------------------------

HISTORY_SIZE = 50


def participations(ctx: Context, rdv: Rdv) -> list[Participation]:
    """The RDV's participations, each with `file_visible`: whether the context may open the usager's
    file."""
    rows = list(
        rdv.participations.select_related("usager").order_by("usager__last_name_key", "usager__first_name_key", "pk")
    )
    visible = set(usager_policies.scope(ctx).filter(pk__in=[p.usager_id for p in rows]).values_list("pk", flat=True))
    for participation in rows:
        participation.file_visible = participation.usager_id in visible
    return rows


def history(ctx: Context, rdv: Rdv) -> list[AuditLog]:
    """The RDV's journal, for those who may see it (the Contexte left out while the espace hides it)."""
    if not policies.can_see(ctx, rdv):
        return []
    entries = list(
        AuditLog.objects.filter(object_type=Rdv._meta.label, object_id=str(rdv.pk)).order_by("-created_at", "-id")[
            :HISTORY_SIZE
        ]
    )
    hidden = () if ctx.territory.rdv_field_enabled("context") else ("context",)
    return describe_entries(entries, hidden=hidden)


def agents_for_motif(ctx: Context, motif):
    """Agents of the organisation who can take RDVs of this motif: its service's agents, and the
    secretariat's when the motif is "ouvert au secrétariat" (their services in this espace)."""
    services = Q(service=motif.service)
    if motif.for_secretariat:
        services |= Q(service__is_secretariat=True)
    with_service = AgentService.objects.filter(services, territory_id=ctx.territory.pk).values("agent_id")
    return (
        Agent.objects.filter(roles__organisation=ctx.organisation, pk__in=with_service)
        .distinct()
        .order_by("last_name", "first_name")
    )


# The usager file ------------------------------------------------------------------------------

USAGER_UPCOMING_SIZE = 50
USAGER_PAST_SIZE = 20
PAST_UNKNOWN_LABEL = "À renseigner"  # a past RDV whose status no agent has set yet


@dataclass
class UsagerRdvs:
    """The RDVs of an usager the context may see: the upcoming ones (in progress included), soonest
    first, then the most recent past ones; `more_upcoming` / `more_past` when a list is cut. Each
    RDV has `usager_status` and `usager_status_label`: the usager's own status (their
    participation's, in a collective RDV that is not cancelled as a whole; « À renseigner » for a
    past RDV still « À venir »)."""

    upcoming: list
    past: list
    more_upcoming: bool
    more_past: bool


def usager_rdvs(ctx: Context, usager: Usager) -> UsagerRdvs:
    """Three queries whatever the number of RDVs: the upcoming ones, the past ones, their agents."""
    now = timezone.now()
    own = Participation.objects.filter(rdv_id=OuterRef("pk"), usager_id=usager.pk)
    rows = (
        policies.scope(ctx)
        .filter(Exists(own))
        .select_related("motif", "lieu")
        .annotate(participation_status=Subquery(own.values("status")[:1]))
    )
    upcoming = list(rows.filter(ends_at__gt=now).order_by("starts_at", "pk")[: USAGER_UPCOMING_SIZE + 1])
    past = list(rows.filter(ends_at__lte=now).order_by("-starts_at", "-pk")[: USAGER_PAST_SIZE + 1])
    result = UsagerRdvs(
        upcoming[:USAGER_UPCOMING_SIZE],
        past[:USAGER_PAST_SIZE],
        len(upcoming) > USAGER_UPCOMING_SIZE,
        len(past) > USAGER_PAST_SIZE,
    )
    shown = result.upcoming + result.past
    agent_links = RdvAgent.objects.select_related("agent").order_by("agent__last_name", "agent__first_name")
    prefetch_related_objects(shown, Prefetch("agent_links", queryset=agent_links))
    for rdv in shown:
        if rdv.collective and not rdv.is_cancelled and rdv.participation_status:
            rdv.usager_status = rdv.participation_status
        else:
            rdv.usager_status = rdv.status
        rdv.status_to_fill = rdv.usager_status == RdvStatus.UNKNOWN and rdv.ends_at <= now
        # As on the established platform: a past RDV still « À venir » is « À renseigner ».
        rdv.usager_status_label = PAST_UNKNOWN_LABEL if rdv.status_to_fill else RdvStatus(rdv.usager_status).label
    return result
