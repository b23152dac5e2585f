"""/healthz: the database, the delivery queue's lag and the scheduler's heartbeat, in a few queries;
503 (JSON, never a 500) when the database does not answer."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rdv.core.health import SCHEDULER, beat
from rdv.core.models import Heartbeat
from rdv.outbox import harness
from rdv.outbox.models import Channel, Delivery, Status
from tests.helpers import unreachable_database

URL = "/healthz"


def delivery(**fields) -> Delivery:
    values = {"channel": Channel.EMAIL, "recipient": "usager@exemple.fr", "status": Status.PENDING}
    values.update(fields)
    return Delivery.objects.create(**values)


@pytest.fixture
def fresh_scheduler(db):
    beat(SCHEDULER, holder="test:1")


def test_a_healthy_deployment_answers_ok_with_its_figures_in_three_queries(
    client, fresh_scheduler, django_assert_num_queries
):
    delivery(next_attempt_at=timezone.now() + timedelta(minutes=5))  # not due yet
    with django_assert_num_queries(3):  # SELECT 1, the queue's aggregate, the heartbeat
        response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "queue", "scheduler"}
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["queue"] == {"ok": True, "due": 0, "oldest_due_seconds": 0.0}
    assert body["checks"]["scheduler"]["ok"] is True
    assert 0 <= body["checks"]["scheduler"]["last_beat_seconds"] < 5


def test_health_needs_no_login_and_reveals_no_recipient(client, fresh_scheduler):
    delivery(recipient="secret-usager@exemple.fr", next_attempt_at=timezone.now() - timedelta(seconds=30))
    response = client.get(URL)
    assert response.status_code == 200
    assert b"secret-usager" not in response.content
    assert response.json()["checks"]["queue"]["due"] == 1


def test_a_queue_lagging_beyond_the_threshold_is_degraded_but_still_answers_200(client, fresh_scheduler, settings):
    settings.HEALTH_QUEUE_MAX_LAG_SECONDS = 300
    now = timezone.now()
    delivery(next_attempt_at=now - timedelta(minutes=10))
    delivery(status=Status.FAILING, attempts=1, next_attempt_at=now - timedelta(minutes=1))
    delivery(status=Status.SENT, next_attempt_at=None, sent_at=now)  # done: not in the queue
    body = client.get(URL).json()
    assert body["status"] == "degraded"
    queue = body["checks"]["queue"]
    assert queue["due"] == 2
    assert queue["ok"] is False
    assert 595 <= queue["oldest_due_seconds"] <= 615


def test_a_due_message_younger_than_the_threshold_keeps_the_status_ok(client, fresh_scheduler, settings):
    settings.HEALTH_QUEUE_MAX_LAG_SECONDS = 300
    delivery(next_attempt_at=timezone.now() - timedelta(minutes=4))
    body = client.get(URL).json()
    assert body["status"] == "ok"
    assert body["checks"]["queue"]["due"] == 1


def test_messages_held_behind_a_failing_message_of_their_order_do_not_count_as_lag(client, fresh_scheduler):
    """One webhook endpoint down for days must not make the whole deployment « degraded »: the
    rows queued behind its failing row wait for that row, not for a worker."""
    now = timezone.now()
    delivery(
        channel=Channel.WEBHOOK,
        ordering_key="endpoint-1",
        status=Status.FAILING,
        attempts=3,
        next_attempt_at=now + timedelta(hours=2),
    )
    delivery(channel=Channel.WEBHOOK, ordering_key="endpoint-1", next_attempt_at=now - timedelta(hours=1))
    body = client.get(URL).json()
    assert body["checks"]["queue"]["due"] == 0
    assert body["status"] == "ok"


def test_a_silent_scheduler_makes_the_deployment_degraded(client, db, settings):
    settings.HEALTH_SCHEDULER_MAX_SILENCE_SECONDS = 180
    beat(SCHEDULER, holder="test:1", now=timezone.now() - timedelta(minutes=5))
    body = client.get(URL).json()
    assert body["status"] == "degraded"
    assert body["checks"]["scheduler"]["ok"] is False
    assert 295 <= body["checks"]["scheduler"]["last_beat_seconds"] <= 310


def test_a_scheduler_that_never_beat_is_reported_as_such(client, db):
    body = client.get(URL).json()
    assert body["status"] == "degraded"
    assert body["checks"]["scheduler"] == {"ok": False, "last_beat_seconds": None}


def test_health_answers_get_and_head_only(client, fresh_scheduler):
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_answers_503_in_json_not_a_500():
    client = Client(raise_request_exception=False)
    with unreachable_database():
        response = client.get(URL)
    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"status": "down", "checks": {"database": {"ok": False}}}
    assert client.get(URL).json()["checks"]["database"] == {"ok": True}  # back to normal


@pytest.mark.django_db(transaction=True)
def test_the_leading_scheduler_beats_and_the_standby_does_not():
    env = harness.child_environment(None, SCHEDULER_HEARTBEAT_SECONDS=0.5, SCHEDULER_LOCK_RETRY_SECONDS=0.5)
    leader = harness.start_scheduler(env, "scheduler-leader")
    standby = None
    try:
        harness.wait_until(lambda: Heartbeat.objects.filter(name=SCHEDULER).exists(), 60, message="a heartbeat")
        first = Heartbeat.objects.get(name=SCHEDULER)
        assert first.holder.endswith(f":{leader.popen.pid}")
        standby = harness.start_scheduler(env, "scheduler-standby")
        harness.wait_until(lambda: "attend" in standby.output(), 60, message="the standby waiting")
        harness.wait_until(
            lambda: Heartbeat.objects.get(name=SCHEDULER).beat_at > first.beat_at, 30, message="a later heartbeat"
        )
        assert Heartbeat.objects.get(name=SCHEDULER).holder == first.holder  # the standby never beats
        body = Client().get(URL).json()
        assert body["checks"]["scheduler"]["ok"] is True
        assert body["checks"]["scheduler"]["last_beat_seconds"] < 10

        leader.kill()
        harness.wait_until(
            lambda: Heartbeat.objects.get(name=SCHEDULER).holder.endswith(f":{standby.popen.pid}"),
            60,
            message="the standby's heartbeat after taking over",
        )
    finally:
        for process in (leader, standby):
            if process is not None:
                process.stop()


# The read replica (DATABASE_REPLICA_URL) ---------------------------------------------------------

on_both_connections = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def configured_replica(settings):
    """As with DATABASE_REPLICA_URL: the replica alias (a mirror of the test database here) is reported."""
    from rdv.core import db

    settings.HEALTH_REPLICA = True
    db._replica_down_until = 0.0
    yield
    db._replica_down_until = 0.0


def test_without_a_configured_replica_the_report_has_no_replica_entry(client, fresh_scheduler):
    assert "replica" not in client.get(URL).json()["checks"]


@on_both_connections
def test_a_replica_that_answers_is_reported_ok_with_its_lag(configured_replica):
    beat(SCHEDULER, holder="test:1")
    body = Client().get(URL).json()
    assert body["status"] == "ok"
    # The mirror is the test database itself: no standby on PostgreSQL, nothing to ask on SQLite.
    from django.db import connections

    standby = False if connections["replica"].vendor == "postgresql" else None
    assert body["checks"]["replica"] == {"ok": True, "lag_seconds": None, "standby": standby}


@on_both_connections
def test_a_replica_that_does_not_answer_degrades_the_report_and_is_not_retried_at_once(
    configured_replica, monkeypatch, caplog
):
    from django.db import OperationalError, connections

    beat(SCHEDULER, holder="test:1")
    attempts = []

    def refuse():
        attempts.append(1)
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["replica"], "ensure_connection", refuse)
    first, second = Client().get(URL), Client().get(URL)
    assert first.status_code == second.status_code == 200  # the site answers: pages read the primary
    assert first.json()["status"] == "degraded"
    assert first.json()["checks"]["replica"] == {"ok": False, "lag_seconds": None, "standby": None}
    assert second.json()["checks"]["replica"]["ok"] is False
    assert attempts == [1]  # left alone for REPLICA_RETRY_SECONDS, like the pages do


@on_both_connections
def test_a_replica_lagging_over_the_threshold_degrades_the_report(configured_replica, settings, monkeypatch):
    from rdv.core import health

    beat(SCHEDULER, holder="test:1")
    settings.HEALTH_REPLICA_MAX_LAG_SECONDS = 30
    monkeypatch.setattr(health, "replica_state", lambda: {"ok": True, "lag_seconds": 30.0, "standby": True})
    assert Client().get(URL).json()["status"] == "ok"  # at the threshold
    monkeypatch.setattr(health, "replica_state", lambda: {"ok": True, "lag_seconds": 30.5, "standby": True})
    body = Client().get(URL).json()
    assert body["status"] == "degraded"
    assert body["checks"]["replica"] == {"ok": False, "lag_seconds": 30.5, "standby": True}
