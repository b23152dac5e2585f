"""The read replica against a real PostgreSQL streaming replica (docs/adr/0017-read-replica.md).

Run by `make test-replica` (and its step of .ci/run) after `scripts/replica-setup`:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rdv_ci REPLICA_TEST_URL=postgres://postgres@127.0.0.1:5433/ \\
        .venv/bin/python -m pytest tests/replica
Without REPLICA_TEST_URL these tests are deselected (tests/conftest.py); with it, a replica that
does not answer fails the session. Lag is made certain, not awaited: the replica's replay is paused
(pg_wal_replay_pause), so it stays behind the primary for as long as a test needs (and resumed after
each test).
"""

import time

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.utils import timezone

from rdv.core.db import REPLICA, replica_reads
from rdv.core.errors import DomainError
from rdv.online import selectors
from rdv.online.models import OnlineBooking
from rdv.online.services import SLOT_TAKEN
from rdv.www.public.booking import week_url
from tests import replica_support
from tests.api.conftest import ApiClient, token_for
from tests.online.fixtures import NOW, PERSON, TUESDAY, at, build_online, last_code
from tests.replica_support import Captured

pytestmark = [pytest.mark.real_replica, pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])]

TEN = at(TUESDAY, 10)


@pytest.fixture(autouse=True)
def real_replica():
    if not replica_support.REPLICA_TEST_URL:
        pytest.fail("REPLICA_TEST_URL is not set: these tests need a streaming replica (scripts/replica-setup)")
    assert connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')::int")
        in_recovery, port = cursor.fetchone()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')::int")
        assert cursor.fetchone() == (False, int(connections[DEFAULT_DB_ALIAS].settings_dict["PORT"] or 5432))
    assert in_recovery, "the replica connection does not reach a standby"
    assert port == int(connections[REPLICA].settings_dict["PORT"])
    yield
    replica_support.set_replay_paused(False)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def week(online):
    return week_url(online.motif.pk, online.lieu.pk, TEN, online.territory.zone)


def shown(response) -> bool:
    return TEN.isoformat() in response.content.decode()


def hold(client, online):
    data = {"motif": online.motif.pk, "lieu": online.lieu.pk, "debut": TEN.isoformat(), "affiche": NOW.isoformat()}
    return client.post("/prendre-rdv/reserver/", {**data, "mode": "usager"})


def test_the_week_page_reads_the_replica_and_the_hold_writes_the_primary():
    online = build_online()
    client = Client()
    client.session  # noqa: B018 - the visitor's session (browsing alone opens none)
    client.get(week(online))
    replica_support.wait_for_replica()
    with Captured() as captured:
        response = client.get(week(online))
    assert response.status_code == 200 and shown(response)
    assert captured.touching(REPLICA, "agendas_plageouverture")
    assert not captured.touching(DEFAULT_DB_ALIAS, "agendas_plageouverture")
    assert captured.touching(DEFAULT_DB_ALIAS, "django_session")
    with Captured() as captured:
        response = hold(client, online)
    assert response.status_code == 302 and "/coordonnees/" in response.url
    assert captured.sql(REPLICA) == []
    assert OnlineBooking.objects.filter(starts_at=TEN).count() == 1


