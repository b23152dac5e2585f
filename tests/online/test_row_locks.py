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


AGENT_LOCK = re.compile(r'FROM "accounts_agent" WHERE "accounts_agent"\."id" IN \(([^)]*)\) ORDER BY 1 ASC FOR UPDATE')


def agent_locks(queries) -> list[str]:
    """The agents each agenda lock of these queries names (rdv.agendas.locks.lock_agendas)."""
    return [match.group(1) for query in queries if (match := AGENT_LOCK.search(query["sql"]))]


def test_a_hold_locks_the_agenda_of_the_agent_it_takes_only(online):
    """Both agents are free at 9:00: the first hold locks the agenda it takes, not both; the second
    visitor's hold may try the taken agent first (its lock then goes with its savepoint) and takes
    the other one, one agenda locked at a time."""
    with time_machine.travel(NOW, tick=False):
        with CaptureQueriesContext(connection) as first:
            held = online.hold(at(TUESDAY, 9), holder_key="visiteur-1")
        with CaptureQueriesContext(connection) as second:
            other = online.hold(at(TUESDAY, 9), holder_key="visiteur-2")
    assert agent_locks(first.captured_queries) == [str(held.agent_id)]
    locks = agent_locks(second.captured_queries)
    assert locks[-1] == str(other.agent_id) and set(locks) <= {str(online.agent.pk), str(online.agent2.pk)}
    assert {held.agent_id, other.agent_id} == {online.agent.pk, online.agent2.pk}


@pytest.fixture
def committed(transactional_db, postgres_only):
    with time_machine.travel(NOW, tick=False):
        yield build_online("verrous")


def test_a_hold_does_not_wait_for_an_agenda_another_transaction_holds_when_another_agent_is_free(committed):
    """Agent 1 has a RDV that day, so agent 2 comes first in the fair rotation. While another
    transaction holds agent 1's agenda (a booking of agent 1 in progress), a hold at 9:00 takes agent 2
    without waiting (with every candidate locked, it waited for agent 1's transaction)."""
    from rdv.agendas.locks import lock_agendas
    from rdv.bookings import services as booking_services
    from tests import factories
    from tests.helpers import as_agent, locked_elsewhere

    online = committed
    usager = factories.UsagerFactory(territory=online.territory, organisations=[online.organisation])
    with time_machine.travel(NOW, tick=False):
        booking_services.book_rdv(
            as_agent(online.agent, online.organisation),
            booking_services.BookingRequest(
                motif=online.motif, starts_at=at(TUESDAY, 11), agents=[online.agent], usagers=[usager], lieu=online.lieu
            ),
        )
    # Waiting for agent 1 would fail (lock_timeout), not hang.
    with locked_elsewhere(lambda: lock_agendas([online.agent]), timeout="1s"), time_machine.travel(NOW, tick=False):
        booking = online.hold(at(TUESDAY, 9), holder_key="visiteur-1")
    assert booking.agent_id == online.agent2.pk
