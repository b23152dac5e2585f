"""The API's records, in the established platform's field names where it has the field (the same
dicts as the webhooks' bodies: rdv.webhooks.payloads), so an information system parses both with
one code. Times are ISO 8601 with the espace's offset."""

from datetime import date, datetime

from ninja import Schema

from rdv.api.errors import ErrorOut
from rdv.api.pagination import Meta
from rdv.api.types import INT64, AwareDateTime, Flag, Id, IsoDate

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


def responses(ok: dict, *, write: bool = False) -> dict:
    """The documented answers of an operation: its successes and every error it may give."""
    return {**ok, **(WRITE_ERRORS if write else ERRORS)}


class OrganisationOut(Schema):
    id: int
    name: str
    phone_number: str | None
    email: str | None
    verticale: str | None
    territory_id: int
    territory_name: str
    time_zone: str


class OrganisationOne(Schema):
    organisation: OrganisationOut


class OrganisationList(Schema):
    organisations: list[OrganisationOut]
    meta: Meta


class MotifOut(Schema):
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
    default_duration_in_min: int
    color: str


class MotifOne(Schema):
    motif: MotifOut


class MotifList(Schema):
    motifs: list[MotifOut]
    meta: Meta


__all__ = ["INT64", "AwareDateTime", "Flag", "Id", "IsoDate", "date", "datetime"]
