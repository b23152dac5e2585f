"""Usager pages of an organisation: permissions and tenancy, espace field settings applied to forms,
files and lists, custom fields, duplicates, cross-organisation visibility, history."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.territories import services as territory_services
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomFieldKind, Usager, UsagerOrganisation
from tests.helpers import as_agent, log_in, page_text


def usager_state() -> dict:
    return {
        "usagers": sorted(Usager.objects.values_list("pk", "first_name", "last_name", "phone", "custom_values")),
        "links": sorted(UsagerOrganisation.objects.values_list("usager", "organisation")),
        "audit": AuditLog.objects.count(),
    }


def _url(name, organisation, usager=None):
    return reverse(name, args=[organisation.pk] + ([usager.pk] if usager else []))


VALID = {"first_name": "Anne", "last_name": "Durand", "notify_by_email": "on"}


# Permission matrix ------------------------------------------------------------------------------

CASES = [
    ("usager_list", "get", False, 200),
    ("usager_create", "get", False, 200),
    ("usager_create", "post", False, 302),
    ("usager_detail", "get", True, 200),
    ("usager_edit", "get", True, 200),
    ("usager_edit", "post", True, 302),
]
VISITORS = ["territory_admin", "organisation_admin", "agent", "nord_agent", "other_espace_admin", "anonymous"]


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize(("name", "method", "with_usager", "status"), CASES, ids=lambda v: str(v))
def test_usager_pages_permission_matrix(
    alice, bob, nord_agent, make_usager, visitor, name, method, with_usager, status
):
    usager = make_usager(alice.organisation, phone="0612345678")
    agents = {"nord_agent": nord_agent, "other_espace_admin": bob.territory_admin}
    client = Client() if visitor == "anonymous" else log_in(Client(), agents.get(visitor) or getattr(alice, visitor))
    url = _url(name, alice.organisation, usager if with_usager else None)
    before = usager_state()

    response = client.post(url, {**VALID, "last_name": "Zorro"}) if method == "post" else client.get(url)

    if visitor in ("territory_admin", "organisation_admin", "agent"):
        assert response.status_code == status, page_text(response)
        if method == "post":
            assert usager_state() != before
    elif visitor == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
        assert usager_state() == before
    else:  # an agent of another organisation of the espace, or of another espace
        assert response.status_code == 404
        assert usager_state() == before


@pytest.mark.parametrize("territory_wide", [False, True])
def test_an_usager_of_another_organisation_is_a_404_unless_visible_territory_wide(
    alice, nord_agent, make_usager, territory_wide
):
    usager = make_usager(alice.organisation)
    territory_services.set_usagers_visible_territory_wide(as_agent(None, alice.territory), territory_wide)
    client = log_in(Client(), nord_agent)
    nord = alice.other_organisation
    before = usager_state()

    detail = client.get(_url("usager_detail", nord, usager))
    edit = client.get(_url("usager_edit", nord, usager))
    listed = page_text(client.get(_url("usager_list", nord) + "?q=martin&portee=espace"))

    assert detail.status_code == (200 if territory_wide else 404)
    assert edit.status_code == 404  # never edited from an organisation it does not belong to
    assert (usager.last_name.upper() in listed) is territory_wide
    assert ("Rechercher dans tout l'espace" in listed) is territory_wide
    assert usager_state() == before
    response = client.post(_url("usager_add_to_organisation", nord, usager))
    assert response.status_code == (302 if territory_wide else 404)
    assert usager.organisations.filter(pk=nord.pk).exists() is territory_wide


def test_finding_an_usager_in_the_whole_espace_then_adding_it_to_my_organisation(alice, nord_agent, make_usager):
    usager = make_usager(alice.organisation, first_name="Éloïse", last_name="Dupré")
    territory_services.set_usagers_visible_territory_wide(as_agent(None, alice.territory), True)
    client = log_in(Client(), nord_agent)
    nord = alice.other_organisation

    mine_only = page_text(client.get(_url("usager_list", nord) + "?q=dupre"))
    assert "Aucun usager ne correspond" in mine_only
    everywhere = page_text(client.get(_url("usager_list", nord) + "?q=dupre&portee=espace"))
    assert "DUPRÉ Éloïse" in everywhere
    assert "Ajouter à mon organisation" in everywhere
    file_page = page_text(client.get(_url("usager_detail", nord, usager)))
    assert "Usager d'une autre organisation de l'espace" in file_page

    response = client.post(_url("usager_add_to_organisation", nord, usager), follow=True)

    assert "DUPRÉ fait désormais partie d'alice Nord." in page_text(response)
    assert set(usager.organisations.all()) == {alice.organisation, nord}
    assert client.get(_url("usager_edit", nord, usager)).status_code == 200
    assert "Dans votre organisation" in page_text(client.get(_url("usager_list", nord) + "?q=dupre&portee=espace"))
    entry = AuditLog.objects.get(action="usager.added_to_organisation")
    assert (entry.organisation, entry.actor) == (nord, nord_agent)


def test_another_espaces_usager_is_a_404_even_when_both_are_territory_wide(alice, bob, make_usager):
    theirs = make_usager(bob.organisation, last_name="Secret")
    for world in (alice, bob):
        territory_services.set_usagers_visible_territory_wide(as_agent(None, world.territory), True)
    client = log_in(Client(), alice.agent)
    before = usager_state()
    for name in ("usager_detail", "usager_edit"):
        assert client.get(_url(name, alice.organisation, theirs)).status_code == 404
    assert client.post(_url("usager_add_to_organisation", alice.organisation, theirs)).status_code == 404
    assert client.get(_url("usager_create", alice.organisation) + f"?responsable={theirs.pk}").status_code == 404
    assert "SECRET" not in page_text(client.get(_url("usager_list", alice.organisation) + "?q=secret&portee=espace"))
    assert usager_state() == before


def test_add_to_organisation_refuses_get(alice, make_usager):
    usager = make_usager(alice.organisation)
    client = log_in(Client(), alice.agent)
    assert client.get(_url("usager_add_to_organisation", alice.organisation, usager)).status_code == 405


# Hidden standard fields ------------------------------------------------------------------------


def test_hiding_fields_removes_them_from_forms_files_and_lists_of_every_organisation_of_the_espace_only(
    alice, bob, nord_agent, make_usager
):
    birth = datetime.date(1988, 4, 12)
    centre = make_usager(alice.organisation, family_situation="pacs", birth_date=birth)
    nord = make_usager(alice.other_organisation, family_situation="pacs", birth_date=birth)
    theirs = make_usager(bob.organisation, family_situation="pacs", birth_date=birth)
    territory_services.set_hidden_usager_fields(
        as_agent(alice.territory_admin, alice.territory), ["family_situation", "birth_date"]
    )

    pages = [
        (log_in(Client(), alice.agent), alice.organisation, centre, False),
        (log_in(Client(), nord_agent), alice.other_organisation, nord, False),
        (log_in(Client(), bob.agent), bob.organisation, theirs, True),  # another espace: untouched
    ]
    for client, organisation, usager, shown in pages:
        create = page_text(client.get(_url("usager_create", organisation)))
        edit = page_text(client.get(_url("usager_edit", organisation, usager)))
        detail = page_text(client.get(_url("usager_detail", organisation, usager)))
        listing = page_text(client.get(_url("usager_list", organisation)))
        for form in (create, edit):
            assert ('name="family_situation"' in form) is shown
            assert ('name="birth_date"' in form) is shown
            assert 'name="last_name"' in form  # never hidden
        assert ("Situation familiale" in detail) is shown
        assert ("Pacsé(e)" in detail) is shown
        assert ("12/04/1988" in detail) is shown
        assert ("Date de naissance" in listing) is shown
        assert ("12/04/1988" in listing) is shown


def test_values_of_a_hidden_field_survive_an_edit_and_come_back_when_shown_again(alice, make_usager):
    usager = make_usager(alice.organisation, family_situation="pacs", notes="Suivi en cours")
    territory_services.set_hidden_usager_fields(as_agent(None, alice.territory), ["family_situation", "notes"])
    client = log_in(Client(), alice.agent)

    response = client.post(
        _url("usager_edit", alice.organisation, usager),
        {"first_name": "Camille", "last_name": "Martin", "city": "Valence"},
    )
    assert response.status_code == 302
    usager.refresh_from_db()
    assert (usager.city, usager.family_situation, usager.notes) == ("Valence", "pacs", "Suivi en cours")

    territory_services.set_hidden_usager_fields(as_agent(None, alice.territory), [])
    detail = page_text(client.get(_url("usager_detail", alice.organisation, usager)))
    assert "Pacsé(e)" in detail and "Suivi en cours" in detail
    edit = page_text(client.get(_url("usager_edit", alice.organisation, usager)))
    assert '<option value="pacs" selected>' in edit


def test_hidden_fields_also_leave_the_history(alice, make_usager):
    usager = make_usager(alice.organisation)
    usager_services.update_usager(
        as_agent(None, usager.organisations.first()), usager, {"family_situation": "single", "city": "Valence"}
    )
    territory_services.set_hidden_usager_fields(as_agent(None, alice.territory), ["family_situation"])
    detail = page_text(log_in(Client(), alice.agent).get(_url("usager_detail", alice.organisation, usager)))
    assert "commune : — → Valence" in detail
    assert "situation familiale" not in detail


# Custom fields on the usager pages ------------------------------------------------------------


def test_custom_fields_appear_in_every_organisation_of_the_espace_and_archived_ones_disappear(
    alice, bob, nord_agent, make_usager
):
    field = usager_services.create_custom_field(
        as_agent(None, alice.territory), label="Orientation", kind="choice", choices=["RSA", "Logement"]
    )
    usager = make_usager(alice.organisation, custom_values={field: "Logement"})
    for client, organisation in (
        (log_in(Client(), alice.agent), alice.organisation),
        (log_in(Client(), nord_agent), alice.other_organisation),
    ):
        assert f'name="{field.key}"' in page_text(client.get(_url("usager_create", organisation)))
    assert f'name="{field.key}"' not in page_text(
        log_in(Client(), bob.agent).get(_url("usager_create", bob.organisation))
    )
    client = log_in(Client(), alice.agent)
    detail = page_text(client.get(_url("usager_detail", alice.organisation, usager)))
    assert "Orientation" in detail and "Logement" in detail

    usager_services.archive_custom_field(as_agent(None, field), field)
    assert f'name="{field.key}"' not in page_text(client.get(_url("usager_create", alice.organisation)))
    assert "Orientation" not in page_text(client.get(_url("usager_detail", alice.organisation, usager)))
    usager_services.restore_custom_field(as_agent(None, field), field)
    assert "Logement" in page_text(client.get(_url("usager_detail", alice.organisation, usager)))


@pytest.mark.parametrize(
    ("kind", "bad", "message"),
    [
        (CustomFieldKind.TEXT, "x" * 256, "« Champ » ne doit pas dépasser 255 caractères."),
        (CustomFieldKind.LONG_TEXT, "x" * 5001, "« Champ » ne doit pas dépasser 5000 caractères."),
        (CustomFieldKind.NUMBER, "douze", "« Champ » : saisissez un nombre, par exemple 12 ou 3,5."),
        (CustomFieldKind.DATE, "2024-02-30", "« Champ » : saisissez une date valide, par exemple 31/12/2024."),
        (CustomFieldKind.BOOLEAN, "peut-être", "« Champ » : répondez par oui ou par non."),
        (CustomFieldKind.CHOICE, "Santé", "ne fait pas partie des options de « Champ »"),
        (CustomFieldKind.TEXT, "", "Le champ « Champ » est obligatoire."),
    ],
)
def test_each_custom_field_type_refuses_bad_input_in_french_and_saves_nothing(alice, kind, bad, message):
    choices = ["RSA", "Logement"] if kind == CustomFieldKind.CHOICE else []
    field = usager_services.create_custom_field(
        as_agent(None, alice.territory), label="Champ", kind=kind, choices=choices, required=not bad
    )
    client = log_in(Client(), alice.agent)
    before = usager_state()

    response = client.post(_url("usager_create", alice.organisation), {**VALID, field.key: bad})

    assert response.status_code == 200
    text = page_text(response)
    assert message in text
    assert "La fiche n'est pas enregistrée" in text
    assert usager_state() == before


@pytest.mark.parametrize(
    ("kind", "typed", "stored", "shown"),
    [
        (CustomFieldKind.NUMBER, "2,5", 2.5, "2,5"),
        (CustomFieldKind.DATE, "2024-12-31", "2024-12-31", "31/12/2024"),
        (CustomFieldKind.BOOLEAN, "oui", True, "Oui"),
        (CustomFieldKind.CHOICE, "RSA", "RSA", "RSA"),
    ],
)
def test_good_custom_values_are_saved_and_shown_on_the_file(alice, kind, typed, stored, shown):
    choices = ["RSA", "Logement"] if kind == CustomFieldKind.CHOICE else []
    field = usager_services.create_custom_field(
        as_agent(None, alice.territory), label="Champ", kind=kind, choices=choices
    )
    client = log_in(Client(), alice.agent)
    response = client.post(_url("usager_create", alice.organisation), {**VALID, field.key: typed}, follow=True)
    usager = Usager.objects.get()
    assert usager.custom_values == {field.key: stored}
    assert f"<td>{shown}</td>" in page_text(response)
    # The edit form shows the value back, and saving it unchanged logs nothing.
    edit = client.get(_url("usager_edit", alice.organisation, usager))
    data = {key: value for key, value in edit.context["form"].initial.items() if value not in (None, "")}
    data = {key: ("on" if value is True else value) for key, value in data.items() if value is not False}
    client.post(_url("usager_edit", alice.organisation, usager), data)
    assert not AuditLog.objects.filter(action="usager.updated").exists()


# Create, duplicates, relatives, history ------------------------------------------------------


def test_creating_an_usager_from_the_page(alice):
    client = log_in(Client(), alice.agent)
    response = client.post(
        _url("usager_create", alice.organisation),
        {**VALID, "phone": "06.12.34.56.78", "email": "ANNE@exemple.fr", "birth_date": "1990-05-06"},
        follow=True,
    )
    usager = Usager.objects.get()
    assert (usager.phone, usager.email, usager.birth_date) == (
        "+33612345678",
        "anne@exemple.fr",
        datetime.date(1990, 5, 6),
    )
    text = page_text(response)
    assert "La fiche d'Anne DURAND est créée." in text
    assert "06 12 34 56 78" in text
    assert "Fiche usager créée" in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"last_name": ""}, "Le nom est obligatoire."),
        ({"phone": "12 34"}, "Saisissez un numéro de téléphone valide"),
        ({"email": "anne@"}, "Saisissez une adresse e-mail valide"),
        ({"birth_date": "2999-01-01"}, "La date de naissance ne peut pas être dans le futur."),
        ({"birth_date": "hier"}, "Saisissez une date de naissance valide"),
        ({"number_of_children": "-1"}, "ne peut pas être négatif"),
        ({"logement": "chateau"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_usager_input_on_the_page_is_refused_in_french_and_saves_nothing(alice, make_usager, data, message):
    usager = make_usager(alice.organisation)
    client = log_in(Client(), alice.agent)
    before = usager_state()
    for url in (_url("usager_create", alice.organisation), _url("usager_edit", alice.organisation, usager)):
        response = client.post(url, {**VALID, **data})
        assert response.status_code == 200
        assert message in page_text(response)
    assert usager_state() == before


def test_a_probable_duplicate_is_shown_before_creating_and_can_be_confirmed(alice, make_usager):
    existing = make_usager(alice.organisation, first_name="Anne", last_name="Durand", email="anne@exemple.fr")
    client = log_in(Client(), alice.agent)
    data = {**VALID, "first_name": "Annie", "email": "Anne@Exemple.fr"}

    response = client.post(_url("usager_create", alice.organisation), data)

    text = page_text(response)
    assert "Cet usager existe peut-être déjà" in text
    assert _url("usager_detail", alice.organisation, existing) in text
    assert "même adresse e-mail" in text
    assert Usager.objects.count() == 1
    response = client.post(_url("usager_create", alice.organisation), {**data, "confirmer_doublon": "1"})
    assert response.status_code == 302
    assert Usager.objects.count() == 2


def test_a_duplicate_in_an_organisation_i_cannot_see_is_not_revealed(alice, nord_agent, make_usager):
    make_usager(alice.organisation, email="anne@exemple.fr")
    client = log_in(Client(), nord_agent)
    response = client.post(_url("usager_create", alice.other_organisation), {**VALID, "email": "anne@exemple.fr"})
    assert response.status_code == 302
    assert Usager.objects.count() == 2


def test_adding_a_relative_from_the_responsibles_file(alice, make_usager):
    parent = make_usager(alice.organisation, first_name="Nadia", last_name="Benali")
    client = log_in(Client(), alice.agent)
    detail = page_text(client.get(_url("usager_detail", alice.organisation, parent)))
    create_url = _url("usager_create", alice.organisation) + f"?responsable={parent.pk}"
    assert create_url in detail

    form = page_text(client.get(create_url))
    assert "Ajouter un proche de Nadia BENALI" in form
    response = client.post(create_url, {"first_name": "Léo", "last_name": "Benali", "responsable": parent.pk})

    child = Usager.objects.get(first_name="Léo")
    assert child.responsible == parent
    assert response.url == _url("usager_detail", alice.organisation, child)
    assert "Léo BENALI" in page_text(client.get(_url("usager_detail", alice.organisation, parent)))
    assert client.get(_url("usager_create", alice.organisation) + "?responsable=abc").status_code == 404


def test_the_file_shows_its_history_with_old_and_new_values(alice, make_usager):
    usager = make_usager(alice.organisation, actor=alice.agent, phone="0612345678")
    client = log_in(Client(), alice.organisation_admin)
    client.post(
        _url("usager_edit", alice.organisation, usager),
        {"first_name": "Camille", "last_name": "Martin", "phone": "0781234567", "notify_by_email": "on"},
    )
    text = page_text(client.get(_url("usager_detail", alice.organisation, usager)))
    assert "Historique de la fiche" in text
    assert "Fiche usager créée" in text and "Fiche usager modifiée" in text
    assert "téléphone : 06 12 34 56 78 → 07 81 23 45 67" in text
    assert str(alice.organisation_admin) in text


def test_the_organisation_home_links_to_its_usagers(alice):
    text = page_text(log_in(Client(), alice.agent).get(reverse("organisation_home", args=[alice.organisation.pk])))
    assert _url("usager_list", alice.organisation) in text
