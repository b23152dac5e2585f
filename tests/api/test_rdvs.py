"""The RDV resource of the API: every operation goes through rdv.bookings.services with the token
agent's rights, and answers in the established platform's shape.

The world is the booking tests' (tests/bookings/conftest.py): alice's espace at a frozen Tuesday
9 March 2027, 08:00 in Paris; the agent and the admin of the Service social have plages 09:00–12:00
every weekday at « MDS Centre ». The races run with real threads on SQLite and on PostgreSQL
(DATABASE_URL=postgres://…).
"""

import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rdv.accounts.models import AccessLevel
from rdv.bookings import services
from rdv.bookings.models import Participation, Rdv, RdvStatus
from rdv.core.context import Context
from rdv.core.models import AuditLog
from rdv.outbox.models import Channel, Delivery, Purpose
from rdv.webhooks import services as webhook_services
from rdv.webhooks.models import WebhookEvent
from tests import factories
from tests.api.conftest import ApiClient, token_for
from tests.bookings.conftest import NOW, TODAY, at, build_setup, next_weekday
from tests.bookings.test_services import state
from tests.helpers import as_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def setup(alice):
    return build_setup(alice)


def rdvs_url(organisation, *rest) -> str:
    return "/".join([f"/api/v1/organisations/{organisation.pk}/rdvs", *map(str, rest)])


def booking(setup, start=None, **extra) -> dict:
    body = {
        "motif_id": setup.motif.pk,
        "starts_at": (start or at(TODAY, 10)).isoformat(),
        "agent_ids": [setup.agent.pk],
        "usager_ids": [setup.usager.pk],
        "lieu_id": setup.lieu.pk,
    }
    body.update(extra)
    return body


def refused_without_change(response_of, status: int, code: str, field: str | None = None):
    """Run the call; it must answer `status` with `code` (and `field` among the errors) and change
    nothing in the database."""
    before = state()
    response = response_of()
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"] and body["message"][0].isupper()
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    assert state() == before
    return body


# Reading ---------------------------------------------------------------------------------------


