"""Espace settings pages (Paramètres): permission matrix, saving with a confirmation message and an
audit entry, and the effect of each setting."""

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.territories import services as territory_services
from rdv.territories.models import USAGER_OPTIONAL_FIELDS, Territory, WaitingRoomNotification
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField, CustomFieldKind
from tests.helpers import as_agent, log_in, page_text


def settings_state() -> dict:
    return {
        "territories": sorted(
            Territory.objects.values_list(
                "pk",
                "usagers_visible_territory_wide",
                "hidden_usager_fields",
                "rdv_context_enabled",
                "waiting_room_notification",
            )
        ),
        "fields": sorted(
            CustomField.objects.values_list("pk", "label", "kind", "choices", "required", "position", "archived_at")
        ),
        "audit": AuditLog.objects.count(),
    }


@dataclass
class Case:
    name: str
    method: str = "get"
    field: bool = False  # the URL names a custom field
    extra: tuple = ()
    data: Any = None

    def url(self, territory, field) -> str:
        args = [territory.pk] + ([field.pk] if self.field else []) + list(self.extra)
        return reverse(self.name, args=args)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name} {' '.join(self.extra)}".strip()


PAGES = [
    Case("espace_settings"),
    Case("espace_settings_usager_fields"),
    Case("espace_settings_usager_visibility"),
    Case("espace_custom_fields"),
    Case("espace_custom_field_create"),
    Case("espace_custom_field_edit", field=True),
    Case("espace_settings_rdv_fields"),
    Case("espace_settings_waiting_room"),
]
ACTIONS = [
    Case("espace_settings_usager_fields", "post", data={"show_email": "on"}),
    Case("espace_settings_usager_visibility", "post", data={"visible_territory_wide": "on"}),
    Case("espace_custom_field_create", "post", data={"label": "Quartier", "kind": "text"}),
    Case("espace_custom_field_edit", "post", field=True, data={"label": "Renommé", "kind": "text"}),
    Case("espace_custom_field_archive", "post", field=True, data={"confirmer": "1"}),
    Case("espace_custom_field_move", "post", field=True, extra=("descendre",)),
    Case("espace_settings_rdv_fields", "post", data={}),
    Case("espace_settings_waiting_room", "post", data={"waiting_room_notification": "both"}),
]
VISITORS = ["territory_admin", "organisation_admin", "agent", "other_espace_admin", "anonymous"]


def _fields_of(world):
    first = usager_services.create_custom_field(as_agent(None, world.territory), label="Premier", kind="text")
    usager_services.create_custom_field(as_agent(None, world.territory), label="Second", kind="text")
    return first


def _client(visitor, alice, bob) -> Client:
    if visitor == "anonymous":
        return Client()
    agent = bob.territory_admin if visitor == "other_espace_admin" else getattr(alice, visitor)
    return log_in(Client(), agent)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("case", PAGES + ACTIONS, ids=lambda case: case.id)
def test_settings_permission_matrix(alice, bob, case, visitor):
    field = _fields_of(alice)
    _fields_of(bob)
    client = _client(visitor, alice, bob)
    before = settings_state()

    url = case.url(alice.territory, field)
    response = client.post(url, case.data or {}) if case.method == "post" else client.get(url)

    if visitor == "territory_admin":
        assert response.status_code == (302 if case.method == "post" else 200), page_text(response)
        if case.method == "post":
            assert settings_state() != before
    elif visitor == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
        assert settings_state() == before
    else:
        assert response.status_code == 404
        assert settings_state() == before


@pytest.mark.parametrize("case", [c for c in PAGES + ACTIONS if c.field], ids=lambda case: case.id)
def test_another_espaces_custom_field_answers_404_to_an_espace_admin(alice, bob, case):
    _fields_of(alice)
    theirs = _fields_of(bob)
    client = log_in(Client(), alice.territory_admin)
    before = settings_state()
    # Their field through my espace's URL, and their espace's URL.
    for territory in (alice.territory, bob.territory):
        url = case.url(territory, theirs)
        response = client.post(url, case.data or {}) if case.method == "post" else client.get(url)
        assert response.status_code == 404
    assert settings_state() == before


@pytest.mark.parametrize("name", ["espace_custom_field_restore", "espace_custom_field_move"])
def test_custom_field_actions_refuse_get(alice, name):
    field = _fields_of(alice)
    client = log_in(Client(), alice.territory_admin)
    extra = ["monter"] if name == "espace_custom_field_move" else []
    before = settings_state()
    assert client.get(reverse(name, args=[alice.territory.pk, field.pk, *extra])).status_code == 405
    assert settings_state() == before


