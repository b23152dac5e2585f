"""Webhook endpoints of the organisations of an espace, for its administrators (rdv.webhooks.policies:
anyone else gets 404), through rdv.webhooks.services. The secret is in the answer of the creation
and of a rotation only, never in a read (`secret_hint` shows its last characters, as the pages)."""

from datetime import datetime
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rdv.api.auth import espace_ctx, one
from rdv.api.errors import NOT_FOUND_MESSAGE, ApiError
from rdv.api.pagination import Meta, PageParams, paginate
from rdv.api.schemas import responses
from rdv.api.types import INT64, Flag, Id, Integer
from rdv.core.context import Context
from rdv.territories.policies import organisations_scope
from rdv.webhooks import policies, services
from rdv.webhooks.models import SUBSCRIPTIONS, USAGER_FIELDS

router = Router(tags=["Webhooks"])

Subscription = Literal[tuple(SUBSCRIPTIONS)]
UsagerField = Literal[tuple(USAGER_FIELDS)]
NO_STORE = "no-store"


class EndpointOut(Schema):
    id: int
    organisation_id: int
    target_url: str
    subscriptions: list[str]
    usager_fields: list[str] = Field(description="Données des usagers envoyées ; vide : toutes.")
    active: bool
    disabled_reason: str | None
    consecutive_failures: int
    failing_since: datetime | None
    secret_hint: str = Field(description="Les derniers caractères de la clé secrète.")
    previous_secret_valid_until: datetime | None = Field(
        description="Après une rotation : l’ancienne clé signe aussi jusqu’à cette date."
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="La clé secrète : montrée cette fois seulement, gardez-la.")


class EndpointOne(Schema):
    webhook_endpoint: EndpointOut


class EndpointCreated(Schema):
    webhook_endpoint: EndpointWithSecret


class EndpointList(Schema):
    webhook_endpoints: list[EndpointOut]
    meta: Meta


class EndpointChange(Schema):
    model_config = ConfigDict(extra="forbid")

    target_url: str | None = Field(None, description="https://… (500 caractères au plus).")
    subscriptions: list[Subscription] | None = Field(None, max_length=len(SUBSCRIPTIONS))
    usager_fields: list[UsagerField] | None = Field(None, max_length=len(USAGER_FIELDS))
    active: Flag | None = None
    backfill: Flag = Field(
        False, description="Envoyer `created` pour chaque élément existant des abonnements (au rythme prévu)."
    )


class EndpointCreate(EndpointChange):
    organisation_id: Id
    target_url: str
    secret: str | None = Field(None, description="16 à 200 caractères sans espace ; absente : tirée au sort.")


class RotateSecret(Schema):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(None, description="La nouvelle clé ; absente : tirée au sort.")
    grace_hours: Integer | None = Field(
        None, ge=0, le=INT64, description="Heures pendant lesquelles l’ancienne clé signe aussi (0 à 720)."
    )


class EndpointFilters(Schema):
    organisation_id: Id | None = None


def endpoint_out(endpoint, zone, *, secret: bool = False) -> dict:
    data = {
        "id": endpoint.pk,
        "organisation_id": endpoint.organisation_id,
        "target_url": endpoint.target_url,
        "subscriptions": list(endpoint.subscriptions or []),
        "usager_fields": list(endpoint.usager_fields or []),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason or None,
        "consecutive_failures": endpoint.consecutive_failures,
        "failing_since": endpoint.failing_since.astimezone(zone) if endpoint.failing_since else None,
        "secret_hint": endpoint.masked_secret,
        "previous_secret_valid_until": (
            endpoint.previous_secret_until.astimezone(zone)
            if endpoint.previous_secret and endpoint.previous_secret_until
            else None
        ),
        "created_at": endpoint.created_at.astimezone(zone),
        "updated_at": endpoint.updated_at.astimezone(zone),
    }
    if secret:
        data["secret"] = endpoint.secret
    return data


def _scope(ctx: Context):
    return policies.scope(ctx).select_related("organisation")


def _organisation(ctx: Context, organisation_id: int):
    organisation = organisations_scope(ctx).filter(pk=organisation_id).first()
    if organisation is None:
        raise ApiError(  # as every id out of reach: 404
            404, "not_found", NOT_FOUND_MESSAGE, [{"field": "organisation_id", "message": NOT_FOUND_MESSAGE}]
        )
    return organisation


