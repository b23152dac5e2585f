"""The open-data feed of an espace's next free slots (rdv.online.opendata): its rows, and its
snapshot in the database (stale on changes, recomputed after 60 s, by one request at a time).

The data: the public search world (tests/www/public/search_world.py), "now" Monday 1 March 2027,
08:00 in Paris. « Premier accueil » is offered at two lieux, « Conseil téléphonique » by phone."""

import json
import threading
import time as time_module
from datetime import date, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.agendas import services as agenda_services
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings import services as booking_services
from rdv.bookings.availability import next_availability_by_lieu, next_available_slot
from rdv.bookings.models import Rdv, RdvAgent
from rdv.core.audit import log_action
from rdv.online import opendata, selectors
from rdv.online.models import AvailabilityFeed
from tests import factories
from tests.helpers import as_agent
from tests.www.public.search_world import MARKER, NOW, PARIS, at, build_journey, weekly_plage

TUESDAY, THURSDAY = date(2027, 3, 2), date(2027, 3, 4)


@pytest.fixture
def journey(alice):
    with time_machine.travel(NOW, tick=False) as traveller:
        journey = build_journey(alice)
        journey.traveller = traveller
        yield journey


def by_key(rows) -> dict:
    return {(row["motif_name"], row["lieu_name"]): row for row in rows}


def next_slots(rows) -> dict:
    return {key: row["next_slot_starts_at"] for key, row in by_key(rows).items()}


def served(journey) -> dict:
    return next_slots(opendata.availability_feed(journey.territory.pk).rows)


def new_lieu(organisation, name):
    return Lieu.objects.create(organisation=organisation, name=name, address=f"{name}, Valence")


def direct_rdv(organisation, motif, lieu, agent, start):
    """A RDV written without a service (no audit entry)."""
    rdv = Rdv.objects.create(
        organisation=organisation, motif=motif, lieu=lieu, starts_at=start, ends_at=start + timedelta(minutes=30)
    )
    RdvAgent.objects.create(rdv=rdv, agent=agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at)
    return rdv


def book(journey, start, *, agent=None, lieu=None):
    agent = agent or journey.agent
    usager = factories.UsagerFactory(territory=journey.territory, organisations=[journey.organisation])
    request = booking_services.BookingRequest(
        motif=journey.motif, starts_at=start, agents=[agent], usagers=[usager], lieu=lieu or journey.lieu
    )
    return booking_services.book_rdv(as_agent(journey.world.territory_admin, journey.organisation), request)


# Rows -----------------------------------------------------------------------------------------


def test_one_row_per_lieu_and_motif_open_online_to_usagers(journey):
    rows = opendata.compute_rows(journey.territory)
    assert next_slots(rows) == {
        ("Premier accueil", "Maison des solidarités"): "2027-03-02T09:30:00+01:00",  # 09:00 is taken
        ("Premier accueil", "Antenne Nord"): "2027-03-04T14:00:00+01:00",
        ("Aide au dossier RSA", "Maison des solidarités"): "2027-03-02T09:30:00+01:00",
        ("Conseil téléphonique", None): "2027-03-02T09:30:00+01:00",
        ("Consultation nourrisson", "Maison des solidarités"): "2027-03-02T09:30:00+01:00",
    }
    # ordered by organisation, service, motif, lieu
    assert [(row["service_name"], row["motif_name"], row["lieu_name"]) for row in rows] == [
        ("PMI", "Consultation nourrisson", "Maison des solidarités"),
        ("Service social", "Aide au dossier RSA", "Maison des solidarités"),
        ("Service social", "Conseil téléphonique", None),
        ("Service social", "Premier accueil", "Antenne Nord"),
        ("Service social", "Premier accueil", "Maison des solidarités"),
    ]


