"""The agents' e-mails (issue 20), through the real outbox: each agent of a RDV hears about its
changes according to their level (all / others / others on today or tomorrow / none), agents added
get « créé » and removed ones « annulé », plages and absences changed by someone else; the content
gives the espace's times, the RDV's page, and the Contexte only when the espace shows it."""

from datetime import time

import pytest
import time_machine
from django.core import mail

from rdv.accounts.context import personal_context
from rdv.agendas import services as agenda_services
from rdv.bookings.models import Rdv
from rdv.bookings.services import (
    BookingRequest,
    add_participant,
    book_rdv,
    cancel_rdv,
    move_rdv,
    remove_participant,
    update_rdv,
)
from rdv.core.context import Context
from rdv.notifications.agent_emails import is_soon, wants
from rdv.notifications.models import RdvLevel
from rdv.notifications.services import set_agent_preferences
from rdv.outbox.models import Delivery, Purpose
from tests import factories
from tests.helpers import as_agent, deliver_emails
from tests.online.fixtures import MARKER, NOW, THURSDAY, TUESDAY, at, build_online

WEDNESDAY = TUESDAY.replace(day=10)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def system(world):
    return Context.system(world.territory, world.organisation)


def usager(world, **kwargs):
    values = {"first_name": "Jeanne", "last_name": "Dupont", "email": "", **kwargs}
    return factories.UsagerFactory(territory=world.territory, organisations=[world.organisation], **values)


def book(world, ctx, *, start=None, agents=None, motif=None, usagers=None):
    request = BookingRequest(
        motif=motif or world.motif,
        starts_at=start or at(THURSDAY, 10),
        agents=agents or [world.agent],
        usagers=usagers if usagers is not None else [usager(world)],
        lieu=world.lieu,
        context=MARKER,
    )
    return book_rdv(ctx, request, override=True)


def prefer(agent, level=RdvLevel.OTHERS, plages_and_absences=True):
    set_agent_preferences(personal_context(agent), rdv_level=level, plages_and_absences=plages_and_absences)


def to(agent) -> list:
    """The e-mails sent to `agent` since the last call (the outbox run now)."""
    messages = [m for m in deliver_emails() if agent.email in m.to]
    mail.outbox.clear()
    return messages


def html_of(message) -> str:
    return message.alternatives[0][0]


# Levels -----------------------------------------------------------------------------------------

LEVELS = [
    # level, booked by the agent themselves, RDV tomorrow (else in three days), e-mail expected
    (RdvLevel.ALL, True, False, True),
    (RdvLevel.ALL, False, False, True),
    (RdvLevel.OTHERS, True, True, False),
    (RdvLevel.OTHERS, False, False, True),
    (RdvLevel.OTHERS, False, True, True),
    (RdvLevel.SOON, True, True, False),
    (RdvLevel.SOON, False, True, True),
    (RdvLevel.SOON, False, False, False),
    (RdvLevel.NONE, True, True, False),
    (RdvLevel.NONE, False, True, False),
]


@pytest.mark.parametrize(("level", "by_self", "tomorrow", "expected"), LEVELS)
def test_each_level_decides_which_new_rdvs_the_agent_hears_about(world, level, by_self, tomorrow, expected):
    prefer(world.agent, level)
    actor = world.agent if by_self else world.agent2
    book(world, as_agent(actor, world.organisation), start=at(TUESDAY if tomorrow else THURSDAY, 10))
    received = to(world.agent)
    assert len(received) == (1 if expected else 0), received
    if expected:
        assert received[0].subject.startswith("Nouveau rendez-vous le ")


def test_without_a_saved_choice_an_agent_hears_about_the_changes_of_others_only(world):
    book(world, as_agent(world.agent, world.organisation))
    assert to(world.agent) == []
    book(world, as_agent(world.agent2, world.organisation), start=at(THURSDAY, 11))
    (message,) = to(world.agent)
    assert "Par Agnès Agent2." in message.body