def test_a_slot_taken_while_the_replica_lags_is_shown_free_and_the_hold_refuses_it():
    online = build_online()
    client = Client()
    replica_support.wait_for_replica()
    assert shown(client.get(week(online)))
    replica_support.set_replay_paused(True)  # from now on the replica lags
    for other in ("autre-1", "autre-2"):  # two other visitors hold 10:00 with both agents, on the primary
        online.hold(TEN, holder_key=other)
    on_primary = selectors.week_of_free_times(
        online.motif, selectors.monday_of(TUESDAY), lieu=online.lieu, now=timezone.now(), holder_key="x"
    )
    assert TEN not in [time.start for day in on_primary.days for time in day.times]

    page = client.get(week(online))
    assert page.status_code == 200 and shown(page)  # the replica is behind: 10:00 still looks free
    response = hold(client, online)
    assert response.status_code == 302 and response.url == week(online)
    assert [str(message) for message in get_messages(response.wsgi_request)] == [SLOT_TAKEN]
    assert OnlineBooking.objects.count() == 2
    with replica_reads(), pytest.raises(DomainError) as refused:  # the re-check is on the primary, even in a scope
        online.hold(TEN, holder_key="autre-3")
    assert refused.value.code == "slot_taken"

    replica_support.set_replay_paused(False)
    replica_support.wait_for_replica()
    assert not shown(client.get(week(online)))  # caught up: 10:00 is gone


def test_the_booking_journey_reads_the_primary_while_the_replica_lags():
    online = build_online()
    client = Client()
    client.get(week(online))
    replica_support.wait_for_replica()
    replica_support.set_replay_paused(True)
    with Captured() as captured:
        response = hold(client, online)
        assert response.status_code == 302 and "/coordonnees/" in response.url
        response = client.post(response.url, PERSON)
        assert response.status_code == 302 and "/code/" in response.url
        response = client.post(response.url, {"code": last_code(PERSON["email"])})
        assert response.status_code == 302 and "/confirmation/" in response.url
        page = client.get(response.url)
    assert page.status_code == 200 and "Votre rendez-vous est confirmé" in page.content.decode()
    assert captured.sql(REPLICA) == []
    assert OnlineBooking.objects.get().rdv is not None


def test_the_api_slots_read_the_replica():
    online = build_online()
    api = ApiClient(token_for(online.agent))
    replica_support.wait_for_replica()
    day = TUESDAY.isoformat()
    with Captured() as captured:
        response = api.get(
            f"/api/v1/organisations/{online.organisation.pk}/motifs/{online.motif.pk}/slots",
            {"start_date": day, "end_date": day},
        )
    assert response.status_code == 200, response.content
    assert TEN.isoformat() in [slot["starts_at"] for slot in response.json()["slots"]]
    assert captured.touching(REPLICA, "agendas_plageouverture")
    assert captured.touching(DEFAULT_DB_ALIAS, "accounts_apitoken")


def _replica_health_until(wanted, steps=50) -> dict:
    """The replica's entry of /healthz once `wanted(entry)` holds (WAL arrives asynchronously)."""
    for _ in range(steps):
        entry = Client().get("/healthz").json()["checks"]["replica"]
        if wanted(entry):
            return entry
        time.sleep(0.1)
    return entry


def test_healthz_reports_the_replica_lag_while_replay_is_paused_and_zero_once_caught_up(settings):
    from rdv.core import db, health
    from rdv.core.models import Heartbeat

    settings.HEALTH_REPLICA = True
    settings.HEALTH_REPLICA_MAX_LAG_SECONDS = 0.5
    db._replica_down_until = 0.0
    health.beat(health.SCHEDULER, holder="test:1")
    replica_support.catch_up()
    assert _replica_health_until(lambda e: e["lag_seconds"] == 0) == {"ok": True, "lag_seconds": 0.0, "standby": True}
    replica_support.set_replay_paused(True)
    Heartbeat.objects.update_or_create(name="lag-probe", defaults={"beat_at": timezone.now(), "holder": "test"})
    time.sleep(0.6)  # older than the threshold: the replica received the write and does not replay it
    entry = _replica_health_until(lambda e: (e["lag_seconds"] or 0) > 0.5)
    assert entry["standby"] is True and entry["lag_seconds"] > 0.5 and entry["ok"] is False
    assert Client().get("/healthz").json()["status"] == "degraded"
    replica_support.set_replay_paused(False)
    replica_support.catch_up()
    assert _replica_health_until(lambda e: e["lag_seconds"] == 0)["lag_seconds"] == 0.0
