"""The agents' e-mail rules that test_agent_emails.py does not reach, found by mutation testing
(mutation/notifications-agent-emails.toml): the RDV changes agents are not told about, and one agent's
choice never silences the next one."""

import pytest
import time_machine

from rdv.agendas import services as agenda_services
from rdv.bookings.services import cancel_rdv, mark_arrived, move_rdv, set_status
from rdv.notifications.models import RdvLevel
from rdv.outbox.models import Delivery, Purpose
from tests.helpers import deliver_emails
from tests.notifications.test_agent_emails import absence_data, book, prefer, system, to
from tests.online.fixtures import NOW, THURSDAY, at, build_online


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def test_an_agent_who_wants_nothing_does_not_silence_the_next_agent_of_the_rdv(world):
    first, second = sorted([world.agent, world.agent2], key=lambda agent: agent.pk)
    prefer(first, RdvLevel.NONE)
    book(world, system(world), agents=[first, second])
    messages = [m for m in deliver_emails() if m.to[0] in (first.email, second.email)]
    assert [m.to for m in messages] == [[second.email]]
    assert messages[0].subject.startswith("Nouveau rendez-vous le jeudi 11 mars 2027")


def test_an_arrival_or_a_cancellation_undone_tells_the_agents_nothing(world, frozen):
    rdv = book(world, system(world), agents=[world.agent])
    cancel_rdv(system(world), rdv, reason="Erreur")
    to(world.agent)
    set_status(system(world), rdv, "unknown")  # « rdv.status_changed »
    frozen.move_to(at(THURSDAY, 9, 50))
    mark_arrived(system(world), rdv)  # « rdv.arrived »
    assert to(world.agent) == []


def test_a_move_that_keeps_the_time_and_the_agents_tells_the_agents_nothing(world):
    # The start is given in the espace's time zone, as the agents' pages do; it is stored in UTC.
    rdv = book(world, system(world), agents=[world.agent])
    to(world.agent)
    move_rdv(system(world), rdv, at(THURSDAY, 10), agents=[world.agent])
    assert to(world.agent) == []


def test_nothing_is_told_to_the_agents_about_a_rdv_at_its_very_start(world, frozen):
    rdv = book(world, system(world), start=at(THURSDAY, 10))
    to_agents = Delivery.objects.filter(purpose=Purpose.AGENT_NOTIFICATION)
    written = to_agents.count()
    frozen.move_to(at(THURSDAY, 10))
    cancel_rdv(system(world), rdv)
    assert to_agents.count() == written  # not even written (it would expire at once)


def test_an_inactive_agent_hears_nothing_of_their_agenda(world):
    world.agent.is_active = False
    world.agent.save()
    agenda_services.create_absence(system(world), world.agent, absence_data())
    assert to(world.agent) == []
