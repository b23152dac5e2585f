"""Absences of the organisation's agents: a basic agent manages their own, an organisation admin
everyone's (rdv.agendas.policies); writes go through rdv.agendas.services. Records are the webhooks'
`Absence` (rdv.webhooks.payloads.absence_data) plus the recurrence as an object."""

from datetime import date

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rdv.agendas import policies, services
from rdv.api.auth import one, organisation_ctx
from rdv.api.pagination import Meta, PageParams, paginate
from rdv.api.routes.agenda_common import (
    REQUEST_FIELD,
    AgentRef,
    ClockOut,
    OrganisationRef,
    RecurrenceIn,
    RecurrenceOut,
    WallClock,
    agent_for,
    current_recurrence,
    recurrence_data,
    recurrence_out,
)
from rdv.api.routes.request_fields import named_as_in_request
from rdv.api.schemas import responses
from rdv.api.types import Flag, Id, IsoDate
from rdv.webhooks.payloads import absence_data

router = Router(tags=["Absences"])


class AbsenceOut(Schema):
    id: int
    ical_uid: str
    title: str
    first_day: date
    end_day: date
    start_time: ClockOut
    end_time: ClockOut
    agent: AgentRef
    organisation: OrganisationRef
    rrule: str | None
    ical: str
    recurrence: RecurrenceOut


class AbsenceOne(Schema):
    absence: AbsenceOut


class AbsenceList(Schema):
    absences: list[AbsenceOut]
    meta: Meta


class AbsenceChange(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, description="Par exemple « Congés » ou « Formation ».")
    first_day: IsoDate | None = None
    end_day: IsoDate | None = Field(None, description="Dernier jour (défaut : `first_day`).")
    start_time: WallClock | None = Field(None, description="Heure locale de l’espace (09:30).")
    end_time: WallClock | None = None
    whole_day: Flag = Field(False, description="Journées entières : de 00:00 le premier jour à 23:59 le dernier.")
    recurrence: RecurrenceIn | None = Field(None, description="Absence répétée (7 jours au plus chacune).")


class AbsenceCreate(AbsenceChange):
    agent_id: Id | None = Field(None, description="L’agent absent (défaut : l’agent du jeton).")


class AbsenceFilters(Schema):
    agent_id: Id | None = None


def absence_out(absence, zone) -> dict:
    return {**absence_data(absence, zone), "recurrence": recurrence_out(absence)}


# Request key -> field of rdv.agendas.services (the recurrence object gives several).
FIELD = {
    "title": "title",
    "first_day": "first_date",
    "end_day": "end_date",
    "start_time": "start_time",
    "end_time": "end_time",
    "whole_day": "whole_day",
}


def _service_data(given: dict) -> dict:
    """The service's fields for the keys of the request (absent keys are left out)."""
    data = {FIELD[key]: value for key, value in given.items() if key in FIELD}
    if "recurrence" in given:
        data.update(recurrence_data(given["recurrence"]))
    return data


BASE = "/organisations/{organisation_id}/absences"


def _scope(ctx):
    return policies.absences_scope(ctx).select_related("agent", "organisation")


@router.get(BASE, response=responses({200: AbsenceList}), summary="Absences")
def list_absences(request, organisation_id: int, filters: Query[AbsenceFilters], params: Query[PageParams]):
    """Celles que l’agent du jeton gère : les siennes, ou toutes celles de l’organisation pour un
    administrateur de l’organisation. Par date de début."""
    ctx = organisation_ctx(request, organisation_id)
    absences = _scope(ctx)
    if filters.agent_id is not None:
        absences = absences.filter(agent_id=filters.agent_id)
    zone = ctx.territory.zone
    return paginate(
        absences.order_by("first_date", "start_time", "pk"),
        params,
        key="absences",
        serialise=lambda rows: [absence_out(a, zone) for a in rows],
    )


@router.post(BASE, response=responses({201: AbsenceOne}, write=True), summary="Créer une absence")
def create_absence(request, organisation_id: int, payload: AbsenceCreate):
    ctx = organisation_ctx(request, organisation_id)
    given = payload.model_dump(exclude_unset=True)
    agent = agent_for(ctx, given.get("agent_id"))
    with named_as_in_request(REQUEST_FIELD):
        absence = services.create_absence(ctx, agent, _service_data(given))
    return Status(201, {"absence": absence_out(one(_scope(ctx), absence.pk), ctx.territory.zone)})


@router.get(BASE + "/{absence_id}", response=responses({200: AbsenceOne}), summary="Une absence")
def get_absence(request, organisation_id: int, absence_id: int):
    ctx = organisation_ctx(request, organisation_id)
    return {"absence": absence_out(one(_scope(ctx), absence_id), ctx.territory.zone)}


@router.patch(BASE + "/{absence_id}", response=responses({200: AbsenceOne}, write=True), summary="Modifier")
def update_absence(request, organisation_id: int, absence_id: int, payload: AbsenceChange):
    """Les champs absents ne changent pas ; `recurrence`, quand elle est donnée, remplace la répétition."""
    ctx = organisation_ctx(request, organisation_id)
    absence = one(_scope(ctx), absence_id)
    given = payload.model_dump(exclude_unset=True)
    current = {
        "title": absence.title,
        "first_date": absence.first_date,
        "end_date": absence.end_date,
        "start_time": absence.start_time,
        "end_time": absence.end_time,
        **current_recurrence(absence),
    }
    with named_as_in_request(REQUEST_FIELD):
        services.update_absence(ctx, absence, {**current, **_service_data(given)})
    return {"absence": absence_out(one(_scope(ctx), absence.pk), ctx.territory.zone)}


@router.delete(BASE + "/{absence_id}", response=responses({204: None}, write=True), summary="Supprimer")
def delete_absence(request, organisation_id: int, absence_id: int):
    ctx = organisation_ctx(request, organisation_id)
    services.delete_absence(ctx, one(_scope(ctx), absence_id))
    return Status(204, None)
