"""/metrics: request latency by route name (never the raw path), figures read from the database at
scrape time, access from this machine or with the metrics token only, and the multi-process mode of
gunicorn workers (values written to PROMETHEUS_MULTIPROC_DIR by separate processes, added up)."""

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from rdv.bookings.models import CreatedBy, Rdv
from rdv.core.health import SCHEDULER, beat
from rdv.outbox import harness
from rdv.outbox.models import AttemptOutcome, Channel, Delivery, DeliveryAttempt, Status
from tests import factories
from tests.helpers import unreachable_database

URL = "/metrics"
LATENCY = "rdv_http_request_duration_seconds_count"
TOKEN = "AbCdEfGhIjKlMnOpQrStUv"  # the shape of a manage link's token (22 URL-safe characters)


def scrape(client=None, **extra) -> dict:
    """{(sample name, frozenset of labels): value} of one scrape (from loopback by default)."""
    response = (client or Client()).get(URL, **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples: dict, route: str, method: str = "GET", status: str = "2xx") -> float:
    return value(samples, LATENCY, route=route, method=method, status=status)


def all_requests_of(samples: dict, route: str) -> float:
    return sum(v for (name, labels), v in samples.items() if name == LATENCY and dict(labels)["route"] == route)


# Request latency ---------------------------------------------------------------------------------


def test_a_request_is_counted_under_its_route_name_and_its_token_never_appears(db, client):
    before = scrape()
    client.get(f"/r/{TOKEN}")  # an unknown manage link
    client.get(f"/calendrier/{TOKEN}.ics")
    body = Client().get(URL).content.decode()
    after = scrape()
    assert all_requests_of(after, "public:manage") == all_requests_of(before, "public:manage") + 1
    assert all_requests_of(after, "calendar_feed") == all_requests_of(before, "calendar_feed") + 1
    assert TOKEN not in body
    assert "/r/" not in body and "calendrier" not in body


def test_ids_in_paths_never_become_labels(db, client):
    client.get("/espace/987654/")  # anonymous: sent to the login page
    after = scrape()
    assert requests_of(after, "espace_index", status="3xx") >= 1
    assert not any("987654" in str(labels) for _, labels in after)


def test_a_path_no_route_answers_is_counted_as_unmatched(db, client):
    before = scrape()
    client.get(f"/nulle-part/{TOKEN}/")
    after = scrape()
    assert requests_of(after, "unmatched", status="4xx") == requests_of(before, "unmatched", status="4xx") + 1
    assert TOKEN not in str(after)


def test_an_unusual_method_is_counted_as_other_not_as_a_new_label(db, client):
    before = scrape()
    client.generic("BREW", "/healthz")
    after = scrape()
    assert requests_of(after, "healthz", method="other", status="4xx") == (
        requests_of(before, "healthz", method="other", status="4xx") + 1
    )
    assert not any(dict(labels).get("method") == "BREW" for _, labels in after)


def test_the_histogram_has_buckets_and_a_sum(db, client):
    client.get("/healthz")
    after = scrape()
    labels = {"route": "healthz", "method": "GET", "status": "2xx"}
    count = value(after, LATENCY, **labels)
    assert count >= 1
    assert value(after, "rdv_http_request_duration_seconds_bucket", le="+Inf", **labels) == count
    assert value(after, "rdv_http_request_duration_seconds_sum", **labels) > 0


# Figures from the database -----------------------------------------------------------------------


def delivery(channel=Channel.EMAIL, status=Status.PENDING, **fields) -> Delivery:
    claimable = status in (Status.PENDING, Status.SENDING, Status.FAILING)
    fields.setdefault("next_attempt_at", timezone.now() + timedelta(minutes=1) if claimable else None)
    return Delivery.objects.create(channel=channel, recipient="x@exemple.fr", status=status, **fields)


def attempt(of: Delivery, number: int, outcome: str, minutes_ago: float) -> None:
    DeliveryAttempt.objects.create(
        delivery=of,
        number=number,
        started_at=timezone.now() - timedelta(minutes=minutes_ago),
        duration_ms=10,
        outcome=outcome,
    )


