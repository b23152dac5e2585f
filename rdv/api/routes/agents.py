"""The agents of an organisation, for its members: what the organisation page lists (its roles,
intervenants included), with each agent's access level there and services in the espace."""

from django.db.models import Exists, OuterRef
from ninja import Field, Query, Router, Schema

from rdv.accounts import selectors
from rdv.accounts.models import AgentService
from rdv.api.auth import organisation_ctx
from rdv.api.errors import NOT_FOUND_MESSAGE, ApiError
from rdv.api.pagination import Meta, PageParams, paginate
from rdv.api.schemas import responses
from rdv.api.types import Id
from rdv.core.context import Context
from rdv.webhooks.payloads import agent_data

router = Router(tags=["Agents"])


class AgentOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    inclusion_connect_open_id_sub: None = None
    access_level: str = Field(description="Niveau d’accès dans l’organisation : basic, admin ou intervenant.")
    service_ids: list[int] = Field(description="Les services de l’agent dans l’espace.")


class AgentOne(Schema):
    agent: AgentOut


class AgentList(Schema):
    agents: list[AgentOut]
    meta: Meta


class AgentFilters(Schema):
    service_id: Id | None = Field(None, description="Les agents de ce service.")


def _roles(ctx: Context):
    return selectors.colleagues(ctx).order_by("agent__last_name", "agent__first_name", "agent_id")


def _serialiser(ctx: Context):
    def serialise(roles) -> list[dict]:
        services: dict[int, list[int]] = {}
        links = AgentService.objects.filter(territory=ctx.territory, agent_id__in=[r.agent_id for r in roles])
        for agent_id, service_id in links.order_by("service_id").values_list("agent_id", "service_id"):
            services.setdefault(agent_id, []).append(service_id)
        return [
            {**agent_data(r.agent), "access_level": r.access_level, "service_ids": services.get(r.agent_id, [])}
            for r in roles
        ]

    return serialise


@router.get(
    "/organisations/{organisation_id}/agents", response=responses({200: AgentList}), summary="Agents d’une organisation"
)
def list_agents(request, organisation_id: int, filters: Query[AgentFilters], params: Query[PageParams]):
    ctx = organisation_ctx(request, organisation_id)
    roles = _roles(ctx)
    if filters.service_id is not None:
        roles = roles.filter(
            Exists(
                AgentService.objects.filter(
                    agent=OuterRef("agent"), territory=ctx.territory, service_id=filters.service_id
                )
            )
        )
    return paginate(roles, params, key="agents", serialise=_serialiser(ctx))


@router.get(
    "/organisations/{organisation_id}/agents/{agent_id}", response=responses({200: AgentOne}), summary="Un agent"
)
def get_agent(request, organisation_id: int, agent_id: int):
    ctx = organisation_ctx(request, organisation_id)
    role = _roles(ctx).filter(agent_id=agent_id).first() if -(2**63) <= agent_id < 2**63 else None
    if role is None:
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)
    return {"agent": _serialiser(ctx)([role])[0]}