def test_the_list_gives_the_established_platform_s_record_by_start(setup, api):
    later = setup.book(at(TODAY, 11), usagers=[setup.usager2], context="Dossier en cours")
    first = setup.book(at(TODAY, 10))

    response = api(setup.admin).get(rdvs_url(setup.organisation))

    assert response.status_code == 200
    data = response.json()
    assert [r["id"] for r in data["rdvs"]] == [first.pk, later.pk]
    assert data["meta"] == {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": 2}
    record = data["rdvs"][1]
    assert record["status"] == "unknown"
    assert record["starts_at"] == "2027-03-09T11:00:00+01:00"  # in the espace's time
    assert record["ends_at"] == "2027-03-09T11:30:00+01:00"
    assert record["duration_in_min"] == 30
    assert record["context"] == "Dossier en cours"
    assert record["address"] == "1 place de la Mairie"  # the lieu's, for a motif on site
    assert record["users_count"] == 1
    assert [u["last_name"] for u in record["users"]] == ["Benali"]
    assert record["participations"][0]["user"]["id"] == setup.usager2.pk
    assert [a["id"] for a in record["agents"]] == [setup.agent.pk]
    assert record["motif"]["id"] == setup.motif.pk and record["motif"]["name"] == "Premier accueil"
    assert record["lieu"]["id"] == setup.lieu.pk
    assert record["organisation"]["id"] == setup.organisation.pk
    assert record["created_by"] == "agent" and record["created_by_id"] == setup.agent.pk
    assert record["cancelled_at"] is None and record["cancel_reason"] is None and record["visio_url"] == ""


def test_one_rdv_is_read_through_the_agent_s_scope(setup, bob, api):
    rdv = setup.book(at(TODAY, 10))
    response = api(setup.agent).get(rdvs_url(setup.organisation, rdv.pk))
    assert response.status_code == 200
    assert response.json()["rdv"]["id"] == rdv.pk
    bob_rdv_id = rdv.pk  # the same id under bob's organisation: not there
    for client, organisation, rdv_id in (
        (api(setup.other_agent), setup.organisation, rdv.pk),  # another service's RDV
        (api(setup.outsider), setup.organisation, rdv.pk),  # another organisation of the espace
        (api(bob.territory_admin), setup.organisation, rdv.pk),  # another espace
        (api(bob.territory_admin), bob.organisation, bob_rdv_id),
        (api(setup.admin), setup.organisation, 999_999),
        (api(setup.admin), setup.organisation, 2**63),
        (api(setup.admin), setup.organisation, 2**70),
    ):
        answer = client.get(rdvs_url(organisation, rdv_id))
        assert answer.status_code == 404, (organisation, rdv_id)
        assert answer.json()["code"] == "not_found"
        assert "Dupont" not in answer.content.decode()


def test_the_list_shows_what_the_policies_let_each_agent_see(setup, bob, api):
    social = setup.book(at(TODAY, 10))
    pmi = setup.book(at(TODAY, 11), motif=setup.other_motif, usagers=[setup.usager2], actor=setup.admin)
    pmi_of_admin = setup.book(
        at(TODAY, 9),
        motif=setup.other_motif,
        agents=[setup.admin],
        usagers=[setup.usager3],
        override=True,
        actor=setup.admin,
    )

    def seen(agent):
        response = api(agent).get(rdvs_url(setup.organisation))
        return response.status_code, {r["id"] for r in response.json().get("rdvs", [])}

    everything = {social.pk, pmi.pk, pmi_of_admin.pk}
    assert seen(setup.admin) == (200, everything)
    assert seen(setup.secretariat) == (200, everything)
    assert seen(setup.agent) == (200, {social.pk, pmi.pk})  # their service, and the RDVs they take part in
    assert seen(setup.other_agent) == (200, {pmi.pk, pmi_of_admin.pk})
    assert seen(setup.outsider)[0] == 404
    assert seen(bob.territory_admin)[0] == 404


def test_an_instant_with_an_offset_beyond_postgresql_s_is_read_in_utc_when_booking(setup, api):
    """ISO 8601 allows ±23:59, PostgreSQL ±15:59: 10:00 in Paris written at -17:41 books 10:00."""
    response = api(setup.agent).post(
        rdvs_url(setup.organisation), booking(setup, starts_at="2027-03-08T15:19:00-17:41")
    )
    assert response.status_code == 201, response.content
    assert Rdv.objects.get(pk=response.json()["rdv"]["id"]).starts_at == at(TODAY, 10)


def test_the_list_filters(setup, api):
    ten = setup.book(at(TODAY, 10))
    eleven = setup.book(at(TODAY, 11), agents=[setup.admin], usagers=[setup.usager2], actor=setup.admin)
    phone = setup.book(at(TODAY, 9), motif=setup.phone_motif, usagers=[setup.usager3])
    tomorrow = setup.book(at(next_weekday(TODAY), 10), usagers=[setup.usager2])
    cancelled = setup.book(at(TODAY, 9, 30), usagers=[setup.usager3])
    services.cancel_rdv(as_agent(setup.admin, setup.organisation), cancelled)
    client = api(setup.admin)

    def ids(**query):
        response = client.get(rdvs_url(setup.organisation), query)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["rdvs"]]

    assert ids(starts_after="2027-03-09T10:00:00+01:00") == [ten.pk, eleven.pk, tomorrow.pk]  # inclusive
    assert ids(starts_before="2027-03-09T10:00:00+01:00") == [phone.pk, cancelled.pk]  # exclusive
    assert ids(starts_after="2027-03-09T10:00:00Z") == [eleven.pk, tomorrow.pk]  # 10:00 UTC is 11:00 in Paris
    # Offsets beyond PostgreSQL's ±15:59 (ISO 8601 allows ±23:59): the same instant, read in UTC.
    assert ids(starts_after="2027-03-08T15:19:00-17:41") == [ten.pk, eleven.pk, tomorrow.pk]  # 10:00 in Paris
    assert ids(starts_after="1370-01-14T22:09:45-17:41") == [phone.pk, cancelled.pk, ten.pk, eleven.pk, tomorrow.pk]
    assert ids(starts_after="2027-03-10") == [tomorrow.pk]  # a date: its midnight in the espace
    assert ids(starts_before="2027-03-10") == [phone.pk, cancelled.pk, ten.pk, eleven.pk]
    assert ids(starts_after="2027-03-09", starts_before="2027-03-09T10:30:00+01:00") == [
        phone.pk,
        cancelled.pk,
        ten.pk,
    ]
    assert ids(agent_id=setup.admin.pk) == [eleven.pk]
    assert ids(usager_id=setup.usager2.pk) == [eleven.pk, tomorrow.pk]
    assert ids(user_id=setup.usager2.pk) == [eleven.pk, tomorrow.pk]  # the established platform's name
    assert ids(status="revoked") == [cancelled.pk]
    assert ids(status="unknown", motif_id=setup.phone_motif.pk) == [phone.pk]
    assert ids(lieu_id=setup.lieu.pk) == [cancelled.pk, ten.pk, eleven.pk, tomorrow.pk]
    assert ids(agent_id=999_999) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ({"starts_after": "2027-03-09T10:00:00"}, "starts_after"),  # no offset
        ({"starts_before": "demain"}, "starts_before"),
        ({"starts_after": "2027-02-30"}, "starts_after"),
        ({"status": "cancelled"}, "status"),
        ({"agent_id": "abc"}, "agent_id"),
        ({"agent_id": 2**64}, "agent_id"),
        ({"motif_id": 0}, "motif_id"),
        ({"usager_id": 1, "user_id": 2}, "user_id"),
    ],
)
def test_bad_filters_are_422_with_the_field_in_french(setup, api, query, field):
    response = api(setup.admin).get(rdvs_url(setup.organisation), query)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["message"][0].isupper()


