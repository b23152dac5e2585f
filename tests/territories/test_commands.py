"""Operator commands: demo data and espace creation."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from rdv.accounts.models import Agent, AgentRole, AgentService, Invitation, TerritoryRole
from rdv.core.models import AuditLog
from rdv.territories.models import Organisation, Territory, TerritoryService
from tests.helpers import deliver_emails, last_invitation_path

MODELS = [
    Territory,
    Organisation,
    TerritoryService,
    Agent,
    AgentRole,
    AgentService,
    TerritoryRole,
    Invitation,
    AuditLog,
]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _all_counts():
    """Row counts of every model of the project's apps (the demo also seeds motifs, agendas…)."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label not in {"sessions", "admin", "axes", "django_tasks_db"}
    }


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    everything = _all_counts()
    call_command("seed_demo", stdout=StringIO())
    assert _all_counts() == everything
    assert _counts() == first
    assert first["Territory"] == 2
    assert first["Agent"] == 5
    assert Agent.objects.get(email="admin@demo.rdv.fr").check_password("rdv-demo-2026")
    assert TerritoryRole.objects.filter(agent__email="admin@demo.rdv.fr", territory__name="Drôme (démo)").exists()


@pytest.mark.django_db
def test_create_espace_creates_territory_organisation_and_admin_invitation(mailoutbox):
    call_command(
        "create_espace",
        name="Drôme",
        admin_email="Premier.Admin@Exemple.fr",
        organisation="MDS Valence",
        departement="26",
        services=["Service social", "secrétariat"],
    )
    territory = Territory.objects.get(name="Drôme")
    assert territory.departement_number == "26"
    organisation = Organisation.objects.get(territory=territory)
    assert organisation.name == "MDS Valence"
    assert set(TerritoryService.objects.filter(territory=territory).values_list("service__name", flat=True)) == {
        "Service social",
        "Secrétariat",
    }
    invitation = Invitation.objects.get(territory=territory)
    assert invitation.email == "premier.admin@exemple.fr"
    assert invitation.make_territory_admin is True
    assert list(invitation.organisation_links.values_list("organisation__name", "access_level")) == [
        ("MDS Valence", "admin")
    ]
    assert deliver_emails()[-1].to == ["premier.admin@exemple.fr"]
    assert last_invitation_path(mailoutbox).startswith("/invitation/")
    assert list(AuditLog.objects.filter(territory=territory).values_list("action", flat=True).order_by("id")) == [
        "territory.created",
        "organisation.created",
        "service.activated",
        "service.activated",
        "invitation.created",
    ]


@pytest.mark.django_db
def test_create_espace_refuses_a_duplicate_name():
    call_command("create_espace", name="Drôme", admin_email="a@exemple.fr")
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("create_espace", name="drôme", admin_email="b@exemple.fr")
    assert Territory.objects.count() == 1
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
def test_create_espace_refuses_an_unknown_service_and_creates_nothing(mailoutbox):
    with pytest.raises(CommandError, match="Service inconnu"):
        call_command("create_espace", name="Drôme", admin_email="a@exemple.fr", services=["Astrologie"])
    assert _counts() == dict.fromkeys(_counts(), 0)
    assert deliver_emails() == []


@pytest.mark.django_db
def test_create_espace_refuses_an_invalid_admin_email():
    with pytest.raises(CommandError):
        call_command("create_espace", name="Drôme", admin_email="pas une adresse")
    assert not Territory.objects.exists()
