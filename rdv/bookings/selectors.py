"""Reads of RDVs, scoped by the context (rdv.bookings.policies): the agenda of several agents, the
RDV list and its CSV export, a RDV's participants and history, the agents of a motif.

The agenda loads plages, absences, holidays and RDVs of several agents over a few days in a
constant number of queries (whatever the number of RDVs, plages or days). RDVs the viewer may not
see (another service, another organisation) keep their place in the agenda as "Occupé", without
any detail.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery, prefetch_related_objects
from django.utils import timezone

from rdv.accounts.models import Agent, AgentService
from rdv.agendas.holidays import holiday_dates
from rdv.agendas.models import ABSENCE_LOOKBACK_DAYS, Absence, PlageException, PlageOuverture
from rdv.availability import expand
from rdv.availability.recurrence import local_day_interval
from rdv.bookings import policies
from rdv.bookings.models import CANCELLED_STATUSES, Participation, Rdv, RdvAgent, RdvStatus
from rdv.core.audit import describe_entries
from rdv.core.context import Context
from rdv.core.models import AuditLog
from rdv.usagers import policies as usager_policies
from rdv.usagers.models import Usager


@dataclass
class RdvItem:
    rdv: Rdv
    visible: bool
    start: datetime
    end: datetime
    usagers: list = field(default_factory=list)
    nested: bool = False  # shown inside the plage occurrence that holds it
    kind: str = "rdv"

    @property
    def names(self) -> str:
        return ", ".join(str(usager) for usager in self.usagers)


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


def _local_days(start: datetime, end: datetime, first_day: date, last_day: date, tz):
    """The local days (in `tz`) of [first_day, last_day] that [start, end) touches, with the clipped
    times."""
    day = max(timezone.localtime(start, tz).date(), first_day)
    while day <= last_day:
        day_start, day_end = local_day_interval(day, tz)
        if day_start >= end:
            break
        clipped_start, clipped_end = max(start, day_start), min(end, day_end)
        if clipped_start < clipped_end:
            yield day, clipped_start, clipped_end, (clipped_start == day_start and clipped_end == day_end)
        day += timedelta(days=1)


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

    # RDVs of the agents (any organisation), with whether the viewer may see each one.
    links = (
        RdvAgent.objects.filter(agent_id__in=agent_ids, starts_at__lt=window_end, ends_at__gt=window_start)
        .annotate(visible=Exists(policies.scope(ctx).filter(pk=OuterRef("rdv_id"))))
        .select_related("rdv__motif__service", "rdv__lieu")
        .order_by("starts_at", "rdv_id")
    )
    if not show_cancelled:
        links = links.exclude(rdv__status__in=CANCELLED_STATUSES)
    links = list(links)
    visible_ids = sorted({link.rdv_id for link in links if link.visible})
    usagers = defaultdict(list)
    if visible_ids:
        for participation in (
            Participation.objects.filter(rdv_id__in=visible_ids)
            .select_related("usager")
            .order_by("usager__last_name_key", "usager__first_name_key", "pk")
        ):
            usagers[participation.rdv_id].append(participation.usager)
    rdv_items: dict[tuple[int, date], list[RdvItem]] = defaultdict(list)
    arrived = {}
    for link in links:
        item = RdvItem(link.rdv, link.visible, link.rdv.starts_at, link.rdv.ends_at, usagers.get(link.rdv_id, []))
        day = timezone.localtime(link.rdv.starts_at, tz).date()
        if (link.agent_id, day) in cells:
            rdv_items[(link.agent_id, day)].append(item)
        if link.visible and link.rdv.arrived_at and not link.rdv.is_cancelled:
            arrived.setdefault(link.rdv_id, item)

    # Plages of this organisation, expanded over the days (exceptions applied).
    plages = list(
        PlageOuverture.objects.filter(agent_id__in=agent_ids, organisation=organisation)
        .overlapping_dates(first_day, last_day)
        .select_related("lieu")
        .prefetch_related("motifs")
    )
    exceptions = defaultdict(dict)
    if plages:
        for exception in PlageException.objects.filter(plage__in=plages):
            exceptions[exception.plage_id][exception.date] = exception.as_rule()
    plage_items: dict[tuple[int, date], list[PlageItem]] = defaultdict(list)
    for plage in plages:
        motifs = sorted(plage.motifs.all(), key=lambda motif: motif.name)
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


# List and export -------------------------------------------------------------------------------


def _midnight(day: date, tz) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def rdv_list(ctx: Context, filters: dict):
    """The RDVs the context may see, filtered (du, au, agent, motif, statut, lieu, usager), with their
    participants and agents, by start."""
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
    return (
        queryset.select_related("motif__service", "lieu")
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


def export_rows(ctx: Context, queryset):
    """The header then one row of values per RDV of `queryset` (from rdv_list), streamed. The
    Contexte column only when the espace shows the field."""
    context_enabled = ctx.territory.rdv_field_enabled("context")
    tz = ctx.territory.zone  # dates and times of the espace
    yield [*EXPORT_HEADERS, *(["Contexte"] if context_enabled else [])]
    for rdv in queryset.iterator(chunk_size=500):
        start, end = timezone.localtime(rdv.starts_at, tz), timezone.localtime(rdv.ends_at, tz)
        row = [
            f"{start:%d/%m/%Y}",
            f"{start:%H:%M}",
            f"{end:%H:%M}",
            rdv.duration_minutes,
            rdv.motif.name,
            rdv.motif.service.name,
            rdv.motif.get_location_type_display(),
            rdv.lieu.name if rdv.lieu_id else "",
            ", ".join(str(link.agent) for link in rdv.agent_links.all()),
            ", ".join(str(p.usager) for p in rdv.participations.all()),
            rdv.get_status_display(),
            f"{timezone.localtime(rdv.arrived_at, tz):%H:%M}" if rdv.arrived_at else "",
            rdv.cancel_reason,
            f"{timezone.localtime(rdv.created_at, tz):%d/%m/%Y %H:%M}",
        ]
        if context_enabled:
            row.append(rdv.context)
        yield row


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
