"""Which changes write which webhook events, to which endpoints, with which body (issue 19)."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from rdv.bookings.models import Rdv
from rdv.bookings.services import BookingRequest, book_rdv, cancel_rdv, move_rdv
from rdv.core.context import Context
from rdv.outbox.models import Channel, Delivery, Status
from rdv.usagers.models import UsagerOrganisation
from rdv.webhooks import services
from rdv.webhooks.models import WebhookEvent
from rdv.webhooks.payloads import load_rdv, rdv_data
from tests import factories
from tests.online.fixtures import NOW, TUESDAY, at, build_online

SECRET = "une-cle-secrete-de-test-assez-longue"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def system(world, organisation=None):
    return Context.system(world.territory, organisation or world.organisation)


def endpoint(world, url="https://si.exemple.fr/hooks", organisation=None, **kwargs):
    return services.create_endpoint(
        system(world),
        organisation=organisation or world.organisation,
        target_url=url,
        secret=SECRET,
        **kwargs,
    )


def usager(world, **kwargs):
    person = factories.UsagerFactory(territory=world.territory, **kwargs)
    UsagerOrganisation.objects.create(usager=person, organisation=world.organisation)
    return person


def book(world, start=None, *, usagers=None, context="Note interne"):
    request = BookingRequest(
        motif=world.motif,
        starts_at=start or at(TUESDAY, 10),
        agents=[world.agent],
        usagers=usagers if usagers is not None else [usager(world, first_name="Jeanne", last_name="Dupont")],
        lieu=world.lieu,
        context=context,
    )
    return book_rdv(system(world), request)


def bodies(endpoint_=None) -> list[dict]:
    events = WebhookEvent.objects.select_related("delivery").order_by("id")
    if endpoint_ is not None:
        events = events.filter(endpoint=endpoint_)
    return [json.loads(event.delivery.text) for event in events]


def test_booking_a_rdv_writes_one_created_event_per_subscribed_endpoint(world):
    first, second = endpoint(world), endpoint(world, url="https://autre.exemple.fr/hooks")
    endpoint(world, url="https://plages.exemple.fr/hooks", subscriptions=["plage_ouverture"])
    endpoint(world, organisation=world.other_organisation)  # another organisation of the espace
    rdv = book(world)
    events = WebhookEvent.objects.filter(model="Rdv")
    assert sorted(events.values_list("endpoint_id", flat=True)) == [first.pk, second.pk]
    for event in events:
        assert event.event == "created" and event.record_id == rdv.pk
        delivery = event.delivery
        assert delivery.channel == Channel.WEBHOOK and delivery.status == Status.PENDING
        assert delivery.ordering_key == f"webhook:{event.endpoint_id}:Rdv:{rdv.pk}"
        assert delivery.headers == {"endpoint_id": event.endpoint_id}


def test_the_body_follows_the_established_format(world):
    hook = endpoint(world)
    rdv = book(world)
    body = bodies(hook)[0]
    assert body["meta"] == {
        "model": "Rdv",
        "event": "created",
        "webhook_reason": None,
        "timestamp": "2027-03-08T08:00:00+01:00",
    }
    data = body["data"]
    assert data["id"] == rdv.pk
    assert data["status"] == "unknown"
    assert data["starts_at"] == "2027-03-09T10:00:00+01:00"
    assert data["ends_at"] == "2027-03-09T10:30:00+01:00"
    assert data["duration_in_min"] == 30
    assert data["address"] == "1 place de la Mairie 26000 Valence"
    assert data["context"] == "Note interne"
    assert data["cancelled_at"] is None
    assert data["created_by"] == "agent" and data["created_by_type"] == "Agent"
    assert data["collectif"] is False and data["users_count"] == 1
    assert data["organisation"]["id"] == world.organisation.pk
    assert data["motif"]["name"] == "Accueil en ligne" and data["motif"]["location_type"] == "public_office"
    assert data["motif"]["bookable_publicly"] is True and data["motif"]["bookable_by"] == "everyone"
    assert data["lieu"] == {
        "id": world.lieu.pk,
        "name": "MDS Centre",
        "address": "1 place de la Mairie 26000 Valence",
        "phone_number": None,
        "organisation_id": world.organisation.pk,
        "single_use": False,
    }
    assert [agent["email"] for agent in data["agents"]] == [world.agent.email]
    assert [user["last_name"] for user in data["users"]] == ["Dupont"]
    assert data["participations"][0]["status"] == "unknown"
    assert data["participations"][0]["user"]["first_name"] == "Jeanne"
    expected_keys = {
        "id", "uuid", "status", "starts_at", "ends_at", "duration_in_min", "address", "context", "cancelled_at",
        "max_participants_count", "users_count", "name", "collectif", "created_by_type", "created_by_id",
        "created_by", "organisation", "motif", "users", "participations", "agents", "lieu",
    }  # fmt: skip
    assert set(data) == expected_keys


def test_moving_and_cancelling_write_updated_events_in_order(world, frozen):
    hook = endpoint(world)
    rdv = book(world)
    move_rdv(system(world), rdv, at(TUESDAY, 11))
    cancel_rdv(system(world), rdv, reason="Demande de l'usager", by_usager=True)
    events = bodies(hook)
    assert [(b["meta"]["event"], b["data"]["status"], b["data"]["starts_at"][11:16]) for b in events] == [
        ("created", "unknown", "10:00"),
        ("updated", "unknown", "11:00"),
        ("updated", "excused", "11:00"),
    ]
    assert events[2]["data"]["cancelled_at"] == "2027-03-08T08:00:00+01:00"
    keys = set(Delivery.objects.filter(channel=Channel.WEBHOOK).values_list("ordering_key", flat=True))
    assert keys == {f"webhook:{hook.pk}:Rdv:{rdv.pk}"}  # one record: delivered one after the other


def test_a_rolled_back_change_writes_no_event(world):
    endpoint(world)
    with pytest.raises(RuntimeError), transaction.atomic():
        book(world)
        raise RuntimeError("rollback")
    assert not WebhookEvent.objects.filter(model="Rdv").exists()
    assert not Delivery.objects.filter(channel=Channel.WEBHOOK).exists()


def test_inactive_endpoints_and_unsubscribed_models_get_nothing(world):
    endpoint(world, active=False)
    endpoint(world, url="https://motifs.exemple.fr/hooks", subscriptions=["motif"])
    book(world)
    assert not WebhookEvent.objects.exists()


def test_the_contexte_is_left_out_while_the_espace_hides_the_field(world):
    hook = endpoint(world)
    world.territory.rdv_context_enabled = False
    world.territory.save()
    book(world, context="Note interne")
    assert bodies(hook)[0]["data"]["context"] is None
    assert "Note interne" not in WebhookEvent.objects.get().delivery.text


def test_minimised_usager_fields_are_absent_from_the_body(world):
    hook = endpoint(world, usager_fields=["first_name", "last_name"])
    full = endpoint(world, url="https://complet.exemple.fr/hooks")
    person = usager(
        world,
        first_name="Jeanne",
        last_name="Dupont",
        birth_date="1980-05-17",
        address="12 rue des Lilas",
        email="jeanne@exemple.fr",
        notes="Remarque confidentielle",
    )
    book(world, usagers=[person])
    minimised = bodies(hook)[0]["data"]["users"][0]
    assert minimised == {
        "id": person.pk,
        "first_name": "Jeanne",
        "last_name": "Dupont",
        "invitation_created_at": None,
        "invitation_accepted_at": None,
    }
    text = WebhookEvent.objects.get(endpoint=hook).delivery.text
    for secret in ("1980-05-17", "12 rue des Lilas", "jeanne@exemple.fr", "Remarque confidentielle"):
        assert secret not in text
    complete = bodies(full)[0]["data"]["users"][0]
    assert complete["birth_date"] == "1980-05-17" and complete["email"] == "jeanne@exemple.fr"
    assert complete["notes"] == "Remarque confidentielle"


def test_an_usager_change_reaches_the_endpoints_of_all_its_organisations(world):
    from rdv.usagers.services import update_usager

    here = endpoint(world, subscriptions=["user"])
    there = endpoint(world, organisation=world.other_organisation, subscriptions=["user"])
    elsewhere = endpoint(
        world, url="https://x.exemple.fr/h", organisation=world.other_organisation, subscriptions=["rdv"]
    )
    person = usager(world, first_name="Jeanne", last_name="Dupont")
    UsagerOrganisation.objects.create(usager=person, organisation=world.other_organisation)
    update_usager(system(world), person, {"first_name": "Jeanne", "last_name": "Martin"})
    events = WebhookEvent.objects.filter(model="User")
    assert sorted(events.values_list("endpoint_id", flat=True)) == sorted([here.pk, there.pk])
    assert not WebhookEvent.objects.filter(endpoint=elsewhere).exists()
    assert bodies(here)[0]["data"]["last_name"] == "Martin"
    assert bodies(here)[0]["meta"] == {
        "model": "User",
        "event": "updated",
        "webhook_reason": None,
        "timestamp": "2027-03-08T08:00:00+01:00",
    }


def test_plages_and_absences_carry_their_ical_uid_rrule_and_ical(world):
    from rdv.agendas.services import create_absence, delete_absence

    hook = endpoint(world, subscriptions=["plage_ouverture", "absence"])
    absence = create_absence(
        system(world),
        world.agent,
        {
            "title": "Formation",
            "first_date": TUESDAY,
            "end_date": TUESDAY,
            "start_time": at(TUESDAY, 14).time(),
            "end_time": at(TUESDAY, 17).time(),
            "recurrence": "weekly",
            "recurrence_interval": 2,
            "recurrence_weekdays": [1, 3],
            "until": TUESDAY + timedelta(days=60),
        },
    )
    absence_id = absence.pk
    delete_absence(system(world), absence)
    created, destroyed = bodies(hook)
    assert (created["meta"]["model"], created["meta"]["event"]) == ("Absence", "created")
    assert (destroyed["meta"]["model"], destroyed["meta"]["event"]) == ("Absence", "destroyed")
    data = created["data"]
    assert data["ical_uid"].startswith(f"absence_{absence_id}@")
    assert data["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270508T215959Z"  # 23:59:59 in Paris (CEST)
    assert "BEGIN:VEVENT" in data["ical"] and "RRULE:FREQ=WEEKLY;" in data["ical"]
    assert "BYDAY=TU,TH" in data["ical"] and "INTERVAL=2" in data["ical"] and "UNTIL=20270508T215959Z" in data["ical"]
    assert "DTSTART;TZID=Europe/Paris:20270309T140000" in data["ical"]
    assert data["first_day"] == "2027-03-09" and data["start_time"] == "14:00:00"
    assert destroyed["data"]["id"] == absence_id  # built before the deletion


def test_an_overseas_espace_sends_its_own_wall_clock_times(world):
    world.territory.time_zone = "Indian/Reunion"
    world.territory.save()
    hook = endpoint(world)
    reunion = ZoneInfo("Indian/Reunion")
    rdv = book(world, datetime(2027, 3, 9, 10, tzinfo=reunion))  # the plages run 9–12 in La Réunion now
    data = bodies(hook)[0]["data"]
    assert data["starts_at"] == "2027-03-09T10:00:00+04:00"
    assert rdv.starts_at.astimezone(UTC).isoformat() == "2027-03-09T06:00:00+00:00"


def test_an_agent_change_sends_the_agent_and_its_roles_to_their_organisations(world):
    from rdv.accounts.services import update_agent_assignments

    agents_hook = endpoint(world, subscriptions=["agent", "agent_role"])
    update_agent_assignments(
        Context.system(world.territory),
        world.agent,
        services=[world.service],
        organisation_levels={world.organisation: "admin"},
    )
    events = list(WebhookEvent.objects.filter(endpoint=agents_hook).order_by("id"))
    assert [(e.model, e.event) for e in events] == [("Agent", "updated"), ("AgentRole", "updated")]
    role = bodies(agents_hook)[1]["data"]
    assert role["access_level"] == "admin" and role["agent"]["id"] == world.agent.pk
    assert role["organisation"]["id"] == world.organisation.pk


def test_without_any_endpoint_in_the_espace_a_change_costs_one_query(world, django_assert_num_queries):
    from rdv.core.audit import log_action

    lieu = world.lieu
    # the journal entry, « any endpoint in this espace? », the open-data feed's stale mark and the
    # slot cache's version bump (rdv.online.slotcache)
    with django_assert_num_queries(4):
        log_action("Système", "lieu.updated", lieu, {"name": ["a", "b"]})


def test_a_rdv_body_is_the_same_with_its_relations_prefetched_or_read_from_the_rdv(world, django_assert_num_queries):
    """The API's pages and the webhooks read a RDV's participations and agents from the lists
    with_rdv_relations prefetched (no queryset per RDV); a RDV loaded without them reads them itself,
    in the same order, to the same body."""
    parent = usager(world, first_name="Jeanne", last_name="Dupont")
    rdv = book(world, usagers=[usager(world, first_name="Léo", last_name="Dupont", responsible=parent)])
    zone = ZoneInfo("Europe/Paris")
    loaded = load_rdv(rdv.pk)
    with django_assert_num_queries(0):  # everything prefetched
        prefetched = rdv_data(loaded, zone)
    plain = rdv_data(Rdv.objects.get(pk=rdv.pk), zone)
    assert prefetched == plain
    assert [(user["first_name"], user["responsible"]["first_name"]) for user in plain["users"]] == [("Léo", "Jeanne")]
    assert [p["user"] for p in plain["participations"]] == plain["users"]
    assert plain["users_count"] == 1 and [agent["id"] for agent in plain["agents"]] == [world.agent.pk]
