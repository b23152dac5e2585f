"""The booking operations (rdv.bookings.services): every operation and its refusals.

A refusal raises a DomainError with a stable code and a French message, and changes nothing
(no RDV row, no agent row, no journal entry)."""

import pytest
import time_machine

from rdv.agendas.models import Absence, Lieu
from rdv.bookings import selectors as rdv_selectors
from rdv.bookings import services
from rdv.bookings.availability import find_slots
from rdv.bookings.models import Participation, ParticipationStatus, Rdv, RdvAgent, RdvStatus
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.usagers.models import Usager
from tests import factories
from tests.bookings.conftest import TODAY, at, home_motif, next_weekday
from tests.helpers import as_agent


def state() -> dict:
    """Everything a booking operation may change."""
    return {
        "rdvs": sorted(
            Rdv.objects.values_list("pk", "starts_at", "ends_at", "status", "lieu_id", "arrived_at", "context")
        ),
        "agents": sorted(RdvAgent.objects.values_list("rdv_id", "agent_id", "starts_at", "blocks_agenda")),
        "participations": sorted(Participation.objects.values_list("rdv_id", "usager_id", "status")),
        "usagers": Usager.objects.count(),
        "journal": AuditLog.objects.count(),
    }


def refused(code, operation, *args, **kwargs) -> DomainError:
    before = state()
    with pytest.raises(DomainError) as caught:
        operation(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert state() == before, "a refused operation changed something"
    return caught.value


def free_starts(setup, day, agent=None):
    slots = find_slots([setup.motif], day, day, agent_ids=[(agent or setup.agent).pk])[setup.motif.pk]
    return {slot.start for slot in slots}


# Booking ------------------------------------------------------------------------------------------


def test_booking_inside_a_plage_is_recorded_and_logged(setup):
    rdv = setup.book(at(TODAY, 10), context="Vient pour un dossier RSA")

    assert (rdv.starts_at, rdv.ends_at) == (at(TODAY, 10), at(TODAY, 10, 30))
    assert rdv.status == RdvStatus.UNKNOWN
    assert list(rdv.participations.values_list("usager", flat=True)) == [setup.usager.pk]
    link = RdvAgent.objects.get(rdv=rdv)
    assert (link.agent, link.exclusive, link.blocks_agenda) == (setup.agent, True, True)
    entry = AuditLog.objects.get(action="rdv.created")
    assert entry.actor == setup.agent
    assert entry.organisation == setup.organisation
    assert entry.changes["motif"] == "Premier accueil"
    assert "override" not in entry.changes
    assert "Vient pour un dossier RSA" not in str(entry.changes), "the Contexte is not copied to the journal"


def test_booking_outside_the_plages_is_refused_without_override(setup):
    error = refused("outside_availability", setup.book, at(TODAY, 14))

    assert "en dehors des disponibilités" in error.message
    assert str(setup.agent) in error.message
    assert error.field == "starts_at"


def test_booking_outside_the_plages_with_override_is_accepted_and_logged(setup):
    rdv = setup.book(at(TODAY, 14), override=True)

    assert RdvAgent.objects.get(rdv=rdv).exclusive is False
    entry = AuditLog.objects.get(action="rdv.created")
    assert "hors disponibilité" in entry.changes["override"]
    assert str(setup.agent) in entry.changes["override"]


def test_booking_during_an_absence_is_refused(setup):
    Absence.objects.create(
        organisation=setup.organisation,
        agent=setup.agent,
        title="Formation",
        first_date=TODAY,
        end_date=TODAY,
        start_time=at(TODAY, 9).time(),
        end_time=at(TODAY, 11).time(),
    )
    refused("outside_availability", setup.book, at(TODAY, 10))


def test_booking_in_the_past_is_refused_unless_confirmed(setup):
    error = refused("in_past", setup.book, at(TODAY, 7))
    assert error.message == "Cet horaire est déjà passé."

    rdv = setup.book(at(TODAY, 7), override=True)
    assert rdv.starts_at == at(TODAY, 7)


def test_booking_over_another_rdv_is_refused_as_slot_taken(setup):
    setup.book(at(TODAY, 10))

    error = refused("slot_taken", setup.book, at(TODAY, 10, 15), usagers=[setup.usager2])

    assert "n'est plus disponible" in error.message


def test_booking_over_another_rdv_with_override_keeps_both_and_logs_it(setup):
    first = setup.book(at(TODAY, 10))
    second = setup.book(at(TODAY, 10), usagers=[setup.usager2], override=True)

    assert Rdv.objects.count() == 2
    assert RdvAgent.objects.get(rdv=first).exclusive is True
    assert RdvAgent.objects.get(rdv=second).exclusive is False
    assert AuditLog.objects.filter(action="rdv.created", changes__has_key="override").count() == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda s: {"agents": [s.outsider]}, "agent_outside"),
        (lambda s: {"agents": []}, "agents_required"),
        (lambda s: {"agents": [s.agent, s.agent]}, "agent_twice"),
        (lambda s: {"usagers": []}, "one_usager"),
        (lambda s: {"usagers": [s.usager, s.usager2]}, "one_usager"),
        (lambda s: {"lieu": None}, "lieu_required"),
        (
            lambda s: {"lieu": Lieu.objects.create(organisation=s.world.other_organisation, name="Nord", address="x")},
            "lieu_invalid",
        ),
        (lambda s: {"motif": s.phone_motif, "lieu": s.lieu}, "lieu_unexpected"),
        (lambda s: {"duration_minutes": 24 * 60 + 1}, "duration_invalid"),
        (lambda s: {"context": "x" * 5001}, "context_too_long"),
        (lambda s: {"motif": s.phone_motif, "visio_url": "pas une adresse"}, "visio_url_invalid"),
    ],
)
def test_invalid_booking_requests_are_refused_in_french(setup, change, code):
    error = refused(code, setup.book, at(TODAY, 10), **change(setup))
    assert error.message and error.message[0].isupper()


