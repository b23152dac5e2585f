"""/api/v1/organisations/{id}/agents: the organisation's agents, as its page lists them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.accounts.models import AccessLevel
from tests import factories
from tests.api.people import MEMBERS, OUTSIDERS, person

pytestmark = pytest.mark.django_db


def url(world, agent_id=None):
    base = f"/api/v1/organisations/{world.organisation.pk}/agents"
    return base if agent_id is None else f"{base}/{agent_id}"


@pytest.mark.parametrize("who", MEMBERS)
def test_members_list_the_organisation_s_agents_with_level_and_services(alice, api, who):
    intervenant = factories.AgentFactory(email="", last_name="Zintervenant")
    factories.AgentRoleFactory(agent=intervenant, organisation=alice.organisation, access_level=AccessLevel.INTERVENANT)
    factories.AgentRoleFactory(organisation=alice.other_organisation)  # not listed
    response = api(person(who, alice, None)).get(url(alice))
    assert response.status_code == 200
    agents = {a["id"]: a for a in response.json()["agents"]}
    assert set(agents) == {alice.territory_admin.pk, alice.organisation_admin.pk, alice.agent.pk, intervenant.pk}
    assert agents[alice.agent.pk] == {
        "id": alice.agent.pk,
        "email": alice.agent.email,
        "first_name": alice.agent.first_name,
        "last_name": alice.agent.last_name,
        "inclusion_connect_open_id_sub": None,
        "access_level": "basic",
        "service_ids": [alice.service.pk],
    }
    assert agents[intervenant.pk]["access_level"] == "intervenant"
    assert agents[intervenant.pk]["service_ids"] == []
    assert agents[alice.organisation_admin.pk]["access_level"] == "admin"


@pytest.mark.parametrize("who", OUTSIDERS)
def test_agents_of_another_organisation_or_espace_get_404(alice, bob, api, who):
    client = api(person(who, alice, bob))
    for response in (client.get(url(alice)), client.get(url(alice, alice.agent.pk))):
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_one_agent_of_the_organisation_and_404_for_the_others(alice, bob, api):
    client = api(alice.agent)
    record = client.get(url(alice, alice.organisation_admin.pk)).json()["agent"]
    assert record["id"] == alice.organisation_admin.pk and record["access_level"] == "admin"
    nord = person("nord_agent", alice, bob)
    for agent_id in (nord.pk, bob.agent.pk, 999_999, 2**63, 2**70, 0, -5):
        assert client.get(url(alice, agent_id)).status_code == 404
    assert client.get(url(alice, "abc")).status_code == 422


def test_services_are_those_of_this_espace_only(alice, bob, api):
    # alice's agent also works for a service in bob's espace: not listed in alice's.
    other = factories.ServiceFactory(name="PMI")
    factories.AgentRoleFactory(agent=alice.agent, organisation=bob.organisation)
    factories.AgentServiceFactory(agent=alice.agent, territory=bob.territory, service=other)
    record = api(alice.agent).get(url(alice, alice.agent.pk)).json()["agent"]
    assert record["service_ids"] == [alice.service.pk]


def test_filter_by_service(alice, api):
    pmi = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    factories.AgentServiceFactory(agent=alice.agent, territory=alice.territory, service=pmi)
    client = api(alice.agent)
    listed = client.get(url(alice), {"service_id": pmi.pk}).json()["agents"]
    assert [a["id"] for a in listed] == [alice.agent.pk]
    assert sorted(listed[0]["service_ids"]) == sorted([alice.service.pk, pmi.pk])
    assert len(client.get(url(alice), {"service_id": alice.service.pk}).json()["agents"]) == 3
    assert client.get(url(alice), {"service_id": 2**63}).status_code == 422
    assert client.get(url(alice), {"service_id": "social"}).status_code == 422


def test_a_page_costs_the_same_queries_whatever_its_size(alice, api):
    client = api(alice.agent)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(alice)).status_code == 200
        return len(captured)

    queries()  # the token records its use at most once a minute
    few = queries()
    for _ in range(20):
        agent = factories.AgentRoleFactory(organisation=alice.organisation).agent
        factories.AgentServiceFactory(agent=agent, territory=alice.territory, service=alice.service)
    assert queries() == few <= 8
    page = client.get(url(alice), {"per_page": 10, "page": 3}).json()
    assert len(page["agents"]) == 3 and page["meta"]["total_count"] == 23
