"""The usagers' e-mails about their RDVs, through the real outbox (issue 20): who gets what, with
which content, the ICS file calendars act on, reminders that are never late or stale, and the
preferences link."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from rdv.bookings.models import CreatedBy, Rdv
from rdv.bookings.services import BookingRequest, add_participant, book_rdv, cancel_rdv, move_rdv
from rdv.core.context import Context
from rdv.motifs.models import Visibility
from rdv.notifications.models import Reminder
from rdv.notifications.reminders import send_due_reminders
from rdv.online import services as online
from rdv.outbox import services as outbox
from rdv.outbox.models import Delivery, Purpose, Status
from tests import factories
from tests.helpers import deliver_emails
from tests.online.fixtures import INSTRUCTIONS_AFTER, MARKER, NOW, THURSDAY, TUESDAY, at, build_online

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def system(world):
    return Context.system(world.territory, world.organisation)


def person(world, **kwargs):
    values = {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne.dupont@exemple.fr", **kwargs}
    return factories.UsagerFactory(territory=world.territory, organisations=[world.organisation], **values)


def book(world, start=None, usagers=None, motif=None):
    request = BookingRequest(
        motif=motif or world.motif,
        starts_at=start or at(TUESDAY, 10),
        agents=[world.agent],
        usagers=usagers if usagers is not None else [person(world)],
        lieu=world.lieu,
        context=MARKER,
    )
    return book_rdv(system(world), request)


def new_messages() -> list:
    """The e-mails to usagers sent since the last call (the outbox run now); the agents' own e-mails
    (tests/notifications/test_agent_emails.py) are left out."""
    messages = [m for m in deliver_emails() if not any(to.startswith("online-agent") for to in m.to)]
    mail.outbox.clear()
    return messages


def sent_to(address: str) -> list:
    return [message for message in new_messages() if address in message.to]


def ics_of(message) -> Calendar:
    (attachment,) = [a for a in message.attachments if a[0] == "rendez-vous.ics"]
    return Calendar.from_ical(attachment[1])


def html_of(message) -> str:
    return message.alternatives[0][0]


def test_a_rdv_booked_by_an_agent_is_confirmed_to_the_usager_with_what_they_need(world, client):
    rdv = book(world)
    (message,) = sent_to("jeanne.dupont@exemple.fr")
    assert message.subject == "Rendez-vous confirmé le mardi 9 mars 2027 à 10 h 00"
    for part in (message.body, html_of(message)):
        assert "Votre rendez-vous est confirmé." in part
        assert "mardi 9 mars 2027 à 10 h 00" in part and "heure de Paris" in part
        assert "MDS Centre, 1 place de la Mairie 26000 Valence" in part
        assert "pièce d'identité" in part  # the instructions after booking
        assert MARKER not in part and world.agent.last_name not in part  # never the Contexte nor the agent
    assert INSTRUCTIONS_AFTER in html_of(message)
    calendar = ics_of(message)
    assert calendar["METHOD"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"rdv-{rdv.pk}@testserver"
    assert event.decoded("DTSTART") == at(TUESDAY, 10)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "mailto:jeanne.dupont@exemple.fr" in str(event["ATTENDEE"])
    # The manage link in the e-mail opens this RDV, and is the same in every later e-mail.
    link = re.search(r"http://testserver(/r/\S+)", message.body).group(1)
    response = client.post(link, {"lettres": "Dup"})
    assert response.status_code == 302
    assert "mardi 9 mars 2027" in client.get(link).content.decode()
    move_rdv(system(world), rdv, at(TUESDAY, 11))
    (moved,) = sent_to("jeanne.dupont@exemple.fr")
    assert link in moved.body


def test_a_move_updates_the_calendar_event_and_a_cancellation_removes_it(world, frozen):
    rdv = book(world)
    (created,) = sent_to("jeanne.dupont@exemple.fr")
    frozen.shift(timedelta(minutes=5))
    move_rdv(system(world), rdv, at(THURSDAY, 11))
    (moved,) = sent_to("jeanne.dupont@exemple.fr")
    assert moved.subject == "Rendez-vous déplacé au jeudi 11 mars 2027 à 11 h 00"
    assert "Votre rendez-vous a été déplacé." in moved.body
    frozen.shift(timedelta(minutes=5))
    cancel_rdv(system(world), Rdv.objects.get(pk=rdv.pk), reason="Agent absent")
    (cancelled,) = sent_to("jeanne.dupont@exemple.fr")
    assert cancelled.subject == "Rendez-vous du jeudi 11 mars 2027 à 11 h 00 annulé"
    assert "annulé par le service" in cancelled.body and "/r/" not in cancelled.body
    events = [ics_of(m).walk("VEVENT")[0] for m in (created, moved, cancelled)]
    assert len({str(e["UID"]) for e in events}) == 1  # one event, updated then removed
    sequences = [int(e["SEQUENCE"]) for e in events]
    assert sequences[0] < sequences[1] < sequences[2]
    assert events[1].decoded("DTSTART") == at(THURSDAY, 11)
    assert ics_of(cancelled)["METHOD"] == "CANCEL" and str(events[2]["STATUS"]) == "CANCELLED"


def test_what_the_motif_and_the_usager_do_not_want_is_not_sent(world):
    book(world, usagers=[person(world, email="non@exemple.fr", notify_by_email=False)])
    for visibility in (Visibility.VISIBLE_NOT_NOTIFIED, Visibility.INVISIBLE):
        motif = factories.MotifFactory(
            organisation=world.organisation, service=world.service, name=f"Motif {visibility}", visibility=visibility
        )
        for plage in world.organisation.plages.all():
            plage.motifs.add(motif)
        book(world, at(TUESDAY, 9), usagers=[person(world, email=f"{visibility}@exemple.fr")], motif=motif)
        cancel_rdv(system(world), Rdv.objects.filter(motif=motif).get())
    book(world, at(TUESDAY, 11), usagers=[person(world, email="")])  # no address
    assert new_messages() == []


def test_a_relatives_messages_go_to_the_responsible_usager(world):
    parent = person(world, first_name="Marie", email="marie.martin@exemple.fr")
    child = person(world, first_name="Lucas", last_name="Martin", email="", responsible=parent)
    book(world, usagers=[child])
    (message,) = sent_to("marie.martin@exemple.fr")
    assert message.body.startswith("Bonjour Marie,")
    assert "Rendez-vous de : Lucas MARTIN" in message.body


def test_nothing_is_sent_about_a_rdv_that_has_started(world, frozen):
    rdv = book(world, at(TUESDAY, 10))
    new_messages()
    frozen.move_to(at(TUESDAY, 10, 5))
    cancel_rdv(system(world), rdv, reason="Absent")
    assert new_messages() == []


def test_online_bookings_are_confirmed_once_and_their_online_changes_are_told(world):
    booking = world.hold(at(TUESDAY, 10))
    online.submit_details(
        booking,
        {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@exemple.fr", "phone": ""},
        holder_key="visiteur-1",
    )
    code = re.search(r"\b(\d{6})\b", sent_to("jeanne@exemple.fr")[0].body).group(1)
    booking = online.confirm_booking(booking, code, holder_key="visiteur-1", ip="203.0.113.1")
    assert booking.rdv.created_by == CreatedBy.USAGER
    confirmations = sent_to("jeanne@exemple.fr")
    assert [m.subject for m in confirmations] == ["Rendez-vous confirmé le mardi 9 mars 2027"]  # rdv.online's own
    link = online.ManageLink.objects.get(rdv=booking.rdv)
    online.cancel_online(link)
    (cancelled,) = sent_to("jeanne@exemple.fr")
    assert "Votre annulation est enregistrée" in cancelled.body


def test_a_participant_added_to_a_collective_rdv_is_told_alone(world):
    first = person(world, email="premiere@exemple.fr")
    rdv = book(world, usagers=[first], motif=world.collective_motif)
    new_messages()
    second = person(world, first_name="Paul", email="paul@exemple.fr")
    add_participant(system(world), rdv, second)
    sent = new_messages()
    assert [m.to for m in sent] == [["paul@exemple.fr"]]
    assert "Votre rendez-vous est confirmé." in sent[0].body


# Reminders ----------------------------------------------------------------------------------------


def test_the_reminder_is_written_48_hours_before_once(world, frozen):
    book(world, at(THURSDAY, 10))
    new_messages()
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=48, minutes=1))
    assert send_due_reminders() == 0
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=48))
    assert send_due_reminders() == 1
    assert send_due_reminders() == 0  # the scheduler running twice sends once
    (reminder,) = sent_to("jeanne.dupont@exemple.fr")
    assert reminder.subject == "Rappel : rendez-vous le jeudi 11 mars 2027 à 10 h 00"
    assert "pièce d'identité" in reminder.body and MARKER not in reminder.body


def test_no_48_hour_reminder_for_a_rdv_booked_later_but_the_second_one_comes(world, frozen):
    world.territory.reminder_second_hours = 2
    world.territory.save()
    frozen.move_to(at(TUESDAY, 8))
    book(world, at(TUESDAY, 11))  # booked 3 hours ahead
    new_messages()
    assert send_due_reminders() == 0
    frozen.move_to(at(TUESDAY, 9))
    assert send_due_reminders() == 1
    assert Reminder.objects.get().kind == "second"


def test_a_moved_rdv_gets_no_stale_reminder_and_a_new_one_for_its_new_time(world, frozen):
    rdv = book(world, at(THURSDAY, 10))
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=47))
    assert send_due_reminders() == 1  # written, not sent yet (the outbox has not run)
    move_rdv(system(world), rdv, at(THURSDAY, 11))
    stale = Delivery.objects.get(purpose=Purpose.REMINDER)
    assert stale.status == Status.CANCELLED
    assert send_due_reminders() == 1  # for 11:00
    subjects = [m.subject for m in sent_to("jeanne.dupont@exemple.fr")]
    assert "Rappel : rendez-vous le jeudi 11 mars 2027 à 11 h 00" in subjects
    assert not any("10 h 00" in s and s.startswith("Rappel") for s in subjects)


def test_a_reminder_is_never_sent_once_the_rdv_has_started_even_after_an_outage(world, frozen, failing_smtp):
    book(world, at(THURSDAY, 10))
    new_messages()
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=48))
    send_due_reminders()
    failing_smtp(True)  # the provider is down for three days
    for _ in range(72):
        outbox.run_due_deliveries()
        frozen.shift(timedelta(hours=1))
    failing_smtp(False)
    outbox.run_due_deliveries()
    reminder = Delivery.objects.get(purpose=Purpose.REMINDER)
    assert reminder.status == Status.ABANDONED and reminder.sent_at is None
    assert not [m for m in mail.outbox if m.subject.startswith("Rappel")]


def test_reminders_follow_the_absolute_time_across_the_dst_change_and_overseas(db, frozen):
    frozen.move_to(datetime(2027, 3, 22, 8, 0, tzinfo=PARIS))
    world = build_online("dst")
    world.territory.reminder_first_hours = 72
    world.territory.save()
    rdv = book(world, datetime(2027, 3, 30, 10, 0, tzinfo=PARIS))  # Tuesday after the change (Sunday 28 March)
    new_messages()
    due = datetime(2027, 3, 27, 9, 0, tzinfo=PARIS)  # 72 hours before = Saturday 09:00 (CET, UTC+1), not 10:00
    frozen.move_to(due - timedelta(minutes=1))
    assert send_due_reminders() == 0
    frozen.move_to(due)
    assert send_due_reminders() == 1
    assert rdv.starts_at.astimezone(UTC) - due.astimezone(UTC) == timedelta(hours=72)  # absolute hours
    reunion = build_online("reunion")
    reunion.territory.time_zone = "Indian/Reunion"
    reunion.territory.save()
    local = ZoneInfo("Indian/Reunion")
    book(reunion, datetime(2027, 3, 31, 10, 0, tzinfo=local), usagers=[person(reunion, email="974@exemple.fr")])
    frozen.move_to(datetime(2027, 3, 29, 10, 0, tzinfo=local))
    assert send_due_reminders() == 1
    (message,) = [m for m in sent_to("974@exemple.fr") if m.subject.startswith("Rappel")]
    assert message.subject == "Rappel : rendez-vous le mercredi 31 mars 2027 à 10 h 00"
    assert "heure de La Réunion" in message.body


# Preferences --------------------------------------------------------------------------------------


def test_the_preferences_link_of_the_emails_lets_the_usager_stop_them(world, client):
    jeanne = person(world)
    book(world, usagers=[jeanne])
    (message,) = sent_to("jeanne.dupont@exemple.fr")
    path = re.search(r"http://testserver(/notifications/\S+/)", message.body).group(1)
    page = client.get(path)
    assert page.status_code == 200 and "Bonjour Jeanne" in page.content.decode()
    response = client.post(path, {"by_sms": "on"})
    assert response.status_code == 302
    jeanne.refresh_from_db()
    assert (jeanne.notify_by_email, jeanne.notify_by_sms) == (False, True)
    book(world, at(TUESDAY, 11), usagers=[jeanne])
    assert sent_to("jeanne.dupont@exemple.fr") == []
    bad = client.get(reverse("public:notification_preferences", args=["pas-un-jeton"]))
    assert bad.status_code == 404 and "Ce lien n'est pas valide" in bad.content.decode()


# SMS ----------------------------------------------------------------------------------------------


def sms_rows():
    from rdv.outbox.models import Channel

    return list(Delivery.objects.filter(channel=Channel.SMS).order_by("id"))


def test_usagers_who_accept_sms_get_one_segment_messages_with_the_manage_link(world, frozen):
    jeanne = person(world, email="", phone="+33612345678", notify_by_sms=True)
    rdv = book(world, usagers=[jeanne])
    move_rdv(system(world), rdv, at(THURSDAY, 11))
    frozen.move_to(at(THURSDAY, 11) - timedelta(hours=48))
    send_due_reminders()
    cancel_rdv(system(world), Rdv.objects.get(pk=rdv.pk), reason="Agent absent")
    texts = [row.text for row in sms_rows()]
    assert texts[0].startswith("RDV confirmé le mar. 9/03 à 10h00, MDS Centre. Infos, déplacer ou annuler : http")
    assert texts[1].startswith("RDV déplacé au jeu. 11/03 à 11h00, MDS Centre. Infos : http")
    assert texts[2].startswith("Rappel : RDV le jeu. 11/03 à 11h00, MDS Centre.")
    assert texts[3] == "Votre RDV du jeu. 11/03 à 11h00 (MDS Centre) est annulé par le service."
    for row in sms_rows():
        assert row.recipient == "+33612345678"
        assert row.headers["segments"] == 1 and row.headers["encoding"] == "GSM-7"
        assert MARKER not in row.text
    # Each SMS expires at the start the RDV had when it was written: never sent after it.
    assert [row.expires_at for row in sms_rows()] == [at(TUESDAY, 10)] + [at(THURSDAY, 11)] * 3
    link = re.search(r"(/r/\S+)", texts[0]).group(1)
    assert link in texts[1]  # the same manage link in every message


def test_no_sms_for_a_landline_a_refusal_or_a_cancellation_by_the_usager_themselves(world):
    book(world, usagers=[person(world, email="", phone="+33475000000", notify_by_sms=True)])  # a landline
    book(world, at(TUESDAY, 11), usagers=[person(world, email="", phone="+33612345678", notify_by_sms=False)])
    assert sms_rows() == []
    jeanne = person(world, email="", phone="+33611111111", notify_by_sms=True)
    rdv = book(world, at(THURSDAY, 9), usagers=[jeanne])
    cancel_rdv(system(world), rdv, by_usager=True)
    assert [row.text[:12] for row in sms_rows()] == ["RDV confirmé"]


def _book_online(world, start, phone, email="jeanne@exemple.fr"):
    booking = world.hold(start)
    online.submit_details(
        booking,
        {"first_name": "Jeanne", "last_name": "Dupont", "email": email, "phone": phone},
        holder_key="visiteur-1",
    )
    code = re.search(r"\b(\d{6})\b", sent_to(email)[0].body).group(1)
    return online.confirm_booking(booking, code, holder_key="visiteur-1", ip="203.0.113.1")


def test_an_online_booking_gets_a_confirmation_sms_only_when_it_is_at_most_48_hours_ahead(world):
    _book_online(world, at(TUESDAY, 10), "06 12 34 56 78")  # 26 hours ahead
    (sms,) = sms_rows()
    assert sms.recipient == "+33612345678" and sms.text.startswith("RDV confirmé le mar. 9/03 à 10h00")
    assert [m.subject for m in sent_to("jeanne@exemple.fr")] == ["Rendez-vous confirmé le mardi 9 mars 2027"]
    Delivery.objects.all().delete()
    _book_online(world, at(THURSDAY + timedelta(days=7), 10), "06 12 34 56 79", "autre@exemple.fr")  # 10 days ahead
    assert sms_rows() == []