def test_usagers_of_another_espace_cannot_be_booked(setup, bob):
    stranger = factories.UsagerFactory(territory=bob.territory, organisations=[bob.organisation])
    refused("usager_outside", setup.book, at(TODAY, 10), usagers=[stranger])


def test_the_same_usager_twice_is_refused(setup):
    refused(
        "usager_twice", setup.book, at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager, setup.usager]
    )


def test_an_archived_motif_cannot_be_booked(setup):
    setup.motif.archived_at = at(TODAY, 7)
    setup.motif.save()
    refused("motif_archived", setup.book, at(TODAY, 10))


def test_a_new_usager_is_created_with_the_booking(setup):
    request = setup.request(at(TODAY, 10), usagers=[])
    rdv, usager = services.book_rdv_for_new_usager(
        as_agent(setup.agent, setup.organisation), {"first_name": "Inès", "last_name": "Nouvelle"}, request
    )

    assert usager.organisations.get() == setup.organisation
    assert list(rdv.participations.values_list("usager", flat=True)) == [usager.pk]
    assert AuditLog.objects.filter(action__in=["usager.created", "rdv.created"]).count() == 2


def test_a_refused_booking_leaves_no_new_usager_behind(setup):
    setup.book(at(TODAY, 10))
    request = setup.request(at(TODAY, 10), usagers=[])

    refused(
        "slot_taken",
        services.book_rdv_for_new_usager,
        as_agent(setup.agent, setup.organisation),
        {"first_name": "Inès", "last_name": "Nouvelle"},
        request,
    )
    assert not Usager.objects.filter(last_name="Nouvelle").exists()


# Moving -------------------------------------------------------------------------------------------


def test_moving_to_a_free_time_moves_the_rdv_and_its_agents(setup):
    rdv = setup.book(at(TODAY, 10))

    services.move_rdv(as_agent(setup.agent, rdv), rdv, at(TODAY, 11))

    rdv.refresh_from_db()
    assert (rdv.starts_at, rdv.ends_at) == (at(TODAY, 11), at(TODAY, 11, 30))
    assert list(RdvAgent.objects.values_list("starts_at", flat=True)) == [at(TODAY, 11)]
    entry = AuditLog.objects.get(action="rdv.moved")
    assert set(entry.changes) == {"starts_at", "ends_at"}
    assert at(TODAY, 10) in free_starts(setup, TODAY)
    assert at(TODAY, 11) not in free_starts(setup, TODAY)


