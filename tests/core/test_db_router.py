"""The read-replica router (rdv.core.db, docs/adr/0017-read-replica.md). In tests the "replica" alias
is a test mirror of the default database (its own connection to the same test database), so the
queries each connection runs show where the router sent them. Tests that look at the connections run
outside a transaction (`transaction=True`): inside one, every read goes to the primary."""

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, router, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory

from rdv.accounts.models import Agent, AgentRole, ApiToken
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings.models import SlotHold
from rdv.core import db
from rdv.core.db import REPLICA, primary_reads, reads_from_replica, replica_reads
from rdv.core.models import RateCounter
from rdv.motifs.models import Motif
from rdv.online import slotcache
from rdv.online.models import OnlineBooking
from rdv.www.public.booking import week_url
from tests import replica_support
from tests.api.conftest import ApiClient, token_for
from tests.online.fixtures import NOW, PERSON, TUESDAY, at, build_online, last_code
from tests.replica_support import BOTH, Captured

on_both_connections = pytest.mark.django_db(transaction=True, databases=BOTH)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# The router's decisions --------------------------------------------------------------------------


def test_reads_go_to_the_primary_outside_a_replica_scope():
    assert router.db_for_read(Motif) == DEFAULT_DB_ALIAS
    with replica_reads():
        assert router.db_for_read(Motif) == REPLICA
        with primary_reads():
            assert router.db_for_read(Motif) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Motif) == REPLICA
    assert router.db_for_read(Motif) == DEFAULT_DB_ALIAS


@pytest.mark.parametrize("model", [Session, SlotHold, RateCounter, OnlineBooking, Agent, AgentRole, ApiToken])
def test_sessions_holds_rate_counters_and_rights_read_the_primary_even_in_a_scope(model):
    with replica_reads():
        assert router.db_for_read(model) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Lieu) == REPLICA


def test_writes_go_to_the_primary_in_a_scope():
    with replica_reads():
        assert router.db_for_write(Motif) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Session) == DEFAULT_DB_ALIAS


def test_only_the_primary_is_migrated_and_objects_of_both_may_be_related():
    assert router.allow_migrate_model(REPLICA, Lieu) is False
    assert router.allow_migrate_model(DEFAULT_DB_ALIAS, Lieu) is True
    primary, replica = Lieu(), Lieu()
    primary._state.db, replica._state.db = DEFAULT_DB_ALIAS, REPLICA
    assert router.allow_relation(primary, replica) is True


@pytest.fixture
def replica_answers(monkeypatch):
    monkeypatch.setattr(db, "replica_available", lambda: True)


def test_the_view_decorator_opens_the_scope_for_get_and_head_only(replica_answers):
    @reads_from_replica
    def view(request):
        return HttpResponse(router.db_for_read(Motif))

    factory = RequestFactory()
    assert view(factory.get("/")).content.decode() == REPLICA
    assert view(factory.head("/")).content.decode() == REPLICA
    for method in ("post", "put", "patch", "delete", "options"):
        assert getattr(factory, method)("/").method != "GET"
        assert view(getattr(factory, method)("/")).content.decode() == DEFAULT_DB_ALIAS, method
    assert router.db_for_read(Motif) == DEFAULT_DB_ALIAS  # closed after the view


def test_the_scope_closes_when_the_view_raises(replica_answers):
    @reads_from_replica
    def view(request):
        raise ValueError

    with pytest.raises(ValueError):
        view(RequestFactory().get("/"))
    assert router.db_for_read(Motif) == DEFAULT_DB_ALIAS


def _settings_in_a_process(settings_module: str, **environ) -> dict:
    """The databases and the router's choice in a scope, as a fresh process with these settings sees them."""
    code = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.db import router\n"
        "from rdv.core.db import replica_reads\n"
        "from rdv.motifs.models import Motif\n"
        "with replica_reads():\n"
        "    chosen = router.db_for_read(Motif)\n"
        "print(json.dumps({'databases': settings.DATABASES, 'chosen': chosen}, default=str))\n"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATABASE_REPLICA_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": settings_module, "SECRET_KEY": "x" * 50, **environ})
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_a_replica_url_there_is_no_replica_and_a_scope_reads_the_primary():
    seen = _settings_in_a_process("config.settings.prod", DATABASE_URL="postgres://postgres@127.0.0.1:5432/x")
    assert list(seen["databases"]) == ["default"]
    assert seen["chosen"] == DEFAULT_DB_ALIAS


def test_a_replica_url_adds_a_replica_with_the_primarys_connection_options():
    seen = _settings_in_a_process(
        "config.settings.prod",
        DATABASE_URL="postgres://postgres@db1:5432/rdv",
        DATABASE_REPLICA_URL="postgres://reader@db2:5433/rdv",
    )
    replica = seen["databases"]["replica"]
    assert (replica["HOST"], replica["PORT"], replica["USER"], replica["NAME"]) == ("db2", 5433, "reader", "rdv")
    assert replica["ENGINE"] == "django.db.backends.postgresql"
    assert replica["CONN_MAX_AGE"] == seen["databases"]["default"]["CONN_MAX_AGE"] == 60
    assert replica["CONN_HEALTH_CHECKS"] is seen["databases"]["default"]["CONN_HEALTH_CHECKS"] is True
    assert seen["chosen"] == REPLICA


