"""Garbage sent to every form and list: a French error or a 404, never a 500, nothing changed."""

import pytest
from django.test import Client
from django.urls import reverse

from rdv.accounts import services as account_services
from rdv.accounts.models import AccessLevel
from tests.helpers import as_agent, db_state, deliver_emails, log_in, page_text

HUGE = "x" * 100_000
BIG_ID = "9" * 30


def _espace(name, *args):
    return lambda world: reverse(name, args=[world.territory.pk, *[a(world) if callable(a) else a for a in args]])


FORM_CASES = [
    # (url builder, POST data builder, expected French text)
    (_espace("espace_organisation_create"), lambda w: {}, "Le nom est obligatoire."),
    (_espace("espace_organisation_create"), lambda w: {"name": "   \t "}, "Le nom est obligatoire."),
    (_espace("espace_organisation_create"), lambda w: {"name": HUGE}, "Le nom ne doit pas dépasser 200 caractères."),
    (_espace("espace_organisation_create"), lambda w: {"name": "a\x00b"}, "Le caractère nul n’est pas autorisé."),
    (_espace("espace_organisation_create"), lambda w: {"name": "ALICE centre"}, "existe déjà dans cet espace"),
    (
        _espace("espace_organisation_edit", lambda w: w.organisation.pk),
        lambda w: {"name": ""},
        "Le nom est obligatoire.",
    ),
    (
        _espace("espace_organisation_edit", lambda w: w.organisation.pk),
        lambda w: {"name": "alice nord"},
        "existe déjà dans cet espace",
    ),
    (_espace("espace_invite"), lambda w: {}, "Saisissez l'adresse e-mail de l'agent."),
    (
        _espace("espace_invite"),
        lambda w: {"email": HUGE + "@exemple.fr", "services": [w.service.pk], f"org_{w.organisation.pk}": "basic"},
        "au plus 254 caractères",
    ),
    (
        _espace("espace_invite"),
        lambda w: {"email": "a@exemple.fr", "services": ["abc"], f"org_{w.organisation.pk}": "basic"},
        "n’est pas une valeur correcte",
    ),
    (
        _espace("espace_invite"),
        lambda w: {"email": "a@exemple.fr", "services": [BIG_ID], f"org_{w.organisation.pk}": "basic"},
        "Sélectionnez un choix valide",
    ),
    (
        _espace("espace_invite"),
        lambda w: {"email": "a@exemple.fr", "services": [w.service.pk + 1000], f"org_{w.organisation.pk}": "basic"},
        "Sélectionnez un choix valide",
    ),
    (
        _espace("espace_invite"),
        lambda w: {"email": "a@exemple.fr", "services": [w.service.pk], f"org_{w.organisation.pk}": "superadmin"},
        "Sélectionnez un choix valide",
    ),
    (
        _espace("espace_invite"),
        lambda w: {"email": "a@exemple.fr", "services": [w.service.pk], f"org_{w.organisation.pk + 1000}": "basic"},
        "Choisissez au moins une organisation",
    ),
    (
        _espace("espace_invite"),
        lambda w: {"email": "a\x00@exemple.fr", "services": [w.service.pk], f"org_{w.organisation.pk}": "basic"},
        "Le caractère nul n’est pas autorisé.",
    ),
    (
        _espace("espace_agent_edit", lambda w: w.agent.pk),
        lambda w: {"services": ["abc"], f"org_{w.organisation.pk}": "basic"},
        "n’est pas une valeur correcte",
    ),
    (
        _espace("espace_agent_edit", lambda w: w.agent.pk),
        lambda w: {"services": [w.service.pk], f"org_{w.organisation.pk}": "god"},
        "Sélectionnez un choix valide",
    ),
    (
        _espace("espace_agent_edit", lambda w: w.agent.pk),
        lambda w: {"services": [w.service.pk], f"org_{w.organisation.pk}": HUGE},
        "Sélectionnez un choix valide",
    ),
    (
        _espace("espace_agent_edit", lambda w: w.agent.pk),
        lambda w: {"services": [BIG_ID], f"org_{w.organisation.pk}": "basic"},
        "Sélectionnez un choix valide",
    ),
    (
        _espace("espace_agent_edit", lambda w: w.agent.pk),
        lambda w: {},  # everything missing: removing from the espace needs a confirmation
        "Confirmez pour continuer",
    ),
]


@pytest.mark.parametrize(("url", "data", "message"), FORM_CASES, ids=[f"case{i}" for i in range(len(FORM_CASES))])
def test_garbage_in_espace_forms_gets_a_french_error_and_changes_nothing(alice, url, data, message):
    client = log_in(Client(), alice.territory_admin)
    before = db_state()
    response = client.post(url(alice), data(alice))
    assert response.status_code == 200
    assert message in page_text(response)
    assert db_state() == before