def test_moving_a_little_later_over_its_own_time_is_allowed(setup):
    rdv = setup.book(at(TODAY, 10))
    services.move_rdv(as_agent(setup.agent, rdv), rdv, at(TODAY, 10, 15))
    rdv.refresh_from_db()
    assert rdv.starts_at == at(TODAY, 10, 15)


def test_moving_onto_a_taken_time_is_refused(setup):
    setup.book(at(TODAY, 11), usagers=[setup.usager2])
    rdv = setup.book(at(TODAY, 10))

    error = refused("slot_taken", services.move_rdv, as_agent(setup.agent, rdv), rdv, at(TODAY, 11))
    assert "n'est plus disponible" in error.message


def test_moving_outside_the_plages_needs_a_confirmation(setup):
    rdv = setup.book(at(TODAY, 10))
    refused("outside_availability", services.move_rdv, as_agent(setup.agent, rdv), rdv, at(TODAY, 15))

    services.move_rdv(as_agent(setup.agent, rdv), rdv, at(TODAY, 15), override=True)
    assert "hors disponibilité" in AuditLog.objects.get(action="rdv.moved").changes["override"]


def test_moving_to_another_agent_and_a_lieu_of_another_organisation(setup):
    rdv = setup.book(at(TODAY, 10))
    services.move_rdv(as_agent(setup.agent, rdv), rdv, at(TODAY, 10), agents=[setup.admin])
    assert list(RdvAgent.objects.values_list("agent", flat=True)) == [setup.admin.pk]

    other_lieu = Lieu.objects.create(organisation=setup.world.other_organisation, name="Nord", address="2 rue")
    refused("lieu_invalid", services.move_rdv, as_agent(setup.agent, rdv), rdv, at(TODAY, 11), lieu=other_lieu)
    refused("agent_outside", services.move_rdv, as_agent(setup.agent, rdv), rdv, at(TODAY, 11), agents=[setup.outsider])


def test_a_cancelled_rdv_cannot_be_moved(setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    error = refused("rdv_cancelled", services.move_rdv, as_agent(setup.agent, rdv), rdv, at(TODAY, 11))
    assert "annulé" in error.message


# Cancelling and statuses ----------------------------------------------------------------------------


def test_cancelling_frees_the_slot(setup):
    rdv = setup.book(at(TODAY, 10))
    assert at(TODAY, 10) not in free_starts(setup, TODAY)

    services.cancel_rdv(as_agent(setup.agent, rdv), rdv, reason="Usager malade")

    assert at(TODAY, 10) in free_starts(setup, TODAY)
    rdv.refresh_from_db()
    assert (rdv.status, rdv.cancel_reason) == (RdvStatus.REVOKED, "Usager malade")
    assert rdv.participations.get().status == ParticipationStatus.REVOKED
    entry = AuditLog.objects.get(action="rdv.cancelled")
    assert entry.changes == {"status": ["À venir", "Annulé par le service"], "reason": "Usager malade"}
    # The freed time can be booked again.
    setup.book(at(TODAY, 10), usagers=[setup.usager2])


def test_cancelling_at_the_usagers_request_is_excused(setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv, by_usager=True)
    rdv.refresh_from_db()
    assert rdv.status == RdvStatus.EXCUSED


def test_un_cancelling_when_the_time_was_retaken_is_refused(setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    setup.book(at(TODAY, 10), usagers=[setup.usager2])

    error = refused("slot_taken", services.set_status, as_agent(setup.agent, rdv), rdv, RdvStatus.UNKNOWN)
    assert "repris" in error.message


def test_un_cancelling_when_the_time_is_still_free_restores_the_rdv(setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv, reason="Erreur")
    services.set_status(as_agent(setup.agent, rdv), rdv, RdvStatus.UNKNOWN)

    rdv.refresh_from_db()
    assert (rdv.status, rdv.cancel_reason) == (RdvStatus.UNKNOWN, "")
    assert RdvAgent.objects.get(rdv=rdv).blocks_agenda is True
    assert at(TODAY, 10) not in free_starts(setup, TODAY)


@pytest.mark.parametrize("status", [RdvStatus.SEEN, RdvStatus.NOSHOW])
def test_seen_or_noshow_before_the_rdv_is_refused(setup, status):
    rdv = setup.book(at(TODAY, 10))
    error = refused("status_future", services.set_status, as_agent(setup.agent, rdv), rdv, status)
    assert error.message == "Ce rendez-vous n'a pas encore eu lieu."


@pytest.mark.parametrize("status", [RdvStatus.SEEN, RdvStatus.NOSHOW])
def test_seen_or_noshow_once_the_rdv_has_started(setup, status):
    rdv = setup.book(at(TODAY, 10))
    with time_machine.travel(at(TODAY, 10, 5), tick=False):
        services.set_status(as_agent(setup.agent, rdv), rdv, status)
    rdv.refresh_from_db()
    assert rdv.status == status
    assert rdv.participations.get().status == status
    assert AuditLog.objects.filter(action="rdv.status_changed").count() == 1


def test_an_unknown_status_is_refused(setup):
    rdv = setup.book(at(TODAY, 10))
    refused("status_invalid", services.set_status, as_agent(setup.agent, rdv), rdv, "perdu")


# Collective RDVs and participants -------------------------------------------------------------------


def test_a_collective_rdv_is_booked_up_to_its_capacity(setup):
    usagers = [setup.usager, setup.usager2, setup.usager3]
    rdv = setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=usagers)
    assert rdv.participations.count() == 3

    extra = factories.UsagerFactory(territory=setup.world.territory, organisations=[setup.organisation])
    error = refused("full", services.add_participant, as_agent(setup.agent, rdv), rdv, extra)
    assert error.message == "Ce rendez-vous collectif est complet."


def test_a_collective_rdv_refuses_too_many_participants_at_booking(setup):
    extra = factories.UsagerFactory(territory=setup.world.territory, organisations=[setup.organisation])
    usagers = [setup.usager, setup.usager2, setup.usager3, extra]
    error = refused("capacity", setup.book, at(TODAY, 10), motif=setup.collective_motif, usagers=usagers)
    assert "au plus 3 participants" in error.message


def test_a_cancelled_participant_frees_a_seat(setup):
    rdv = setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager, setup.usager2])
    services.add_participant(as_agent(setup.agent, rdv), rdv, setup.usager3)
    services.remove_participant(as_agent(setup.agent, rdv), rdv, setup.usager)
    extra = factories.UsagerFactory(territory=setup.world.territory, organisations=[setup.organisation])
    services.add_participant(as_agent(setup.agent, rdv), rdv, extra)
    assert rdv.participations.count() == 3
    assert AuditLog.objects.filter(action="rdv.participant_added").count() == 2
    assert AuditLog.objects.filter(action="rdv.participant_removed").count() == 1