def test_a_naive_filter_is_told_to_give_the_offset(setup, api):
    response = api(setup.admin).get(rdvs_url(setup.organisation), {"starts_after": "2027-03-09T10:00:00"})
    assert response.json()["errors"] == [
        {"field": "starts_after", "message": "Indiquez le fuseau horaire (2027-03-09T10:00:00+01:00)."}
    ]


def test_the_list_loads_a_page_in_a_constant_number_of_queries(setup, api):
    client = api(setup.admin)
    url = rdvs_url(setup.organisation)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), response.json()["meta"]["total_count"]

    setup.book(at(TODAY, 10))
    queries()  # the token's first use of the minute is recorded once
    few = queries()
    usagers = [setup.usager2, setup.usager3] + [
        factories.UsagerFactory(territory=setup.world.territory, organisations=[setup.organisation]) for _ in range(6)
    ]
    responsible = factories.UsagerFactory(territory=setup.world.territory, organisations=[setup.organisation])
    usagers[0].responsible = responsible
    usagers[0].save()
    day = TODAY
    for index, usager in enumerate(usagers):
        if index % 2 == 0:
            day = next_weekday(day)
        agents = [setup.agent, setup.admin] if index % 3 == 0 else [setup.admin]
        setup.book(at(day, 9 + index % 2), agents=agents, usagers=[usager], actor=setup.admin)
    setup.book(at(TODAY, 11), motif=setup.collective_motif, usagers=usagers[:3], actor=setup.admin)
    many = queries()

    assert few[1] == 1 and many[1] == 10
    assert many[0] == few[0], (few, many)
    assert many[0] <= 8  # token, rate counter, role, count, RDVs, participations, agents, journal


def test_the_context_is_null_while_the_espace_hides_it(setup, api):
    rdv = setup.book(at(TODAY, 10), context="Note interne")
    territory = setup.world.territory
    territory.rdv_context_enabled = False
    territory.save()
    record = api(setup.admin).get(rdvs_url(setup.organisation, rdv.pk)).json()["rdv"]
    assert record["context"] is None
    assert "Note interne" not in str(record)


# Booking ---------------------------------------------------------------------------------------


def test_a_basic_agent_books_through_the_service_201_with_the_journal(setup, api):
    response = api(setup.agent).post(rdvs_url(setup.organisation), booking(setup, context="Première venue"))

    assert response.status_code == 201, response.content
    record = response.json()["rdv"]
    rdv = Rdv.objects.get()
    assert record["id"] == rdv.pk
    assert record["starts_at"] == "2027-03-09T10:00:00+01:00" and record["duration_in_min"] == 30
    assert record["context"] == "Première venue"
    assert [u["id"] for u in record["users"]] == [setup.usager.pk]
    assert rdv.created_by_agent == setup.agent
    entry = AuditLog.objects.get(action="rdv.created")
    assert entry.actor == setup.agent and entry.object_id == str(rdv.pk)


def test_user_ids_is_accepted_for_usager_ids_and_the_duration_and_start_offset_are_kept(setup, api):
    body = booking(setup, start=at(TODAY, 10).astimezone(tz=None), duration_in_min=45)
    body["user_ids"] = body.pop("usager_ids")
    body["starts_at"] = "2027-03-09T09:00:00Z"  # 10:00 in Paris
    response = api(setup.agent).post(rdvs_url(setup.organisation), body)
    assert response.status_code == 201, response.content
    record = response.json()["rdv"]
    assert record["starts_at"] == "2027-03-09T10:00:00+01:00"
    assert record["ends_at"] == "2027-03-09T10:45:00+01:00"
    assert [u["id"] for u in record["users"]] == [setup.usager.pk]


