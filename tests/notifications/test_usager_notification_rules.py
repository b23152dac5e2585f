"""The rules of rdv.notifications.events that the journeys of test_usager_emails.py do not reach,
found by mutation testing (mutation/notifications-events.toml): what is not even written to the
outbox, the e-mail's expiry at the RDV's start, which waiting messages a move cancels, and the
online bookings' later changes and SMS confirmation."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from rdv.bookings.services import cancel_rdv, mark_arrived, move_rdv, set_status, update_rdv
from rdv.notifications.reminders import send_due_reminders
from rdv.outbox import services as outbox
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from tests.notifications.test_usager_emails import _book_online, book, new_messages, person, sent_to, system
from tests.online.fixtures import NOW, THURSDAY, TUESDAY, at, build_online


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def test_a_reminder_held_by_an_outage_is_not_sent_once_the_rdv_has_started(world, frozen, failing_smtp):
    book(world, at(THURSDAY, 10))
    new_messages()
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=48))
    send_due_reminders()
    failing_smtp(True)
    outbox.run_due_deliveries()  # one failed attempt; the provider comes back after the start
    failing_smtp(False)
    frozen.move_to(at(THURSDAY, 10, 5))
    assert not [m for m in new_messages() if m.subject.startswith("Rappel")]
    reminder = Delivery.objects.get(purpose=Purpose.REMINDER)
    assert reminder.status == Status.ABANDONED and reminder.expires_at == at(THURSDAY, 10)


def test_nothing_is_even_written_to_the_outbox_about_a_rdv_that_has_started(world, frozen):
    starting = book(world, at(TUESDAY, 10), usagers=[person(world, phone="+33612345678", notify_by_sms=True)])
    started = book(world, at(TUESDAY, 9), usagers=[person(world, email="autre@exemple.fr")])
    before = Delivery.objects.count()
    frozen.move_to(at(TUESDAY, 10))  # the first one starts now, the second one started an hour ago
    cancel_rdv(system(world), starting, reason="Absent")
    cancel_rdv(system(world), started, reason="Absent")
    assert Delivery.objects.count() == before


def test_an_online_booking_moved_by_an_agent_is_told_by_email(world):
    rdv = _book_online(world, at(TUESDAY, 10), "").rdv
    new_messages()
    move_rdv(system(world), rdv, at(TUESDAY, 11))
    assert [m.subject for m in sent_to("jeanne@exemple.fr")] == ["Rendez-vous déplacé au mardi 9 mars 2027 à 11 h 00"]


def test_an_online_booking_exactly_48_hours_ahead_gets_its_confirmation_sms(world, frozen):
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=48))
    _book_online(world, at(THURSDAY, 10), "06 12 34 56 78")
    assert list(Delivery.objects.filter(channel=Channel.SMS).values_list("recipient", flat=True)) == ["+33612345678"]


def test_an_usager_without_an_email_address_gets_no_email_row(world):
    book(world, usagers=[person(world, email="")])
    assert not Delivery.objects.filter(channel=Channel.EMAIL).exclude(recipient__startswith="online-agent").exists()


def test_a_move_cancels_only_the_waiting_reminders_of_that_rdv(world, frozen):
    jeanne = person(world, phone="+33612345678", notify_by_sms=True)
    moved = book(world, at(THURSDAY, 10), usagers=[jeanne])
    other = book(world, at(THURSDAY, 11), usagers=[person(world, email="autre@exemple.fr")])
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=48))
    send_due_reminders()
    sent_reminder = Delivery.objects.get(purpose=Purpose.REMINDER, channel=Channel.EMAIL, object_id=moved.pk)
    outbox.run_due_deliveries()  # the confirmations and this reminder go; the SMS reminder waits below
    waiting = {"status": Status.PENDING, "next_attempt_at": timezone.now(), "sent_at": None}
    Delivery.objects.filter(channel=Channel.SMS, purpose=Purpose.REMINDER).update(**waiting)
    confirmation = Delivery.objects.get(channel=Channel.SMS, purpose=Purpose.RDV_NOTIFICATION, object_id=moved.pk)
    Delivery.objects.filter(pk=confirmation.pk).update(**waiting)
    frozen.move_to(at(THURSDAY, 11) - timedelta(hours=48))
    send_due_reminders()
    others = Delivery.objects.get(purpose=Purpose.REMINDER, object_id=other.pk)
    move_rdv(system(world), moved, at(THURSDAY, 9))
    statuses = {
        "sent reminder": Delivery.objects.get(pk=sent_reminder.pk).status,
        "waiting SMS reminder": Delivery.objects.get(channel=Channel.SMS, purpose=Purpose.REMINDER).status,
        "waiting confirmation": Delivery.objects.get(pk=confirmation.pk).status,
        "other RDV's reminder": Delivery.objects.get(pk=others.pk).status,
    }
    assert statuses == {
        "sent reminder": Status.SENT,
        "waiting SMS reminder": Status.CANCELLED,
        "waiting confirmation": Status.PENDING,
        "other RDV's reminder": Status.PENDING,
    }


def test_the_other_changes_of_a_rdv_tell_the_usager_nothing(world, frozen):
    rdv = book(world, at(TUESDAY, 10), usagers=[person(world, phone="+33612345678", notify_by_sms=True)])
    to_the_usager = Delivery.objects.filter(recipient__in=["jeanne.dupont@exemple.fr", "+33612345678"])
    assert to_the_usager.count() == 2  # the confirmation: e-mail and SMS
    update_rdv(system(world), rdv, context="Dossier complet")
    frozen.move_to(at(TUESDAY, 9, 50))
    mark_arrived(system(world), rdv)
    assert to_the_usager.count() == 2


def test_a_cancellation_by_the_usager_recorded_by_an_agent_is_worded_for_them_and_sends_no_sms(world):
    jeanne = person(world, phone="+33612345678", notify_by_sms=True)
    rdv = book(world, usagers=[jeanne])
    new_messages()
    set_status(system(world), rdv, "excused")  # the status form gives the value as a plain string
    (cancelled,) = sent_to("jeanne.dupont@exemple.fr")
    assert "Votre annulation est enregistrée" in cancelled.body
    assert [row.text[:12] for row in Delivery.objects.filter(channel=Channel.SMS)] == ["RDV confirmé"]
