"""Who may see and change lieux and agendas (see rdv.territories.policies for the style).

- organisation admin: manages the lieux of the organisation and the agenda (plages, absences) of
  every agent of the organisation, intervenants included;
- basic agent: manages their own agenda, reads the lieux, searches free slots;
- anybody else (agents of other organisations, espace admins who are not members, intervenants,
  the public): nothing; espace admins go through the espace pages.
"""

from rdv.accounts.models import Agent, AgentRole
from rdv.agendas.models import Absence, Lieu, PlageOuverture
from rdv.core.context import Context


def lieux_scope(ctx: Context):
    if not ctx.is_member:
        return Lieu.objects.none()
    return Lieu.objects.for_organisation(ctx.organisation)


def can_manage_lieux(ctx: Context) -> bool:
    return ctx.is_organisation_admin


def can_manage_lieu(ctx: Context, lieu: Lieu) -> bool:
    return can_manage_lieux(ctx) and ctx.in_organisation(lieu)


def agendas_scope(ctx: Context):
    """The agents whose agenda the context manages in its organisation (ordered by name)."""
    if not ctx.is_member:
        return Agent.objects.none()
    agents = Agent.objects.filter(roles__organisation=ctx.organisation)
    if not ctx.is_organisation_admin:
        agents = agents.filter(pk=ctx.agent.pk)
    return agents.order_by("last_name", "first_name", "email")


def can_manage_agenda(ctx: Context, agent: Agent) -> bool:
    """May the context see and change `agent`'s plages and absences in its organisation?"""
    if not ctx.is_member:
        return False
    if not ctx.is_organisation_admin:
        return ctx.is_self(agent)
    return AgentRole.objects.filter(agent=agent, organisation=ctx.organisation).exists()


def plages_scope(ctx: Context):
    if not ctx.is_member:
        return PlageOuverture.objects.none()
    plages = PlageOuverture.objects.for_organisation(ctx.organisation)
    return plages if ctx.is_organisation_admin else plages.filter(agent=ctx.agent)


def absences_scope(ctx: Context):
    if not ctx.is_member:
        return Absence.objects.none()
    absences = Absence.objects.filter(organisation=ctx.organisation)
    return absences if ctx.is_organisation_admin else absences.filter(agent=ctx.agent)


def can_manage_plage(ctx: Context, plage: PlageOuverture) -> bool:
    return ctx.in_organisation(plage) and can_manage_agenda(ctx, plage.agent)


def can_manage_absence(ctx: Context, absence: Absence) -> bool:
    return ctx.in_organisation(absence) and can_manage_agenda(ctx, absence.agent)


def can_search_slots(ctx: Context) -> bool:
    return ctx.is_member