def test_the_pure_rule_matches_the_table():
    for level, by_self, soon, expected in LEVELS:
        assert wants(level, by_self=by_self, soon=soon) is expected


def test_soon_is_today_or_tomorrow_in_the_espace_time_zone():
    from zoneinfo import ZoneInfo

    reunion = ZoneInfo("Indian/Reunion")
    now = at(TUESDAY, 21)  # 21:00 in Paris on Tuesday is 00:00 on Wednesday at La Réunion
    assert is_soon([at(THURSDAY, 10)], reunion, now)  # Thursday is « tomorrow » there
    assert not is_soon([at(THURSDAY, 10)], ZoneInfo("Europe/Paris"), now)


def test_soon_counts_the_old_day_of_a_moved_rdv(world):
    prefer(world.agent, RdvLevel.SOON)
    rdv = book(world, system(world), start=at(TUESDAY, 10))  # tomorrow
    to(world.agent)
    move_rdv(as_agent(world.agent2, world.organisation), rdv, at(THURSDAY, 10), override=True)
    (message,) = to(world.agent)
    assert message.subject.startswith("Rendez-vous déplacé au jeudi 11 mars 2027 à 10 h 00")
    assert "Ancien horaire : le mardi 9 mars 2027 à 10 h 00" in message.body


# Kinds of changes ------------------------------------------------------------------------------


def test_agents_added_to_a_rdv_get_created_and_removed_agents_get_cancelled(world):
    rdv = book(world, system(world), agents=[world.agent])
    to(world.agent)
    move_rdv(system(world), rdv, rdv.starts_at, agents=[world.agent2], override=True)
    (removed,) = to(world.agent)
    assert removed.subject.startswith("Rendez-vous du jeudi 11 mars 2027 à 10 h 00 annulé pour vous")
    assert "Vous avez été retiré(e) de ce rendez-vous" in removed.body
    assert f"/rdvs/{rdv.pk}/" not in removed.body  # they may no longer open it
    mail.outbox.clear()
    move_rdv(system(world), rdv, rdv.starts_at, agents=[world.agent, world.agent2], override=True)
    subjects = {m.to[0]: m.subject for m in deliver_emails()}
    assert subjects[world.agent.email].startswith("Nouveau rendez-vous le jeudi 11 mars 2027")
    # The agent kept hears that the RDV's agents changed, not that it moved.
    assert subjects[world.agent2.email].startswith("Rendez-vous du jeudi 11 mars 2027 à 10 h 00 modifié")


def test_kept_agents_of_a_moved_rdv_get_moved_and_added_ones_created(world):
    rdv = book(world, system(world), agents=[world.agent])
    deliver_emails()
    mail.outbox.clear()
    move_rdv(system(world), rdv, at(THURSDAY, 11), agents=[world.agent, world.agent2], override=True)
    messages = deliver_emails()
    subjects = {m.to[0]: m.subject for m in messages}
    assert subjects[world.agent.email].startswith("Rendez-vous déplacé au jeudi 11 mars 2027 à 11 h 00")
    assert subjects[world.agent2.email].startswith("Nouveau rendez-vous le jeudi 11 mars 2027 à 11 h 00")


def test_cancellation_and_participants_of_a_collective_rdv(world):
    rdv = book(world, system(world), motif=world.collective_motif)
    to(world.agent)
    newcomer = usager(world, first_name="Paul", last_name="Martin")
    add_participant(system(world), rdv, newcomer)
    (added,) = to(world.agent)
    assert added.subject.startswith("Participant ajouté au rendez-vous du jeudi 11 mars 2027")
    assert "Participant ajouté : Paul MARTIN" in added.body or "Participant ajouté : Paul Martin" in added.body
    remove_participant(system(world), rdv, newcomer)
    (removed,) = to(world.agent)
    assert removed.subject.startswith("Participant retiré du rendez-vous")
    cancel_rdv(system(world), rdv, reason="Salle indisponible")
    (cancelled,) = to(world.agent)
    assert cancelled.subject.startswith("Rendez-vous du jeudi 11 mars 2027 à 10 h 00 annulé")
    assert "Motif de l'annulation : Salle indisponible" in cancelled.body


