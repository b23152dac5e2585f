"""The motifs of an organisation (filters of the established platform: active, bookable_publicly,
service_id)."""

from ninja import Field, Query, Router, Schema

from rdv.api.auth import one, organisation_ctx
from rdv.api.pagination import PageParams, paginate
from rdv.api.schemas import MotifList, MotifOne, responses
from rdv.api.types import Flag, Id
from rdv.motifs import policies
from rdv.webhooks.payloads import motif_data

router = Router(tags=["Motifs"])


class MotifFilters(Schema):
    active: Flag | None = Field(None, description="true : motifs en service ; false : motifs archivés.")
    bookable_publicly: Flag | None = Field(None, description="Ouverts (ou non) à la réservation en ligne.")
    service_id: Id | None = None


def motif_out(motif, zone) -> dict:
    return {**motif_data(motif, zone), "default_duration_in_min": motif.default_duration_minutes, "color": motif.color}


@router.get(
    "/organisations/{organisation_id}/motifs", response=responses({200: MotifList}), summary="Motifs d’une organisation"
)
def list_motifs(request, organisation_id: int, filters: Query[MotifFilters], params: Query[PageParams]):
    ctx = organisation_ctx(request, organisation_id)
    motifs = policies.scope(ctx)
    if filters.active is not None:
        motifs = motifs.filter(archived_at__isnull=filters.active)
    if filters.bookable_publicly is not None:
        motifs = motifs.filter(bookable_online=filters.bookable_publicly)
    if filters.service_id is not None:
        motifs = motifs.filter(service_id=filters.service_id)
    zone = ctx.territory.zone
    return paginate(
        motifs.order_by("name", "pk"), params, key="motifs", serialise=lambda rows: [motif_out(m, zone) for m in rows]
    )


@router.get(
    "/organisations/{organisation_id}/motifs/{motif_id}", response=responses({200: MotifOne}), summary="Un motif"
)
def get_motif(request, organisation_id: int, motif_id: int):
    ctx = organisation_ctx(request, organisation_id)
    motif = one(policies.scope(ctx), motif_id)
    return {"motif": motif_out(motif, ctx.territory.zone)}