def test_a_row_has_every_documented_field(journey):
    row = by_key(opendata.compute_rows(journey.territory))[("Premier accueil", "Antenne Nord")]
    assert row == {
        "territory_id": journey.territory.pk,
        "territory_name": "Espace alice",
        "organisation_id": journey.organisation.pk,
        "organisation_name": "alice Centre",
        "service_name": "Service social",
        "motif_id": journey.motif.pk,
        "motif_name": "Premier accueil",
        "location_type": "public_office",
        "lieu_id": journey.lieu_b.pk,
        "lieu_name": "Antenne Nord",
        "lieu_address": "8 rue du Nord 26000 Valence",
        "next_slot_starts_at": "2027-03-04T14:00:00+01:00",
        "booking_url": f"http://testserver/prendre-rdv/creneaux/?motif={journey.motif.pk}&lieu={journey.lieu_b.pk}",
        "generated_at": "2027-03-01T08:00:00+01:00",
    }
    assert tuple(row) == opendata.FIELDS


def test_a_motif_without_a_place_has_one_row_without_lieu(journey):
    row = by_key(opendata.compute_rows(journey.territory))[("Conseil téléphonique", None)]
    assert row["location_type"] == "phone"
    assert (row["lieu_id"], row["lieu_name"], row["lieu_address"]) == (None, None, None)
    assert row["booking_url"] == f"http://testserver/prendre-rdv/creneaux/?motif={journey.phone_motif.pk}"


def test_rows_match_the_first_slots_the_public_pages_show(journey):
    # a busier agenda: more RDVs at the Maison, and the Antenne open on Tuesdays too
    book(journey, at(TUESDAY, 9, 30))
    weekly_plage(journey.organisation, journey.other_agent, journey.lieu_b, [journey.motif], weekday=1, first=TUESDAY)
    rows = opendata.compute_rows(journey.territory)
    assert rows
    for row in rows:
        motif = selectors.motif_by_id(row["motif_id"])
        if row["lieu_id"] is None:  # the motif list's first slot, and the engine's for the motif
            shown = selectors.first_slots([motif])[motif.pk].start
            assert next_available_slot(motif).start == shown
        else:  # « Où exactement ? » lists each lieu with its next slot
            lieux = {item.lieu.pk: item.next_slot.start for item in selectors.lieux_with_next_slot(motif)}
            shown = lieux[row["lieu_id"]]
            assert next_availability_by_lieu([motif], lieu_ids=[row["lieu_id"]])[row["lieu_id"]].start == shown
            assert next_available_slot(motif, lieu_id=row["lieu_id"]).start == shown
        assert row["next_slot_starts_at"] == shown.astimezone(PARIS).isoformat()
    assert next_slots(rows)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"
    assert next_slots(rows)[("Premier accueil", "Antenne Nord")] == "2027-03-02T09:00:00+01:00"


def test_the_lieux_are_those_of_the_public_lieu_step(journey):
    journey.lieu_b.is_open = False
    journey.lieu_b.save()
    rows = opendata.compute_rows(journey.territory)
    lieux = {row["lieu_id"] for row in rows if row["motif_id"] == journey.motif.pk}
    assert lieux == {item.lieu.pk for item in selectors.lieux_with_next_slot(journey.motif)} == {journey.lieu.pk}


def test_a_lieu_without_a_free_slot_in_the_online_window_has_a_null_next_slot(journey):
    journey.motif.max_booking_delay_minutes = 2 * 24 * 60  # until Wednesday 08:00: no Thursday
    journey.motif.save()
    slots = next_slots(opendata.compute_rows(journey.territory))
    assert slots[("Premier accueil", "Antenne Nord")] is None
    assert slots[("Premier accueil", "Maison des solidarités")] == "2027-03-02T09:30:00+01:00"


def test_motifs_not_open_to_usagers_archived_without_plage_or_of_another_espace_are_absent(journey, bob):
    weekly_plage(
        bob.organisation,
        bob.agent,
        new_lieu(bob.organisation, "Lieu de Bob"),
        [factories.MotifFactory(organisation=bob.organisation, service=bob.service, bookable_online=True)],
        weekday=1,
        first=TUESDAY,
    )
    journey.instructions_motif.archived_at = NOW
    journey.instructions_motif.save()
    names = {row["motif_name"] for row in opendata.compute_rows(journey.territory)}
    assert names == {"Premier accueil", "Conseil téléphonique", "Consultation nourrisson"}
    # not: « Aide au dossier RSA » (archived), « Accompagnement social » (prescripteurs),
    # « Suivi interne » (agents only), « Entretien fermé » (not online), « Sans plage », bob's motif
    assert {row["territory_id"] for row in opendata.compute_rows(journey.territory)} == {journey.territory.pk}