def test_a_taken_slot_is_409_and_an_agent_may_override_it(setup, api):
    setup.book(at(TODAY, 10))
    client = api(setup.agent)
    body = refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation), booking(setup, usager_ids=[setup.usager2.pk])),
        409,
        "slot_taken",
        "starts_at",
    )
    assert "plus disponible" in body["message"]

    forced = client.post(rdvs_url(setup.organisation), booking(setup, usager_ids=[setup.usager2.pk], override=True))

    assert forced.status_code == 201, forced.content
    assert Rdv.objects.count() == 2
    assert "override" in AuditLog.objects.filter(action="rdv.created").latest("pk").changes


def test_outside_the_plages_is_422_unless_overridden(setup, api):
    client = api(setup.agent)
    refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation), booking(setup, start=at(TODAY, 14))),
        422,
        "outside_availability",
        "starts_at",
    )
    forced = client.post(rdvs_url(setup.organisation), booking(setup, start=at(TODAY, 14), override=True))
    assert forced.status_code == 201


def test_a_basic_agent_may_not_book_another_service_s_motif_403(setup, api):
    """The motif is in the organisation (the agent reads it), but not among the motifs they may
    book: the booking service refuses (« forbidden »), which is the API's 403."""
    client = api(setup.agent)
    body = refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation), booking(setup, motif_id=setup.other_motif.pk)),
        403,
        "forbidden",
    )
    assert "réserver ce motif" in body["message"]
    # The secretariat books every service's motifs; the PMI agent books theirs.
    for agent, hour in ((setup.secretariat, 10), (setup.other_agent, 11)):
        response = api(agent).post(
            rdvs_url(setup.organisation), booking(setup, motif_id=setup.other_motif.pk, start=at(TODAY, hour))
        )
        assert response.status_code == 201, response.content
    assert Rdv.objects.filter(motif=setup.other_motif).count() == 2


def test_ids_out_of_the_agent_s_reach_are_404(setup, bob, api):
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service)
    bob_usager = factories.UsagerFactory(territory=bob.territory, organisations=[bob.organisation])
    bob_lieu = factories.LieuFactory(organisation=bob.organisation)
    other_org_motif = factories.MotifFactory(organisation=setup.world.other_organisation, service=setup.world.service)
    client = api(setup.agent)
    cases = [
        {"motif_id": bob_motif.pk},
        {"motif_id": other_org_motif.pk},
        {"motif_id": 999_999},
        {"agent_ids": [setup.outsider.pk]},  # an agent of another organisation of the espace
        {"agent_ids": [bob.agent.pk]},
        {"agent_ids": [setup.agent.pk, 999_999]},
        {"usager_ids": [bob_usager.pk]},
        {"lieu_id": 999_999},
        {"lieu_id": bob_lieu.pk},
    ]
    for extra in cases:
        refused_without_change(
            lambda extra=extra: client.post(rdvs_url(setup.organisation), booking(setup, **extra)), 404, "not_found"
        )
    for outsider in (api(bob.territory_admin), api(setup.outsider)):
        refused_without_change(
            lambda outsider=outsider: outsider.post(rdvs_url(setup.organisation), booking(setup)), 404, "not_found"
        )


@pytest.mark.parametrize(
    "change, code, field",
    [
        ({"starts_at": "2027-03-09T10:00:00"}, "invalid", "starts_at"),  # no offset
        ({"starts_at": "mardi 10 h"}, "invalid", "starts_at"),
        ({"motif_id": None}, "invalid", "motif_id"),
        ({"motif_id": "premier accueil"}, "invalid", "motif_id"),
        ({"motif_id": 2**63}, "invalid", "motif_id"),  # ids are 1 to 2^63 - 1
        ({"motif_id": -1}, "invalid", "motif_id"),
        ({"agent_ids": [2**70]}, "invalid", "agent_ids.0"),
        ({"usager_ids": [2**64]}, "invalid", "usager_ids.0"),
        ({"lieu_id": 0}, "invalid", "lieu_id"),
        ({"agent_ids": "1"}, "invalid", "agent_ids"),
        ({"agent_ids": []}, "agents_required", "agents"),
        ({"usager_ids": []}, "one_usager", "usagers"),
        ({"duration_in_min": 2000}, "duration_invalid", "duration"),
        ({"duration_in_min": 10**30}, "duration_invalid", "duration"),
        ({"context": "x" * 5001}, "context_too_long", "context"),
        ({"address": "2 rue des Lilas"}, "address_unexpected", "address"),
        ({"visio_url": "pas une adresse"}, "visio_url_invalid", "visio_url"),
        ({"lieu_id": None}, "lieu_required", "lieu"),
        ({"override": "peut-être"}, "invalid", "override"),
        ({"duree": 30}, "invalid", "duree"),  # an unknown field is refused, not ignored
    ],
)
def test_bad_bookings_are_422_and_change_nothing(setup, api, change, code, field):
    body = booking(setup)
    body.update(change)
    body = {name: value for name, value in body.items() if not (name == "motif_id" and value is None)}
    client = api(setup.agent)
    refused_without_change(lambda: client.post(rdvs_url(setup.organisation), body), 422, code, field)


