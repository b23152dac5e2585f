"""Destructive one-click actions get a confirmation step (issue 17, point 6), without JavaScript: the
action's page says what will happen, and only a POST with `confirmer=1` acts. Cancelling an
invitation, deactivating a service that agents have (how many keep it), archiving a custom field
(how many files have a value)."""

import pytest
from django.urls import reverse

from rdv.accounts import services as account_services
from rdv.accounts.models import AccessLevel, Invitation
from rdv.territories.models import TerritoryService
from rdv.usagers.models import CustomField
from tests import factories
from tests.helpers import as_agent, db_state, log_in, page_text
from tests.usagers.test_settings_pages import settings_state


@pytest.fixture
def admin_client(client, alice):
    return log_in(client, alice.territory_admin)


# Cancelling an invitation -------------------------------------------------------------------------


@pytest.fixture
def invitation(alice):
    return account_services.invite_agent(
        as_agent(alice.territory_admin, alice.territory),
        "camille@exemple.fr",
        [alice.service],
        {alice.organisation: AccessLevel.ADMIN},
    ).invitation


def cancel_url(alice, invitation) -> str:
    return reverse("espace_invitation_cancel", args=[alice.territory.pk, invitation.pk])


@pytest.mark.parametrize("method", ["get", "post"])
def test_cancelling_an_invitation_first_shows_what_it_does(admin_client, alice, invitation, method):
    before = db_state()

    response = getattr(admin_client, method)(cancel_url(alice, invitation))

    assert response.status_code == 200
    page = page_text(response)
    assert "Annuler l'invitation envoyée à camille@exemple.fr ?" in page
    assert "alice Centre (administrateur)" in page
    assert "Le lien envoyé ne fonctionnera plus" in page
    assert 'name="confirmer" value="1"' in page
    assert "Garder l'invitation" in page
    assert db_state() == before


def test_a_confirmed_cancellation_cancels_the_invitation(admin_client, alice, invitation):
    response = admin_client.post(cancel_url(alice, invitation), {"confirmer": "1"})

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.cancelled_at is not None


def test_a_malformed_confirmation_changes_nothing(admin_client, alice, invitation):
    before = db_state()

    response = admin_client.post(cancel_url(alice, invitation), {"confirmer": ["oui", "1;DROP"]})

    assert response.status_code == 200
    assert db_state() == before


def test_the_invitation_list_links_to_the_confirmation(admin_client, alice, invitation):
    page = page_text(admin_client.get(reverse("espace_invitations", args=[alice.territory.pk])))

    assert f'href="{cancel_url(alice, invitation)}">Annuler' in page


def test_an_invitation_already_cancelled_is_not_cancelled_again(admin_client, alice, invitation):
    admin_client.post(cancel_url(alice, invitation), {"confirmer": "1"})
    cancelled_at = Invitation.objects.get().cancelled_at

    response = admin_client.get(cancel_url(alice, invitation), follow=True)

    assert "est déjà annulée" in page_text(response)
    assert Invitation.objects.get().cancelled_at == cancelled_at


# Deactivating a service --------------------------------------------------------------------------


def toggle_url(alice, service, operation="desactiver") -> str:
    return reverse("espace_service_toggle", args=[alice.territory.pk, service.pk, operation])


def test_deactivating_a_service_that_agents_have_says_how_many_keep_it(admin_client, alice):
    before = db_state()

    response = admin_client.post(toggle_url(alice, alice.service))

    assert response.status_code == 200
    page = page_text(response)
    assert "Désactiver le service « Service social » ?" in page
    assert "3 agents de l'espace ont ce service." in page
    assert "Ces 3 agents le gardent" in page
    assert db_state() == before
    assert TerritoryService.objects.filter(territory=alice.territory, service=alice.service).exists()


def test_one_agent_is_written_in_the_singular(admin_client, alice):
    pmi = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    factories.AgentServiceFactory(agent=alice.agent, territory=alice.territory, service=pmi)

    page = page_text(admin_client.post(toggle_url(alice, pmi)))

    assert "1 agent de l'espace a ce service." in page
    assert "Cet agent le garde : ses rendez-vous et son agenda ne changent pas, et il est signalé" in page


def test_a_confirmed_deactivation_deactivates_the_service(admin_client, alice):
    response = admin_client.post(toggle_url(alice, alice.service), {"confirmer": "1"})

    assert response.status_code == 302
    assert not TerritoryService.objects.filter(territory=alice.territory, service=alice.service).exists()


def test_a_service_nobody_has_is_deactivated_at_once(admin_client, alice):
    unused = factories.ServiceFactory(name="Médiation")
    factories.TerritoryServiceFactory(territory=alice.territory, service=unused)

    response = admin_client.post(toggle_url(alice, unused))

    assert response.status_code == 302
    assert not TerritoryService.objects.filter(territory=alice.territory, service=unused).exists()


def test_activating_a_service_needs_no_confirmation_and_no_get(admin_client, alice):
    assert admin_client.get(toggle_url(alice, alice.inactive_service, "activer")).status_code == 405

    response = admin_client.post(toggle_url(alice, alice.inactive_service, "activer"))

    assert response.status_code == 302
    assert TerritoryService.objects.filter(territory=alice.territory, service=alice.inactive_service).exists()


# Archiving a custom field ------------------------------------------------------------------------


@pytest.fixture
def quartier(alice):
    return factories.CustomFieldFactory(territory=alice.territory, label="Quartier", required=True)


def archive_url(alice, field) -> str:
    return reverse("espace_custom_field_archive", args=[alice.territory.pk, field.pk])


def test_archiving_a_custom_field_says_how_many_files_have_a_value(admin_client, alice, quartier):
    for value in ("Centre", "Nord", "Sud"):
        factories.UsagerFactory(territory=alice.territory, custom_values={quartier.key: value})
    factories.UsagerFactory(territory=alice.territory)  # no value
    before = settings_state()

    response = admin_client.post(archive_url(alice, quartier))

    assert response.status_code == 200
    page = page_text(response)
    assert "Archiver le champ « Quartier » ?" in page
    assert "3 fiches usager ont une valeur pour ce champ." in page
    assert "Les valeurs déjà saisies sont conservées" in page
    assert "il ne sera plus obligatoire" in page
    assert settings_state() == before


@pytest.mark.parametrize(("values", "text"), [(0, "Aucune fiche usager n'a de valeur"), (1, "1 fiche usager a une")])
def test_the_count_of_files_reads_well(admin_client, alice, quartier, values, text):
    for _ in range(values):
        factories.UsagerFactory(territory=alice.territory, custom_values={quartier.key: "Centre"})

    assert text in page_text(admin_client.get(archive_url(alice, quartier)))


def test_a_confirmed_archive_archives_the_field(admin_client, alice, quartier):
    response = admin_client.post(archive_url(alice, quartier), {"confirmer": "1"})

    assert response.status_code == 302
    assert CustomField.objects.get().is_archived


def test_the_custom_field_list_links_to_the_confirmation(admin_client, alice, quartier):
    page = page_text(admin_client.get(reverse("espace_custom_fields", args=[alice.territory.pk])))

    assert f'href="{archive_url(alice, quartier)}">Archiver' in page


def test_the_confirmation_pages_are_for_espace_admins_only(client, alice, bob, quartier, invitation):
    log_in(client, bob.territory_admin)
    before = db_state()
    for url in (archive_url(alice, quartier), cancel_url(alice, invitation), toggle_url(alice, alice.service)):
        assert client.get(url).status_code == 404
        assert client.post(url, {"confirmer": "1"}).status_code == 404
    assert db_state() == before
    assert not CustomField.objects.get().is_archived