def test_the_feed_names_no_agent_no_usager_and_no_rdv_detail(journey):
    usager = factories.UsagerFactory(
        territory=journey.territory, organisations=[journey.organisation], first_name="Ursule", last_name="Zorglub"
    )
    rdv = book(journey, at(TUESDAY, 10))
    rdv.participations.update(usager=usager)
    text = json.dumps(opendata.availability_feed(journey.territory.pk).rows, ensure_ascii=False)
    for agent in (journey.agent, journey.other_agent):
        for personal in (agent.first_name, agent.last_name, agent.email):
            assert personal not in text
    for personal in ("Ursule", "Zorglub", usager.email or "@usager", MARKER):
        assert personal not in text
    assert "Premier accueil" in text  # the marker test can fail


def test_the_feed_of_an_espace_without_organisation_is_empty(db):
    territory = factories.TerritoryFactory()
    assert opendata.availability_feed(territory.pk).rows == []


def test_an_unknown_espace_has_no_feed(db):
    assert opendata.availability_feed(999_999) is None
    assert not AvailabilityFeed.objects.exists()


def test_the_rows_cost_a_constant_number_of_queries(journey):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            opendata.compute_rows(journey.territory)
        return len(captured.captured_queries)

    before = queries()
    for index in range(3):  # more organisations, motifs, lieux and plages
        organisation = factories.OrganisationFactory(territory=journey.territory)
        lieu = new_lieu(organisation, f"Lieu {index}")
        motif = factories.MotifFactory(
            organisation=organisation,
            service=journey.world.service,
            name=f"Motif {index}",
            bookable_online=True,
            bookable_by="everyone",
        )
        weekly_plage(organisation, journey.other_agent, lieu, [motif], weekday=2, first=TUESDAY)
    assert len(opendata.compute_rows(journey.territory)) == 8
    assert queries() == before


# The snapshot ---------------------------------------------------------------------------------


def test_a_fresh_snapshot_is_served_with_one_query(journey, django_assert_num_queries):
    first = opendata.availability_feed(journey.territory.pk)
    with django_assert_num_queries(1):
        again = opendata.availability_feed(journey.territory.pk)
    assert again.rows == first.rows and again.generated_at == first.generated_at


def test_a_new_rdv_taking_the_next_slot_changes_it_on_the_next_request(journey):
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T09:30:00+01:00"
    book(journey, at(TUESDAY, 9, 30))
    assert AvailabilityFeed.objects.get().stale  # marked in the booking's transaction
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"
    assert not AvailabilityFeed.objects.get().stale


def test_a_cancelled_rdv_frees_its_slot_on_the_next_request(journey):
    rdv = book(journey, at(TUESDAY, 9, 30))
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"
    booking_services.cancel_rdv(as_agent(journey.world.territory_admin, journey.organisation), rdv)
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T09:30:00+01:00"


def test_an_absence_changes_the_next_slot_on_the_next_request(journey):
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T09:30:00+01:00"
    agenda_services.create_absence(
        as_agent(journey.world.territory_admin, journey.organisation),
        journey.agent,
        {
            "title": "Formation",
            "whole_day": True,
            "first_date": TUESDAY,
            "recurrence": "none",
            "recurrence_interval": 1,
            "recurrence_weekdays": [],
        },
    )
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-09T09:00:00+01:00"


def test_a_plage_change_changes_the_next_slot_on_the_next_request(journey):
    assert served(journey)[("Premier accueil", "Antenne Nord")] == "2027-03-04T14:00:00+01:00"
    plage = PlageOuverture.objects.get(lieu=journey.lieu_b)
    agenda_services.cancel_plage_occurrence(
        as_agent(journey.world.territory_admin, journey.organisation), plage, THURSDAY
    )
    assert served(journey)[("Premier accueil", "Antenne Nord")] == "2027-03-11T14:00:00+01:00"


