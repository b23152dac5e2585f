"""Reads of the public booking journey (rdv.online.selectors)."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.core.context import ActorKind
from rdv.online import selectors
from rdv.territories.models import SectorCode
from tests.www.public.search_world import NOW, PARIS, at, build_journey, weekly_plage


@pytest.fixture
def journey(alice):
    with time_machine.travel(NOW, tick=False):
        yield build_journey(alice)


def names(motifs) -> set[str]:
    return {m.name for m in motifs}


def test_one_query_reads_a_motif_with_its_public_right_and_a_lieu_with_its_offer(
    journey, django_assert_num_queries, settings
):
    """The public pages read the motif with `public_bookable` and the lieu with `offers_motif` in
    one query each: the same answers as the booking policy (can_book) and motif_lieux, for every motif of the world
    (open, for prescripteurs, for agents, archived) and every lieu (closed, archived, without the
    motif, of another organisation or espace)."""
    from rdv.agendas.models import Lieu
    from rdv.motifs.models import Motif
    from rdv.motifs.policies import can_book

    def may_book(motif, kind):
        return can_book(selectors.public_context(motif.organisation, kind), motif)

    def offers(lieu, motif):
        return selectors.motif_lieux(motif).filter(pk=lieu.pk).exists()

    settings.SLOT_CACHE_ENABLED = False  # uncached (the cache is tested below)
    Motif.objects.filter(pk=journey.phone_motif.pk).update(archived_at=NOW)
    archived = Lieu.objects.create(organisation=journey.organisation, name="Ancienne antenne", address="1 rue")
    weekly_plage(journey.organisation, journey.agent, archived, [journey.motif], weekday=2, first=date(2027, 3, 3))
    Lieu.objects.filter(pk=archived.pk).update(archived_at=NOW)
    Lieu.objects.create(organisation=journey.other_organisation, name="Antenne de l'autre MDS", address="2 rue")
    motifs = list(Motif.objects.select_related("organisation"))
    lieux = list(Lieu.objects.all())
    assert len(motifs) > 6 and len(lieux) == 4
    for motif in motifs:
        for kind in (ActorKind.USAGER, ActorKind.PRESCRIPTEUR):
            with django_assert_num_queries(1):
                read = selectors.motif_by_id(motif.pk, kind)
            assert read.public_bookable == may_book(motif, kind), (motif.name, kind)
        for lieu in lieux:
            with django_assert_num_queries(1):
                read = selectors.lieu_by_id(lieu.pk, motif)
            assert read.offers_motif == offers(lieu, motif), (motif.name, lieu.name)
    rights = {(m.pk, k): may_book(m, k) for m in motifs for k in (ActorKind.USAGER, ActorKind.PRESCRIPTEUR)}
    answers = {(m.pk, lieu.pk): offers(lieu, m) for m in motifs for lieu in lieux}
    assert len(set(rights.values())) == 2 and len(set(answers.values())) == 2  # both answers seen
    Lieu.objects.filter(pk=journey.lieu_b.pk).update(is_open=False)  # closed: offers nothing
    assert not selectors.lieu_by_id(journey.lieu_b.pk, journey.motif).offers_motif
    assert selectors.lieu_by_id(journey.lieu.pk, journey.motif).offers_motif


def test_the_motif_and_lieu_of_the_public_pages_are_cached_until_their_espace_changes(
    journey, django_assert_num_queries
):
    """Warm, the motif and the lieu cost one plain query each (the espace's version); any audited
    change of the espace (a motif archived, a lieu updated) is seen at once; the objects are each
    request's own."""
    from rdv.agendas import services as agenda_services
    from rdv.motifs import services as motif_services
    from tests.helpers import as_agent

    usager = ActorKind.USAGER
    assert selectors.motif_by_id(journey.motif.pk, usager).public_bookable  # learns the espace
    selectors.lieu_by_id(journey.lieu.pk, journey.motif)
    first = selectors.motif_by_id(journey.motif.pk, usager)  # stored
    with django_assert_num_queries(1):
        warm = selectors.motif_by_id(journey.motif.pk, usager)
    assert warm.public_bookable and warm.name == "Premier accueil" and warm is not first
    warm.name = "Changé par une requête"
    assert selectors.motif_by_id(journey.motif.pk, usager).name == "Premier accueil"
    lieu = selectors.lieu_by_id(journey.lieu.pk, journey.motif)
    with django_assert_num_queries(1):
        assert selectors.lieu_by_id(journey.lieu.pk, journey.motif).offers_motif
    # A kind or a motif of its own: other entries.
    for _ in range(2):  # learnt, then stored
        assert selectors.motif_by_id(journey.prescripteur_motif.pk, usager).public_bookable is False
        assert selectors.lieu_by_id(journey.lieu_b.pk, journey.motif).offers_motif
    assert selectors.motif_by_id(journey.prescripteur_motif.pk, ActorKind.PRESCRIPTEUR).public_bookable
    assert not selectors.lieu_by_id(journey.lieu_b.pk, journey.instructions_motif).offers_motif
    assert not hasattr(selectors.lieu_by_id(journey.lieu_b.pk), "offers_motif")
    # Audited changes: seen at the next read.
    system = as_agent(None, journey.organisation)
    motif_services.archive_motif(system, journey.motif)
    assert selectors.motif_by_id(journey.motif.pk, usager).public_bookable is False
    agenda_services.update_lieu(system, lieu, {"name": "Maison renommée", "address": lieu.address})
    assert selectors.lieu_by_id(journey.lieu.pk, journey.motif).name == "Maison renommée"
    assert selectors.lieu_by_id(journey.lieu.pk).name == "Maison renommée"


def test_within_a_request_the_espace_version_is_read_once_and_a_change_of_the_espace_is_seen(
    journey, django_assert_num_queries
):
    """A request reads its espace's version once for its motif and its lieu; a change of the espace
    made during the request is still seen at the next read; outside a request (workers, commands)
    every read asks the database."""
    from rdv.motifs import services as motif_services
    from rdv.online import slotcache
    from tests.helpers import as_agent

    usager = ActorKind.USAGER
    for _ in range(2):  # learns the espace, then stores the entries
        selectors.motif_by_id(journey.motif.pk, usager)
        selectors.lieu_by_id(journey.lieu.pk, journey.motif)
    with django_assert_num_queries(2):  # outside a request: one version read each
        selectors.motif_by_id(journey.motif.pk, usager)
        selectors.lieu_by_id(journey.lieu.pk, journey.motif)
    slotcache.start_request_versions()  # what the request_started signal runs
    try:
        with django_assert_num_queries(1):
            assert selectors.motif_by_id(journey.motif.pk, usager).public_bookable
            assert selectors.lieu_by_id(journey.lieu.pk, journey.motif).offers_motif
            assert selectors.motif_by_id(journey.motif.pk, usager).public_bookable
        motif_services.archive_motif(as_agent(None, journey.organisation), journey.motif)
        assert selectors.motif_by_id(journey.motif.pk, usager).public_bookable is False
    finally:
        slotcache.end_request_versions()  # request_finished
    with django_assert_num_queries(2):  # outside a request again: the version at each read
        assert selectors.motif_by_id(journey.motif.pk, usager).public_bookable is False
        assert selectors.motif_by_id(journey.motif.pk, usager).public_bookable is False


def test_the_public_week_page_reads_its_espace_s_version_once(journey, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rdv.online import slotcache

    url = f"/prendre-rdv/creneaux/?motif={journey.motif.pk}&lieu={journey.lieu.pk}"
    for _ in range(2):  # learns the espace, then stores the motif and the lieu
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200 and 'name="debut"' in response.content.decode()
    reads = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT version FROM")]
    assert len(reads) == 1, reads
    assert slotcache._REQUEST_VERSIONS.get() is None  # forgotten once the request is over


def test_bookable_motifs_follow_the_booking_policy_for_each_public_actor(journey):
    organisations = [journey.organisation, journey.other_organisation]
    usager = names(selectors.bookable_motifs(organisations, ActorKind.USAGER))
    prescripteur = names(selectors.bookable_motifs(organisations, ActorKind.PRESCRIPTEUR))
    assert usager == {
        "Premier accueil",
        "Aide au dossier RSA",
        "Conseil téléphonique",
        "Consultation nourrisson",
        "Sans plage",
    }
    assert prescripteur == usager | {"Accompagnement social", "Entretien fermé"}
    for motif in journey.motif, journey.prescripteur_motif, journey.agents_motif:
        assert selectors.motif_by_id(motif.pk, ActorKind.USAGER).public_bookable == (motif.name in usager)
        assert selectors.motif_by_id(motif.pk, ActorKind.PRESCRIPTEUR).public_bookable == (motif.name in prescripteur)


def test_archived_motifs_are_never_bookable(journey):
    journey.motif.archived_at = NOW
    journey.motif.save()
    assert "Premier accueil" not in names(selectors.bookable_motifs([journey.organisation], ActorKind.USAGER))
    assert not selectors.motif_by_id(journey.motif.pk, ActorKind.USAGER).public_bookable


def test_organisations_for_a_code_or_a_commune(journey, bob):
    SectorCode.objects.create(organisation=bob.organisation, code="26000", commune="Valence")
    across = selectors.organisations_for_place(None, "26000")
    assert {o.name for o in across} == {"alice Centre", "bob Centre"}
    within = selectors.organisations_for_place(journey.territory, "26000")
    assert [o.name for o in within] == ["alice Centre"]
    assert {o.name for o in selectors.organisations_for_place(journey.territory, "bourg")} == {
        "alice Centre",
        "alice Nord",
    }
    assert selectors.organisations_for_place(None, "99999") == []
    assert selectors.organisations_for_place(None, "") == []


def test_an_espace_without_sector_codes_offers_all_its_organisations(journey, bob):
    assert {o.name for o in selectors.organisations_for_place(bob.territory, "26000")} == {"bob Centre", "bob Nord"}
    assert selectors.organisations_for_place(None, "bob") == []  # across espaces: only matching codes


def test_communes_matching_a_name_or_a_code(journey):
    assert [c.label for c in selectors.communes_matching("valence")] == [  # names starting so first
        "Valence (26000)",
        "Bourg-lès-Valence (26500)",
    ]
    assert [c.label for c in selectors.communes_matching("265")] == ["Bourg-lès-Valence (26500)"]
    assert selectors.communes_matching("") == []


def test_codes_are_five_digits_or_corsican(journey):
    assert selectors.is_code("26000") and selectors.is_code("2A004") and selectors.is_code("2b033")
    assert not selectors.is_code("2600") and not selectors.is_code("Valence") and not selectors.is_code("2C004")


def test_the_first_slot_is_found_beyond_three_months_when_the_maximum_delay_allows_it(journey):
    motif = journey.unscheduled_motif
    motif.max_booking_delay_minutes = 183 * 24 * 60  # six months
    motif.save()
    far = date(2027, 7, 6)  # a Tuesday, four months ahead
    weekly_plage(journey.organisation, journey.agent, journey.lieu_b, [motif], weekday=1, first=far)
    with CaptureQueriesContext(connection) as queries:
        found = selectors.first_slots([motif])
    assert found[motif.pk].start == at(far, 9)
    assert len(queries.captured_queries) <= 4 * 4  # the slot function's queries, per chunk of days
    motif.max_booking_delay_minutes = 120 * 24 * 60  # four months short of a few days
    motif.save()
    assert selectors.first_slots([motif]) == {}


def test_first_slots_respect_the_minimum_delay(journey):
    motif = journey.motif
    motif.min_booking_delay_minutes = 3 * 24 * 60  # from Thursday 4 March 08:00
    motif.save()
    found = selectors.first_slots([motif])
    assert found[motif.pk].start == at(date(2027, 3, 4), 14)
    by_lieu = {offered.lieu.pk: offered.next_slot.start for offered in selectors.lieux_with_next_slot(motif)}
    assert by_lieu[journey.lieu.pk] == at(date(2027, 3, 9), 9)
    assert by_lieu[journey.lieu_b.pk] == at(date(2027, 3, 4), 14)


def test_first_slots_of_many_motifs_cost_one_call_per_chunk(journey):
    motifs = list(selectors.bookable_motifs([journey.organisation]))
    with CaptureQueriesContext(connection) as queries:
        found = selectors.first_slots(motifs)
    assert set(found) == {m.pk for m in motifs if m.name != "Sans plage"}
    # every motif but « Sans plage » is found in the first week; « Sans plage » has no plage: the
    # slot function stops after its first query in each later chunk
    assert len(queries.captured_queries) == 2 + 4 + 2  # + the espace of the motifs


def test_the_lieux_of_a_motif_come_soonest_first_with_their_next_slot(journey):
    journey.lieu_b.is_open = True
    offered = selectors.lieux_with_next_slot(journey.motif)
    assert [(item.lieu.name, item.next_slot.start) for item in offered] == [
        ("Maison des solidarités", at(date(2027, 3, 2), 9, 30)),
        ("Antenne Nord", at(date(2027, 3, 4), 14)),
    ]
    journey.lieu_b.is_open = False
    journey.lieu_b.save()
    assert [item.lieu.name for item in selectors.lieux_with_next_slot(journey.motif)] == ["Maison des solidarités"]


def test_a_week_of_free_times_in_the_espace_time(journey):
    week = selectors.week_of_free_times(journey.motif, date(2027, 3, 3))
    assert week.monday == date(2027, 3, 1) and week.sunday == date(2027, 3, 7)
    times = {day.day: [t.start for t in day.times] for day in week.days}
    assert times[date(2027, 3, 2)][0] == datetime(2027, 3, 2, 9, 30, tzinfo=PARIS)
    assert times[date(2027, 3, 4)] == [
        at(date(2027, 3, 4), 14),
        at(date(2027, 3, 4), 14, 30),
        at(date(2027, 3, 4), 15),
        at(date(2027, 3, 4), 15, 30),
    ]
    assert week.count == 5 + 4
    assert week.previous_week is None and week.next_week == date(2027, 3, 8)
    assert week.next_slot is None
    assert week.days[1].times[0].iso == "2027-03-02T09:30:00+01:00"


def test_a_week_across_the_spring_dst_change_keeps_wall_clock_times(journey):
    week = selectors.week_of_free_times(journey.motif, date(2027, 3, 29), lieu=journey.lieu)
    assert [t.iso for t in week.days[1].times][:2] == ["2027-03-30T09:00:00+02:00", "2027-03-30T09:30:00+02:00"]


def test_weeks_outside_the_online_window(journey):
    motif = journey.motif  # 30 minutes to 90 days
    assert selectors.week_in_window(motif, date(2027, 3, 1))
    assert not selectors.week_in_window(motif, date(2027, 2, 22))
    assert selectors.week_in_window(motif, date(2027, 5, 24))  # Sunday 30 May is the last day
    assert not selectors.week_in_window(motif, date(2027, 5, 31))


def test_a_held_slot_stays_visible_to_its_holder_only(journey):
    from rdv.bookings.models import SlotHold

    start = at(date(2027, 3, 4), 14)
    SlotHold.objects.create(
        motif=journey.motif,
        lieu=journey.lieu_b,
        agent=journey.other_agent,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        holder_key="visiteur-1",
        expires_at=NOW + timedelta(minutes=10),
    )
    others = selectors.week_of_free_times(journey.motif, date(2027, 3, 1), lieu=journey.lieu_b)
    holder = selectors.week_of_free_times(journey.motif, date(2027, 3, 1), lieu=journey.lieu_b, holder_key="visiteur-1")
    assert start not in [t.start for d in others.days for t in d.times]
    assert start in [t.start for d in holder.days for t in d.times]


def test_offered_motifs_and_services(journey):
    offered = selectors.offered_motifs(journey.organisation, ActorKind.USAGER)
    assert [item.motif.name for item in offered] == [
        "Consultation nourrisson",
        "Aide au dossier RSA",
        "Conseil téléphonique",
        "Premier accueil",
    ]
    services = selectors.offered_services(offered)
    assert [(s.service.name, len(s.motifs)) for s in services] == [("PMI", 1), ("Service social", 3)]
    at_lieu_b = selectors.offered_motifs(journey.organisation, lieu=journey.lieu_b)
    assert [item.motif.name for item in at_lieu_b] == ["Premier accueil"]
    assert offered[0].needs_lieu and not offered[2].needs_lieu


def test_a_time_free_at_several_lieux_is_listed_once_for_a_motif_without_place(journey):
    motif = journey.phone_motif  # Tuesdays at the Maison des solidarités; add the same hours at the Antenne
    weekly_plage(journey.organisation, journey.other_agent, journey.lieu_b, [motif], weekday=1, first=date(2027, 3, 2))
    week = selectors.week_of_free_times(motif, date(2027, 3, 1))
    tuesday = [t.start for t in week.days[1].times]
    assert tuesday == [at(date(2027, 3, 2), 9) + timedelta(minutes=30 * i) for i in range(6)]
