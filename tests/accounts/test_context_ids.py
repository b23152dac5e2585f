"""Ids read from URLs are checked against the database's integer range before any query."""

import pytest

from rdv.accounts.context import _pk, organisation_context
from tests.factories import AgentFactory

LIMIT = 2**63


class _WithPk:
    pk = 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (LIMIT - 1, LIMIT - 1),
        (LIMIT, None),
        (-LIMIT, -LIMIT),
        (-LIMIT - 1, None),
        (0, 0),
        (_WithPk(), 5),
        ("12", None),
        (None, None),
    ],
)
def test_an_id_is_kept_only_within_the_bigint_range(value, expected):
    assert _pk(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("huge", [LIMIT, -LIMIT - 1, 10**30])
def test_an_organisation_id_beyond_the_range_gives_no_context_and_no_error(huge):
    assert organisation_context(AgentFactory(), huge) is None