def test_a_motif_closed_online_leaves_the_feed_on_the_next_request(journey):
    assert ("Conseil téléphonique", None) in served(journey)
    journey.phone_motif.bookable_online = False
    journey.phone_motif.save()
    log_action("Système", "motif.online_booking_updated", journey.phone_motif, {"bookable_online": [True, False]})
    assert ("Conseil téléphonique", None) not in served(journey)


def test_a_change_without_audit_shows_after_60_seconds(journey):
    """Time passes (and a slot in the past disappears): a snapshot older than 60 s is recomputed."""
    first = opendata.availability_feed(journey.territory.pk)
    direct_rdv(journey.organisation, journey.motif, journey.lieu, journey.agent, at(TUESDAY, 9, 30))
    journey.traveller.shift(timedelta(seconds=60))
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T09:30:00+01:00"
    assert opendata.availability_feed(journey.territory.pk).generated_at == first.generated_at
    journey.traveller.shift(timedelta(seconds=1))
    feed = opendata.availability_feed(journey.territory.pk)
    assert feed.generated_at == first.generated_at + timedelta(seconds=61)
    assert next_slots(feed.rows)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"


def test_a_slot_in_the_past_leaves_the_feed_once_the_snapshot_is_older_than_60_seconds(journey):
    # the minimum delay is 30 minutes: from 09:00 on, 09:30 is too soon
    journey.traveller.move_to(at(TUESDAY, 8, 59) + timedelta(seconds=30))
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T09:30:00+01:00"
    journey.traveller.move_to(at(TUESDAY, 9) + timedelta(seconds=30))  # 60 s later: the snapshot is served as it is
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T09:30:00+01:00"
    journey.traveller.move_to(at(TUESDAY, 9) + timedelta(seconds=31))
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"


def test_while_one_request_recomputes_the_others_serve_the_previous_rows(journey, django_assert_num_queries):
    previous = opendata.availability_feed(journey.territory.pk)
    book(journey, at(TUESDAY, 9, 30))  # stale now
    AvailabilityFeed.objects.update(computing_until=NOW + timedelta(seconds=30))  # another request's lease
    with django_assert_num_queries(3):  # the snapshot, the refused claim, the latest rows: no slot search
        feed = opendata.availability_feed(journey.territory.pk)
    assert feed.rows == previous.rows
    journey.traveller.shift(timedelta(seconds=30))  # the lease ended (that request died): this one recomputes
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"
    assert AvailabilityFeed.objects.get().computing_until is None


def test_the_very_first_feed_is_computed_even_while_another_request_computes_it(journey):
    AvailabilityFeed.objects.create(territory=journey.territory, computing_until=NOW + timedelta(seconds=30))
    feed = opendata.availability_feed(journey.territory.pk)
    assert next_slots(feed.rows)[("Premier accueil", "Antenne Nord")] == "2027-03-04T14:00:00+01:00"
    assert AvailabilityFeed.objects.get().rows == []  # the claiming request stores it


def test_a_change_during_a_recomputation_leaves_the_new_snapshot_stale(journey, monkeypatch):
    compute = opendata.compute_rows

    def compute_then_change(territory, *, now=None):
        rows = compute(territory, now=now)
        book(journey, at(TUESDAY, 9, 30))  # committed while the rows were being computed
        return rows

    monkeypatch.setattr(opendata, "compute_rows", compute_then_change)
    opendata.availability_feed(journey.territory.pk)
    monkeypatch.undo()
    assert AvailabilityFeed.objects.get().stale
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"


def test_a_failed_computation_leaves_the_snapshot_stale_and_free(journey, monkeypatch):
    def fail(territory, *, now=None):
        raise RuntimeError("database gone")

    monkeypatch.setattr(opendata, "compute_rows", fail)
    with pytest.raises(RuntimeError):
        opendata.availability_feed(journey.territory.pk)
    snapshot = AvailabilityFeed.objects.get()
    assert snapshot.stale and snapshot.computing_until is None