@pytest.mark.parametrize(
    "path",
    [
        f"/espace/{BIG_ID}/",
        f"/espace/{BIG_ID}/agents/",
        "/espace/{t}/agents/" + BIG_ID + "/",
        "/espace/{t}/organisations/" + BIG_ID + "/modifier/",
        "/espace/{t}/invitations/" + BIG_ID + "/annuler/",
        "/espace/{t}/invitations/" + BIG_ID + "/renvoyer/",
        "/espace/{t}/services/" + BIG_ID + "/activer/",
        f"/organisations/{BIG_ID}/",
        "/espace/abc/agents/",
        "/espace/-1/agents/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_out_of_range_or_malformed_ids_answer_404(alice, path, method):
    client = log_in(Client(), alice.territory_admin)
    before = db_state()
    response = getattr(client, method)(path.format(t=alice.territory.pk))
    assert response.status_code in (404, 405)
    assert db_state() == before


@pytest.mark.parametrize(
    "params",
    [
        {"organisation": "abc"},
        {"organisation": BIG_ID},
        {"service": BIG_ID},
        {"service": "-1"},
        {"status": "zzz"},
        {"page": "-1"},
        {"page": BIG_ID},
        {"page": "abc"},
        {"q": HUGE},
        {"q": "%_\\'\""},
        {"q": "a\x00b"},
    ],
)
def test_garbage_filters_on_the_agents_list_never_fail(alice, params):
    client = log_in(Client(), alice.territory_admin)
    response = client.get(reverse("espace_agents", args=[alice.territory.pk]), params)
    assert response.status_code == 200
    assert response.context["page"].number == 1  # garbage page numbers fall back to the only page


@pytest.mark.parametrize(
    "params",
    [
        {"statut": "zzz"},
        {"statut": HUGE},
        {"page": BIG_ID},
        {"page": "x"},
        {"apres": BIG_ID},
        {"apres": "x"},
        {"avant": "-1"},
        {"avant": "１２"},
    ],
)
@pytest.mark.parametrize("name", ["espace_invitations", "espace_journal"])
def test_garbage_parameters_on_other_lists_never_fail(alice, params, name):
    client = log_in(Client(), alice.territory_admin)
    response = client.get(reverse(name, args=[alice.territory.pk]), params)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Ce champ est obligatoire."),
        ({"username": "alice-agent@exemple.fr"}, "Ce champ est obligatoire."),
        ({"username": "pas-une-adresse", "password": "x"}, "Saisissez une adresse de courriel valide."),
        ({"username": HUGE + "@exemple.fr", "password": "x"}, "au plus"),
        ({"username": "a\x00@exemple.fr", "password": "x"}, "Le caractère nul n’est pas autorisé."),
        ({"username": "alice-agent@exemple.fr", "password": HUGE}, "Adresse e-mail ou mot de passe incorrect."),
    ],
)
def test_garbage_login_gets_a_french_error(alice, data, message):
    client = Client()
    before = db_state()
    response = client.post(reverse("login"), data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert db_state() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Ce champ est obligatoire."),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse de courriel valide."),
        ({"email": HUGE + "@exemple.fr"}, "au plus"),
    ],
)
def test_garbage_password_reset_gets_a_french_error(alice, mailoutbox, data, message):
    response = Client().post(reverse("password_reset"), data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert deliver_emails() == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Ce champ est obligatoire."),
        (
            {
                "first_name": HUGE,
                "last_name": "Durand",
                "password1": "secret-assez-long",
                "password2": "secret-assez-long",
            },
            "au plus 150 caractères",
        ),
        (
            {"first_name": "A", "last_name": "B", "password1": "secret-assez-long", "password2": "autre"},
            "Les deux mots de passe ne sont pas identiques.",
        ),
        (
            {"first_name": "A", "last_name": "B", "password1": "12345678901", "password2": "12345678901"},
            "Ce mot de passe est entièrement numérique.",
        ),
    ],
)
def test_garbage_invitation_acceptance_gets_a_french_error(alice, mailoutbox, data, message):
    account_services.invite_agent(
        as_agent(alice.territory_admin, alice.territory),
        "camille@exemple.fr",
        [alice.service],
        {alice.organisation: AccessLevel.BASIC},
    )
    path = "/" + deliver_emails()[-1].body.split("http://testserver/", 1)[1].split()[0]
    before = db_state()
    response = Client().post(path, data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert db_state() == before
