"""Organisations where the token's agent is a basic agent or an admin."""

from django.db.models import Q
from ninja import Query, Router

from rdv.accounts.models import AgentRole
from rdv.api.auth import organisation_ctx
from rdv.api.pagination import PageParams, paginate
from rdv.api.schemas import OrganisationList, OrganisationOne, responses
from rdv.core.context import MEMBER_LEVELS
from rdv.webhooks.payloads import organisation_data

router = Router(tags=["Organisations"])


def organisation_out(organisation) -> dict:
    return {
        **organisation_data(organisation),
        "territory_id": organisation.territory_id,
        "territory_name": organisation.territory.name,
        "time_zone": organisation.territory.time_zone,
    }


@router.get("/organisations", response=responses({200: OrganisationList}), summary="Mes organisations")
def list_organisations(request, params: Query[PageParams]):
    roles = (
        AgentRole.objects.filter(Q(agent=request.auth.agent) & Q(access_level__in=MEMBER_LEVELS))
        .select_related("organisation__territory")
        .order_by("organisation__territory__name", "organisation__name", "organisation_id")
    )
    return paginate(
        roles, params, key="organisations", serialise=lambda rows: [organisation_out(r.organisation) for r in rows]
    )


@router.get("/organisations/{organisation_id}", response=responses({200: OrganisationOne}), summary="Une organisation")
def get_organisation(request, organisation_id: int):
    ctx = organisation_ctx(request, organisation_id)
    return {"organisation": organisation_out(ctx.organisation)}
