"""The load test's seed command and the checks it runs on the database afterwards (rdv.ops.loadtest):
each check is shown to fail on a fabricated fault."""

import importlib.util
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from rdv.accounts.models import Agent, ApiToken
from rdv.bookings.models import Participation, Rdv, RdvAgent, RdvStatus
from rdv.motifs.models import Motif
from rdv.online.models import BookingStatus, OnlineBooking
from rdv.ops import loadtest
from rdv.outbox.models import Channel, Delivery, Status
from rdv.territories.models import Territory
from rdv.usagers.models import Usager
from tests.factories import TerritoryFactory

SMALL = ["--agents", "4", "--rdvs", "10", "--usagers", "120", "--journal", "100", "--logins", "2", "--tokens", "2"]


def seed(tmp_path: Path) -> dict:
    out = tmp_path / "data.json"
    call_command("seed_loadtest", "--out", str(out), *SMALL, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return json.loads(out.read_text())


def test_seed_loadtest_builds_a_bookable_espace_with_logins_and_tokens(db, tmp_path):
    data = seed(tmp_path)
    assert data["created"] is True and data["agents"] == 4
    assert len(data["logins"]) == 2 and len(data["tokens"]) == 2 == data["tokens_count"]
    login = data["logins"][0]
    assert Agent.objects.get(email=login["email"]).check_password(login["password"])
    assert ApiToken.objects.filter(name="Test de charge").count() == 2
    # The agent's session, as after logging in: the agenda answers without the login form.
    agent_client = Client(HTTP_HOST="localhost")
    agent_client.cookies["sessionid"] = login["session"]
    agenda = agent_client.get(f"/organisations/{data['organisation_id']}/agenda/", {"vue": "semaine"})
    assert agenda.status_code == 200
    assert Client(HTTP_HOST="localhost").get(f"/organisations/{data['organisation_id']}/agenda/").status_code == 302
    motif = Motif.objects.get(pk=data["motif_id"])
    assert motif.bookable_online
    # Free times in the coming weeks (not only in the benchmark's month), for the public bookings.
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday()) + timedelta(weeks=1)
    response = Client(HTTP_HOST="localhost").get(
        "/prendre-rdv/creneaux/", {"motif": motif.pk, "lieu": data["lieu_ids"][0], "semaine": monday.isoformat()}
    )
    assert response.status_code == 200
    assert response.content.decode().count('name="debut"') > 10


def test_seed_loadtest_run_twice_reuses_the_espace_and_replaces_the_tokens(db, tmp_path):
    first = seed(tmp_path)
    rdvs, agents = Rdv.objects.count(), Agent.objects.count()
    second = seed(tmp_path)
    assert second["created"] is False
    assert second["organisation_id"] == first["organisation_id"]
    assert (Rdv.objects.count(), Agent.objects.count(), Territory.objects.count()) == (rdvs, agents, 1)
    assert ApiToken.objects.filter(name="Test de charge").count() == 2  # replaced, not added
    assert set(second["tokens"]).isdisjoint(first["tokens"])


def test_seed_loadtest_refuses_a_database_with_other_espaces(db, tmp_path):
    TerritoryFactory()
    with pytest.raises(CommandError, match="d’autres espaces"):
        seed(tmp_path)
    assert Territory.objects.count() == 1 and not Agent.objects.filter(email__startswith="bench").exists()


@pytest.fixture
def espace(db, tmp_path):
    seed(tmp_path)
    return Rdv.objects.select_related("organisation", "motif", "lieu").order_by("pk").first()


def _rdv_like(rdv: Rdv, start, minutes=30, **fields) -> Rdv:
    return Rdv.objects.create(
        organisation=rdv.organisation,
        motif=rdv.motif,
        lieu=rdv.lieu,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        **fields,
    )


