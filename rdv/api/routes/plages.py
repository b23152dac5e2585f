"""Plages d'ouverture of the organisation's agents: a basic agent manages their own, an organisation
admin everyone's (rdv.agendas.policies); writes go through rdv.agendas.services (no overlap between
an agent's plages, in any organisation; exceptions of single occurrences). Records are the webhooks'
`PlageOuverture` (rdv.webhooks.payloads.plage_data) plus the recurrence and the exceptions.

Spelling: /plages_ouverture and the keys `plages_ouverture` / `plage_ouverture` (the established
platform writes `plage_ouvertures`)."""

from datetime import date

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rdv.agendas import policies, services
from rdv.api.auth import one, organisation_ctx
from rdv.api.errors import NOT_FOUND_MESSAGE, ApiError
from rdv.api.pagination import Meta, PageParams, paginate
from rdv.api.routes.agenda_common import (
    REQUEST_FIELD,
    AgentRef,
    ClockOut,
    LieuRef,
    MotifRef,
    OrganisationRef,
    RecurrenceIn,
    RecurrenceOut,
    WallClock,
    agent_for,
    clock,
    current_recurrence,
    recurrence_data,
    recurrence_out,
)
from rdv.api.routes.request_fields import named_as_in_request
from rdv.api.schemas import responses
from rdv.api.types import Flag, Id, IsoDate
from rdv.motifs import policies as motif_policies
from rdv.webhooks.payloads import plage_data

router = Router(tags=["Plages d’ouverture"])


class ExceptionOut(Schema):
    date: date
    cancelled: bool
    start_time: ClockOut | None = Field(description="Horaires de cette occurrence quand ils sont modifiés.")
    end_time: ClockOut | None


class PlageOut(Schema):
    id: int
    ical_uid: str
    title: str
    first_day: date
    start_time: ClockOut
    end_time: ClockOut
    agent: AgentRef
    organisation: OrganisationRef
    lieu: LieuRef
    motifs: list[MotifRef]
    rrule: str | None
    ical: str
    recurrence: RecurrenceOut
    exceptions: list[ExceptionOut] = Field(description="Occurrences annulées ou déplacées, par date.")


class PlageOne(Schema):
    plage_ouverture: PlageOut


class PlageList(Schema):
    plages_ouverture: list[PlageOut]
    meta: Meta


class PlageChange(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, description="Facultatif.")
    lieu_id: Id | None = Field(None, description="Un lieu ouvert de l’organisation.")
    motif_ids: list[Id] | None = Field(
        None, max_length=200, description="Les motifs (des services de l’agent) proposés sur la plage."
    )
    first_day: IsoDate | None = None
    start_time: WallClock | None = Field(None, description="Heure locale de l’espace (09:30).")
    end_time: WallClock | None = None
    recurrence: RecurrenceIn | None = None


class PlageCreate(PlageChange):
    agent_id: Id | None = Field(None, description="L’agent (défaut : l’agent du jeton).")


class PlageFilters(Schema):
    agent_id: Id | None = None
    lieu_id: Id | None = None


class OccurrenceChange(Schema):
    """Either `cancelled: true`, or the new hours of this occurrence (same day)."""

    model_config = ConfigDict(extra="forbid")

    cancelled: Flag = False
    start_time: WallClock | None = None
    end_time: WallClock | None = None


def plage_out(plage, zone) -> dict:
    return {
        **plage_data(plage, zone),
        "recurrence": recurrence_out(plage),
        "exceptions": [
            {"date": e.date, "cancelled": e.cancelled, "start_time": clock(e.start_time), "end_time": clock(e.end_time)}
            for e in sorted(plage.exceptions.all(), key=lambda e: e.date)
        ],
    }


def _scope(ctx):
    return (
        policies.plages_scope(ctx)
        .select_related("agent", "organisation", "lieu")
        .prefetch_related("motifs", "exceptions")
    )


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid", "Certaines valeurs sont invalides.", [{"field": field, "message": message}])


def _out_of_reach(field: str) -> ApiError:
    """An id of another organisation or espace, or unknown: 404, as every id out of reach."""
    return ApiError(404, "not_found", NOT_FOUND_MESSAGE, [{"field": field, "message": NOT_FOUND_MESSAGE}])


def _service_data(ctx, given: dict) -> dict:
    """The service's fields for the keys of the request (absent keys are left out)."""
    data = {}
    for key, field in (("title", "title"), ("first_day", "first_date"), ("start_time", "start_time")):
        if key in given:
            data[field] = given[key]
    if "end_time" in given:
        data["end_time"] = given["end_time"]
    if "lieu_id" in given:
        lieu = policies.lieux_scope(ctx).filter(pk=given["lieu_id"]).first() if given["lieu_id"] else None
        if given["lieu_id"] and lieu is None:
            raise _out_of_reach("lieu_id")
        data["lieu"] = lieu
    if "motif_ids" in given:
        ids = set(given["motif_ids"] or [])
        motifs = list(motif_policies.scope(ctx).filter(pk__in=ids))
        if len(motifs) != len(ids):
            raise _out_of_reach("motif_ids")
        data["motifs"] = motifs
    if "recurrence" in given:
        data.update(recurrence_data(given["recurrence"]))
    return data


