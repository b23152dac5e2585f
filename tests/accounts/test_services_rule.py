"""The agent form's services (issue 17, point 7): an agent attached to an organisation needs at least
one service, so the field is shown as required (not « Optionnel ») with the rule in its help text;
removing an agent from every organisation still works without any service."""

import pytest
from django.urls import reverse

from rdv.accounts.models import AccessLevel, AgentRole, AgentService
from rdv.territories.models import TerritoryService
from tests.helpers import assignment_data, db_state, log_in, page_text


@pytest.fixture
def admin_client(client, alice):
    return log_in(client, alice.territory_admin)


def edit_url(world, agent) -> str:
    return reverse("espace_agent_edit", args=[world.territory.pk, agent.pk])


def services_label(page: str) -> str:
    return page.split('<fieldset class="fr-fieldset', 1)[1].split("</legend>", 1)[0]


def test_the_services_are_shown_as_required_with_the_rule(admin_client, alice):
    page = page_text(admin_client.get(edit_url(alice, alice.agent)))

    label = services_label(page)
    assert "Services" in label
    assert "Optionnel" not in label
    assert "Au moins un service dès que l'agent est rattaché à une organisation" in page


def test_an_agent_attached_to_an_organisation_without_service_is_refused_on_the_field(admin_client, alice):
    before = db_state()

    response = admin_client.post(edit_url(alice, alice.agent), assignment_data([], {alice.organisation: "basic"}))

    assert response.status_code == 200
    page = page_text(response)
    assert "Choisissez au moins un service : un agent rattaché à une organisation en a au moins un." in page
    assert db_state() == before


def test_removing_an_agent_from_every_organisation_needs_no_service(admin_client, alice):
    url = edit_url(alice, alice.agent)

    asked = admin_client.post(url, assignment_data([], {}))
    assert asked.status_code == 200 and "Confirmation nécessaire" in page_text(asked)
    assert "Choisissez au moins un service" not in page_text(asked)

    response = admin_client.post(url, assignment_data([], {}, confirm_removal="on"))

    assert response.status_code == 302
    assert not AgentRole.objects.filter(agent=alice.agent, organisation__territory=alice.territory).exists()
    assert not AgentService.objects.filter(agent=alice.agent, territory=alice.territory).exists()


def test_an_agent_keeping_a_deactivated_service_needs_no_active_one(admin_client, alice):
    TerritoryService.objects.filter(territory=alice.territory, service=alice.service).delete()

    response = admin_client.post(
        edit_url(alice, alice.agent), assignment_data([], {alice.organisation: AccessLevel.ADMIN})
    )

    assert response.status_code == 302
    assert AgentRole.objects.get(agent=alice.agent, organisation=alice.organisation).access_level == "admin"
    assert AgentService.objects.filter(agent=alice.agent, service=alice.service).exists()  # kept
