"""The public booking steps lock the booking's own row, never the organisation's or the espace's: a
`select_for_update()` over a join locks every joined row, so each visitor giving their details
would queue behind the others of the same organisation, and deadlock with holds (found by the load
test, docs/operations.md)."""

import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.online import services
from tests.online.fixtures import NOW, PERSON, TUESDAY, at, build_online


@pytest.fixture
def online(db, postgres_only):
    with time_machine.travel(NOW, tick=False):
        yield build_online()


def locked_tables(queries) -> list[str]:
    """What each FOR UPDATE names: « OF "table" » or, without OF, every table of the query."""
    found = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" not in sql:
            continue
        of = re.search(r"FOR UPDATE OF (.+?)(?: SKIP LOCKED| NOWAIT|$)", sql)
        found.append(of.group(1) if of else "ALL JOINED ROWS: " + sql[:120])
    return found


def test_giving_details_and_resending_the_code_lock_only_the_booking_row(online):
    with time_machine.travel(NOW, tick=False):
        booking = online.hold(at(TUESDAY, 9))
        with CaptureQueriesContext(connection) as details:
            booking = services.submit_details(booking, PERSON, holder_key="visiteur-1")
        with CaptureQueriesContext(connection) as resend:
            services.resend_code(booking, holder_key="visiteur-1")
    for queries in (details, resend):
        tables = locked_tables(queries.captured_queries)
        assert tables, "the booking row is locked"
        assert all(t == '"online_onlinebooking"' for t in tables), tables