def test_changes_that_do_not_alter_slots_keep_the_snapshot(journey):
    opendata.availability_feed(journey.territory.pk)
    usager = factories.UsagerFactory(territory=journey.territory, organisations=[journey.organisation])
    for action in ("usager.updated", "rdv.arrived", "webhook.updated", "territory.rdv_fields_updated"):
        log_action("Système", action, usager, {}, territory=journey.territory)
    assert not AvailabilityFeed.objects.get().stale
    log_action("Système", "territory.holiday_zone_updated", journey.territory, {})
    assert AvailabilityFeed.objects.get().stale


def test_a_change_in_another_espace_marks_only_the_espaces_of_its_agents(journey, bob):
    alice_feed = opendata.availability_feed(journey.territory.pk)
    opendata.availability_feed(bob.territory.pk)
    assert alice_feed.rows
    log_action("Système", "lieu.updated", new_lieu(bob.organisation, "Lieu de Bob"), {})
    assert dict(AvailabilityFeed.objects.values_list("territory_id", "stale")) == {
        journey.territory.pk: False,
        bob.territory.pk: True,
    }
    # alice's agent also works in bob's espace: a RDV there takes time from alice's agenda too
    AvailabilityFeed.objects.update(stale=False)
    bob_lieu = new_lieu(bob.organisation, "Annexe de Bob")
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service)
    rdv = direct_rdv(bob.organisation, bob_motif, bob_lieu, journey.agent, at(TUESDAY, 9, 30))
    log_action("Système", "rdv.created", rdv, {})
    assert all(AvailabilityFeed.objects.values_list("stale", flat=True))
    assert served(journey)[("Premier accueil", "Maison des solidarités")] == "2027-03-02T10:00:00+01:00"


def test_the_espace_time_zone_is_used_for_the_times(journey):
    journey.territory.time_zone = "Indian/Reunion"
    journey.territory.save()
    weekly_plage(
        journey.organisation,
        journey.other_agent,
        journey.lieu_b,
        [journey.pmi_motif],
        weekday=2,
        first=date(2027, 3, 3),
        start=time(9),
        end=time(10),
    )
    rows = by_key(opendata.compute_rows(journey.territory))
    assert rows[("Consultation nourrisson", "Antenne Nord")]["next_slot_starts_at"] == "2027-03-03T09:00:00+04:00"
    assert rows[("Consultation nourrisson", "Antenne Nord")]["generated_at"] == "2027-03-01T11:00:00+04:00"


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_a_stale_snapshot_recompute_it_once(journey, postgres_only, monkeypatch):
    """Eight requests at once on PostgreSQL: one claims the snapshot and recomputes it, the seven
    others serve the previous rows at once instead of searching slots too."""
    previous = opendata.availability_feed(journey.territory.pk)
    book(journey, at(TUESDAY, 9, 30))  # stale
    journey.traveller.shift(timedelta(seconds=61))  # and old: clearing `stale` alone would not stop the others
    compute, computed = opendata.compute_rows, []
    barrier = threading.Barrier(8)

    def slow_compute(territory, *, now=None):
        computed.append(threading.get_ident())
        rows = compute(territory, now=now)
        time_module.sleep(0.5)  # the others arrive while this one computes
        return rows

    monkeypatch.setattr(opendata, "compute_rows", slow_compute)
    results = []

    def request():
        try:
            barrier.wait()
            results.append(next_slots(opendata.availability_feed(journey.territory.pk).rows))
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    key = ("Premier accueil", "Maison des solidarités")
    assert sorted(result[key] for result in results) == ["2027-03-02T09:30:00+01:00"] * 7 + [
        "2027-03-02T10:00:00+01:00"
    ]
    assert next_slots(previous.rows)[key] == "2027-03-02T09:30:00+01:00"
    snapshot = AvailabilityFeed.objects.get()
    assert not snapshot.stale and snapshot.computing_until is None
