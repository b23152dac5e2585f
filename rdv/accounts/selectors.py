"""Reads of the agent administration pages, scoped by the context (rdv.accounts.policies).

Services are per espace: every read here looks at the agent's services in the context's espace.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch

from rdv.accounts.models import Agent, AgentRole, AgentService, InvitationStatus, TerritoryRole
from rdv.accounts.policies import agents_scope, invitations_scope
from rdv.core.context import AccessLevel, Context
from rdv.territories.models import Service, Territory


def agent_list(ctx: Context, filters: dict):
    """The espace's agents, with their roles (`roles_here`) and services in the espace, filtered by
    `filters` (q, organisation, service, status)."""
    territory = ctx.territory
    roles_here = AgentRole.objects.filter(organisation__territory=territory).select_related("organisation")
    services_here = AgentService.objects.filter(territory=territory).select_related("service").order_by("service__name")
    queryset = (
        agents_scope(ctx)
        .prefetch_related(
            Prefetch("roles", queryset=roles_here.order_by("organisation__name"), to_attr="roles_here"),
            Prefetch("service_links", queryset=services_here, to_attr="services_here"),
        )
        .annotate(is_territory_admin=Exists(TerritoryRole.objects.filter(agent=OuterRef("pk"), territory=territory)))
        .order_by("last_name", "first_name", "email")
    )
    if filters.get("q"):
        queryset = queryset.search(filters["q"])
    # Organisation and level filter the same role (one filter() call: one join).
    role_filter = {}
    if filters.get("organisation"):
        role_filter["roles__organisation"] = filters["organisation"]
    status = filters.get("status")
    if status in (AccessLevel.ADMIN, AccessLevel.BASIC, AccessLevel.INTERVENANT):
        role_filter.update({"roles__organisation__territory": territory, "roles__access_level": status})
    if role_filter:
        queryset = queryset.filter(**role_filter)
    if filters.get("service"):
        queryset = queryset.filter(
            Exists(AgentService.objects.filter(agent=OuterRef("pk"), territory=territory, service=filters["service"]))
        )
    if status == "territory_admin":
        queryset = queryset.filter(is_territory_admin=True)
    elif status == "inactive_service":
        queryset = queryset.filter(
            Exists(
                AgentService.objects.filter(agent=OuterRef("pk"), territory=territory).exclude(
                    service__in=Service.objects.active_in(territory)
                )
            )
        )
    return queryset.distinct()


def service_agent_counts(ctx: Context) -> dict[int, int]:
    """Service id -> number of agents of the espace working for it in the espace."""
    return dict(
        AgentService.objects.filter(territory=ctx.territory, agent__in=agents_scope(ctx).values("pk"))
        .values("service")
        .annotate(n=Count("agent", distinct=True))
        .values_list("service", "n")
    )


@dataclass
class Assignments:
    levels: dict  # organisation id -> access level, in the espace
    services: list  # the agent's services in the espace, by name
    territory_admin: bool


def assignments(ctx: Context, agent) -> Assignments:
    territory = ctx.territory
    return Assignments(
        levels={
            role.organisation_id: role.access_level for role in agent.roles.filter(organisation__territory=territory)
        },
        services=list(
            Service.objects.filter(agent_links__agent=agent, agent_links__territory=territory).order_by("name")
        ),
        territory_admin=TerritoryRole.objects.filter(agent=agent, territory=territory).exists(),
    )


def invitation_list(ctx: Context, status: str = ""):
    queryset = (
        invitations_scope(ctx)
        .select_related("invited_by")
        .prefetch_related("services", "organisation_links__organisation")
        .order_by("-sent_at")
    )
    if status in InvitationStatus.values:
        queryset = queryset.with_status(status)
    return queryset


def open_invitation(ctx: Context, email: str):
    """The open (pending or expired) invitation of this address in the espace, with what it gives,
    or None: re-inviting the address would replace it."""
    return (
        invitations_scope(ctx)
        .open()
        .filter(email__iexact=(email or "").strip())
        .select_related("invited_by")
        .prefetch_related("services", "organisation_links__organisation")
        .first()
    )


def colleagues(ctx: Context):
    """The roles of the context's organisation (agents and their levels), for its members."""
    if not ctx.is_member:
        return AgentRole.objects.none()
    return (
        AgentRole.objects.filter(organisation=ctx.organisation)
        .select_related("agent")
        .order_by("agent__last_name", "agent__first_name")
    )


def invited_account(invitation) -> Agent | None:
    """The existing account of an invitation's address that logs in, if any (the invitation link is
    the right). An intervenant's account (no password) is completed like a new one."""
    agent = Agent.objects.filter(email__iexact=invitation.email).first()
    return agent if agent is not None and agent.has_usable_password() else None


@dataclass
class Places:
    roles: list  # the agent's roles with a login (basic, admin), with organisation and espace
    territories: list  # the espaces the agent administers


def places(agent) -> Places:
    """Where a logged-in agent may go: the home page and the header menus (two queries)."""
    roles = (
        AgentRole.objects.filter(agent=agent)
        .exclude(access_level=AccessLevel.INTERVENANT)
        .select_related("organisation__territory")
        .order_by("organisation__territory__name", "organisation__name")
    )
    return Places(list(roles), list(Territory.objects.filter(admin_roles__agent=agent).order_by("name")))