def test_missing_fields_are_listed(setup, api):
    client = api(setup.agent)
    body = refused_without_change(lambda: client.post(rdvs_url(setup.organisation), {}), 422, "invalid")
    assert {error["field"] for error in body["errors"]} == {"motif_id", "starts_at", "agent_ids"}
    assert {error["message"] for error in body["errors"]} == {"Ce champ est obligatoire."}


def test_a_body_that_is_not_json_is_a_clear_4xx(setup, api):
    response = api(setup.agent).post(rdvs_url(setup.organisation), "{pas du json")
    assert 400 <= response.status_code < 500
    assert response.json()["code"] in ("bad_request", "invalid")


def test_an_archived_motif_cannot_be_booked(setup, api):
    setup.motif.archived_at = timezone.now()
    setup.motif.save()
    client = api(setup.admin)
    refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation), booking(setup)), 422, "motif_archived", "motif"
    )


def test_the_context_is_refused_while_the_espace_hides_it(setup, api):
    territory = setup.world.territory
    territory.rdv_context_enabled = False
    territory.save()
    client = api(setup.agent)
    refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation), booking(setup, context="Note")),
        422,
        "context_disabled",
        "context",
    )
    assert client.post(rdvs_url(setup.organisation), booking(setup)).status_code == 201


def test_without_a_token_401(setup, api):
    refused_without_change(lambda: api(None).post(rdvs_url(setup.organisation), booking(setup)), 401, "unauthenticated")
    assert api(None).get(rdvs_url(setup.organisation)).status_code == 401


@override_settings(API_RATE_LIMIT=2)
def test_beyond_the_rate_limit_429_and_nothing_booked(setup, api):
    client = api(setup.agent)
    assert client.get(rdvs_url(setup.organisation)).status_code == 200
    assert client.get(rdvs_url(setup.organisation)).status_code == 200
    body = refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation), booking(setup)), 429, "rate_limited"
    )
    assert body["code"] == "rate_limited"


def test_an_api_booking_writes_the_webhook_event_and_the_usager_s_email(setup, api):
    system = Context.system(setup.world.territory, setup.organisation)
    webhook_services.create_endpoint(
        system, organisation=setup.organisation, target_url="https://si.exemple.fr/hooks", secret="s" * 32
    )

    response = api(setup.agent).post(rdvs_url(setup.organisation), booking(setup))

    assert response.status_code == 201
    rdv_id = response.json()["rdv"]["id"]
    events = list(WebhookEvent.objects.values_list("model", "event", "record_id"))
    assert events == [("Rdv", "created", rdv_id)]
    emails = Delivery.objects.filter(purpose=Purpose.RDV_NOTIFICATION, channel=Channel.EMAIL)
    assert list(emails.values_list("recipient", flat=True)) == [setup.usager.email]


# Changing --------------------------------------------------------------------------------------


def test_patch_changes_the_free_text_fields_through_update_rdv(setup, api):
    rdv = setup.book(at(TODAY, 10), context="Avant")
    client = api(setup.agent)

    response = client.patch(rdvs_url(setup.organisation, rdv.pk), {"context": "Après"})

    assert response.status_code == 200, response.content
    assert response.json()["rdv"]["context"] == "Après"
    rdv.refresh_from_db()
    assert rdv.context == "Après"
    assert AuditLog.objects.get(action="rdv.updated").changes == {"context": "modifié"}
    unchanged = client.patch(rdvs_url(setup.organisation, rdv.pk), {})
    assert unchanged.status_code == 200 and AuditLog.objects.filter(action="rdv.updated").count() == 1
    for change, code in (
        ({"address": "2 rue des Lilas"}, "address_unexpected"),
        ({"context": "x" * 5001}, "context_too_long"),
        ({"context": 12}, "invalid"),
        ({"starts_at": "2027-03-09T11:00:00+01:00"}, "invalid"),  # moves go through /move
    ):
        refused_without_change(
            lambda change=change: client.patch(rdvs_url(setup.organisation, rdv.pk), change), 422, code
        )
    other_service = api(setup.other_agent)
    refused_without_change(
        lambda: other_service.patch(rdvs_url(setup.organisation, rdv.pk), {"context": "x"}), 404, "not_found"
    )