BASE = "/espaces/{territory_id}/webhook_endpoints"
ONE = BASE + "/{endpoint_id}"


@router.get(BASE, response=responses({200: EndpointList}), summary="Webhooks de l’espace")
def list_endpoints(request, territory_id: int, filters: Query[EndpointFilters], params: Query[PageParams]):
    ctx = espace_ctx(request, territory_id)
    endpoints = _scope(ctx)
    if filters.organisation_id is not None:
        endpoints = endpoints.filter(organisation_id=filters.organisation_id)
    zone = ctx.territory.zone
    return paginate(
        endpoints.order_by("organisation__name", "target_url", "pk"),
        params,
        key="webhook_endpoints",
        serialise=lambda rows: [endpoint_out(e, zone) for e in rows],
    )


@router.post(BASE, response=responses({201: EndpointCreated}, write=True), summary="Créer un webhook")
def create_endpoint(request, territory_id: int, payload: EndpointCreate, response: HttpResponse):
    """La réponse contient la clé secrète, une seule fois."""
    ctx = espace_ctx(request, territory_id)
    organisation = _organisation(ctx, payload.organisation_id)
    given = payload.model_dump(exclude_unset=True)
    endpoint = services.create_endpoint(
        ctx,
        organisation=organisation,
        target_url=payload.target_url,
        subscriptions=given.get("subscriptions"),
        usager_fields=payload.usager_fields or (),
        secret=payload.secret or "",
        active=True if payload.active is None else payload.active,
        backfill=payload.backfill,
    )
    response["Cache-Control"] = NO_STORE
    return Status(201, {"webhook_endpoint": endpoint_out(endpoint, ctx.territory.zone, secret=True)})


@router.get(ONE, response=responses({200: EndpointOne}), summary="Un webhook")
def get_endpoint(request, territory_id: int, endpoint_id: int):
    ctx = espace_ctx(request, territory_id)
    return {"webhook_endpoint": endpoint_out(one(_scope(ctx), endpoint_id), ctx.territory.zone)}


@router.patch(ONE, response=responses({200: EndpointOne}, write=True), summary="Modifier un webhook")
def update_endpoint(request, territory_id: int, endpoint_id: int, payload: EndpointChange):
    """Les champs absents ne changent pas. La clé secrète change par `rotate_secret`."""
    ctx = espace_ctx(request, territory_id)
    endpoint = one(_scope(ctx), endpoint_id)
    given = payload.model_dump(exclude_unset=True)
    keep = {
        "target_url": endpoint.target_url,
        "subscriptions": endpoint.subscriptions,
        "usager_fields": endpoint.usager_fields,
        "active": endpoint.active,
    }
    values = {name: given[name] if given.get(name) is not None else current for name, current in keep.items()}
    if "subscriptions" in given and given["subscriptions"] is None:
        values["subscriptions"] = []  # null: none, which the service refuses with its message
    if "target_url" in given and given["target_url"] is None:
        values["target_url"] = ""
    endpoint = services.update_endpoint(ctx, endpoint, backfill=payload.backfill, **values)
    return {"webhook_endpoint": endpoint_out(endpoint, ctx.territory.zone)}


@router.delete(ONE, response=responses({204: None}, write=True), summary="Supprimer un webhook")
def delete_endpoint(request, territory_id: int, endpoint_id: int):
    ctx = espace_ctx(request, territory_id)
    services.delete_endpoint(ctx, one(_scope(ctx), endpoint_id))
    return Status(204, None)


@router.post(
    ONE + "/rotate_secret", response=responses({200: EndpointCreated}, write=True), summary="Changer la clé secrète"
)
def rotate_secret(request, territory_id: int, endpoint_id: int, payload: RotateSecret, response: HttpResponse):
    """Une nouvelle clé signe dès maintenant ; l’ancienne signe aussi pendant `grace_hours` (72 h par
    défaut), le temps que le système destinataire passe à la nouvelle. La réponse contient la nouvelle
    clé, une seule fois."""
    ctx = espace_ctx(request, territory_id)
    endpoint = one(_scope(ctx), endpoint_id)
    endpoint = services.rotate_secret(ctx, endpoint, secret=payload.secret or "", grace_hours=payload.grace_hours)
    response["Cache-Control"] = NO_STORE
    return {"webhook_endpoint": endpoint_out(endpoint, ctx.territory.zone, secret=True)}