def test_nothing_for_a_rdv_that_has_started(world, frozen):
    rdv = book(world, system(world), start=at(TUESDAY, 10))
    to(world.agent)
    frozen.move_to(at(TUESDAY, 10, 5))
    cancel_rdv(system(world), rdv)
    assert to(world.agent) == []


def test_the_message_expires_at_the_rdv_start_and_is_labelled_for_agents(world):
    rdv = book(world, system(world))
    delivery = Delivery.objects.get(recipient=world.agent.email)
    assert delivery.purpose == Purpose.AGENT_NOTIFICATION
    assert delivery.get_purpose_display() == "Notification agent"
    assert delivery.expires_at == rdv.starts_at
    assert (delivery.content_type.model, delivery.object_id) == ("rdv", rdv.pk)


def test_an_agent_without_address_gets_nothing(world):
    intervenant = factories.AgentFactory(email="", first_name="Inès", last_name="Intervenante")
    factories.AgentRoleFactory(agent=intervenant, organisation=world.organisation, access_level="intervenant")
    book(world, system(world), agents=[intervenant])
    assert not Delivery.objects.filter(purpose=Purpose.AGENT_NOTIFICATION).exists()


# Content ---------------------------------------------------------------------------------------


def test_the_email_gives_the_rdv_its_page_and_the_context_when_the_espace_shows_it(world):
    rdv = book(world, system(world), usagers=[usager(world, first_name="Léa", last_name="Bernard")])
    (message,) = to(world.agent)
    assert "Quand : le jeudi 11 mars 2027 à 10 h 00 (jusqu'à 10 h 30, heure de Paris)" in message.body
    assert "Où : MDS Centre, 1 place de la Mairie 26000 Valence" in message.body
    assert "Léa" in message.body and "Bernard".upper() in message.body.upper()
    link = f"http://testserver/organisations/{world.organisation.pk}/rdvs/{rdv.pk}/"
    assert link in message.body and link in html_of(message)
    assert MARKER in message.body and MARKER in html_of(message)
    assert "http://testserver/mon-compte/notifications/" in message.body


def test_the_context_is_left_out_while_the_espace_hides_it(world):
    world.territory.rdv_context_enabled = False
    world.territory.save(update_fields=["rdv_context_enabled"])
    rdv = book(world, system(world))
    (message,) = to(world.agent)
    assert MARKER not in message.body and MARKER not in html_of(message)
    assert "Contexte" not in message.body
    update_rdv(system(world), rdv, context="Autre contexte")  # a change of what they cannot see
    assert to(world.agent) == []
    world.territory.rdv_context_enabled = True
    world.territory.save(update_fields=["rdv_context_enabled"])
    rdv.refresh_from_db()
    update_rdv(system(world), rdv, context="Contexte visible")
    (updated,) = to(world.agent)
    assert updated.subject.startswith("Rendez-vous du jeudi 11 mars 2027 à 10 h 00 modifié")
    assert "Contexte : Contexte visible" in updated.body


def test_times_are_in_the_espace_time_zone_overseas(world):
    world.territory.time_zone = "Indian/Reunion"
    world.territory.save(update_fields=["time_zone"])
    book(world, system(world), start=at(THURSDAY, 10))  # 10:00 in Paris is 13:00 at La Réunion
    (message,) = to(world.agent)
    assert "le jeudi 11 mars 2027 à 13 h 00" in message.subject
    assert "heure de La Réunion" in message.body or "heure de la Réunion" in message.body