def test_move_through_move_rdv_keeps_the_duration(setup, api):
    rdv = setup.book(at(TODAY, 10))
    client = api(setup.agent)

    response = client.post(rdvs_url(setup.organisation, rdv.pk, "move"), {"starts_at": "2027-03-09T11:00:00+01:00"})

    assert response.status_code == 200, response.content
    record = response.json()["rdv"]
    assert (record["starts_at"], record["duration_in_min"]) == ("2027-03-09T11:00:00+01:00", 30)
    assert AuditLog.objects.filter(action="rdv.moved").count() == 1

    to_admin = client.post(
        rdvs_url(setup.organisation, rdv.pk, "move"),
        {"starts_at": "2027-03-09T11:00:00+01:00", "agent_ids": [setup.admin.pk], "lieu_id": setup.lieu.pk},
    )
    assert to_admin.status_code == 200, to_admin.content
    assert [a["id"] for a in to_admin.json()["rdv"]["agents"]] == [setup.admin.pk]


def test_bad_moves(setup, api):
    rdv = setup.book(at(TODAY, 10))
    setup.book(at(TODAY, 11), usagers=[setup.usager2])
    client = api(setup.agent)
    url = rdvs_url(setup.organisation, rdv.pk, "move")
    refused_without_change(lambda: client.post(url, {"starts_at": "2027-03-09T11:00:00+01:00"}), 409, "slot_taken")
    refused_without_change(lambda: client.post(url, {"starts_at": "2027-03-09T11:00:00"}), 422, "invalid", "starts_at")
    refused_without_change(
        lambda: client.post(url, {"starts_at": "2027-03-09T11:30:00+01:00", "duration_in_min": 60}),
        422,
        "invalid",
        "duration_in_min",
    )
    refused_without_change(
        lambda: client.post(url, {"starts_at": "2027-03-09T14:00:00+01:00"}), 422, "outside_availability"
    )
    refused_without_change(
        lambda: client.post(url, {"starts_at": "2027-03-09T11:30:00+01:00", "agent_ids": [setup.outsider.pk]}),
        404,
        "not_found",
    )
    refused_without_change(
        lambda: client.post(url, {"starts_at": "2027-03-09T11:30:00+01:00", "agent_ids": []}),
        422,
        "agents_required",
    )
    forced = client.post(url, {"starts_at": "2027-03-09T11:00:00+01:00", "override": True})
    assert forced.status_code == 200
    client.post(rdvs_url(setup.organisation, rdv.pk, "cancel"), {})
    refused_without_change(lambda: client.post(url, {"starts_at": "2027-03-09T09:00:00+01:00"}), 409, "rdv_cancelled")


def test_an_agent_cancels_for_the_service_or_records_the_usager_s_cancellation(setup, api):
    first = setup.book(at(TODAY, 10))
    second = setup.book(at(TODAY, 11), usagers=[setup.usager2])
    client = api(setup.agent)

    revoked = client.post(rdvs_url(setup.organisation, first.pk, "cancel"), {"reason": "Agent malade"})
    excused = client.post(rdvs_url(setup.organisation, second.pk, "cancel"), {"by_usager": True})

    assert revoked.status_code == 200 and excused.status_code == 200
    assert revoked.json()["rdv"]["status"] == "revoked"
    assert revoked.json()["rdv"]["cancel_reason"] == "Agent malade"
    assert revoked.json()["rdv"]["cancelled_at"] == "2027-03-09T08:00:00+01:00"
    assert excused.json()["rdv"]["status"] == "excused"
    assert AuditLog.objects.filter(action="rdv.cancelled").count() == 2
    # The slot is free again: booking it works.
    assert client.post(rdvs_url(setup.organisation), booking(setup, usager_ids=[setup.usager3.pk])).status_code == 201
    # Cancelling again leaves it as it is (as the pages do).
    again = client.post(rdvs_url(setup.organisation, first.pk, "cancel"), {"by_usager": True})
    assert again.status_code == 200 and again.json()["rdv"]["status"] == "revoked"
    assert AuditLog.objects.filter(action__startswith="rdv.", object_id=str(first.pk)).count() == 2
    refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation, second.pk, "cancel"), {"reason": "x" * 301}),
        422,
        "invalid",
        "reason",
    )


