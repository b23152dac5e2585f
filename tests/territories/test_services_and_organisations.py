"""Espace organisations (create, rename) and service activation."""

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.territories import services
from rdv.territories.models import Organisation, TerritoryService
from tests import factories
from tests.helpers import as_agent, log_in, page_text


@pytest.fixture
def admin_client(alice):
    return log_in(Client(), alice.territory_admin)


def test_admin_creates_an_organisation(admin_client, alice):
    response = admin_client.post(
        reverse("espace_organisation_create", args=[alice.territory.pk]), {"name": "  MDS   Sud  "}
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="MDS Sud")
    assert organisation.territory == alice.territory
    assert "L'organisation « MDS Sud » est créée." in page_text(admin_client.get(response.url))


def test_organisation_names_are_unique_in_an_espace_whatever_the_case(admin_client, alice):
    response = admin_client.post(
        reverse("espace_organisation_create", args=[alice.territory.pk]), {"name": "ALICE CENTRE"}
    )
    assert response.status_code == 200
    assert "Une organisation nommée « ALICE CENTRE » existe déjà dans cet espace." in page_text(response)
    assert Organisation.objects.filter(territory=alice.territory).count() == 2


def test_two_espaces_may_have_organisations_with_the_same_name(alice, bob):
    services.create_organisation(as_agent(alice.territory_admin, alice.territory), "MDS Sud")
    services.create_organisation(as_agent(bob.territory_admin, bob.territory), "mds sud")
    assert Organisation.objects.filter(name__iexact="mds sud").count() == 2


def test_admin_renames_an_organisation(admin_client, alice):
    url = reverse("espace_organisation_edit", args=[alice.territory.pk, alice.organisation.pk])
    assert admin_client.get(url).context["form"]["name"].value() == "alice Centre"
    response = admin_client.post(url, {"name": "MDS Valence"})
    assert response.status_code == 302
    alice.organisation.refresh_from_db()
    assert alice.organisation.name == "MDS Valence"
    assert AuditLog.objects.get().changes == {"name": ["alice Centre", "MDS Valence"]}


def test_renaming_only_the_case_of_an_organisation_is_allowed(admin_client, alice):
    url = reverse("espace_organisation_edit", args=[alice.territory.pk, alice.organisation.pk])
    assert admin_client.post(url, {"name": "Alice centre"}).status_code == 302
    alice.organisation.refresh_from_db()
    assert alice.organisation.name == "Alice centre"


def test_renaming_to_the_name_of_a_sibling_is_refused(admin_client, alice):
    url = reverse("espace_organisation_edit", args=[alice.territory.pk, alice.organisation.pk])
    response = admin_client.post(url, {"name": "Alice NORD"})
    assert response.status_code == 200
    assert "existe déjà dans cet espace" in page_text(response)
    alice.organisation.refresh_from_db()
    assert alice.organisation.name == "alice Centre"


@pytest.mark.parametrize(
    ("name", "code"), [("", "name_required"), ("  ", "name_required"), ("x" * 201, "name_too_long")]
)
def test_organisation_service_refuses_bad_names(alice, name, code):
    with pytest.raises(DomainError) as error:
        services.create_organisation(as_agent(alice.territory_admin, alice.territory), name)
    assert error.value.code == code
    assert error.value.field == "name"
    assert Organisation.objects.filter(territory=alice.territory).count() == 2


def test_activating_and_deactivating_a_service(admin_client, alice):
    activate = reverse("espace_service_toggle", args=[alice.territory.pk, alice.inactive_service.pk, "activer"])
    response = admin_client.post(activate)
    assert response.status_code == 302
    assert response.url == reverse("espace_services", args=[alice.territory.pk])
    assert TerritoryService.objects.filter(territory=alice.territory, service=alice.inactive_service).exists()
    assert "Le service « Insertion » est activé dans l'espace." in page_text(admin_client.get(response.url))

    deactivate = reverse("espace_service_toggle", args=[alice.territory.pk, alice.inactive_service.pk, "desactiver"])
    response = admin_client.post(deactivate)
    assert not TerritoryService.objects.filter(territory=alice.territory, service=alice.inactive_service).exists()
    assert "Les agents déjà affectés le gardent" in page_text(admin_client.get(response.url))


def test_service_activation_is_per_espace(alice, bob):
    services.deactivate_service(as_agent(alice.territory_admin, alice.territory), alice.service)
    assert TerritoryService.objects.filter(territory=bob.territory, service=bob.service).exists()
    assert not TerritoryService.objects.filter(territory=alice.territory, service=alice.service).exists()


def test_activation_services_report_whether_something_changed(alice):
    assert services.activate_service(as_agent(alice.territory_admin, alice.territory), alice.service) is False
    assert services.activate_service(as_agent(alice.territory_admin, alice.territory), alice.inactive_service) is True
    assert services.deactivate_service(as_agent(alice.territory_admin, alice.territory), alice.inactive_service) is True
    assert (
        services.deactivate_service(as_agent(alice.territory_admin, alice.territory), alice.inactive_service) is False
    )
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == [
        "service.activated",
        "service.deactivated",
    ]


def test_deactivating_a_service_keeps_existing_assignments(admin_client, alice):
    admin_client.post(
        reverse("espace_service_toggle", args=[alice.territory.pk, alice.service.pk, "desactiver"]), {"confirmer": "1"}
    )
    assert alice.agent.service_links.filter(service=alice.service).exists()
    rows = admin_client.get(reverse("espace_services", args=[alice.territory.pk])).context["rows"]
    social = next(row for row in rows if row["service"] == alice.service)
    assert social == {"service": alice.service, "active": False, "agents": 3}


def test_reactivated_service_is_offered_again(admin_client, alice):
    toggle = "espace_service_toggle"
    admin_client.post(reverse(toggle, args=[alice.territory.pk, alice.service.pk, "desactiver"]), {"confirmer": "1"})
    invite_form = admin_client.get(reverse("espace_invite", args=[alice.territory.pk])).context["form"]
    assert alice.service not in invite_form.fields["services"].queryset
    admin_client.post(reverse(toggle, args=[alice.territory.pk, alice.service.pk, "activer"]))
    invite_form = admin_client.get(reverse("espace_invite", args=[alice.territory.pk])).context["form"]
    assert alice.service in invite_form.fields["services"].queryset


def test_catalogue_service_added_by_an_operator_can_be_activated(admin_client, alice):
    new = factories.ServiceFactory(name="France Services")
    rows = admin_client.get(reverse("espace_services", args=[alice.territory.pk])).context["rows"]
    assert new in [row["service"] for row in rows]
    admin_client.post(reverse("espace_service_toggle", args=[alice.territory.pk, new.pk, "activer"]))
    assert TerritoryService.objects.filter(territory=alice.territory, service=new).exists()


def test_organisation_names_with_accents_are_compared_case_insensitively_on_postgresql(postgres_only, alice):
    # SQLite's LIKE and lower() only fold ASCII letters; PostgreSQL folds "É" and "é" too.
    services.create_organisation(as_agent(alice.territory_admin, alice.territory), "Maison de l'Été")
    with pytest.raises(DomainError) as error:
        services.create_organisation(as_agent(alice.territory_admin, alice.territory), "MAISON DE L'ÉTÉ")
    assert error.value.code == "organisation_name_taken"
