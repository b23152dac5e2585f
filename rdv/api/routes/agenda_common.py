"""What plages and absences share in the API: the recurrence in and out, wall-clock times, the agent
whose agenda is written, and the nested records of the established platform's blueprints."""

import re
from datetime import datetime, time
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError

from rdv.agendas import selectors
from rdv.agendas.models import RecurrenceKind
from rdv.api.errors import NOT_FOUND_MESSAGE, ApiError
from rdv.api.types import INT64, Flag, Integer, IsoDate
from rdv.core.context import Context

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# Fields of rdv.agendas.services -> keys of the requests (errors[].field).
REQUEST_FIELD = {
    "first_date": "first_day",
    "end_date": "end_day",
    "recurrence": "recurrence.kind",
    "recurrence_interval": "recurrence.interval",
    "recurrence_weekdays": "recurrence.weekdays",
    "until": "recurrence.until",
    "lieu": "lieu_id",
    "motifs": "motif_ids",
}
HH_MM = r"^\d{2}:\d{2}(:\d{2})?$"
HH_MM_SS = r"^\d{2}:\d{2}:\d{2}$"


def _wall_clock(value):
    # The espace's wall clock, « 09:30 »: no offset (another zone), no number of seconds. The
    # service reads the text (and refuses 25:00 with its message).
    if not isinstance(value, str) or not re.fullmatch(HH_MM, value):
        raise PydanticCustomError("time_parsing", "invalid time")
    return value


# Not JSON Schema's « time » format: that one requires an offset (RFC 3339), a wall clock has none.
WallClock = Annotated[
    str,
    BeforeValidator(_wall_clock),
    WithJsonSchema({"type": "string", "pattern": HH_MM, "description": "HH:MM, heure locale de l’espace."}),
]
ClockOut = Annotated[str, WithJsonSchema({"type": "string", "pattern": HH_MM_SS})]


def clock(value: time | None) -> str | None:
    return value.strftime("%H:%M:%S") if value is not None else None


class RecurrenceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["none", "weekly", "monthly"] = Field(
        description="none ; weekly : toutes les `interval` semaines, les `weekdays` ; monthly : tous les "
        "`interval` mois, le même jour de la semaine (le n-ième, ou le dernier avec `last_of_month`)."
    )
    interval: Integer = Field(1, ge=1, le=INT64, description="1 à 52 semaines, 1 à 12 mois.")
    weekdays: list[Weekday] = Field([], max_length=7, description="weekly : les jours (défaut : celui du début).")
    until: IsoDate | None = Field(None, description="Dernier jour de la série (inclus) ; null : sans fin.")
    last_of_month: Flag = Field(False, description="monthly : le dernier jour de ce type du mois.")


class RecurrenceOut(Schema):
    kind: str
    interval: int
    weekdays: list[str]
    until: IsoDate | None
    last_of_month: bool


def recurrence_out(record) -> dict:
    return {
        "kind": record.recurrence,
        "interval": record.recurrence_interval,
        "weekdays": [WEEKDAYS[day] for day in sorted(record.recurrence_weekdays or []) if 0 <= day <= 6],
        "until": record.until,
        "last_of_month": record.recurrence_last_of_month,
    }


def recurrence_data(recurrence: RecurrenceIn | dict | None) -> dict:
    """The service's recurrence fields (rdv.agendas.services) from the API's object."""
    if recurrence is None:
        return {"recurrence": RecurrenceKind.NONE}
    if isinstance(recurrence, dict):
        recurrence = RecurrenceIn(**recurrence)
    return {
        "recurrence": recurrence.kind,
        "recurrence_interval": recurrence.interval,
        "recurrence_weekdays": [WEEKDAYS.index(day) for day in recurrence.weekdays],
        "until": recurrence.until,
        "recurrence_last_of_month": recurrence.last_of_month,
    }


def current_recurrence(record) -> dict:
    return {
        "recurrence": record.recurrence,
        "recurrence_interval": record.recurrence_interval,
        "recurrence_weekdays": list(record.recurrence_weekdays or []),
        "until": record.until,
        "recurrence_last_of_month": record.recurrence_last_of_month,
    }


def agent_for(ctx: Context, agent_id: int | None):
    """The agent whose agenda a request writes: the token's agent by default, else an agent of the
    organisation (the service then checks the right to manage their agenda: 403 otherwise)."""
    if agent_id is None:
        return ctx.agent
    agent = selectors.organisation_agents(ctx).filter(pk=agent_id).first()
    if agent is None:  # as every id out of reach: 404
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE, [{"field": "agent_id", "message": NOT_FOUND_MESSAGE}])
    return agent


# Nested records of the blueprints -------------------------------------------------------------------


class AgentRef(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    inclusion_connect_open_id_sub: None = None


class OrganisationRef(Schema):
    id: int
    name: str
    phone_number: None = None
    email: None = None
    verticale: None = None


class LieuRef(Schema):
    id: int
    name: str
    address: str
    phone_number: str | None
    organisation_id: int
    single_use: bool


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
    motif_category: None = None