BASE = "/organisations/{organisation_id}/plages_ouverture"
ONE = BASE + "/{plage_id}"
OCCURRENCE = ONE + "/occurrences/{day}"


@router.get(BASE, response=responses({200: PlageList}), summary="Plages d’ouverture")
def list_plages(request, organisation_id: int, filters: Query[PlageFilters], params: Query[PageParams]):
    """Celles que l’agent du jeton gère : les siennes, ou toutes celles de l’organisation pour un
    administrateur de l’organisation. Par date de début."""
    ctx = organisation_ctx(request, organisation_id)
    plages = _scope(ctx)
    if filters.agent_id is not None:
        plages = plages.filter(agent_id=filters.agent_id)
    if filters.lieu_id is not None:
        plages = plages.filter(lieu_id=filters.lieu_id)
    zone = ctx.territory.zone
    return paginate(
        plages.order_by("first_date", "start_time", "pk"),
        params,
        key="plages_ouverture",
        serialise=lambda rows: [plage_out(p, zone) for p in rows],
    )


@router.post(BASE, response=responses({201: PlageOne}, write=True), summary="Créer une plage d’ouverture")
def create_plage(request, organisation_id: int, payload: PlageCreate):
    ctx = organisation_ctx(request, organisation_id)
    given = payload.model_dump(exclude_unset=True)
    agent = agent_for(ctx, given.get("agent_id"))
    data = _service_data(ctx, given)
    with named_as_in_request(REQUEST_FIELD):
        plage = services.create_plage(ctx, agent, data)
    return Status(201, {"plage_ouverture": plage_out(one(_scope(ctx), plage.pk), ctx.territory.zone)})


@router.get(ONE, response=responses({200: PlageOne}), summary="Une plage d’ouverture")
def get_plage(request, organisation_id: int, plage_id: int):
    ctx = organisation_ctx(request, organisation_id)
    return {"plage_ouverture": plage_out(one(_scope(ctx), plage_id), ctx.territory.zone)}


@router.patch(ONE, response=responses({200: PlageOne}, write=True), summary="Modifier toute la série")
def update_plage(request, organisation_id: int, plage_id: int, payload: PlageChange):
    """Les champs absents ne changent pas ; `recurrence`, quand elle est donnée, remplace la répétition.
    Les exceptions des dates qui restent des occurrences sont gardées, les autres retirées."""
    ctx = organisation_ctx(request, organisation_id)
    plage = one(_scope(ctx), plage_id)
    current = {
        "title": plage.title,
        "lieu": plage.lieu,
        "motifs": list(plage.motifs.all()),
        "first_date": plage.first_date,
        "start_time": plage.start_time,
        "end_time": plage.end_time,
        **current_recurrence(plage),
    }
    data = _service_data(ctx, payload.model_dump(exclude_unset=True))
    with named_as_in_request(REQUEST_FIELD):
        services.update_plage(ctx, plage, {**current, **data})
    return {"plage_ouverture": plage_out(one(_scope(ctx), plage.pk), ctx.territory.zone)}


@router.delete(ONE, response=responses({204: None}, write=True), summary="Supprimer une plage d’ouverture")
def delete_plage(request, organisation_id: int, plage_id: int):
    ctx = organisation_ctx(request, organisation_id)
    services.delete_plage(ctx, one(_scope(ctx), plage_id))
    return Status(204, None)


@router.put(OCCURRENCE, response=responses({200: PlageOne}, write=True), summary="Annuler ou déplacer une occurrence")
def change_occurrence(request, organisation_id: int, plage_id: int, day: IsoDate, payload: OccurrenceChange):
    """`{"cancelled": true}` annule l’occurrence du jour `day` (AAAA-MM-JJ) ; `{"start_time": "14:00",
    "end_time": "17:00"}` change ses horaires. Le reste de la série ne change pas."""
    ctx = organisation_ctx(request, organisation_id)
    plage = one(_scope(ctx), plage_id)
    with named_as_in_request({"date": "day"}):
        if payload.cancelled:
            if payload.start_time is not None or payload.end_time is not None:
                raise _invalid("cancelled", "Une occurrence annulée n’a pas d’horaires : envoyez l’un ou l’autre.")
            services.cancel_plage_occurrence(ctx, plage, day)
        else:
            services.move_plage_occurrence(ctx, plage, day, payload.start_time, payload.end_time)
    return {"plage_ouverture": plage_out(one(_scope(ctx), plage.pk), ctx.territory.zone)}


@router.delete(OCCURRENCE, response=responses({204: None}, write=True), summary="Rétablir une occurrence")
def restore_occurrence(request, organisation_id: int, plage_id: int, day: IsoDate):
    """L’occurrence du jour `day` reprend les horaires de la série (annule une annulation ou un
    déplacement)."""
    ctx = organisation_ctx(request, organisation_id)
    services.restore_plage_occurrence(ctx, one(_scope(ctx), plage_id), day)
    return Status(204, None)
