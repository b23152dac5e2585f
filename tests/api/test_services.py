"""/api/v1/organisations/{id}/services: the services active in the organisation's espace."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.api.people import MEMBERS, OUTSIDERS, person

pytestmark = pytest.mark.django_db


def url(world):
    return f"/api/v1/organisations/{world.organisation.pk}/services"


@pytest.mark.parametrize("who", MEMBERS)
def test_members_list_the_services_active_in_the_espace(alice, bob, api, who):
    secretariat = factories.ServiceFactory(name="Accueil et secrétariat", short_name="SEC", is_secretariat=True)
    factories.TerritoryServiceFactory(territory=alice.territory, service=secretariat)
    factories.TerritoryServiceFactory(territory=bob.territory, service=factories.ServiceFactory(name="PMI"))
    response = api(person(who, alice, bob)).get(url(alice))
    assert response.status_code == 200
    assert response.json()["services"] == [
        {"id": secretariat.pk, "name": "Accueil et secrétariat", "short_name": "SEC", "secretariat": True},
        {"id": alice.service.pk, "name": "Service social", "short_name": "Social", "secretariat": False},
    ]  # neither « Insertion » (inactive here) nor « PMI » (active in bob's espace)
    assert response.json()["meta"]["total_count"] == 2


@pytest.mark.parametrize("who", OUTSIDERS)
def test_agents_of_another_organisation_or_espace_get_404(alice, bob, api, who):
    response = api(person(who, alice, bob)).get(url(alice))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_bad_parameters_are_4xx(alice, api):
    client = api(alice.agent)
    assert client.get("/api/v1/organisations/99999999999999999999999/services").status_code == 404
    assert client.get(url(alice), {"per_page": 1000}).status_code == 422
    assert client.get(url(alice), {"page": 5}).status_code == 404


def test_a_page_costs_the_same_queries_whatever_its_size(alice, api):
    client = api(alice.agent)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(alice)).status_code == 200
        return len(captured)

    queries()  # the token records its use at most once a minute
    few = queries()
    for n in range(20):
        factories.TerritoryServiceFactory(territory=alice.territory, service=factories.ServiceFactory(name=f"S{n}"))
    assert queries() == few <= 6
