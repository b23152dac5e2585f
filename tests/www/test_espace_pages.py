"""What the espace administration pages show, their filters, and their query counts."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.accounts import services as account_services
from rdv.accounts.models import AccessLevel
from tests import factories
from tests.helpers import as_agent, log_in, page_text


@pytest.fixture
def admin_client(alice):
    return log_in(Client(), alice.territory_admin)


def _agents_url(world):
    return reverse("espace_agents", args=[world.territory.pk])


def _listed(client, world, **params) -> set[str]:
    response = client.get(_agents_url(world), params)
    assert response.status_code == 200
    return {row["agent"].email for row in response.context["rows"]}


def test_espace_index_opens_the_agents_list(admin_client, alice):
    response = admin_client.get(reverse("espace_index", args=[alice.territory.pk]))
    assert response.status_code == 302
    assert response.url == _agents_url(alice)


def test_agents_list_shows_names_services_levels_and_espace_admins(admin_client, alice):
    response = admin_client.get(_agents_url(alice))
    text = page_text(response)
    assert "3 agents" in text
    assert f"{alice.agent.full_name}" in text
    assert "alice Centre — Administrateur" in text
    assert "alice Centre — Agent" in text
    assert text.count("Admin. de l'espace") == 1
    assert "Service social" in text
    assert "Service désactivé" not in text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "alice-agent"}, {"alice-agent@exemple.fr"}),
        ({"q": "ALICE-ORGA exemple.fr"}, {"alice-orga@exemple.fr"}),
        ({"q": "personne"}, set()),
        ({"status": "admin"}, {"alice-admin@exemple.fr", "alice-orga@exemple.fr"}),
        ({"status": "basic"}, {"alice-agent@exemple.fr"}),
        ({"status": "territory_admin"}, {"alice-admin@exemple.fr"}),
        ({"status": "intervenant"}, set()),
        ({"status": "inactive_service"}, set()),
    ],
)
def test_agents_list_filters(admin_client, alice, params, expected):
    assert _listed(admin_client, alice, **params) == expected


def test_agents_list_filters_by_name(admin_client, alice):
    assert _listed(admin_client, alice, q=alice.agent.last_name.upper()) >= {"alice-agent@exemple.fr"}


def test_agent_search_ignores_accents_and_case_on_every_database(admin_client, alice):
    alice.agent.first_name, alice.agent.last_name = "Éloïse", "Lefèvre-Œuvray"
    alice.agent.save()
    assert _listed(admin_client, alice, q="ELOISE lefevre") == {"alice-agent@exemple.fr"}
    assert _listed(admin_client, alice, q="oeuvray") == {"alice-agent@exemple.fr"}
    assert _listed(admin_client, alice, q="LEFÈVRE") == {"alice-agent@exemple.fr"}


def test_an_espace_admin_without_organisation_is_listed_and_editable(admin_client, alice):
    lone = factories.AgentFactory(email="lone-admin@exemple.fr")
    factories.TerritoryRoleFactory(agent=lone, territory=alice.territory)
    assert "lone-admin@exemple.fr" in _listed(admin_client, alice)
    response = admin_client.get(reverse("espace_agent_edit", args=[alice.territory.pk, lone.pk]))
    assert response.status_code == 200


def test_agents_list_filters_by_organisation_and_service(admin_client, alice):
    nord = factories.AgentFactory(email="nord@exemple.fr")
    factories.AgentRoleFactory(agent=nord, organisation=alice.other_organisation)
    pmi = factories.ServiceFactory(name="PMI (Protection Maternelle et Infantile)")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    factories.AgentServiceFactory(agent=nord, territory=alice.territory, service=pmi)

    assert _listed(admin_client, alice, organisation=alice.other_organisation.pk) == {"nord@exemple.fr"}
    assert _listed(admin_client, alice, service=pmi.pk) == {"nord@exemple.fr"}
    assert len(_listed(admin_client, alice, service=alice.service.pk)) == 3


def test_level_filter_combined_with_organisation_means_that_level_in_that_organisation(admin_client, alice):
    # alice-admin is admin of "Centre"; make her a basic agent of "Nord"
    factories.AgentRoleFactory(agent=alice.territory_admin, organisation=alice.other_organisation)
    nord = alice.other_organisation.pk
    assert _listed(admin_client, alice, organisation=nord, status="admin") == set()
    assert _listed(admin_client, alice, organisation=nord, status="basic") == {"alice-admin@exemple.fr"}


def test_deactivated_service_is_flagged_on_assigned_agents_and_filterable(admin_client, alice):
    pmi = factories.ServiceFactory(name="PMI (Protection Maternelle et Infantile)")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    other = factories.AgentFactory(email="pmi@exemple.fr")
    factories.AgentRoleFactory(agent=other, organisation=alice.organisation)
    factories.AgentServiceFactory(agent=other, territory=alice.territory, service=pmi)

    admin_client.post(
        reverse("espace_service_toggle", args=[alice.territory.pk, alice.service.pk, "desactiver"]), {"confirmer": "1"}
    )
    response = admin_client.get(_agents_url(alice))

    flagged = {
        row["agent"].email for row in response.context["rows"] if any(not active for _, active in row["services"])
    }
    assert flagged == {"alice-admin@exemple.fr", "alice-orga@exemple.fr", "alice-agent@exemple.fr"}
    assert page_text(response).count("Service désactivé") == 3
    assert _listed(admin_client, alice, status="inactive_service") == flagged


def test_agents_list_is_paginated(admin_client, alice):
    for i in range(60):
        factories.AgentRoleFactory(
            agent=factories.AgentFactory(email=f"agent{i:02d}@exemple.fr"), organisation=alice.organisation
        )
    first = admin_client.get(_agents_url(alice))
    second = admin_client.get(_agents_url(alice), {"page": 2})
    garbage = admin_client.get(_agents_url(alice), {"page": "abc"})
    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 13
    assert "63 agents" in page_text(first)
    assert garbage.status_code == 200
    assert len(garbage.context["rows"]) == 50


def test_organisations_page_lists_own_organisations_with_agent_counts(admin_client, alice):
    response = admin_client.get(reverse("espace_organisations", args=[alice.territory.pk]))
    counts = {organisation.name: organisation.agent_count for organisation in response.context["organisations"]}
    assert counts == {"alice Centre": 3, "alice Nord": 0}


def test_services_page_shows_the_catalogue_with_activation_state(admin_client, alice):
    response = admin_client.get(reverse("espace_services", args=[alice.territory.pk]))
    rows = {row["service"].name: row for row in response.context["rows"]}
    assert rows["Service social"]["active"] is True
    assert rows["Service social"]["agents"] == 3
    assert rows["Insertion"]["active"] is False
    assert rows["Secrétariat"]["active"] is False  # from the catalogue migration
    activate_insertion = reverse(
        "espace_service_toggle", args=[alice.territory.pk, alice.inactive_service.pk, "activer"]
    )
    assert f'action="{activate_insertion}"' in page_text(response)


def test_journal_shows_french_labels_and_details(admin_client, alice):
    admin_client.post(
        reverse("espace_organisation_edit", args=[alice.territory.pk, alice.other_organisation.pk]),
        {"name": "alice Sud"},
    )
    admin_client.post(
        reverse("espace_agent_edit", args=[alice.territory.pk, alice.agent.pk]),
        {"services": [alice.service.pk], f"org_{alice.organisation.pk}": "admin"},
    )
    text = page_text(admin_client.get(reverse("espace_journal", args=[alice.territory.pk])))
    assert "Organisation renommée" in text
    assert "nom : alice Nord → alice Sud" in text
    assert "Affectations de l'agent modifiées" in text
    assert "organisations : alice Centre : agent → administrateur" in text


# Query counts -----------------------------------------------------------------------------


def _make_agents(world, start, count):
    pmi = factories.ServiceFactory(name="PMI (Protection Maternelle et Infantile)")
    for i in range(start, start + count):
        agent = factories.AgentFactory(email=f"agent{i:03d}@exemple.fr")
        factories.AgentRoleFactory(agent=agent, organisation=world.organisation, access_level=AccessLevel.ADMIN)
        factories.AgentRoleFactory(agent=agent, organisation=world.other_organisation)
        factories.AgentServiceFactory(agent=agent, territory=world.territory, service=world.service)
        factories.AgentServiceFactory(
            agent=agent, territory=world.territory, service=pmi
        )  # inactive in the espace: flagged
        if i % 3 == 0:
            factories.TerritoryRoleFactory(agent=agent, territory=world.territory)


def _make_invitations(world, start, count):
    for i in range(start, start + count):
        account_services.invite_agent(
            as_agent(world.territory_admin if i % 2 else None, world.territory),
            f"invite{i:03d}@exemple.fr",
            [world.service],
            {world.organisation: AccessLevel.BASIC, world.other_organisation: AccessLevel.ADMIN},
        )


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url_name", "make"),
    [("espace_agents", _make_agents), ("espace_invitations", _make_invitations)],
)
def test_list_pages_use_a_constant_number_of_queries(alice, bob, django_assert_max_num_queries, url_name, make):
    client = log_in(Client(), alice.territory_admin)
    url = reverse(url_name, args=[alice.territory.pk])
    make(alice, 0, 5)
    make(bob, 100, 5)
    client.get(url)  # warm up per-process caches
    few = _count_queries(client, url)

    make(alice, 5, 55)
    many = _count_queries(client, url)

    assert many == few
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert len(response.context["rows"]) == 50
