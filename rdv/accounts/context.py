"""Build an agent's request context (rdv.core.context.Context) in one query.

The tenancy decorators of the web layer call these once per request, with the id from the URL; a
future API token acting as its agent calls the same functions. None means "no right here" (or no
such organisation or espace): the caller answers 404, without telling which.
"""

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q

from rdv.accounts.models import AgentRole, TerritoryRole
from rdv.core.context import MEMBER_LEVELS, ActorKind, Context


def _is_active_agent(agent) -> bool:
    return bool(agent is not None and agent.is_authenticated and agent.is_active)


def _pk(value) -> int | None:
    """The id of an object or an id; None for an id beyond the database's integer range (a URL can
    hold any number of digits)."""
    value = getattr(value, "pk", value)
    return value if isinstance(value, int) and -(2**63) <= value < 2**63 else None


def _with_services(queryset, territory_id):
    """One row per service of the agent in the espace (one row with None when there is none): a
    LEFT JOIN on the agent's services filtered on the espace."""
    return queryset.annotate(
        espace_services=FilteredRelation(
            "agent__service_links", condition=Q(agent__service_links__territory_id=territory_id)
        ),
        service=F("espace_services__service_id"),
        secretariat=F("espace_services__service__is_secretariat"),
    )


def _services(rows) -> tuple[frozenset[int], bool]:
    return (
        frozenset(row.service for row in rows if row.service is not None),
        any(bool(row.secretariat) for row in rows),
    )


def organisation_context(agent, organisation) -> Context | None:
    """The context of `agent` on the pages of `organisation` (an Organisation or its id), or None
    when the agent is not a basic agent or admin there. One query (organisation and espace, level,
    espace admin right, services in the espace)."""
    if not _is_active_agent(agent):
        return None
    organisation_id = _pk(organisation)
    if organisation_id is None:
        return None
    rows = list(
        _with_services(
            AgentRole.objects.filter(agent=agent, organisation_id=organisation_id).select_related(
                "organisation__territory"
            ),
            # The espace of the organisation, read in the same query.
            F("organisation__territory_id"),
        ).annotate(
            territory_admin=Exists(
                TerritoryRole.objects.filter(
                    agent=OuterRef("agent"), territory_id=OuterRef("organisation__territory_id")
                )
            )
        )
    )
    if not rows or rows[0].access_level not in MEMBER_LEVELS:
        return None
    service_ids, secretariat = _services(rows)
    role = rows[0]
    return Context(
        kind=ActorKind.AGENT,
        territory=role.organisation.territory,
        organisation=role.organisation,
        agent=agent,
        access_level=role.access_level,
        territory_admin=role.territory_admin,
        service_ids=service_ids,
        secretariat=secretariat,
    )


def territory_context(agent, territory) -> Context | None:
    """The context of `agent` on the espace administration pages of `territory` (a Territory or its
    id), or None when the agent does not administer it. One query."""
    if not _is_active_agent(agent):
        return None
    territory_id = _pk(territory)
    if territory_id is None:
        return None
    rows = list(
        _with_services(
            TerritoryRole.objects.filter(agent=agent, territory_id=territory_id).select_related("territory"),
            territory_id,
        )
    )
    if not rows:
        return None
    service_ids, secretariat = _services(rows)
    return Context(
        kind=ActorKind.AGENT,
        territory=rows[0].territory,
        agent=agent,
        territory_admin=True,
        service_ids=service_ids,
        secretariat=secretariat,
    )


def personal_context(agent) -> Context | None:
    """The context of `agent` on their own pages (« Mes notifications »…): no espace, no
    organisation, only themselves. None for an anonymous or deactivated agent. No query."""
    if not _is_active_agent(agent):
        return None
    return Context(kind=ActorKind.AGENT, territory=None, agent=agent)