def rdv(created_by: str, minutes_ago: float, motif) -> Rdv:
    start = timezone.now() + timedelta(days=1)
    created = Rdv.objects.create(
        organisation=motif.organisation, motif=motif, starts_at=start, ends_at=start + timedelta(minutes=30),
        created_by=created_by,
    )  # fmt: skip
    Rdv.objects.filter(pk=created.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return created


@pytest.fixture
def busy_deployment(db):
    now = timezone.now()
    delivery(Channel.EMAIL)
    delivery(Channel.EMAIL, next_attempt_at=now - timedelta(seconds=90))  # due for 90 s
    delivery(Channel.SMS, Status.FAILING, attempts=1)
    delivery(Channel.WEBHOOK, Status.SENDING, attempts=1)
    delivery(Channel.EMAIL, Status.ABANDONED)  # not in the queue
    sent = delivery(Channel.EMAIL, Status.SENT, attempts=2, sent_at=now)
    attempt(sent, 1, AttemptOutcome.TEMPORARY, minutes_ago=20)  # failed, retried (and sent since)
    attempt(sent, 2, AttemptOutcome.SENT, minutes_ago=5)
    given_up = delivery(Channel.SMS, Status.ABANDONED, attempts=2)
    attempt(given_up, 1, AttemptOutcome.TEMPORARY, minutes_ago=30)  # failed, retried
    attempt(given_up, 2, AttemptOutcome.PERMANENT, minutes_ago=10)  # gave up
    long_ago = delivery(Channel.SMS, Status.ABANDONED, attempts=1)
    attempt(long_ago, 1, AttemptOutcome.PERMANENT, minutes_ago=90)  # over an hour ago
    old = delivery(Channel.WEBHOOK, Status.SENT, attempts=1, sent_at=now - timedelta(hours=2))
    attempt(old, 1, AttemptOutcome.SENT, minutes_ago=120)
    motif = factories.MotifFactory()
    rdv(CreatedBy.USAGER, 0.2, motif)
    rdv(CreatedBy.USAGER, 0.5, motif)
    rdv(CreatedBy.AGENT, 10, motif)
    rdv(CreatedBy.PRESCRIPTEUR, 20, motif)  # outside both windows
    beat(SCHEDULER, holder="test:1", now=now - timedelta(seconds=12))


def test_queue_depth_by_channel_and_status(busy_deployment):
    samples = scrape()
    depth = "rdv_outbox_queue_depth"
    assert value(samples, depth, channel="email", status="pending") == 2
    assert value(samples, depth, channel="sms", status="failing") == 1
    assert value(samples, depth, channel="webhook", status="sending") == 1
    assert value(samples, depth, channel="sms", status="pending") == 0
    assert (depth, frozenset({"channel": "sms", "status": "pending"}.items())) in samples  # zeros are shown
    assert not any(name == depth and dict(labels)["status"] == "abandoned" for name, labels in samples)
    assert value(samples, "rdv_outbox_due") == 1
    assert 85 <= value(samples, "rdv_outbox_oldest_due_seconds") <= 120


def test_deliveries_of_the_last_hour_by_result(busy_deployment):
    samples = scrape()
    last_hour = "rdv_outbox_deliveries_last_hour"
    assert value(samples, last_hour, channel="email", status="sent") == 1
    assert value(samples, last_hour, channel="email", status="failed") == 1
    assert value(samples, last_hour, channel="email", status="abandoned") == 0
    assert value(samples, last_hour, channel="sms", status="abandoned") == 1
    assert value(samples, last_hour, channel="sms", status="failed") == 1
    assert value(samples, last_hour, channel="webhook", status="sent") == 0  # two hours ago


def test_bookings_per_minute_by_creator(busy_deployment):
    samples = scrape()
    per_minute = "rdv_bookings_per_minute"
    assert value(samples, per_minute, created_by="usager", window="1m") == 2
    assert value(samples, per_minute, created_by="usager", window="15m") == pytest.approx(2 / 15, abs=0.001)
    assert value(samples, per_minute, created_by="agent", window="1m") == 0
    assert value(samples, per_minute, created_by="agent", window="15m") == pytest.approx(1 / 15, abs=0.001)
    assert value(samples, per_minute, created_by="prescripteur", window="15m") == 0


def test_scheduler_heartbeat_age_and_database_up(busy_deployment):
    samples = scrape()
    assert 11 <= value(samples, "rdv_scheduler_heartbeat_age_seconds") <= 30
    assert value(samples, "rdv_database_up") == 1


def test_a_scrape_reads_the_database_in_five_queries(busy_deployment, django_assert_num_queries):
    client = Client()
    with django_assert_num_queries(5):  # heartbeat; queue depth, due, attempts; bookings
        assert client.get(URL).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_scrape_while_the_database_is_down_still_serves_request_metrics():
    client = Client()
    client.get("/healthz")
    with unreachable_database():
        samples = scrape(client)
    assert value(samples, "rdv_database_up") == 0
    assert requests_of(samples, "healthz") >= 1
    assert not any(name.startswith("rdv_outbox") for name, _ in samples)


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_replica_is_up_with_its_lag_when_configured_and_down_when_it_does_not_answer(settings, monkeypatch):
    from django.db import OperationalError, connections

    from rdv.core import db, health

    assert ("rdv_replica_up", frozenset()) not in scrape()  # no DATABASE_REPLICA_URL: no replica figures
    settings.HEALTH_REPLICA = True
    monkeypatch.setattr(db, "_replica_down_until", 0.0)
    monkeypatch.setattr(health, "replica_state", lambda: {"ok": True, "lag_seconds": 2.5, "standby": True})
    samples = scrape()
    assert value(samples, "rdv_replica_up") == 1 and value(samples, "rdv_replica_lag_seconds") == 2.5
    monkeypatch.undo()

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(db, "_replica_down_until", 0.0)
    monkeypatch.setattr(connections["replica"], "ensure_connection", refuse)
    samples = scrape()
    assert samples[("rdv_replica_up", frozenset())] == 0
    assert ("rdv_replica_lag_seconds", frozenset()) not in samples
    assert value(samples, "rdv_database_up") == 1  # the primary answered
    monkeypatch.setattr(db, "_replica_down_until", 0.0)


# Who may scrape ----------------------------------------------------------------------------------


def test_metrics_are_served_to_this_machine(db):
    assert Client(REMOTE_ADDR="127.0.0.1").get(URL).status_code == 200
    assert Client(REMOTE_ADDR="::1").get(URL).status_code == 200


def test_metrics_are_hidden_from_other_addresses_without_a_token(db, settings):
    settings.METRICS_TOKEN = ""
    outsider = Client(REMOTE_ADDR="203.0.113.7")
    assert outsider.get(URL).status_code == 404
    assert outsider.get(URL, headers={"Authorization": "Bearer "}).status_code == 404


def test_a_request_proxied_over_loopback_is_not_trusted_as_local(db, settings):
    settings.METRICS_TOKEN = ""
    proxied = Client(REMOTE_ADDR="127.0.0.1")
    assert proxied.get(URL, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 404
    assert proxied.get(URL, headers={"X-Real-IP": "203.0.113.7"}).status_code == 404


def test_the_metrics_token_opens_metrics_to_other_addresses(db, settings):
    settings.METRICS_TOKEN = "un-jeton-de-supervision-assez-long"
    outsider = Client(REMOTE_ADDR="203.0.113.7")
    assert outsider.get(URL, headers={"Authorization": "Bearer un-jeton-de-supervision-assez-long"}).status_code == 200
    assert outsider.get(URL, headers={"Authorization": "Bearer un-autre-jeton"}).status_code == 404
    assert outsider.get(URL, headers={"Authorization": "Basic un-jeton-de-supervision-assez-long"}).status_code == 404
    assert outsider.get(URL).status_code == 404
    proxied = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert proxied.get(URL, headers={"Authorization": "Bearer un-jeton-de-supervision-assez-long"}).status_code == 200


# Several processes (gunicorn workers) ------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    for _ in range({requests}):
        assert client.get("/healthz").status_code == 200
    """
)


@pytest.mark.django_db(transaction=True)
def test_requests_served_by_several_processes_are_added_up_in_multiprocess_mode(tmp_path, monkeypatch):
    env = harness.child_environment(None, PROMETHEUS_MULTIPROC_DIR=tmp_path)
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD.format(requests=n)], env=env, cwd=harness.BASE_DIR)
        for n in (3, 4)
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0]
    assert len(list(tmp_path.glob("histogram_*.db"))) == 2  # one file per process

    Client().get("/healthz")  # this process (not a worker of the pool): not in the files
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape()
    assert requests_of(samples, "healthz") == 7
    assert value(samples, "rdv_database_up") == 1  # the database figures are computed by the scrape
