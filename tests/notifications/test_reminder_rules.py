"""The reminders' rules that the journeys of test_usager_emails.py do not reach, found by mutation
testing (mutation/notifications-reminders.toml): no reminder for a cancelled RDV, a started one or a
motif not notified, both kinds for one RDV, a participant added after the reminder, and a reminder
already written by a concurrent run of the scheduler."""

from datetime import timedelta

import pytest
import time_machine
from django.db.models.signals import pre_save

from rdv.bookings.models import Rdv
from rdv.bookings.services import add_participant, cancel_rdv
from rdv.motifs.models import Visibility
from rdv.notifications.models import Reminder
from rdv.notifications.reminders import send_due_reminders
from tests import factories
from tests.notifications.test_usager_emails import book, new_messages, person, system
from tests.online.fixtures import NOW, THURSDAY, at, build_online


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def test_a_cancelled_rdv_gets_no_reminder_whoever_cancelled_it(world, frozen):
    by_service = book(world, at(THURSDAY, 10))
    by_usager = book(world, at(THURSDAY, 11), usagers=[person(world, email="autre@exemple.fr")])
    cancel_rdv(system(world), by_service, reason="Agent absent")
    cancel_rdv(system(world), by_usager, by_usager=True)
    frozen.move_to(at(THURSDAY, 11) - timedelta(hours=47))
    assert send_due_reminders() == 0
    assert not Reminder.objects.exists()


def test_a_rdv_that_has_started_gets_no_reminder_after_the_scheduler_was_down(world, frozen):
    book(world, at(THURSDAY, 10))
    frozen.move_to(at(THURSDAY, 10, 5))  # the scheduler did not run from 48 hours before until now
    assert send_due_reminders() == 0
    assert not Reminder.objects.exists()


def test_a_motif_not_notified_gets_no_reminder(world, frozen):
    motif = factories.MotifFactory(
        organisation=world.organisation,
        service=world.service,
        name="Motif discret",
        visibility=Visibility.VISIBLE_NOT_NOTIFIED,
    )
    for plage in world.organisation.plages.all():
        plage.motifs.add(motif)
    book(world, at(THURSDAY, 10), motif=motif)
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=47))
    assert send_due_reminders() == 0


def test_a_reminder_written_by_a_concurrent_run_is_skipped_and_the_next_participants_still_get_theirs(world, frozen):
    first = person(world, email="premiere@exemple.fr")
    second = person(world, first_name="Paul", email="paul@exemple.fr")
    rdv = book(world, at(THURSDAY, 10), usagers=[first, second], motif=world.collective_motif)
    new_messages()
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=47))
    raced = []

    def concurrent_run_writes_first(sender, instance, **kwargs):
        # Another scheduler run inserts the first participant's reminder between our query and our insert.
        if instance.usager_id == first.pk and not raced:
            raced.append(instance.usager_id)
            Reminder.objects.create(rdv=rdv, usager=first, kind=instance.kind, starts_at=instance.starts_at)

    pre_save.connect(concurrent_run_writes_first, sender=Reminder)
    try:
        written = send_due_reminders()
    finally:
        pre_save.disconnect(concurrent_run_writes_first, sender=Reminder)
    assert raced == [first.pk]
    assert written == 1  # the second participant's; the first one's belongs to the other run
    assert list(Reminder.objects.values_list("usager_id", flat=True)) == [second.pk]
    reminders = [m for m in new_messages() if m.subject.startswith("Rappel")]
    assert [m.to for m in reminders] == [["paul@exemple.fr"]]
    assert Rdv.objects.get(pk=rdv.pk).participations.count() == 2


def test_both_reminders_come_for_a_rdv_booked_well_ahead(world, frozen):
    world.territory.reminder_second_hours = 2
    world.territory.save()
    book(world, at(THURSDAY, 10))
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=48))
    assert send_due_reminders() == 1
    frozen.move_to(at(THURSDAY, 8))
    assert send_due_reminders() == 1  # the first one written does not stand for the second
    assert sorted(Reminder.objects.values_list("kind", flat=True)) == ["first", "second"]


def test_a_participant_added_after_the_reminder_was_written_gets_none_of_that_kind(world, frozen):
    # As for a RDV booked after its reminder's time: the confirmation they just got is enough.
    first = person(world, email="premiere@exemple.fr")
    rdv = book(world, at(THURSDAY, 10), usagers=[first], motif=world.collective_motif)
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=47))
    assert send_due_reminders() == 1
    add_participant(system(world), rdv, person(world, first_name="Paul", email="paul@exemple.fr"))
    frozen.shift(timedelta(minutes=10))
    assert send_due_reminders() == 0
    assert list(Reminder.objects.values_list("usager_id", flat=True)) == [first.pk]