def test_nothing_is_sent_for_a_rolled_back_change(world):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        book(world, system(world))
        raise RuntimeError
    assert not Delivery.objects.filter(purpose=Purpose.AGENT_NOTIFICATION).exists()


# Plages and absences ----------------------------------------------------------------------------


def absence_data(**overrides):
    return {
        "title": "Formation",
        "whole_day": False,
        "first_date": WEDNESDAY,
        "start_time": time(10, 0),
        "end_date": None,
        "end_time": time(11, 0),
        "recurrence": "none",
        "recurrence_interval": 1,
        "recurrence_weekdays": [],
        "until": None,
        **overrides,
    }


def test_an_absence_created_by_someone_else_is_told_to_its_agent(world):
    agenda_services.create_absence(system(world), world.agent, absence_data())
    (message,) = to(world.agent)
    assert message.subject == "Absence créée par Système : Formation"
    assert "Votre absence : Formation" in message.body
    assert f"/organisations/{world.organisation.pk}/agents/{world.agent.pk}/absences/" in message.body


def test_own_changes_and_switched_off_choice_send_nothing(world):
    agenda_services.create_absence(as_agent(world.agent, world.organisation), world.agent, absence_data())
    assert to(world.agent) == []
    prefer(world.agent, plages_and_absences=False)
    agenda_services.create_absence(system(world), world.agent, absence_data(title="Réunion", first_date=THURSDAY))
    assert to(world.agent) == []


def test_a_plage_change_by_someone_else_is_told_even_when_rdv_emails_are_off(world):
    prefer(world.agent, RdvLevel.NONE, plages_and_absences=True)
    plage = world.agent.plages.get()
    agenda_services.end_plage(system(world), plage, THURSDAY)
    (message,) = to(world.agent)
    assert message.subject.startswith("Plage d'ouverture terminée par Système")
    assert "/plages/" in message.body
    assert Rdv.objects.count() == 0


def test_the_messages_of_one_change_read_the_rdv_s_people_once_for_all_its_agents(world):
    """The messages to a RDV's agents name its usagers, its agents and its service: read once for
    all of them, so a RDV of two agents costs the same reads as a RDV of one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads_of(agents, start):
        with CaptureQueriesContext(connection) as queries:
            rdv = book(world, system(world), agents=agents, start=start)
        selects = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]
        counts = (
            sum('FROM "bookings_participation"' in sql for sql in selects),
            sum(sql.startswith('SELECT "bookings_rdvagent"."id"') for sql in selects),
            sum('FROM "territories_service"' in sql for sql in selects),
        )
        return rdv, counts

    _, one = reads_of([world.agent], at(THURSDAY, 9))
    deliver_emails()
    mail.outbox.clear()
    rdv, two = reads_of([world.agent, world.agent2], at(THURSDAY, 11))
    assert two == one and one[1] == 1, (one, two)
    bodies = {m.to[0]: m.body for m in deliver_emails()}
    assert set(bodies) == {world.agent.email, world.agent2.email}
    for body in bodies.values():
        assert str(world.agent) in body and str(world.agent2) in body
        assert str(rdv.participations.get().usager) in body and world.motif.service.name in body


def test_nothing_is_read_for_the_messages_when_no_agent_gets_one(world, monkeypatch):
    """An agent's own booking, for an agent who hears only of the others' changes (the default):
    no message, and the RDV's people are not read for one."""
    from rdv.notifications import agent_emails

    reads = []
    original = agent_emails.rdv_people
    monkeypatch.setattr(
        agent_emails, "rdv_people", lambda *args, **kwargs: reads.append(1) or original(*args, **kwargs)
    )
    prefer(world.agent, RdvLevel.OTHERS)
    book(world, as_agent(world.agent, world.organisation), agents=[world.agent])
    assert to(world.agent) == [] and reads == []
    book(world, system(world), agents=[world.agent], start=at(THURSDAY, 11))
    assert len(to(world.agent)) == 1 and reads == [1]