def test_adding_a_participant_twice_is_refused(setup):
    rdv = setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager])
    error = refused("already_participant", services.add_participant, as_agent(setup.agent, rdv), rdv, setup.usager)
    assert error.message == f"{setup.usager} participe déjà à ce rendez-vous."


def test_an_individual_rdv_keeps_its_single_usager(setup):
    rdv = setup.book(at(TODAY, 10))
    refused("already_participant", services.add_participant, as_agent(setup.agent, rdv), rdv, setup.usager)
    refused("not_collective", services.add_participant, as_agent(setup.agent, rdv), rdv, setup.usager2)
    error = refused("last_participant", services.remove_participant, as_agent(setup.agent, rdv), rdv, setup.usager)
    assert "annulez ce rendez-vous" in error.message
    refused("not_participant", services.remove_participant, as_agent(setup.agent, rdv), rdv, setup.usager2)


def test_no_participant_can_join_a_cancelled_rdv(setup):
    rdv = setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager])
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    refused("rdv_cancelled", services.add_participant, as_agent(setup.agent, rdv), rdv, setup.usager2)


# Waiting room (the e-mails per setting are in test_waiting_room.py) ----------------------------------


def test_arrival_is_marked_and_undone_on_the_day(setup):
    rdv = setup.book(at(TODAY, 10))

    services.mark_arrived(as_agent(setup.agent, rdv), rdv)
    rdv.refresh_from_db()
    assert rdv.arrived_at is not None
    assert rdv.arrived_marked_by == setup.agent

    services.mark_arrived(as_agent(setup.agent, rdv), rdv, arrived=False)
    rdv.refresh_from_db()
    assert rdv.arrived_at is None
    assert [e.action for e in AuditLog.objects.filter(action__startswith="rdv.arr").order_by("pk")] == [
        "rdv.arrived",
        "rdv.arrival_undone",
    ]


