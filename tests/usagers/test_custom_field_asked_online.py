"""« Demandé lors de la réservation en ligne »: the espace admin marks custom fields that the online
booking asks the usager (or the prescripteur); the option is on the field's form with its help, in
the list of fields, saved through the services and journaled."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.audit import describe_changes
from rdv.core.models import AuditLog
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField
from tests.helpers import as_agent, log_in, page_text

HELP = (
    "Le champ est proposé à l'usager (ou au prescripteur) qui réserve en ligne ; s'il est obligatoire, la "
    "réservation en ligne l'exige."
)


def _checkbox(text: str) -> str:
    """The <input> tag of the option."""
    return re.search(r'<input[^>]*name="asked_online"[^>]*>', text).group(0)


def _state() -> tuple:
    return (
        sorted(CustomField.objects.values_list("pk", "label", "kind", "required", "asked_online", "help_text")),
        AuditLog.objects.count(),
    )


def test_the_form_offers_the_option_with_its_help(alice):
    client = log_in(Client(), alice.territory_admin)
    text = page_text(client.get(reverse("espace_custom_field_create", args=[alice.territory.pk])))
    assert "Demandé lors de la réservation en ligne" in text
    assert HELP in text
    assert 'name="asked_online"' in text and 'id="id_asked_online"' in text


def test_a_field_asked_online_is_created_shown_in_the_list_and_journaled(alice):
    client = log_in(Client(), alice.territory_admin)
    response = client.post(
        reverse("espace_custom_field_create", args=[alice.territory.pk]),
        {"label": "Quartier", "kind": "text", "required": "on", "asked_online": "on"},
        follow=True,
    )

    field = CustomField.objects.get()
    assert (field.label, field.required, field.asked_online) == ("Quartier", True, True)
    text = page_text(response)
    assert '<th scope="col">Réservation en ligne</th>' in text
    assert "<td>Demandé</td>" in text
    entry = AuditLog.objects.get(action="custom_field.created")
    assert entry.changes["asked_online"] is True


def test_a_field_not_asked_online_says_so_in_the_list(alice):
    usager_services.create_custom_field(as_agent(alice.territory_admin, alice.territory), label="Quartier", kind="text")
    client = log_in(Client(), alice.territory_admin)
    text = page_text(client.get(reverse("espace_custom_fields", args=[alice.territory.pk])))
    assert "<td>Non demandé</td>" in text


def test_the_option_is_switched_on_and_off_from_the_edit_page(alice):
    ctx = as_agent(alice.territory_admin, alice.territory)
    field = usager_services.create_custom_field(ctx, label="Quartier", kind="text")
    client = log_in(Client(), alice.territory_admin)
    url = reverse("espace_custom_field_edit", args=[alice.territory.pk, field.pk])

    assert "checked" not in _checkbox(page_text(client.get(url)))
    client.post(url, {"label": "Quartier", "kind": "text", "asked_online": "on"})
    field.refresh_from_db()
    assert field.asked_online is True
    assert "checked" in _checkbox(page_text(client.get(url)))
    entry = AuditLog.objects.filter(action="custom_field.updated").latest("pk")
    assert entry.changes == {"asked_online": [False, True]}
    assert describe_changes(entry.changes) == [("demandé lors de la réservation en ligne", "non → oui")]

    client.post(url, {"label": "Quartier", "kind": "text"})
    field.refresh_from_db()
    assert field.asked_online is False


def test_updating_without_the_option_through_the_service_keeps_nothing_hidden(alice):
    """The service takes the option explicitly: leaving it out means « not asked »."""
    ctx = as_agent(alice.territory_admin, alice.territory)
    field = usager_services.create_custom_field(ctx, label="Quartier", kind="text", asked_online=True)
    assert usager_services.update_custom_field(ctx, field, label="Quartier", kind="text", asked_online=True) == {}
    changes = usager_services.update_custom_field(ctx, field, label="Quartier", kind="text")
    assert changes == {"asked_online": [True, False]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": "", "kind": "text", "asked_online": "on"}, "Le libellé est obligatoire."),
        ({"label": "Quartier", "kind": "", "asked_online": "on"}, "Choisissez le type du champ."),
        ({"label": "Quartier", "kind": "text", "choices": "A\nB", "asked_online": "on"}, "n'a pas d'options"),
    ],
)
def test_a_bad_field_asked_online_is_refused_in_french_and_nothing_is_saved(alice, data, message):
    client = log_in(Client(), alice.territory_admin)
    before = _state()
    response = client.post(reverse("espace_custom_field_create", args=[alice.territory.pk]), data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert _state() == before


def test_agents_and_other_espaces_cannot_open_the_form(alice, bob):
    url = reverse("espace_custom_field_create", args=[alice.territory.pk])
    before = _state()
    for agent in (alice.agent, alice.organisation_admin, bob.territory_admin):
        client = log_in(Client(), agent)
        assert client.get(url).status_code == 404
        assert client.post(url, {"label": "Quartier", "kind": "text", "asked_online": "on"}).status_code == 404
    assert _state() == before
