"""Who may do what. Plain predicates; views answer 404 when one is false."""

from rdv.accounts.models import AccessLevel, AgentRole, TerritoryRole


def _is_agent(agent) -> bool:
    return bool(agent and agent.is_authenticated and agent.is_active)


def is_territory_admin(agent, territory) -> bool:
    if not _is_agent(agent):
        return False
    return TerritoryRole.objects.filter(agent=agent, territory=territory).exists()


def role_in(agent, organisation) -> AgentRole | None:
    if not _is_agent(agent):
        return None
    return AgentRole.objects.filter(agent=agent, organisation=organisation).first()


def can_access_organisation(agent, organisation) -> bool:
    """Basic agents and admins of the organisation (intervenants never log in)."""
    role = role_in(agent, organisation)
    return role is not None and role.access_level in (AccessLevel.BASIC, AccessLevel.ADMIN)


def is_organisation_admin(agent, organisation) -> bool:
    role = role_in(agent, organisation)
    return role is not None and role.access_level == AccessLevel.ADMIN


def can_log_in(agent) -> bool:
    """An agent whose only roles are 'intervenant' has no login."""
    if not agent.is_active:
        return False
    if agent.is_superuser or agent.territory_roles.exists():
        return True
    levels = set(agent.roles.values_list("access_level", flat=True))
    return not levels or levels != {AccessLevel.INTERVENANT}
