"""The lieux of an organisation: members read them, organisation admins create, change, archive and
restore them (rdv.agendas.policies, rdv.agendas.services)."""

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rdv.agendas import policies, services
from rdv.api.auth import one, organisation_ctx
from rdv.api.pagination import Meta, PageParams, paginate
from rdv.api.routes.request_fields import named_as_in_request
from rdv.api.schemas import responses
from rdv.api.types import Flag
from rdv.webhooks.payloads import lieu_data

router = Router(tags=["Lieux"])


class LieuOut(Schema):
    id: int
    name: str
    address: str
    phone_number: str | None = Field(description="E.164 (+33…), null sans numéro.")
    organisation_id: int
    single_use: bool = Field(description="Toujours false : pas de lieu ponctuel ici.")
    is_open: bool = Field(description="« Ouvert au public » : proposé pour de nouvelles plages.")
    archived_at: datetime | None


class LieuOne(Schema):
    lieu: LieuOut


class LieuList(Schema):
    lieux: list[LieuOut]
    meta: Meta


class LieuCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    address: str
    phone_number: str | None = Field(None, description="Numéro français ou international.")
    is_open: Flag = True


class LieuUpdate(Schema):
    """Absent fields are unchanged."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    address: str | None = None
    phone_number: str | None = None
    is_open: Flag | None = None


class LieuFilters(Schema):
    active: Flag | None = Field(None, description="true : lieux en service ; false : lieux archivés.")


def lieu_out(lieu, zone) -> dict:
    return {
        **lieu_data(lieu),
        "is_open": lieu.is_open,
        "archived_at": lieu.archived_at.astimezone(zone) if lieu.archived_at else None,
    }


BASE = "/organisations/{organisation_id}/lieux"
REQUEST_FIELD = {"phone": "phone_number"}
WRITE = responses({200: LieuOne}, write=True)


@router.get(BASE, response=responses({200: LieuList}), summary="Lieux d’une organisation")
def list_lieux(request, organisation_id: int, filters: Query[LieuFilters], params: Query[PageParams]):
    ctx = organisation_ctx(request, organisation_id)
    lieux = policies.lieux_scope(ctx)
    if filters.active is not None:
        lieux = lieux.filter(archived_at__isnull=filters.active)
    zone = ctx.territory.zone
    return paginate(
        lieux.order_by("name", "pk"), params, key="lieux", serialise=lambda rows: [lieu_out(r, zone) for r in rows]
    )


@router.post(BASE, response=responses({201: LieuOne}, write=True), summary="Créer un lieu")
def create_lieu(request, organisation_id: int, payload: LieuCreate):
    ctx = organisation_ctx(request, organisation_id)
    data = payload.model_dump()
    data["phone"] = data.pop("phone_number")
    with named_as_in_request(REQUEST_FIELD):
        lieu = services.create_lieu(ctx, data)
    return Status(201, {"lieu": lieu_out(lieu, ctx.territory.zone)})


@router.get(BASE + "/{lieu_id}", response=responses({200: LieuOne}), summary="Un lieu")
def get_lieu(request, organisation_id: int, lieu_id: int):
    ctx = organisation_ctx(request, organisation_id)
    return {"lieu": lieu_out(one(policies.lieux_scope(ctx), lieu_id), ctx.territory.zone)}


@router.patch(BASE + "/{lieu_id}", response=WRITE, summary="Modifier un lieu")
def update_lieu(request, organisation_id: int, lieu_id: int, payload: LieuUpdate):
    ctx = organisation_ctx(request, organisation_id)
    lieu = one(policies.lieux_scope(ctx), lieu_id)
    data = {"name": lieu.name, "address": lieu.address, "phone": lieu.phone, "is_open": lieu.is_open}
    given = payload.model_dump(exclude_unset=True)
    if "phone_number" in given:
        given["phone"] = given.pop("phone_number")
    if given.get("is_open") is None:
        given.pop("is_open", None)
    with named_as_in_request(REQUEST_FIELD):
        services.update_lieu(ctx, lieu, {**data, **given})
    return {"lieu": lieu_out(lieu, ctx.territory.zone)}


@router.post(BASE + "/{lieu_id}/archive", response=WRITE, summary="Archiver un lieu")
def archive_lieu(request, organisation_id: int, lieu_id: int):
    """Refusé (422 `lieu_in_use`) tant que des plages d’ouverture en cours l’utilisent."""
    ctx = organisation_ctx(request, organisation_id)
    lieu = one(policies.lieux_scope(ctx), lieu_id)
    services.archive_lieu(ctx, lieu)
    return {"lieu": lieu_out(lieu, ctx.territory.zone)}


@router.post(BASE + "/{lieu_id}/restore", response=WRITE, summary="Restaurer un lieu archivé")
def restore_lieu(request, organisation_id: int, lieu_id: int):
    ctx = organisation_ctx(request, organisation_id)
    lieu = one(policies.lieux_scope(ctx), lieu_id)
    services.restore_lieu(ctx, lieu)
    return {"lieu": lieu_out(lieu, ctx.territory.zone)}
