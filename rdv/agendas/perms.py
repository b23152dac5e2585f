"""Who may see and change lieux and agendas. Views answer 404 when a predicate is false.

- organisation admin: manages the lieux of the organisation and the agenda (plages, absences) of
  every agent of the organisation, intervenants included;
- basic agent: manages their own agenda, reads the lieux, searches free slots;
- anybody else (agents of other organisations, espace admins who are not members, intervenants,
  anonymous visitors): nothing; espace admins go through the espace pages.
"""

from rdv.accounts.models import AccessLevel, Agent, AgentRole
from rdv.accounts.perms import is_organisation_admin, role_in


def can_manage_lieux(agent, organisation) -> bool:
    return is_organisation_admin(agent, organisation)


def can_manage_agenda(actor, organisation, agent) -> bool:
    """May `actor` see and change `agent`'s plages and absences in `organisation`?"""
    role = role_in(actor, organisation)
    if role is None or role.access_level not in (AccessLevel.BASIC, AccessLevel.ADMIN):
        return False
    if role.access_level == AccessLevel.BASIC:
        return actor.pk == agent.pk
    return AgentRole.objects.filter(agent=agent, organisation=organisation).exists()


def manageable_agents(actor, organisation):
    """The agents whose agenda `actor` manages in `organisation` (ordered by name)."""
    role = role_in(actor, organisation)
    if role is None or role.access_level not in (AccessLevel.BASIC, AccessLevel.ADMIN):
        return Agent.objects.none()
    agents = Agent.objects.filter(roles__organisation=organisation)
    if role.access_level == AccessLevel.BASIC:
        agents = agents.filter(pk=actor.pk)
    return agents.order_by("last_name", "first_name", "email")
