"""What the usager hears of a move that changes only the agents (nothing: their RDV is the same) and
of a cancellation undone (« de nouveau confirmé », by e-mail with an ICS REQUEST that brings the
event back, and by SMS), with the rules of the other messages: the motif's visibility, the
preferences, a relative's messages to the responsible usager, nothing once the RDV has started."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine

from rdv.bookings.models import Rdv
from rdv.bookings.services import cancel_rdv, move_rdv, set_status
from rdv.motifs.models import Visibility
from rdv.notifications.reminders import send_due_reminders
from rdv.online import services as online
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from tests import factories
from tests.notifications.test_usager_emails import (
    _book_online,
    book,
    html_of,
    ics_of,
    new_messages,
    person,
    sent_to,
    system,
)
from tests.online.fixtures import MARKER, NOW, THURSDAY, at, build_online

JEANNE = "jeanne.dupont@exemple.fr"
MOBILE = "+33612345678"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def to_usagers():
    return Delivery.objects.exclude(purpose=Purpose.AGENT_NOTIFICATION).exclude(recipient__startswith="online-agent")


def sms_texts(to=MOBILE) -> list[str]:
    return list(
        Delivery.objects.filter(channel=Channel.SMS, recipient=to).order_by("pk").values_list("text", flat=True)
    )


# A move of the agents alone ---------------------------------------------------------------------


def test_a_move_of_the_agents_alone_tells_the_usager_nothing_and_keeps_their_reminders(world, frozen):
    rdv = book(world, at(THURSDAY, 10), usagers=[person(world, phone=MOBILE, notify_by_sms=True)])
    frozen.move_to(at(THURSDAY, 10) - timedelta(hours=47))
    assert send_due_reminders() == 1  # the e-mail and the SMS reminders, written, not sent yet
    before = dict(to_usagers().values_list("pk", "status"))
    assert list(before.values()).count(Status.PENDING) == 4  # the confirmations and the reminders
    to_agents = Delivery.objects.filter(purpose=Purpose.AGENT_NOTIFICATION)
    agents_before = set(to_agents.values_list("pk", flat=True))

    move_rdv(system(world), rdv, at(THURSDAY, 10), agents=[world.agent2])  # same time, same lieu
    move_rdv(system(world), rdv, at(THURSDAY, 10))  # nothing changes at all

    assert dict(to_usagers().values_list("pk", "status")) == before
    assert send_due_reminders() == 0  # the reminders written stay the right ones
    # The agents still hear of it, by their own rules: the one removed, the one added.
    told = to_agents.exclude(pk__in=agents_before).order_by("pk")
    assert [(row.recipient, row.subject[:30]) for row in told] == [
        (world.agent2.email, "Nouveau rendez-vous le jeudi 1"),
        (world.agent.email, "Rendez-vous du jeudi 11 mars 2"),
    ]


def test_a_move_to_another_lieu_at_the_same_time_is_told_to_the_usager(world):
    rdv = book(world, at(THURSDAY, 10), usagers=[person(world, phone=MOBILE, notify_by_sms=True)])
    new_messages()
    move_rdv(system(world), rdv, at(THURSDAY, 10), lieu=world.other_lieu, override=True)
    (moved,) = sent_to(JEANNE)
    assert moved.subject == "Rendez-vous déplacé au jeudi 11 mars 2027 à 10 h 00"
    assert "MDS Gare, 3 avenue de la Gare 26000 Valence" in moved.body
    assert sms_texts()[-1].startswith("RDV déplacé au jeu. 11/03 à 10h00, MDS Gare. Infos : http")


def test_a_move_of_the_time_and_the_agents_together_is_told_to_the_usager(world):
    rdv = book(world, at(THURSDAY, 10))
    new_messages()
    move_rdv(system(world), rdv, at(THURSDAY, 11), agents=[world.agent2])
    assert [m.subject for m in sent_to(JEANNE)] == ["Rendez-vous déplacé au jeudi 11 mars 2027 à 11 h 00"]


# A cancellation undone --------------------------------------------------------------------------


def test_a_cancellation_undone_confirms_the_rdv_again_by_email_and_sms(world, frozen):
    rdv = book(world, at(THURSDAY, 10), usagers=[person(world, phone=MOBILE, notify_by_sms=True)])
    (created,) = sent_to(JEANNE)
    frozen.shift(timedelta(minutes=5))
    cancel_rdv(system(world), rdv, reason="Agent absent")
    (cancelled,) = sent_to(JEANNE)
    frozen.shift(timedelta(minutes=5))

    set_status(system(world), Rdv.objects.get(pk=rdv.pk), "unknown")  # the status form's plain string

    (restored,) = sent_to(JEANNE)
    assert restored.subject == "Rendez-vous de nouveau confirmé le jeudi 11 mars 2027 à 10 h 00"
    assert html_of(restored).lstrip().startswith("<!DOCTYPE html>")  # no template comment shows
    for part in (restored.body, unescape(html_of(restored))):
        assert "Votre rendez-vous n'est plus annulé : il est de nouveau confirmé." in part
        assert "MDS Centre, 1 place de la Mairie 26000 Valence" in part
        assert "pièce d'identité" in part  # the instructions after booking
        assert MARKER not in part and world.agent.last_name not in part
    link = re.search(r"http://testserver(/r/\S+)", created.body).group(1)
    assert link in restored.body  # the same manage link again
    # The calendar event the cancellation removed comes back: same UID, a higher SEQUENCE.
    calendar = ics_of(restored)
    assert calendar["METHOD"] == "REQUEST"
    event, removed = calendar.walk("VEVENT")[0], ics_of(cancelled).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["UID"]) == str(removed["UID"]) == f"rdv-{rdv.pk}@testserver"
    assert int(event["SEQUENCE"]) > int(removed["SEQUENCE"])
    assert event.decoded("DTSTART") == at(THURSDAY, 10)
    assert "mailto:jeanne.dupont@exemple.fr" in str(event["ATTENDEE"])
    # The SMS: confirmed, cancelled by the service, confirmed again.
    texts = sms_texts()
    assert len(texts) == 3
    assert texts[2].startswith(
        "RDV de nouveau confirmé le jeu. 11/03 à 10h00, MDS Centre. Infos : http://testserver/r/"
    )
    assert link in texts[2]
    sms = Delivery.objects.filter(channel=Channel.SMS).latest("pk")
    assert (sms.headers["segments"], sms.expires_at, sms.purpose) == (1, at(THURSDAY, 10), Purpose.RDV_NOTIFICATION)
    email = Delivery.objects.get(channel=Channel.EMAIL, recipient=JEANNE, subject=restored.subject)
    assert email.expires_at == at(THURSDAY, 10)


def test_an_online_booking_the_usager_cancelled_then_restored_by_an_agent_is_confirmed_again(world, frozen):
    rdv = _book_online(world, at(THURSDAY, 10), "06 12 34 56 78").rdv  # 50 hours ahead: no SMS
    online.cancel_online(online.ManageLink.objects.get(rdv=rdv))
    new_messages()
    frozen.shift(timedelta(minutes=5))
    set_status(system(world), rdv, "unknown")
    assert [m.subject for m in sent_to("jeanne@exemple.fr")] == [
        "Rendez-vous de nouveau confirmé le jeudi 11 mars 2027 à 10 h 00"
    ]
    assert [text[:26] for text in sms_texts()] == ["RDV de nouveau confirmé le"]


def test_the_other_status_changes_of_a_future_rdv_tell_the_usager_nothing(world):
    rdv = book(world, at(THURSDAY, 10), usagers=[person(world, phone=MOBILE, notify_by_sms=True)])
    cancel_rdv(system(world), rdv, by_usager=True)
    written = to_usagers().count()
    set_status(system(world), rdv, "revoked")  # from « annulé par l'usager » to « par le service »
    assert to_usagers().count() == written


def test_an_absent_rdv_moved_then_set_back_to_a_venir_is_not_confirmed_again(world, frozen):
    rdv = book(world, at(THURSDAY, 10))
    frozen.move_to(at(THURSDAY, 10, 30))
    set_status(system(world), rdv, "noshow")
    move_rdv(system(world), Rdv.objects.get(pk=rdv.pk), at(THURSDAY + timedelta(days=7), 10), override=True)
    new_messages()
    set_status(system(world), Rdv.objects.get(pk=rdv.pk), "unknown")  # never cancelled: nothing to confirm
    assert new_messages() == []


def test_a_cancellation_undone_follows_the_rules_of_the_other_messages(world, frozen):
    parent = person(world, first_name="Marie", email="marie.martin@exemple.fr")  # e-mails only
    child = person(world, first_name="Lucas", last_name="Martin", email="", responsible=parent)
    quiet = person(world, email="quiet@exemple.fr", phone=MOBILE, notify_by_email=False, notify_by_sms=False)
    family = book(world, at(THURSDAY, 10), usagers=[child, quiet], motif=world.collective_motif)
    motif = factories.MotifFactory(
        organisation=world.organisation,
        service=world.service,
        name="Discret",
        visibility=Visibility.VISIBLE_NOT_NOTIFIED,
    )
    for plage in world.organisation.plages.all():
        plage.motifs.add(motif)
    discreet = book(world, at(THURSDAY, 11), usagers=[person(world, email="discret@exemple.fr")], motif=motif)
    started = book(world, at(THURSDAY, 9), usagers=[person(world, email="commence@exemple.fr")])
    for rdv in (family, discreet, started):
        cancel_rdv(system(world), rdv, reason="Erreur")
    new_messages()
    frozen.move_to(at(THURSDAY, 9, 30))
    written = to_usagers().count()

    for rdv in (family, discreet, started):
        set_status(system(world), rdv, "unknown")

    assert to_usagers().count() == written + 1  # the e-mail to Lucas's mother, nothing else
    (message,) = new_messages()
    assert message.to == ["marie.martin@exemple.fr"]
    assert message.subject == "Rendez-vous de nouveau confirmé le jeudi 11 mars 2027 à 10 h 00"
    assert message.body.startswith("Bonjour Marie,")
    assert "Rendez-vous de : Lucas MARTIN" in message.body
