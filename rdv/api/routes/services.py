"""The services active in the espace of an organisation (the catalogue's services its agents and
motifs may belong to), for the organisation's members."""

from ninja import Field, Query, Router, Schema

from rdv.api.auth import organisation_ctx
from rdv.api.pagination import Meta, PageParams, paginate
from rdv.api.schemas import responses
from rdv.territories import selectors

router = Router(tags=["Services"])


class ServiceOut(Schema):
    id: int
    name: str
    short_name: str | None
    secretariat: bool = Field(description="Ses agents voient les rendez-vous de tous les services.")


class ServiceList(Schema):
    services: list[ServiceOut]
    meta: Meta


def service_out(service) -> dict:
    return {
        "id": service.pk,
        "name": service.name,
        "short_name": service.short_name or None,
        "secretariat": service.is_secretariat,
    }


@router.get(
    "/organisations/{organisation_id}/services",
    response=responses({200: ServiceList}),
    summary="Services actifs dans l’espace",
)
def list_services(request, organisation_id: int, params: Query[PageParams]):
    ctx = organisation_ctx(request, organisation_id)
    return paginate(
        selectors.organisation_services(ctx),
        params,
        key="services",
        serialise=lambda rows: [service_out(s) for s in rows],
    )