def test_status_through_set_status(setup, api):
    rdv = setup.book(at(TODAY, 10))
    client = api(setup.agent)
    url = rdvs_url(setup.organisation, rdv.pk, "status")

    refused_without_change(lambda: client.post(url, {"status": "seen"}), 422, "status_future", "status")
    refused_without_change(lambda: client.post(url, {"status": "absent"}), 422, "invalid", "status")
    refused_without_change(lambda: client.post(url, {}), 422, "invalid", "status")

    excused = client.post(url, {"status": "excused", "reason": "Rendez-vous pris ailleurs"})
    assert excused.status_code == 200
    assert excused.json()["rdv"]["status"] == "excused"
    assert excused.json()["rdv"]["cancel_reason"] == "Rendez-vous pris ailleurs"
    setup.book(at(TODAY, 10), usagers=[setup.usager2])  # the freed slot is taken again
    refused_without_change(lambda: client.post(url, {"status": "unknown"}), 409, "slot_taken")

    with time_machine.travel(at(TODAY, 11), tick=False):  # the RDV has taken place
        taken = Rdv.objects.get(starts_at=at(TODAY, 10), status=RdvStatus.UNKNOWN)
        seen = client.post(rdvs_url(setup.organisation, taken.pk, "status"), {"status": "seen"})
    assert seen.status_code == 200 and seen.json()["rdv"]["status"] == "seen"


def test_participants_of_a_collective_rdv(setup, bob, api):
    rdv = setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager])
    client = api(setup.agent)
    url = rdvs_url(setup.organisation, rdv.pk, "participants")

    added = client.post(url, {"usager_id": setup.usager2.pk})
    by_alias = client.post(url, {"user_id": setup.usager3.pk})

    assert added.status_code == 201 and by_alias.status_code == 201, (added.content, by_alias.content)
    assert by_alias.json()["rdv"]["users_count"] == 3
    assert AuditLog.objects.filter(action="rdv.participant_added").count() == 2
    fourth = factories.UsagerFactory(territory=setup.world.territory, organisations=[setup.organisation])
    refused_without_change(lambda: client.post(url, {"usager_id": fourth.pk}), 409, "full", "usager")
    refused_without_change(lambda: client.post(url, {"usager_id": setup.usager2.pk}), 422, "already_participant")
    bob_usager = factories.UsagerFactory(territory=bob.territory, organisations=[bob.organisation])
    refused_without_change(lambda: client.post(url, {"usager_id": bob_usager.pk}), 404, "not_found")
    refused_without_change(lambda: client.post(url, {"usager_id": 2**64}), 422, "invalid", "usager_id")
    refused_without_change(lambda: client.post(url, {"usager_id": "Dupont"}), 422, "invalid", "usager_id")

    removed = client.delete(rdvs_url(setup.organisation, rdv.pk, "participants", setup.usager2.pk))

    assert removed.status_code == 204
    assert not Participation.objects.filter(rdv=rdv, usager=setup.usager2).exists()
    assert AuditLog.objects.filter(action="rdv.participant_removed").count() == 1
    for usager_id in (setup.usager2.pk, fourth.pk, bob_usager.pk, 2**70):  # not (or no longer) a participant
        refused_without_change(
            lambda usager_id=usager_id: client.delete(rdvs_url(setup.organisation, rdv.pk, "participants", usager_id)),
            404,
            "not_found",
        )


def test_an_individual_rdv_keeps_its_one_usager(setup, api):
    rdv = setup.book(at(TODAY, 10))
    client = api(setup.agent)
    refused_without_change(
        lambda: client.post(rdvs_url(setup.organisation, rdv.pk, "participants"), {"usager_id": setup.usager2.pk}),
        422,
        "not_collective",
    )
    refused_without_change(
        lambda: client.delete(rdvs_url(setup.organisation, rdv.pk, "participants", setup.usager.pk)),
        422,
        "last_participant",
    )


# Rights: the pages' permission table through HTTP ------------------------------------------------

OPERATIONS = [
    ("get", "", None),
    ("patch", "", {"context": "Nouveau contexte"}),
    ("post", "move", {"starts_at": "2027-03-09T11:00:00+01:00"}),
    ("post", "status", {"status": "noshow"}),
    ("post", "cancel", {"reason": "Test"}),
    ("post", "participants", "usager3"),
    ("delete", "participants", "usager2"),
]
VISITORS = ["admin", "agent", "secretariat", "other_service", "other_organisation", "other_espace", "intervenant"]


