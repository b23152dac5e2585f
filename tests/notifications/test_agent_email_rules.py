"""The agents' e-mail rules that test_agent_emails.py does not reach, found by mutation testing
(mutation/notifications-agent-emails.toml): the RDV changes agents are not told about, one agent's
choice never silencing the next one nor telling an agent of their own change (whatever the ids), an
address or visio link change told while the Contexte is hidden, nothing about a started RDV."""

import pytest
import time_machine

from rdv.accounts.models import AccessLevel, Agent
from rdv.agendas import services as agenda_services
from rdv.bookings.services import BookingRequest, book_rdv, cancel_rdv, mark_arrived, move_rdv, set_status, update_rdv
from rdv.motifs.models import LocationType
from rdv.notifications.models import RdvLevel
from rdv.outbox.models import Delivery, Purpose
from tests import factories
from tests.helpers import as_agent, deliver_emails
from tests.notifications.test_agent_emails import absence_data, book, prefer, system, to, usager
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


def test_nothing_is_told_to_the_agents_about_a_rdv_at_its_very_start_or_after(world, frozen):
    starting = book(world, system(world), start=at(THURSDAY, 10))
    started = book(world, system(world), start=at(THURSDAY, 9))
    to_agents = Delivery.objects.filter(purpose=Purpose.AGENT_NOTIFICATION)
    written = to_agents.count()
    frozen.move_to(at(THURSDAY, 10))
    cancel_rdv(system(world), starting)
    cancel_rdv(system(world), started)  # started an hour ago
    assert to_agents.count() == written  # not even written (it would expire at once)


def test_an_inactive_agent_hears_nothing_of_their_agenda(world):
    world.agent.is_active = False
    world.agent.save()
    agenda_services.create_absence(system(world), world.agent, absence_data())
    assert to(world.agent) == []


@pytest.mark.parametrize(
    ("location_type", "field", "value"),
    [
        (LocationType.HOME, "address", "2 rue des Lilas 26000 Valence"),
        (LocationType.VISIO, "visio_url", "https://visio.exemple.fr/salle-1"),
    ],
)
def test_an_address_or_visio_link_change_is_told_while_the_espace_hides_the_contexte(
    world, location_type, field, value
):
    world.territory.rdv_context_enabled = False
    world.territory.save(update_fields=["rdv_context_enabled"])
    motif = factories.MotifFactory(
        organisation=world.organisation, service=world.service, name="Ailleurs", location_type=location_type
    )
    request = BookingRequest(
        motif=motif, starts_at=at(THURSDAY, 10), agents=[world.agent], usagers=[usager(world)], lieu=None
    )
    rdv = book_rdv(system(world), request, override=True)
    to(world.agent)
    update_rdv(system(world), rdv, **{field: value})
    (updated,) = to(world.agent)
    assert updated.subject.startswith("Rendez-vous du jeudi 11 mars 2027 à 10 h 00 modifié")
    assert value in updated.body


def test_a_change_by_another_agent_is_told_whichever_of_them_has_the_smaller_id(world):
    first, second = sorted([world.agent, world.agent2], key=lambda agent: agent.pk)
    book(world, as_agent(first, world.organisation), agents=[second])
    book(world, as_agent(second, world.organisation), agents=[first], start=at(THURSDAY, 11))
    assert sorted((m.to[0], m.subject[:22]) for m in deliver_emails()) == sorted(
        [(first.email, "Nouveau rendez-vous le"), (second.email, "Nouveau rendez-vous le")]
    )


def test_an_agent_is_not_told_of_their_own_change_whatever_their_id(world):
    agent = factories.AgentFactory(id=100_000, email="grand-numero@exemple.fr")  # ids grow in production
    factories.AgentRoleFactory(agent=agent, organisation=world.organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=agent, territory=world.territory, service=world.service)
    book(world, as_agent(agent, world.organisation), agents=[agent])
    # The agent as loaded again from the database, as a page does from the URL.
    agenda_services.create_absence(as_agent(agent, world.organisation), Agent.objects.get(pk=agent.pk), absence_data())
    assert to(agent) == []
    book(world, system(world), agents=[agent], start=at(THURSDAY, 11))
    assert [m.subject[:22] for m in to(agent)] == ["Nouveau rendez-vous le"]


def test_an_agenda_change_by_an_admin_is_told_whichever_of_them_has_the_smaller_id(world):
    def member(level, **values):
        agent = factories.AgentFactory(**values)
        factories.AgentRoleFactory(agent=agent, organisation=world.organisation, access_level=level)
        return agent

    small_admin = member(AccessLevel.ADMIN, email="petit-numero@exemple.fr")
    large_owner = member(AccessLevel.BASIC, id=100_000, email="grand-numero@exemple.fr")
    large_admin = member(AccessLevel.ADMIN, id=200_000, email="tres-grand-numero@exemple.fr")
    for admin, owner in ((small_admin, large_owner), (large_admin, world.agent)):
        agenda_services.create_absence(
            as_agent(admin, world.organisation), Agent.objects.get(pk=owner.pk), absence_data()
        )
    assert sorted((m.to[0], m.subject[:14]) for m in deliver_emails()) == [
        ("grand-numero@exemple.fr", "Absence créée "),
        (world.agent.email, "Absence créée "),
    ]