def test_an_unknown_move_direction_is_a_404(alice):
    field = _fields_of(alice)
    client = log_in(Client(), alice.territory_admin)
    url = reverse("espace_custom_field_move", args=[alice.territory.pk, field.pk, "sauter"])
    assert client.post(url).status_code == 404


def test_settings_index_is_in_the_side_menu_and_summarises_each_setting(alice):
    territory_services.set_hidden_usager_fields(as_agent(None, alice.territory), ["family_situation"])
    usager_services.create_custom_field(as_agent(None, alice.territory), label="Orientation", kind="text")
    client = log_in(Client(), alice.territory_admin)
    text = page_text(client.get(reverse("espace_settings", args=[alice.territory.pk])))
    assert 'aria-current="page">Paramètres</a>' in text
    assert "Champs masqués : Situation familiale." in text
    assert "1 champ actif : Orientation." in text
    assert "Contexte : activé." in text
    assert "Notification visuelle dans l'agenda." in text


# Saving each page -------------------------------------------------------------------------------


def _post(client, name, territory, data, **kwargs):
    return client.post(reverse(name, args=[territory.pk]), data, follow=True, **kwargs)


def test_hiding_usager_fields_saves_confirms_and_logs(alice):
    client = log_in(Client(), alice.territory_admin)
    shown = {f"show_{name}": "on" for name in USAGER_OPTIONAL_FIELDS if name not in ("family_situation", "caf_number")}
    response = _post(client, "espace_settings_usager_fields", alice.territory, shown)
    alice.territory.refresh_from_db()
    assert alice.territory.hidden_usager_fields == ["caf_number", "family_situation"]
    assert "Champs de la fiche usager enregistrés" in page_text(response)
    entry = AuditLog.objects.get(action="territory.usager_fields_updated")
    assert entry.territory == alice.territory and entry.actor == alice.territory_admin
    assert entry.changes == {"caf_number": ["affiché", "masqué"], "family_situation": ["affiché", "masqué"]}
    # Saving the same again: a message, no new entry.
    response = _post(client, "espace_settings_usager_fields", alice.territory, shown)
    assert "Aucune modification" in page_text(response)
    assert AuditLog.objects.filter(action="territory.usager_fields_updated").count() == 1


def test_the_usager_fields_page_shows_each_switch_in_its_current_state(alice):
    territory_services.set_hidden_usager_fields(as_agent(None, alice.territory), ["logement"])
    client = log_in(Client(), alice.territory_admin)
    text = page_text(client.get(reverse("espace_settings_usager_fields", args=[alice.territory.pk])))
    inputs = {
        re.search(r'name="([^"]+)"', tag).group(1): " checked" in " ".join(tag.split())
        for tag in re.findall(r"<input[^>]*fr-toggle__input[^>]*>", text)
    }
    assert inputs == {f"show_{name}": name != "logement" for name in USAGER_OPTIONAL_FIELDS}
    for label in USAGER_OPTIONAL_FIELDS.values():
        assert label in text


def test_visibility_setting_saves_confirms_and_logs(alice):
    client = log_in(Client(), alice.territory_admin)
    response = _post(client, "espace_settings_usager_visibility", alice.territory, {"visible_territory_wide": "on"})
    alice.territory.refresh_from_db()
    assert alice.territory.usagers_visible_territory_wide is True
    assert "visibles sur tout l'espace" in page_text(response)
    assert AuditLog.objects.get(action="territory.usager_visibility_updated").changes == {
        "usagers_visible_territory_wide": [False, True]
    }


def test_switching_the_context_field_off_and_on_saves_confirms_and_logs(alice):
    client = log_in(Client(), alice.territory_admin)
    response = _post(client, "espace_settings_rdv_fields", alice.territory, {})
    alice.territory.refresh_from_db()
    assert alice.territory.rdv_field_enabled("context") is False
    assert "Champs de la fiche RDV enregistrés" in page_text(response)
    _post(client, "espace_settings_rdv_fields", alice.territory, {"enable_context": "on"})
    alice.territory.refresh_from_db()
    assert alice.territory.rdv_field_enabled("context") is True
    changes = list(AuditLog.objects.filter(action="territory.rdv_fields_updated").order_by("id").values_list("changes"))
    assert changes == [({"rdv_context_enabled": [True, False]},), ({"rdv_context_enabled": [False, True]},)]


def test_the_context_setting_of_one_espace_does_not_touch_another(alice, bob):
    territory_services.set_rdv_fields_enabled(as_agent(None, alice.territory), {"context": False})
    bob.territory.refresh_from_db()
    assert bob.territory.rdv_field_enabled("context") is True


