"""Reads of the agenda pages, scoped by the context (rdv.agendas.policies): lieux, an agent's plages
and absences, the week view."""

from datetime import date

from django.db.models import Q
from django.utils import timezone

from rdv.accounts.models import Agent
from rdv.agendas import policies
from rdv.agendas.calendar import describe_recurrence, holiday_zone, plage_name, time_range
from rdv.agendas.calendar import week as build_week
from rdv.agendas.models import Absence, PlageOuverture
from rdv.agendas.services import usable_motifs
from rdv.core.context import Context
from rdv.motifs.models import Motif


def lieux(ctx: Context, *, archived: bool = False):
    return policies.lieux_scope(ctx).filter(archived_at__isnull=not archived).order_by("name", "pk")


def active_lieux(ctx: Context):
    return policies.lieux_scope(ctx).active().order_by("name")


def agent_plages(ctx: Context, agent) -> tuple[list[PlageOuverture], list[PlageOuverture]]:
    """(current, past) plages of `agent` in the context's organisation, described for the list."""
    today = timezone.localdate(timezone=ctx.territory.zone)
    plages = (
        policies.plages_scope(ctx)
        .filter(agent=agent)
        .select_related("lieu")
        .prefetch_related("motifs", "exceptions")
        .order_by("first_date", "start_time", "pk")
    )
    current, past = [], []
    for plage in plages:
        plage.name = plage_name(plage)
        plage.description = describe_recurrence(plage)
        plage.hours = time_range(plage.start_time, plage.end_time)
        plage.exception_list = sorted(plage.exceptions.all(), key=lambda e: e.date)
        plage.motif_names = ", ".join(str(motif) for motif in plage.motifs.all())
        plage.week_date = max(plage.first_date, today)
        last = plage.last_possible_date
        (past if last is not None and last < today else current).append(plage)
    return current, past


def agent_absences(ctx: Context, agent) -> tuple[list[Absence], list[Absence]]:
    """(current, past) absences of `agent` entered in the context's organisation."""
    today = timezone.localdate(timezone=ctx.territory.zone)
    current, past = [], []
    for absence in policies.absences_scope(ctx).filter(agent=agent).order_by("first_date", "start_time"):
        last = absence.last_possible_date
        (past if last is not None and last < today else current).append(absence)
    return current, past


def week(ctx: Context, agent, monday: date):
    """The agent's week in the context's organisation (plages, absences everywhere, holidays)."""
    if not policies.can_manage_agenda(ctx, agent):
        return []
    return build_week(ctx.organisation, agent, monday, holiday_zone(ctx.territory))


def plage_choices(ctx: Context, agent, plage: PlageOuverture | None = None) -> tuple:
    """(lieux, motifs) a plage of `agent` may use: open lieux and the motifs of the agent's services
    (rdv.agendas.services.usable_motifs, which the services check). The current values of an
    edited plage stay listed, so that a refusal (archived motif, closed lieu) is explained."""
    lieux = Q(archived_at__isnull=True, is_open=True)
    motifs = Q(pk__in=usable_motifs(ctx.organisation, agent).values("pk"))
    if plage is not None:
        lieux |= Q(pk=plage.lieu_id)
        motifs |= Q(pk__in=plage.motifs.values("pk"))
    return (
        policies.lieux_scope(ctx).filter(lieux).order_by("name"),
        Motif.objects.for_organisation(ctx.organisation).filter(motifs).order_by("service__name", "name"),
    )


def organisation_agents(ctx: Context):
    """The agents who appear in the organisation's agendas (intervenants included), by name."""
    if not ctx.is_member:
        return Agent.objects.none()
    return (
        Agent.objects.filter(roles__organisation=ctx.organisation)
        .distinct()
        .order_by("last_name", "first_name", "email", "pk")
    )
