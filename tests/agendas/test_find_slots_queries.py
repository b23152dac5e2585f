"""The slot loader reads the database in a constant number of queries, whatever the number of agents,
days, plages, absences and RDVs."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from rdv.bookings.availability import find_slots
from rdv.bookings.models import Rdv, RdvAgent
from tests import factories
from tests.agendas.conftest import NOW


def build(agenda, agent_count: int, rdvs_per_agent: int):
    """`agent_count` agents with weekday plages from 1 March 2027, a few absences, and RDVs."""
    world = agenda.world
    agents = []
    for index in range(agent_count):
        agent = factories.AgentFactory()
        factories.AgentRoleFactory(agent=agent, organisation=world.organisation)
        factories.AgentServiceFactory(agent=agent, territory=world.territory, service=world.service)
        plage = factories.PlageOuvertureFactory(
            organisation=world.organisation,
            agent=agent,
            lieu=agenda.lieu if index % 2 else agenda.other_lieu,
            first_date=date(2027, 3, 1),
            recurrence="weekly",
            recurrence_weekdays=[0, 1, 2, 3, 4],
            motifs=[agenda.motif],
        )
        factories.PlageExceptionFactory(plage=plage, date=date(2027, 3, 2))  # Tuesday cancelled
        factories.AbsenceFactory(organisation=world.organisation, agent=agent, first_date=date(2027, 3, 3))
        for number in range(rdvs_per_agent):
            starts_at = datetime(2027, 3, 1 + number, 9, 0, tzinfo=UTC)
            rdv = Rdv.objects.create(
                organisation=world.organisation,
                motif=agenda.motif,
                lieu=agenda.lieu,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
            )
            RdvAgent.objects.create(rdv=rdv, agent=agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at)
        agents.append(agent)
    return agents


@pytest.mark.django_db
def test_find_slots_takes_four_queries_for_one_agent_over_one_week(agenda, django_assert_num_queries):
    build(agenda, 1, 1)
    with django_assert_num_queries(4):
        slots = find_slots([agenda.motif], date(2027, 3, 1), date(2027, 3, 7), now=NOW)[agenda.motif.pk]
    # 5 weekdays × 6 slots, minus Tuesday (cancelled), Wednesday (absence) and Monday's RDV.
    assert len(slots) == 5 * 6 - 6 - 6 - 1


@pytest.mark.django_db
def test_find_slots_takes_four_queries_for_twenty_agents_over_four_weeks_with_rdvs(agenda, django_assert_num_queries):
    agents = build(agenda, 20, 10)
    assert RdvAgent.objects.count() == 200
    with django_assert_num_queries(4):
        slots = find_slots([agenda.motif], date(2027, 3, 1), date(2027, 3, 28), now=NOW)[agenda.motif.pk]
    assert {agent_id for slot in slots for agent_id in slot.agent_ids} == {agent.pk for agent in agents}
    first_monday = [slot for slot in slots if slot.start.date() == date(2027, 3, 1)]
    assert first_monday[0].start.time() == time(8, 0)  # 09:00 in Paris


@pytest.mark.django_db
def test_find_slots_also_takes_four_queries_with_agent_and_lieu_filters(agenda, django_assert_num_queries):
    agents = build(agenda, 6, 2)
    with django_assert_num_queries(4):
        slots = find_slots(
            [agenda.motif],
            date(2027, 3, 1),
            date(2027, 3, 14),
            now=NOW,
            agent_ids=[agents[1].pk, agents[2].pk],
            lieu_ids=[agenda.lieu.pk],
        )[agenda.motif.pk]
    assert {agent_id for slot in slots for agent_id in slot.agent_ids} == {agents[1].pk}
