"""Refusals name the field as the request spells it: the services speak of their own fields
(`first_date`, `phone`), the API's requests of the established platform's (`first_day`,
`phone_number`)."""

from collections.abc import Callable, Mapping
from contextlib import contextmanager

from rdv.core.errors import DomainError


@contextmanager
def named_as_in_request(names: Mapping[str, str] | Callable[[str], str]):
    """Re-raise a DomainError with its field renamed by `names` (a mapping or a function)."""
    try:
        yield
    except DomainError as error:
        if error.field:
            error.field = names(error.field) if callable(names) else names.get(error.field, error.field)
        raise