# Where the queries go --------------------------------------------------------------------------


@on_both_connections
def test_reads_in_a_scope_run_on_the_replica_connection_and_see_committed_rows():
    online = build_online()
    replica_support.catch_up()
    with Captured() as captured, replica_reads():
        lieux = list(Lieu.objects.filter(organisation=online.organisation).order_by("name"))
    assert [lieu.name for lieu in lieux] == ["MDS Centre", "MDS Gare"]
    assert {lieu._state.db for lieu in lieux} == {REPLICA}
    assert len(captured.touching(REPLICA, "agendas_lieu")) == 1
    assert captured.sql(DEFAULT_DB_ALIAS) == []


@on_both_connections
def test_reads_in_a_transaction_run_on_the_primary_even_in_a_scope():
    online = build_online()
    replica_support.catch_up()
    with Captured() as captured, replica_reads(), transaction.atomic():
        assert router.db_for_read(Lieu) == DEFAULT_DB_ALIAS
        assert Lieu.objects.filter(organisation=online.organisation).count() == 2
    assert captured.touching(DEFAULT_DB_ALIAS, "agendas_lieu")
    assert captured.sql(REPLICA) == []


@on_both_connections
def test_writes_in_a_scope_run_on_the_primary_objects_read_from_the_replica_included():
    online = build_online()
    replica_support.catch_up()
    with Captured() as captured, replica_reads():
        lieu = Lieu.objects.get(pk=online.lieu.pk)
        assert lieu._state.db == REPLICA
        lieu.name = "MDS Centre-ville"
        lieu.save(update_fields=["name"])
        Lieu.objects.create(organisation=online.organisation, name="MDS Sud", address="5 rue du Sud 26000 Valence")
        plage = PlageOuverture.objects.filter(lieu=online.lieu).first()
        plage.motifs.remove(online.collective_motif)
    writes = [sql for sql in captured.sql(REPLICA) if not sql.lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert any(sql.startswith("UPDATE") for sql in captured.touching(DEFAULT_DB_ALIAS, "agendas_lieu"))
    assert any(sql.startswith("INSERT") for sql in captured.touching(DEFAULT_DB_ALIAS, "agendas_lieu"))
    assert any(sql.startswith("DELETE") for sql in captured.touching(DEFAULT_DB_ALIAS, "agendas_plageouverture_motifs"))
    assert Lieu.objects.get(pk=online.lieu.pk).name == "MDS Centre-ville"


@on_both_connections
def test_another_thread_reads_the_test_database_through_the_replica():
    """A live server's thread builds its own "replica" connection from the settings: it must reach
    the test database, not the database named in the settings."""
    online = build_online()
    replica_support.catch_up()
    seen = {}

    def read():
        try:
            with replica_reads():
                seen["names"] = sorted(
                    Lieu.objects.filter(organisation=online.organisation).values_list("name", flat=True)
                )
                seen["alias"] = Lieu.objects.filter(pk=online.lieu.pk).first()._state.db
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == {"names": ["MDS Centre", "MDS Gare"], "alias": REPLICA}


# Pages and API ---------------------------------------------------------------------------------


def _hold_data(online, start):
    return {
        "motif": online.motif.pk,
        "lieu": online.lieu.pk,
        "debut": start.isoformat(),
        "affiche": NOW.isoformat(),
        "mode": "usager",
    }


@on_both_connections
def test_a_visitor_without_a_session_costs_the_primary_one_write_on_the_week_page():
    online = build_online()
    replica_support.catch_up()
    client = Client()
    url = week_url(online.motif.pk, online.lieu.pk, at(TUESDAY, 10), online.territory.zone)
    client.get(url)
    with Captured() as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert "sessionid" not in client.cookies
    primary = captured.sql(DEFAULT_DB_ALIAS)
    assert len(primary) == 1 and "core_ratecounter" in primary[0]  # the page counter, nothing else


@on_both_connections
def test_the_public_week_page_reads_slots_from_the_replica_and_the_session_from_the_primary():
    online = build_online()
    replica_support.catch_up()
    client = Client()
    client.session  # noqa: B018 - a visitor with a session (a former hold): browsing alone opens none
    url = week_url(online.motif.pk, online.lieu.pk, at(TUESDAY, 10), online.territory.zone)
    client.get(url)
    slotcache.clear()  # cold: the slot engine runs (a warm read only reads the versions, below)
    with Captured() as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert at(TUESDAY, 10).isoformat() in response.content.decode()
    for table in ("agendas_plageouverture", "motifs_motif", "bookings_rdvagent"):
        assert captured.touching(REPLICA, table), table
        assert not captured.touching(DEFAULT_DB_ALIAS, table), table
    for table in ("django_session", "core_ratecounter"):
        assert not captured.touching(REPLICA, table), table
        assert captured.touching(DEFAULT_DB_ALIAS, table), table
    assert len(captured.sql(DEFAULT_DB_ALIAS)) == 2  # all the primary does for a week page: those two
    # Holds are read with the RDVs, in the engine's one query of busy times: a moment behind too.
    (busy,) = [sql for sql in captured.touching(REPLICA, "bookings_slothold") if '"bookings_rdvagent"' in sql]
    assert "UNION" in busy
    # The slot cache's versions and the holds' expiries come from the same connection as the slots.
    assert captured.touching(REPLICA, "online_slotcacheversion")
    assert not captured.touching(DEFAULT_DB_ALIAS, "online_slotcacheversion")
    with Captured() as warm:
        client.get(url)
    assert warm.touching(REPLICA, "online_slotcacheversion") and not warm.touching(REPLICA, "bookings_rdvagent")
    assert len(warm.sql(DEFAULT_DB_ALIAS)) == 2


@on_both_connections
def test_the_booking_from_the_hold_to_the_confirmation_page_reads_only_the_primary():
    online = build_online()
    replica_support.catch_up()
    client = Client()
    client.get(week_url(online.motif.pk, online.lieu.pk, at(TUESDAY, 10), online.territory.zone))
    with Captured() as captured:
        response = client.post("/prendre-rdv/reserver/", _hold_data(online, at(TUESDAY, 10)))
        assert response.status_code == 302 and "/coordonnees/" in response.url
        response = client.post(response.url, PERSON)
        assert response.status_code == 302 and "/code/" in response.url
        response = client.post(response.url, {"code": last_code(PERSON["email"])})
        assert response.status_code == 302 and "/confirmation/" in response.url
        page = client.get(response.url)
        ics = client.get(response.url.replace("confirmation/", "rendez-vous.ics"))
    assert page.status_code == 200 and "Votre rendez-vous est confirmé" in page.content.decode()
    assert ics.status_code == 200
    assert captured.sql(REPLICA) == []
    assert OnlineBooking.objects.get().rdv is not None


@on_both_connections
def test_the_api_slots_read_the_replica_and_the_rdv_list_and_the_token_the_primary():
    online = build_online()
    replica_support.catch_up()
    api = ApiClient(token_for(online.agent))
    replica_support.catch_up()
    base = f"/api/v1/organisations/{online.organisation.pk}"
    day = (NOW + timedelta(days=1)).date().isoformat()
    with Captured() as captured:
        response = api.get(f"{base}/motifs/{online.motif.pk}/slots", {"start_date": day, "end_date": day})
    assert response.status_code == 200, response.content
    assert response.json()["slots"]
    assert captured.touching(REPLICA, "agendas_plageouverture")
    assert not captured.touching(REPLICA, "accounts_apitoken")
    assert not captured.touching(REPLICA, "accounts_agentrole")
    assert captured.touching(DEFAULT_DB_ALIAS, "accounts_apitoken")
    with Captured() as captured:
        assert api.get(f"{base}/motifs/{online.motif.pk}/next_availability").status_code == 200
    assert captured.touching(REPLICA, "agendas_plageouverture")
    with Captured() as captured:
        assert api.get(f"{base}/rdvs").status_code == 200
        assert api.post(f"{base}/motifs/{online.motif.pk}/slots").status_code == 405
    assert captured.sql(REPLICA) == []


@on_both_connections
def test_a_replica_that_does_not_answer_is_left_alone_and_the_pages_read_the_primary(monkeypatch, caplog):
    online = build_online()
    replica_support.catch_up()
    attempts = []

    def refuse():
        attempts.append(1)
        raise OperationalError("connection refused")

    client = Client()
    url = week_url(online.motif.pk, online.lieu.pk, at(TUESDAY, 10), online.territory.zone)
    with Captured() as captured:
        monkeypatch.setattr(connections[REPLICA], "ensure_connection", refuse)
        monkeypatch.setattr(db, "_replica_down_until", 0.0)
        first, second = client.get(url), client.get(url)
        monkeypatch.undo()
    assert first.status_code == second.status_code == 200 and shown_ten(first) and shown_ten(second)
    assert captured.sql(REPLICA) == []
    assert captured.touching(DEFAULT_DB_ALIAS, "agendas_plageouverture")
    assert attempts == [1]  # not tried again for REPLICA_RETRY_SECONDS
    assert "read replica unavailable, reading from the primary" in caplog.text
    with Captured() as captured:
        assert client.get(url).status_code == 200
    assert captured.touching(REPLICA, "agendas_plageouverture")  # back once it answers


def shown_ten(response) -> bool:
    return at(TUESDAY, 10).isoformat() in response.content.decode()