def visitor(setup, bob, kind):
    if kind == "other_espace":
        return bob.territory_admin
    if kind == "intervenant":
        intervenant = factories.AgentFactory(email="intervenant@exemple.fr")
        factories.AgentRoleFactory(
            agent=intervenant, organisation=setup.organisation, access_level=AccessLevel.INTERVENANT
        )
        factories.AgentServiceFactory(agent=intervenant, territory=setup.world.territory, service=setup.world.service)
        return intervenant
    return {
        "admin": setup.admin,
        "agent": setup.agent,
        "secretariat": setup.secretariat,
        "other_service": setup.other_agent,
        "other_organisation": setup.outsider,
    }[kind]


@pytest.mark.parametrize("kind", VISITORS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
def test_rights_matrix(setup, bob, api, operation, kind):
    """Whoever sees the RDV may change it; anyone else gets 404 and changes nothing. (The status
    « noshow » of a RDV still to come is refused by the service for everyone who sees it: 422.)"""
    rdv = setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager, setup.usager2])
    method, action, data = operation
    client = api(visitor(setup, bob, kind))
    url = rdvs_url(setup.organisation, rdv.pk, *([action] if action else []))
    if method == "delete":
        url = rdvs_url(setup.organisation, rdv.pk, action, getattr(setup, data).pk)
    elif data == "usager3":
        data = {"usager_id": setup.usager3.pk}
    before = state()

    response = getattr(client, method)(url) if method in ("get", "delete") else getattr(client, method)(url, data)

    allowed = kind in ("admin", "agent", "secretariat")
    if not allowed:
        assert response.status_code == 404, response.content
        assert state() == before
        assert "Dupont" not in response.content.decode()
    elif action == "status":
        assert response.status_code == 422 and response.json()["code"] == "status_future"
    else:
        assert response.status_code in (200, 201, 204), response.content


# Idempotency and races ---------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replay_the_first_answer_without_a_second_rdv(setup, api):
    client = api(setup.agent)
    key = {"Idempotency-Key": "reservation-42"}

    first = client.post(rdvs_url(setup.organisation), booking(setup), headers=key)
    again = client.post(rdvs_url(setup.organisation), booking(setup), headers=key)

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again.json() == first.json()
    assert Rdv.objects.count() == 1 and AuditLog.objects.filter(action="rdv.created").count() == 1

    other = client.post(rdvs_url(setup.organisation), booking(setup, start=at(TODAY, 11)), headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Rdv.objects.count() == 1
    # A refusal is replayed too (the second try does not book behind the client's back).
    refused_key = {"Idempotency-Key": "reservation-43"}
    taken = client.post(
        rdvs_url(setup.organisation), booking(setup, usager_ids=[setup.usager2.pk]), headers=refused_key
    )
    assert taken.status_code == 409
    replay = client.post(
        rdvs_url(setup.organisation), booking(setup, usager_ids=[setup.usager2.pk]), headers=refused_key
    )
    assert replay.status_code == 409 and replay["Idempotent-Replayed"] == "true"


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # a crash is a failure of the guarantee
            results[index] = f"crash: {error!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _post(secret, url, body, headers=None):
    """One POST from a thread (its own client and database connection): status, code, replayed."""
    response = ApiClient(secret).post(url, body, headers=headers)
    return response.status_code, response.json().get("code"), response.get("Idempotent-Replayed")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_book_one_rdv(setup):
    """The second finds the key taken: 409 « in progress » while the first runs, or its replay."""
    secret = token_for(setup.agent)
    url, body = rdvs_url(setup.organisation), booking(setup)

    results = _in_threads(2, lambda index: _post(secret, url, body, {"Idempotency-Key": "la-meme-cle"}))

    assert Rdv.objects.count() == 1, results
    statuses = sorted(result[0] for result in results)
    assert statuses in ([201, 201], [201, 409]), results
    if statuses == [201, 201]:
        assert sorted(str(result[2]) for result in results) == ["None", "true"], results
    else:
        assert next(r for r in results if r[0] == 409)[1] == "idempotency_in_progress", results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_for_one_slot_one_201_one_409(setup):
    """No key: the database decides (PostgreSQL's exclusion constraint, SQLite's serialised writes)."""
    secret = token_for(setup.agent)
    url = rdvs_url(setup.organisation)
    bodies = [booking(setup), booking(setup, usager_ids=[setup.usager2.pk])]

    results = _in_threads(2, lambda index: _post(secret, url, bodies[index]))

    assert sorted(result[:2] for result in results) == [(201, None), (409, "slot_taken")], results
    assert Rdv.objects.count() == 1