@pytest.mark.parametrize(
    ("mode", "visual", "email"),
    [("none", False, False), ("visual", True, False), ("email", False, True), ("both", True, True)],
)
def test_waiting_room_mode_saves_and_tells_what_agents_get(alice, mode, visual, email):
    client = log_in(Client(), alice.territory_admin)
    response = _post(client, "espace_settings_waiting_room", alice.territory, {"waiting_room_notification": mode})
    alice.territory.refresh_from_db()
    assert alice.territory.waiting_room_notification == mode
    assert (alice.territory.waiting_room_notifies_visually, alice.territory.waiting_room_notifies_by_email) == (
        visual,
        email,
    )
    text = page_text(response)
    if mode == WaitingRoomNotification.VISUAL:  # the default: nothing changed
        assert "Aucune modification" in text
    else:
        assert "Salle d'attente enregistrée" in text
        assert AuditLog.objects.filter(action="territory.waiting_room_updated").count() == 1


@pytest.mark.parametrize("bad", ["sms", "", "<script>"])
def test_a_bad_waiting_room_mode_is_refused_in_french_and_changes_nothing(alice, bad):
    client = log_in(Client(), alice.territory_admin)
    before = settings_state()
    response = _post(client, "espace_settings_waiting_room", alice.territory, {"waiting_room_notification": bad})
    assert response.status_code == 200
    assert "Choisissez un mode de notification" in page_text(response)
    assert settings_state() == before


# Custom fields pages -----------------------------------------------------------------------------


def test_creating_a_choice_field_from_the_page(alice):
    client = log_in(Client(), alice.territory_admin)
    data = {"label": "Orientation", "kind": "choice", "choices": "RSA\nLogement\n\nSanté\n", "help_text": "Aide"}
    response = _post(client, "espace_custom_field_create", alice.territory, data)
    field = CustomField.objects.get()
    assert (field.territory, field.label, field.kind, field.choices) == (
        alice.territory,
        "Orientation",
        "choice",
        ["RSA", "Logement", "Santé"],
    )
    text = page_text(response)
    assert "Le champ « Orientation » est ajouté" in text
    assert "RSA · Logement · Santé" in text
    assert AuditLog.objects.filter(action="custom_field.created", territory=alice.territory).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": "", "kind": "text"}, "Le libellé est obligatoire."),
        ({"label": "Orientation", "kind": ""}, "Choisissez le type du champ."),
        ({"label": "Orientation", "kind": "couleur"}, "Choisissez un type de champ proposé."),
        ({"label": "Orientation", "kind": "choice", "choices": " \n "}, "au moins une option"),
        ({"label": "Prénom", "kind": "text"}, "déjà un champ standard"),
    ],
)
def test_a_bad_custom_field_is_refused_in_french_and_nothing_is_saved(alice, data, message):
    client = log_in(Client(), alice.territory_admin)
    before = settings_state()
    response = _post(client, "espace_custom_field_create", alice.territory, data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert settings_state() == before


def test_the_edit_page_refuses_a_type_change_when_values_exist(alice, make_usager):
    field = usager_services.create_custom_field(as_agent(None, alice.territory), label="Quartier", kind="text")
    make_usager(alice.organisation, custom_values={field: "Nord"})
    client = log_in(Client(), alice.territory_admin)
    url = reverse("espace_custom_field_edit", args=[alice.territory.pk, field.pk])
    assert "1 usager a déjà une valeur pour ce champ" in page_text(client.get(url))
    before = settings_state()
    response = client.post(url, {"label": "Quartier", "kind": "number"})
    assert response.status_code == 200
    assert "ne peut plus être modifié" in page_text(response)
    assert settings_state() == before


def test_archive_restore_and_move_buttons_work_and_confirm(alice):
    first = _fields_of(alice)
    client = log_in(Client(), alice.territory_admin)
    response = client.post(
        reverse("espace_custom_field_archive", args=[alice.territory.pk, first.pk]), {"confirmer": "1"}, follow=True
    )
    assert "est archivé" in page_text(response)
    assert "Archivé" in page_text(response)
    response = client.post(reverse("espace_custom_field_restore", args=[alice.territory.pk, first.pk]), follow=True)
    assert "est restauré" in page_text(response)
    response = client.post(
        reverse("espace_custom_field_move", args=[alice.territory.pk, first.pk, "descendre"]), follow=True
    )
    assert "déplacé plus bas" in page_text(response)
    assert list(CustomField.objects.for_territory(alice.territory).values_list("label", flat=True)) == [
        "Second",
        "Premier",
    ]


def test_custom_field_kinds_all_appear_in_the_type_list(alice):
    client = log_in(Client(), alice.territory_admin)
    text = page_text(client.get(reverse("espace_custom_field_create", args=[alice.territory.pk])))
    for label in CustomFieldKind.labels:
        assert label in text