def test_arrival_can_only_be_marked_on_the_day_of_the_rdv(setup):
    rdv = setup.book(at(next_weekday(TODAY), 10))
    error = refused("not_today", services.mark_arrived, as_agent(setup.agent, rdv), rdv)
    assert error.message == "L'arrivée ne peut être signalée que le jour du rendez-vous."


def test_arrival_of_a_cancelled_rdv_is_refused(setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    refused("rdv_cancelled", services.mark_arrived, as_agent(setup.agent, rdv), rdv)


def test_arrival_is_stored_so_nothing_is_lost_on_restart(setup):
    rdv = setup.book(at(TODAY, 10))
    services.mark_arrived(as_agent(setup.agent, rdv), rdv)
    fresh = Rdv.objects.get(pk=rdv.pk)  # a new process reads the database, not memory
    assert fresh.arrived_at == at(TODAY, 8)


# Editing the free-text fields -------------------------------------------------------------------------


def test_updating_the_context_logs_that_it_changed_without_its_text(setup):
    rdv = setup.book(at(TODAY, 10), motif=home_motif(setup), override=True)
    changes = services.update_rdv(
        as_agent(setup.agent, rdv), rdv, context="Texte confidentiel", address=" 3 rue Haute "
    )

    rdv.refresh_from_db()
    assert (rdv.context, rdv.address) == ("Texte confidentiel", "3 rue Haute")
    assert changes == {"context": "modifié", "address": [None, "3 rue Haute"]}
    entry = AuditLog.objects.get(action="rdv.updated")
    assert "Texte confidentiel" not in str(entry.changes)
    assert services.update_rdv(as_agent(setup.agent, rdv), rdv, context="Texte confidentiel") == {}


def test_agents_for_motif_includes_the_secretariat_when_the_motif_is_open_to_it(setup):
    assert setup.secretariat not in rdv_selectors.agents_for_motif(as_agent(None, setup.organisation), setup.motif)
    setup.motif.for_secretariat = True
    setup.motif.save()
    assert setup.secretariat in rdv_selectors.agents_for_motif(as_agent(None, setup.organisation), setup.motif)
    assert setup.other_agent not in rdv_selectors.agents_for_motif(as_agent(None, setup.organisation), setup.motif)


def test_cancelled_rdvs_do_not_block_the_engine_but_still_exist(setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    assert Rdv.objects.filter(pk=rdv.pk).exists()
    assert RdvAgent.objects.get(rdv=rdv).blocks_agenda is False
    assert at(TODAY, 10) in free_starts(setup, TODAY)


def test_an_usager_of_another_organisation_booked_here_now_belongs_here_too(setup):
    setup.world.territory.usagers_visible_territory_wide = True  # found across the espace
    setup.world.territory.save()
    stranger = factories.UsagerFactory(
        territory=setup.organisation.territory, last_name="Nord", organisations=[setup.world.other_organisation]
    )
    rdv = setup.book(usagers=[stranger])
    assert set(stranger.organisations.all()) == {setup.world.other_organisation, setup.organisation}
    assert AuditLog.objects.filter(action="usager.added_to_organisation", object_id=str(stranger.pk)).count() == 1
    assert rdv.participations.get().usager == stranger


def test_joining_a_collective_rdv_attaches_the_usager_to_the_organisation(setup):
    setup.world.territory.usagers_visible_territory_wide = True  # found across the espace
    setup.world.territory.save()
    rdv = setup.book(motif=setup.collective_motif)
    stranger = factories.UsagerFactory(territory=setup.organisation.territory, organisations=[])
    services.add_participant(as_agent(setup.agent, rdv), rdv, stranger)
    assert list(stranger.organisations.all()) == [setup.organisation]


def test_an_usager_the_agent_may_not_read_cannot_be_booked_or_added(setup):
    """Without espace-wide visibility, an usager of another organisation is out of reach."""
    stranger = factories.UsagerFactory(
        territory=setup.organisation.territory, last_name="Nord", organisations=[setup.world.other_organisation]
    )
    refused("forbidden", setup.book, usagers=[stranger])
    rdv = setup.book(motif=setup.collective_motif)
    refused("forbidden", services.add_participant, as_agent(setup.agent, rdv), rdv, stranger)
    assert list(stranger.organisations.all()) == [setup.world.other_organisation]
