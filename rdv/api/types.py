"""Types of the API's inputs: exactly what the OpenAPI schema says, and nothing pydantic would also
guess (a number read as a Unix timestamp, « yes » read as true, a datetime without its offset)."""

import re
from datetime import UTC, date, datetime
from typing import Annotated

from ninja import Field
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

INT64 = 2**63 - 1
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")


def _iso_date(value):
    # pydantic would also read a number as a Unix timestamp (« 0 » → 1970-01-01): only AAAA-MM-JJ.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_parsing", "invalid date")
    return value


def _iso_datetime(value):
    # An instant with its offset (2027-03-09T10:00:00+01:00 or …Z): never a bare number, never a
    # wall-clock time without a zone (which one would it be?).
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not ISO_DATETIME.fullmatch(value):
        raise PydanticCustomError("timezone_aware", "invalid datetime")
    return value


def in_utc(value: datetime) -> datetime:
    """The same instant in UTC. ISO 8601 allows offsets up to ±23:59, PostgreSQL takes ±15:59 only
    (« 1370-01-14T22:09:45-17:41 » answered 500, found by the API fuzzing); an instant that cannot be
    written in UTC (year 1 east of Greenwich, 9999 west of it) is refused."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise PydanticCustomError("datetime_parsing", "invalid datetime") from exc


def _strict_bool(value):
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError("bool_parsing", "invalid boolean")


def _strict_int(value):
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("int_type", "invalid integer")
    if isinstance(value, str) and not re.fullmatch(r"-?\d{1,20}", value):
        raise PydanticCustomError("int_parsing", "invalid integer")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
AwareDateTime = Annotated[datetime, BeforeValidator(_iso_datetime), AfterValidator(in_utc)]
Flag = Annotated[bool, BeforeValidator(_strict_bool)]
Integer = Annotated[int, BeforeValidator(_strict_int)]
Id = Annotated[int, BeforeValidator(_strict_int), Field(ge=1, le=INT64)]
