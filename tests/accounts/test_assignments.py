"""Changing an accepted agent's services, organisations and access levels from the agent page."""

import pytest
from django.test import Client
from django.urls import reverse

from rdv.accounts import services
from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, TerritoryRole
from rdv.core.models import AuditLog
from tests import factories
from tests.helpers import as_agent, assignment_data, invite, log_in, login_post, page_text


def _edit_url(world, agent):
    return reverse("espace_agent_edit", args=[world.territory.pk, agent.pk])


def _levels(agent, territory):
    return dict(
        AgentRole.objects.filter(agent=agent, organisation__territory=territory).values_list(
            "organisation__name", "access_level"
        )
    )


@pytest.fixture
def admin_client(client, alice):
    return log_in(client, alice.territory_admin)


def test_edit_page_shows_the_agents_current_assignments(admin_client, alice):
    response = admin_client.get(_edit_url(alice, alice.agent))
    assert response.status_code == 200
    form = response.context["form"]
    assert form[f"org_{alice.organisation.pk}"].value() == "basic"
    assert form[f"org_{alice.other_organisation.pk}"].value() == ""
    assert list(form["services"].value()) == [alice.service.pk]
    assert form["territory_admin"].value() is False


def test_basic_agent_can_be_made_organisation_admin(admin_client, alice):
    response = admin_client.post(
        _edit_url(alice, alice.agent), assignment_data([alice.service], {alice.organisation: AccessLevel.ADMIN})
    )
    assert response.status_code == 302
    assert _levels(alice.agent, alice.territory) == {"alice Centre": "admin"}
    entry = AuditLog.objects.get(action="agent.updated")
    assert entry.changes == {"organisations": {"alice Centre": ["basic", "admin"]}}
    assert "Affectations enregistrées" in page_text(admin_client.get(response.url))


def test_organisations_can_be_added_and_removed(admin_client, alice):
    url = _edit_url(alice, alice.agent)
    admin_client.post(
        url,
        assignment_data(
            [alice.service], {alice.organisation: AccessLevel.BASIC, alice.other_organisation: AccessLevel.BASIC}
        ),
    )
    assert _levels(alice.agent, alice.territory) == {"alice Centre": "basic", "alice Nord": "basic"}

    admin_client.post(url, assignment_data([alice.service], {alice.other_organisation: AccessLevel.INTERVENANT}))
    assert _levels(alice.agent, alice.territory) == {"alice Nord": "intervenant"}
    assert AuditLog.objects.filter(action="agent.updated").count() == 2


def test_an_agent_can_be_made_espace_admin(admin_client, alice):
    response = admin_client.post(
        _edit_url(alice, alice.agent),
        assignment_data([alice.service], {alice.organisation: AccessLevel.BASIC}, territory_admin="on"),
    )
    assert response.status_code == 302
    assert TerritoryRole.objects.filter(agent=alice.agent, territory=alice.territory).exists()
    assert log_in(Client(), alice.agent).get(reverse("espace_agents", args=[alice.territory.pk])).status_code == 200


def test_saving_without_changes_writes_no_audit_entry(admin_client, alice):
    response = admin_client.post(
        _edit_url(alice, alice.agent), assignment_data([alice.service], {alice.organisation: AccessLevel.BASIC})
    )
    assert response.status_code == 302
    assert "Aucune modification" in page_text(admin_client.get(response.url))
    assert not AuditLog.objects.exists()


def test_services_can_be_changed_and_at_least_one_is_required(admin_client, alice):
    pmi = factories.ServiceFactory(name="PMI (Protection Maternelle et Infantile)")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    url = _edit_url(alice, alice.agent)

    admin_client.post(url, assignment_data([pmi], {alice.organisation: AccessLevel.BASIC}))
    assert list(AgentService.objects.filter(agent=alice.agent).values_list("service__name", flat=True)) == [pmi.name]

    response = admin_client.post(url, assignment_data([], {alice.organisation: AccessLevel.BASIC}))
    assert response.status_code == 200
    assert "Choisissez au moins un service : un agent rattaché à une organisation en a au moins un." in page_text(
        response
    )
    assert AgentService.objects.filter(agent=alice.agent, service=pmi).exists()


def test_removing_the_last_organisation_asks_for_confirmation_first(admin_client, alice):
    url = _edit_url(alice, alice.agent)
    response = admin_client.post(url, assignment_data([alice.service], {}))

    assert response.status_code == 200
    assert response.context["needs_confirmation"] is True
    text = page_text(response)
    assert "Confirmation nécessaire" in text
    assert "Confirmez pour continuer" in text
    assert _levels(alice.agent, alice.territory) == {"alice Centre": "basic"}
    assert not AuditLog.objects.exists()


def test_confirmed_removal_of_the_last_organisation_keeps_the_account_and_history(admin_client, alice):
    url = _edit_url(alice, alice.agent)
    admin_client.post(url, assignment_data([alice.service], {alice.organisation: AccessLevel.ADMIN}))
    response = admin_client.post(url, assignment_data([alice.service], {}, confirm_removal="on"))

    assert response.status_code == 302
    assert response.url == reverse("espace_agents", args=[alice.territory.pk])
    assert "est retiré(e) de l'espace" in page_text(admin_client.get(response.url))
    assert Agent.objects.filter(pk=alice.agent.pk).exists()
    assert _levels(alice.agent, alice.territory) == {}
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == [
        "agent.updated",
        "agent.removed_from_territory",
    ]
    removal = AuditLog.objects.get(action="agent.removed_from_territory")
    assert removal.territory == alice.territory
    assert removal.object_id == str(alice.agent.pk)
    listing = admin_client.get(reverse("espace_agents", args=[alice.territory.pk]))
    assert alice.agent not in [row["agent"] for row in listing.context["rows"]]
    assert admin_client.get(url).status_code == 404