def _without_exclusion_constraint():
    """Fabricate what PostgreSQL forbids: drop the exclusion constraint inside the test's transaction
    (rolled back at the end), so the checker is shown to find an overlap the database let through."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks before ALTER
            cursor.execute("ALTER TABLE bookings_rdvagent DROP CONSTRAINT IF EXISTS rdvagent_no_overlap")


def test_double_bookings_finds_two_overlapping_blocking_rdvs_of_one_agent(espace):
    assert loadtest.double_bookings()["count"] == 0
    link = RdvAgent.objects.filter(rdv=espace).get()
    _without_exclusion_constraint()
    # Cancelled and deliberate overrides are not double bookings; another agent neither.
    cancelled = _rdv_like(espace, espace.starts_at + timedelta(minutes=10), status=RdvStatus.EXCUSED)
    RdvAgent.objects.create(
        rdv=cancelled, agent=link.agent, starts_at=cancelled.starts_at, ends_at=cancelled.ends_at, blocks_agenda=False
    )
    override = _rdv_like(espace, espace.starts_at + timedelta(minutes=5))
    RdvAgent.objects.create(
        rdv=override, agent=link.agent, starts_at=override.starts_at, ends_at=override.ends_at, exclusive=False
    )
    other_agent = Agent.objects.exclude(pk=link.agent_id).exclude(rdv_links__starts_at=espace.starts_at).first()
    elsewhere = _rdv_like(espace, espace.starts_at)
    RdvAgent.objects.create(rdv=elsewhere, agent=other_agent, starts_at=elsewhere.starts_at, ends_at=elsewhere.ends_at)
    adjacent = _rdv_like(espace, espace.ends_at)  # starts when the other ends: no overlap
    RdvAgent.objects.create(rdv=adjacent, agent=link.agent, starts_at=adjacent.starts_at, ends_at=adjacent.ends_at)
    assert loadtest.double_bookings()["count"] == 0

    overlap = _rdv_like(espace, espace.starts_at + timedelta(minutes=15))
    RdvAgent.objects.create(rdv=overlap, agent=link.agent, starts_at=overlap.starts_at, ends_at=overlap.ends_at)
    found = loadtest.double_bookings()
    assert found["count"] == 2  # with the first RDV and with the adjacent one
    assert [link.agent_id, espace.pk, overlap.pk] in found["examples"]


def test_overbooked_rdvs_finds_a_collective_rdv_with_more_usagers_than_places(espace):
    start = espace.starts_at + timedelta(days=1)
    collective = _rdv_like(espace, start, collective=True, max_participants=2)
    usagers = list(Usager.objects.order_by("pk")[:4])
    Participation.objects.create(rdv=collective, usager=usagers[0])
    Participation.objects.create(rdv=collective, usager=usagers[1])
    Participation.objects.create(rdv=collective, usager=usagers[2], status="excused")  # left: no place taken
    assert loadtest.overbooked_rdvs()["count"] == 0
    Participation.objects.create(rdv=collective, usager=usagers[3])
    assert loadtest.overbooked_rdvs() == {"count": 1, "examples": [[collective.pk, 3, 2]]}


def test_lost_bookings_counts_the_confirmations_the_database_does_not_hold(espace):
    link = RdvAgent.objects.filter(rdv=espace).get()
    now = timezone.now()
    booking = OnlineBooking.objects.create(
        holder_key="x",
        status=BookingStatus.CONFIRMED,
        organisation=espace.organisation,
        motif=espace.motif,
        lieu=espace.lieu,
        agent=link.agent,
        starts_at=espace.starts_at,
        ends_at=espace.ends_at,
        hold_expires_at=now,
        rdv=espace,
    )
    unconfirmed = OnlineBooking.objects.create(
        holder_key="y",
        status=BookingStatus.CODE_SENT,
        organisation=espace.organisation,
        motif=espace.motif,
        lieu=espace.lieu,
        agent=link.agent,
        starts_at=espace.starts_at,
        ends_at=espace.ends_at,
        hold_expires_at=now,
    )
    ghost = str(uuid.uuid4())
    assert loadtest.lost_bookings([str(booking.public_id)])["lost"] == 0
    result = loadtest.lost_bookings([str(booking.public_id), str(unconfirmed.public_id), ghost])
    assert result["seen_by_clients"] == 3 and result["in_database"] == 1 and result["lost"] == 2
    assert ghost in result["examples"]


def test_delivery_summary_counts_what_was_not_sent_since_the_start(db):
    start = timezone.now()
    for status in (Status.SENT, Status.SENT, Status.CANCELLED):
        Delivery.objects.create(channel=Channel.EMAIL, recipient="a@exemple.fr", status=status)
    assert loadtest.delivery_summary(start)["not_sent"] == 0
    now = timezone.now()
    Delivery.objects.create(channel=Channel.EMAIL, recipient="b@exemple.fr", next_attempt_at=now)  # pending
    Delivery.objects.create(channel=Channel.SMS, recipient="+33600000000", status=Status.ABANDONED)
    summary = loadtest.delivery_summary(start)
    assert summary["total"] == 5 and summary["not_sent"] == 2
    assert summary["by_status"] == {"sent": 2, "cancelled": 1, "pending": 1, "abandoned": 1}
    assert loadtest.delivery_summary(timezone.now() + timedelta(seconds=1))["total"] == 0


def _report_module():
    spec = importlib.util.spec_from_file_location("loadtest_report", Path(__file__).parents[2] / "loadtest/report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_computes_the_slot_cache_hit_rate_over_the_run_or_says_n_a():
    report = _report_module()
    before = 'rdv_slot_cache_requests_total{result="hit"} 10.0\nrdv_slot_cache_requests_total{result="miss"} 5.0\n'
    after = 'rdv_slot_cache_requests_total{result="hit"} 100.0\nrdv_slot_cache_requests_total{result="miss"} 15.0\n'
    assert report.slot_cache(before, after) == {"requests": {"hit": 90, "miss": 10}, "hit_rate": 0.9}
    assert report.slot_cache("", "rdv_http_request_duration_seconds_count 3\n") == "n/a"


def _faults_module():
    spec = importlib.util.spec_from_file_location("loadtest_faults", Path(__file__).parents[2] / "loadtest/faults.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drill_files(tmp_path, *, unexpected: dict, after_counts: dict, outage_ok=True) -> Path:
    report = {
        "failures": {"expected_409_429": 0, "unexpected": sum(unexpected.values()), "unexpected_detail": unexpected},
        "double_bookings": 0,
        "overbooked_rdvs": 0,
        "lost_bookings": 0,
        "lost_deliveries": 0,
    }
    drill = {
        "faults": [{"fault": "kill -9 db_worker", "ok": True}],
        "outage_checks": [{"url": "/healthz", "ok": outage_ok}],
        "recovered_after_s": 1.0,
        "after": [{"url": "/", "ok": True}],
        "counts_before_outage": {"online_rdvs": 3, "deliveries": 9},
        "counts_after_recovery": after_counts,
        "processes_after": {"db_worker": 1, "scheduler": 1},
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / "drill.json").write_text(json.dumps(drill))
    return tmp_path / "report.json"


def test_the_drill_passes_with_french_error_pages_and_fails_on_another_error_page_or_a_loss(tmp_path):
    faults = _faults_module()
    french = {
        "public week: CatchResponseError('HTTP 500 (French error page)')": 40,
        "agent agenda week: CatchResponseError('connection error (ConnectionResetError)')": 1,
    }
    summary = faults.summary(
        tmp_path, _drill_files(tmp_path, unexpected=french, after_counts={"online_rdvs": 4, "deliveries": 9})
    )
    assert summary["ok"] is True
    assert summary["failures_during_drill"]["french_error_pages"] == 40
    assert summary["failures_during_drill"]["connection_or_client_errors"] == 1

    traceback = {**french, "public week: CatchResponseError('HTTP 500 (unexpected page)')": 1}
    summary = faults.summary(
        tmp_path, _drill_files(tmp_path, unexpected=traceback, after_counts={"online_rdvs": 4, "deliveries": 9})
    )
    assert summary["ok"] is False and summary["checks"]["no_unclean_error_page"] is False

    summary = faults.summary(
        tmp_path, _drill_files(tmp_path, unexpected=french, after_counts={"online_rdvs": 2, "deliveries": 9})
    )
    assert summary["ok"] is False and summary["checks"]["nothing_lost_in_outage"] is False

    summary = faults.summary(
        tmp_path,
        _drill_files(tmp_path, unexpected=french, after_counts={"online_rdvs": 3, "deliveries": 9}, outage_ok=False),
    )
    assert summary["ok"] is False and summary["checks"]["outage_pages_french"] is False


def test_report_server_side_figures_skip_the_warm_up_and_sum_the_cpu_per_route(tmp_path):
    report = _report_module()
    log = tmp_path / "serve.log"

    def line(route, duration, cpu):
        return json.dumps({"logger": "rdv.request", "route": route, "duration_ms": duration, "cpu_ms": cpu}) + "\n"

    warmup = line("public:week", 900.0, 600.0) + "not json\n"
    log.write_text(
        warmup + line("public:week", 40.0, 20.0) + line("public:week", 60.0, 30.0) + line("agenda", 300.0, 100.0)
    )
    figures = report.server_side(log, len(warmup.encode()))
    assert figures["public:week"]["requests"] == 2 and figures["public:week"]["p99_ms"] == 60.0  # not the 900
    assert figures["public:week"]["cpu_total_s"] == 0.05 and figures["agenda"]["cpu_p50_ms"] == 100.0
    assert report.server_side(log)["public:week"]["requests"] == 3  # without an offset: every line


def test_report_splits_the_cpu_by_kind_of_process_and_gives_the_machine_s_busy_share(tmp_path):
    report = _report_module()
    (tmp_path / "serve-kinds.before").write_text("web 10\nworker 2\nscheduler 1\n")
    (tmp_path / "serve-kinds.after").write_text("web 70.5\nworker 9\nscheduler 1.5\n")
    (tmp_path / "machine.before").write_text("1000 5000\n")
    (tmp_path / "machine.after").write_text("1090 5120\n")
    assert report.cpu_by_kind(tmp_path) == {
        "scheduler": 0.5,
        "web": 60.5,
        "worker": 7.0,
        "machine_busy": 90.0,
        "machine_busy_share": 0.75,
    }
    (tmp_path / "locust.cpu").write_text("8.5\n")
    assert report.cpu_seconds(tmp_path) == {
        "serve": 68.0,
        "locust": 8.5,
        "serve_scheduler": 0.5,
        "serve_web": 60.5,
        "serve_worker": 7.0,
        "machine_busy": 90.0,
        "machine_busy_share": 0.75,
        "machine_other": 13.5,  # 90 - 68 - 8.5: PostgreSQL and the system
    }
    (tmp_path / "locust.cpu").unlink()  # without locust's figure, no « other »
    assert "machine_other" not in report.cpu_seconds(tmp_path)
    (tmp_path / "machine.after").write_text("garbage")
    assert "machine_busy" not in report.cpu_by_kind(tmp_path)
    assert report.cpu_by_kind(tmp_path / "missing") == {}
    assert report.cpu_seconds(tmp_path / "missing") == {"serve": None, "locust": None}
