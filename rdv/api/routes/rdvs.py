"""The RDVs of an organisation (the established platform's /organisations/:id/rdvs): list, read,
book, change, move, cancel, status, participants — every change through rdv.bookings.services,
which checks the token agent's rights (rdv.bookings.policies) and calls `log_action`, so the
journal, the webhooks and the usagers' notifications follow as with the pages.

Records are the webhooks' RDV body (rdv.webhooks.payloads.rdv_data: the established platform's
blueprint) with `visio_url` and `cancel_reason` added. Objects named by id (motif, agents, usagers,
lieu) are fetched through the token agent's scopes: outside them, 404."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema, Status
from pydantic import AliasChoices, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from rdv.agendas import policies as agenda_policies
from rdv.agendas import selectors as agenda_selectors
from rdv.api.auth import one, organisation_ctx
from rdv.api.errors import NOT_FOUND_MESSAGE, ApiError
from rdv.api.pagination import Meta, PageParams, paginate, trusted_page
from rdv.api.schemas import responses
from rdv.api.types import ISO_DATE, ISO_DATETIME, AwareDateTime, Flag, Id, Integer, in_utc
from rdv.bookings import policies, selectors, services
from rdv.bookings.models import Rdv
from rdv.motifs import policies as motif_policies
from rdv.usagers import policies as usager_policies
from rdv.webhooks.payloads import rdv_data, with_rdv_relations

router = Router(tags=["Rendez-vous"])

MAX_IDS = 500  # agents or usagers named in one call
CANCEL_REASON_MAX_LENGTH = Rdv._meta.get_field("cancel_reason").max_length

RdvStatusValue = Literal["unknown", "seen", "noshow", "excused", "revoked"]


def _moment(value):
    """A filter's moment: a date (AAAA-MM-JJ), or an instant with its offset (rdv.api.types'
    formats), as the same instant in UTC; one error, worded for what was sent."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("timezone_aware", "naive datetime")
        return in_utc(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            if ISO_DATE.fullmatch(value):
                return date.fromisoformat(value)
            if ISO_DATETIME.fullmatch(value):
                return in_utc(datetime.fromisoformat(value))
        except ValueError as exc:  # 2027-02-30
            raise PydanticCustomError("datetime_parsing", "invalid moment") from exc
        if ISO_DATE.match(value) and "T" in value:  # a wall-clock time without its offset
            raise PydanticCustomError("timezone_aware", "naive datetime")
    raise PydanticCustomError("datetime_parsing", "invalid moment")


Moment = Annotated[datetime | date, BeforeValidator(_moment)]


# Records ---------------------------------------------------------------------------------------


class OrganisationRef(Schema):
    id: int
    name: str
    phone_number: str | None
    email: str | None
    verticale: str | None


class MotifRef(Schema):
    id: int
    name: str
    location_type: str
    deleted_at: datetime | None
    bookable_publicly: bool
    service_id: int
    organisation_id: int
    collectif: bool
    follow_up: bool
    instruction_for_rdv: str
    bookable_by: str
    motif_category: None


class AgentRef(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    inclusion_connect_open_id_sub: None


class LieuRef(Schema):
    id: int
    name: str
    address: str
    phone_number: str | None
    organisation_id: int
    single_use: bool


class RelativeUser(Schema):
    """An usager (the established platform's « user »)."""

    id: int
    first_name: str
    last_name: str
    birth_name: str | None
    birth_date: date | None
    email: str | None
    phone_number: str | None
    phone_number_formatted: str | None
    address: str | None
    address_details: None
    responsible_id: int | None
    affiliation_number: str | None
    caisse_affiliation: None
    family_situation: str | None
    number_of_children: int | None
    case_number: str | None
    logement: str | None
    notes: str | None
    notify_by_email: bool
    notify_by_sms: bool
    created_at: datetime | None
    invitation_created_at: None
    invitation_accepted_at: None


class RdvUser(RelativeUser):
    responsible: RelativeUser | None


class ParticipationOut(Schema):
    id: int
    status: RdvStatusValue
    send_lifecycle_notifications: bool
    send_reminder_notification: bool
    created_by_type: str
    created_by_id: None
    created_by_agent_prescripteur: bool
    created_by: str
    user: RdvUser


class RdvOut(Schema):
    id: int
    uuid: None
    status: RdvStatusValue
    starts_at: datetime
    ends_at: datetime
    duration_in_min: int
    address: str
    context: str | None = Field(description="Contexte (note interne des agents) ; null quand l’espace le désactive.")
    cancelled_at: datetime | None
    max_participants_count: int | None
    users_count: int
    name: None
    collectif: bool
    created_by_type: str
    created_by_id: int | None
    created_by: str
    organisation: OrganisationRef
    motif: MotifRef
    users: list[RdvUser]
    participations: list[ParticipationOut]
    agents: list[AgentRef]
    lieu: LieuRef | None
    visio_url: str = Field(description="Lien de visioconférence (motifs en visio).")
    cancel_reason: str | None = Field(description="Motif d’annulation donné par l’agent.")


class RdvOne(Schema):
    rdv: RdvOut


class RdvList(Schema):
    rdvs: list[RdvOut]
    meta: Meta


def rdv_out(rdv: Rdv, zone) -> dict:
    return {**rdv_data(rdv, zone), "visio_url": rdv.visio_url, "cancel_reason": rdv.cancel_reason or None}


def _answer(ctx, rdv: Rdv) -> dict:
    """The RDV as it is after a change (the agent who changed it gets it even if the change took it
    out of their sight, e.g. moved to another agent)."""
    fresh = with_rdv_relations(Rdv.objects.filter(pk=rdv.pk)).get()
    return {"rdv": rdv_out(fresh, ctx.territory.zone)}


# Inputs ----------------------------------------------------------------------------------------


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class RdvFilters(Schema):
    starts_after: Moment | None = Field(
        None, description="Début au plus tôt (inclus) : date et heure avec fuseau, ou date (minuit dans l’espace)."
    )
    starts_before: Moment | None = Field(
        None, description="Début avant (exclu) : date et heure avec fuseau, ou date (minuit dans l’espace)."
    )
    agent_id: Id | None = Field(None, description="Rendez-vous de cet agent.")
    usager_id: Id | None = Field(None, description="Rendez-vous de cet usager (participant).")
    user_id: Id | None = Field(None, description="Synonyme d’usager_id (nom de la plateforme établie).")
    status: RdvStatusValue | None = None
    motif_id: Id | None = None
    lieu_id: Id | None = None


class RdvCreate(Strict):
    motif_id: Id
    starts_at: AwareDateTime = Field(description="Début, en ISO 8601 avec fuseau (2027-03-09T10:00:00+01:00).")
    agent_ids: list[Id] = Field(max_length=MAX_IDS)
    usager_ids: list[Id] = Field(
        [],
        max_length=MAX_IDS,
        validation_alias=AliasChoices("usager_ids", "user_ids"),
        description="Usagers du rendez-vous (synonyme accepté : user_ids).",
    )
    lieu_id: Id | None = Field(None, description="Obligatoire pour un motif sur place, absent sinon.")
    duration_in_min: Integer | None = Field(None, description="Durée en minutes ; par défaut, celle du motif.")
    context: str = ""
    address: str = Field("", description="Adresse du rendez-vous, pour un motif à domicile.")
    visio_url: str = Field("", description="Lien de visioconférence, pour un motif en visio.")
    override: Flag = Field(
        False, description="Réserver même hors disponibilité ou sur un autre rendez-vous (noté au journal)."
    )


class RdvUpdate(Strict):
    context: str | None = None
    address: str | None = None
    visio_url: str | None = None


class RdvMove(Strict):
    starts_at: AwareDateTime = Field(description="Nouveau début, avec fuseau ; la durée ne change pas.")
    agent_ids: list[Id] | None = Field(None, max_length=MAX_IDS, description="Nouveaux agents ; par défaut, les mêmes.")
    lieu_id: Id | None = Field(None, description="Nouveau lieu ; par défaut, le même.")
    override: Flag = False


class RdvCancel(Strict):
    reason: str = Field("", max_length=CANCEL_REASON_MAX_LENGTH)
    by_usager: Flag = Field(
        False, description="true : annulé à la demande de l’usager (excused) ; false : par le service (revoked)."
    )


class RdvStatusChange(Strict):
    status: RdvStatusValue
    reason: str = Field(
        "", max_length=CANCEL_REASON_MAX_LENGTH, description="Motif d’annulation (statuts excused et revoked)."
    )


class ParticipantIn(Strict):
    usager_id: Id = Field(validation_alias=AliasChoices("usager_id", "user_id"), description="Synonyme : user_id.")


# Helpers ---------------------------------------------------------------------------------------


def _many(queryset, ids: list[int]) -> list:
    """The objects `ids` of `queryset` (a scope), in the given order, repeats kept (the services
    refuse them with their own message); any id outside the scope is a 404."""
    found = {obj.pk: obj for obj in queryset.filter(pk__in=set(ids))} if ids else {}
    if len(found) != len(set(ids)):
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)
    return [found[pk] for pk in ids]


def _visible_rdv(ctx, rdv_id: int) -> Rdv:
    return one(policies.scope(ctx).select_related("motif", "organisation__territory", "lieu"), rdv_id)


CONTEXT_DISABLED = "Le champ « Contexte » est désactivé dans cet espace : ne l’envoyez pas."


def _refuse_hidden_context(ctx, context: str | None) -> None:
    """While the espace switches the Contexte off, the pages do not offer it: the API refuses it
    (what was typed stays stored and comes back when the field is switched on)."""
    if context is not None and not ctx.territory.rdv_field_enabled("context"):
        raise ApiError(422, "context_disabled", CONTEXT_DISABLED, [{"field": "context", "message": CONTEXT_DISABLED}])


# Routes ----------------------------------------------------------------------------------------


PREFIX = "/organisations/{organisation_id}/rdvs"


@router.get(PREFIX, response=responses({200: RdvList}), summary="Rendez-vous d’une organisation")
def list_rdvs(request, organisation_id: int, filters: Query[RdvFilters], params: Query[PageParams]):
    ctx = organisation_ctx(request, organisation_id)
    usager_id = filters.usager_id if filters.usager_id is not None else filters.user_id
    if filters.user_id is not None and filters.user_id != usager_id:
        message = "Donnez usager_id ou user_id (son synonyme), pas deux valeurs différentes."
        raise ApiError(422, "invalid", message, [{"field": "user_id", "message": message}])
    rdvs = selectors.rdv_search(
        ctx,
        starts_after=filters.starts_after,
        starts_before=filters.starts_before,
        agent_id=filters.agent_id,
        usager_id=usager_id,
        status=filters.status,
        motif_id=filters.motif_id,
        lieu_id=filters.lieu_id,
    )
    zone = ctx.territory.zone
    page = paginate(
        with_rdv_relations(rdvs), params, key="rdvs", serialise=lambda rows: [rdv_out(r, zone) for r in rows]
    )
    return trusted_page(request, page)


@router.get(PREFIX + "/{rdv_id}", response=responses({200: RdvOne}), summary="Un rendez-vous")
def get_rdv(request, organisation_id: int, rdv_id: int):
    ctx = organisation_ctx(request, organisation_id)
    rdv = one(with_rdv_relations(policies.scope(ctx)), rdv_id)
    return {"rdv": rdv_out(rdv, ctx.territory.zone)}


@router.post(PREFIX, response=responses({201: RdvOne}, write=True), summary="Réserver un rendez-vous")
def create_rdv(request, organisation_id: int, payload: RdvCreate):
    ctx = organisation_ctx(request, organisation_id)
    _refuse_hidden_context(ctx, payload.context or None)
    motif = one(motif_policies.scope(ctx), payload.motif_id)
    agents = _many(agenda_selectors.organisation_agents(ctx), payload.agent_ids)
    usagers = _many(usager_policies.scope(ctx), payload.usager_ids)
    lieu = one(agenda_policies.lieux_scope(ctx), payload.lieu_id) if payload.lieu_id is not None else None
    booking = services.BookingRequest(
        motif=motif,
        starts_at=payload.starts_at,
        agents=agents,
        usagers=usagers,
        lieu=lieu,
        duration_minutes=payload.duration_in_min,
        context=payload.context,
        address=payload.address,
        visio_url=payload.visio_url,
    )
    rdv = services.book_rdv(ctx, booking, override=payload.override)
    return Status(201, _answer(ctx, rdv))


@router.patch(PREFIX + "/{rdv_id}", response=responses({200: RdvOne}, write=True), summary="Modifier un rendez-vous")
def update_rdv(request, organisation_id: int, rdv_id: int, payload: RdvUpdate):
    ctx = organisation_ctx(request, organisation_id)
    rdv = _visible_rdv(ctx, rdv_id)
    _refuse_hidden_context(ctx, payload.context)
    services.update_rdv(ctx, rdv, context=payload.context, address=payload.address, visio_url=payload.visio_url)
    return _answer(ctx, rdv)


@router.post(
    PREFIX + "/{rdv_id}/move", response=responses({200: RdvOne}, write=True), summary="Déplacer un rendez-vous"
)
def move_rdv(request, organisation_id: int, rdv_id: int, payload: RdvMove):
    ctx = organisation_ctx(request, organisation_id)
    rdv = _visible_rdv(ctx, rdv_id)
    agents = (
        _many(agenda_selectors.organisation_agents(ctx), payload.agent_ids) if payload.agent_ids is not None else None
    )
    lieu = one(agenda_policies.lieux_scope(ctx), payload.lieu_id) if payload.lieu_id is not None else None
    services.move_rdv(ctx, rdv, payload.starts_at, agents=agents, lieu=lieu, override=payload.override)
    return _answer(ctx, rdv)


@router.post(
    PREFIX + "/{rdv_id}/cancel", response=responses({200: RdvOne}, write=True), summary="Annuler un rendez-vous"
)
def cancel_rdv(request, organisation_id: int, rdv_id: int, payload: RdvCancel):
    """As on the pages: an agent cancels for the service (revoked) or records the usager's
    cancellation (`by_usager`: excused); a RDV already cancelled is left as it is."""
    ctx = organisation_ctx(request, organisation_id)
    rdv = _visible_rdv(ctx, rdv_id)
    if not rdv.is_cancelled:
        services.cancel_rdv(ctx, rdv, by_usager=payload.by_usager, reason=payload.reason)
    return _answer(ctx, rdv)


@router.post(
    PREFIX + "/{rdv_id}/status",
    response=responses({200: RdvOne}, write=True),
    summary="Changer le statut d’un rendez-vous",
)
def change_status(request, organisation_id: int, rdv_id: int, payload: RdvStatusChange):
    ctx = organisation_ctx(request, organisation_id)
    rdv = _visible_rdv(ctx, rdv_id)
    services.set_status(ctx, rdv, payload.status, reason=payload.reason)
    return _answer(ctx, rdv)


@router.post(
    PREFIX + "/{rdv_id}/participants",
    response=responses({201: RdvOne}, write=True),
    summary="Ajouter un participant",
)
def add_participant(request, organisation_id: int, rdv_id: int, payload: ParticipantIn):
    ctx = organisation_ctx(request, organisation_id)
    rdv = _visible_rdv(ctx, rdv_id)
    usager = one(usager_policies.scope(ctx), payload.usager_id)
    services.add_participant(ctx, rdv, usager)
    return Status(201, _answer(ctx, rdv))


@router.delete(
    PREFIX + "/{rdv_id}/participants/{usager_id}",
    response=responses({204: None}, write=True),
    summary="Retirer un participant",
)
def remove_participant(request, organisation_id: int, rdv_id: int, usager_id: int):
    """404 when this usager does not take part in the RDV (or is out of the agent's sight)."""
    ctx = organisation_ctx(request, organisation_id)
    rdv = _visible_rdv(ctx, rdv_id)
    usager = one(usager_policies.scope(ctx).filter(participations__rdv=rdv), usager_id)
    services.remove_participant(ctx, rdv, usager)
    return Status(204, None)