def test_removing_from_one_espace_keeps_roles_in_another(alice, bob):
    both = alice.agent
    factories.AgentRoleFactory(agent=both, organisation=bob.organisation)
    services.update_agent_assignments(
        as_agent(alice.territory_admin, alice.territory), both, [alice.service], {}, confirm_removal=True
    )
    assert _levels(both, alice.territory) == {}
    assert _levels(both, bob.territory) == {"bob Centre": "basic"}


def test_a_pending_invitation_is_not_an_agent_that_can_be_edited(admin_client, alice):
    admin_client.get(invite(admin_client, alice, "pending@exemple.fr").url)  # consumes the flash message
    listing = admin_client.get(reverse("espace_agents", args=[alice.territory.pk]))
    assert "pending@exemple.fr" not in page_text(listing)
    assert {row["agent"].email for row in listing.context["rows"]} == {
        "alice-admin@exemple.fr",
        "alice-orga@exemple.fr",
        "alice-agent@exemple.fr",
    }
    assert not Agent.objects.filter(email="pending@exemple.fr").exists()


def test_admin_cannot_remove_their_own_espace_admin_right(admin_client, alice):
    me = alice.territory_admin
    response = admin_client.post(_edit_url(alice, me), assignment_data([alice.service], {alice.organisation: "admin"}))
    assert response.status_code == 200
    assert "Vous ne pouvez pas retirer vos propres droits d'administrateur de l'espace" in page_text(response)
    assert TerritoryRole.objects.filter(agent=me, territory=alice.territory).exists()
    assert not AuditLog.objects.exists()


def test_admin_can_remove_another_admins_espace_right(admin_client, alice):
    other = alice.organisation_admin
    factories.TerritoryRoleFactory(agent=other, territory=alice.territory)
    response = admin_client.post(
        _edit_url(alice, other), assignment_data([alice.service], {alice.organisation: "admin"})
    )
    assert response.status_code == 302
    assert not TerritoryRole.objects.filter(agent=other, territory=alice.territory).exists()
    assert AuditLog.objects.get().changes["territory_admin"] == [True, False]


def test_agent_turned_intervenant_can_no_longer_log_in_and_loses_their_session(admin_client, alice):
    agent_client = Client()
    assert login_post(agent_client, "alice-agent@exemple.fr").status_code == 302
    home = reverse("organisation_home", args=[alice.organisation.pk])
    assert agent_client.get(home).status_code == 200

    response = admin_client.post(
        _edit_url(alice, alice.agent), assignment_data([alice.service], {alice.organisation: "intervenant"})
    )
    assert response.status_code == 302

    after = agent_client.get(home)
    assert after.status_code == 302
    assert after.url.startswith("/connexion/?next=")
    refused = login_post(Client(), "alice-agent@exemple.fr")
    assert refused.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in page_text(refused)
    assert Agent.objects.filter(pk=alice.agent.pk).exists()


def test_intervenant_in_one_organisation_but_agent_in_another_can_log_in(alice):
    intervenant = factories.AgentFactory(email="mixte@exemple.fr")
    factories.AgentRoleFactory(agent=intervenant, organisation=alice.organisation, access_level="intervenant")
    factories.AgentRoleFactory(agent=intervenant, organisation=alice.other_organisation, access_level="basic")
    visitor = Client()
    assert login_post(visitor, "mixte@exemple.fr").status_code == 302
    assert visitor.get(reverse("organisation_home", args=[alice.other_organisation.pk])).status_code == 200
    assert visitor.get(reverse("organisation_home", args=[alice.organisation.pk])).status_code == 404


def test_deactivated_service_is_not_offered_when_editing_and_is_refused(admin_client, alice):
    url = _edit_url(alice, alice.agent)
    form = admin_client.get(url).context["form"]
    assert alice.inactive_service not in form.fields["services"].queryset

    response = admin_client.post(
        url, assignment_data([alice.service, alice.inactive_service], {alice.organisation: "basic"})
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in page_text(response)
    assert not AgentService.objects.filter(agent=alice.agent, service=alice.inactive_service).exists()
    assert not AuditLog.objects.exists()


def test_assigned_agent_keeps_a_deactivated_service_when_their_assignments_change(admin_client, alice):
    admin_client.post(
        reverse("espace_service_toggle", args=[alice.territory.pk, alice.service.pk, "desactiver"]), {"confirmer": "1"}
    )
    url = _edit_url(alice, alice.agent)
    page = admin_client.get(url)
    assert page.context["inactive_services"] == [alice.service]
    assert "Service désactivé" in page_text(page)

    response = admin_client.post(url, assignment_data([], {alice.organisation: "admin"}))
    assert response.status_code == 302
    assert AgentService.objects.filter(agent=alice.agent, service=alice.service).exists()
    assert _levels(alice.agent, alice.territory) == {"alice Centre": "admin"}
