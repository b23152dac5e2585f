"""Usager and custom field services: validation (French messages, nothing saved), audit log,
duplicates, relatives, custom values by type."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.territories import services as territory_services
from rdv.usagers import selectors as usager_selectors
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField, CustomFieldKind, Usager, UsagerOrganisation
from tests import factories
from tests.helpers import as_agent


def _actions(obj) -> list[str]:
    return list(
        AuditLog.objects.filter(object_type=obj._meta.label, object_id=str(obj.pk))
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )


# Usagers ------------------------------------------------------------------------------------


def test_creating_an_usager_normalises_contacts_attaches_the_organisation_and_logs(alice):
    usager = usager_services.create_usager(
        as_agent(alice.agent, alice.organisation),
        {"first_name": " Éloïse ", "last_name": "Dupré", "email": "Eloise.Dupre@Exemple.FR", "phone": "06 12 34 56 78"},
    )
    usager.refresh_from_db()
    assert (usager.first_name, usager.email, usager.phone) == ("Éloïse", "eloise.dupre@exemple.fr", "+33612345678")
    assert usager.territory == alice.territory
    assert list(usager.organisations.all()) == [alice.organisation]
    assert usager.created_by == alice.agent
    entry = AuditLog.objects.get(action="usager.created")
    assert entry.organisation == alice.organisation and entry.territory == alice.territory
    assert entry.changes["organisation"] == alice.organisation.name


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        ({"first_name": "Anne", "last_name": "  "}, "last_name_required", "Le nom est obligatoire."),
        ({"first_name": "", "last_name": "Durand"}, "first_name_required", "Le prénom est obligatoire."),
        ({"email": "pas-une-adresse"}, "invalid_email", "adresse e-mail valide"),
        ({"phone": "01 02"}, "invalid_phone", "numéro de téléphone valide"),
        ({"birth_date": datetime.date(2999, 1, 1)}, "birth_date_future", "ne peut pas être dans le futur"),
        ({"birth_date": "31/02/1990"}, "invalid_date", "date valide"),
        ({"number_of_children": 99}, "invalid_children", "entre 0 et 30"),
        ({"family_situation": "polygame"}, "invalid_choice", "valeurs proposées"),
        ({"postal_code": "1" * 11}, "too_long", "ne doit pas dépasser 10 caractères"),
    ],
)
def test_bad_usager_input_is_refused_in_french_and_nothing_is_saved(alice, data, code, message):
    payload = {"first_name": "Anne", "last_name": "Durand", **data}
    with pytest.raises(DomainError) as error:
        usager_services.create_usager(as_agent(alice.agent, alice.organisation), payload)
    assert error.value.code == code
    assert message in error.value.message
    assert not Usager.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="usager.").exists()


def test_updating_logs_old_and_new_values_and_an_unchanged_save_logs_nothing(alice, make_usager):
    usager = make_usager(alice.organisation, phone="0612345678", family_situation="single")
    changes = usager_services.update_usager(
        as_agent(alice.agent, alice.organisation),
        usager,
        {"phone": "07 81 23 45 67", "family_situation": "married", "first_name": "Camille"},
    )
    assert changes == {
        "phone": ["06 12 34 56 78", "07 81 23 45 67"],
        "family_situation": ["Célibataire", "Marié(e)"],
    }
    assert (
        usager_services.update_usager(
            as_agent(alice.agent, usager.organisations.first()), usager, {"phone": "0781234567"}
        )
        == {}
    )
    assert _actions(usager) == ["usager.created", "usager.updated"]


def test_a_hidden_field_is_neither_changed_nor_lost_by_an_update(alice, make_usager):
    usager = make_usager(alice.organisation, family_situation="pacs", city="Valence")
    territory_services.set_hidden_usager_fields(as_agent(alice.territory_admin, alice.territory), ["family_situation"])
    usager_services.update_usager(
        as_agent(alice.agent, usager.organisations.first()), usager, {"family_situation": "", "city": "Romans"}
    )
    usager.refresh_from_db()
    assert (usager.family_situation, usager.city) == ("pacs", "Romans")


def test_an_usager_can_be_added_to_another_organisation_of_its_espace_once(alice, make_usager):
    usager = make_usager(alice.organisation)
    nord = factories.AgentFactory()
    factories.AgentRoleFactory(agent=nord, organisation=alice.other_organisation)
    ctx = as_agent(nord, alice.other_organisation)
    refuse_forbidden = pytest.raises(DomainError, match="droits")
    with refuse_forbidden:  # the file is not visible from the other organisation
        usager_services.add_usager_to_organisation(ctx, usager)
    alice.territory.usagers_visible_territory_wide = True
    alice.territory.save()
    ctx = as_agent(nord, alice.other_organisation)
    assert usager_services.add_usager_to_organisation(ctx, usager) is True
    assert usager_services.add_usager_to_organisation(ctx, usager) is False
    assert set(usager.organisations.all()) == {alice.organisation, alice.other_organisation}
    assert _actions(usager).count("usager.added_to_organisation") == 1


def test_an_usager_already_in_the_organisation_costs_one_read_and_no_savepoint(alice, make_usager):
    """Every booking attaches its usager to the organisation, and the usager is nearly always
    there already: one read answers, without the savepoints of the attaching path."""
    usager = make_usager(alice.organisation)
    ctx = as_agent(alice.agent, alice.organisation)
    with CaptureQueriesContext(connection) as queries:
        assert usager_services.add_usager_to_organisation(ctx, usager) is False
    statements = [query["sql"] for query in queries.captured_queries]
    # The right to see the file is read first (the agent's policy), then the one read of the link.
    assert len(statements) == 2, statements
    assert statements[1].startswith("SELECT") and "usagers_usagerorganisation" in statements[1]
    assert not any("SAVEPOINT" in statement or "INSERT" in statement for statement in statements)
    assert _actions(usager).count("usager.added_to_organisation") == 0


def test_an_usager_cannot_join_an_organisation_of_another_espace(alice, bob, make_usager):
    usager = make_usager(alice.organisation)
    bob.territory.usagers_visible_territory_wide = True
    bob.territory.save()
    with pytest.raises(DomainError, match="droits"):
        usager_services.add_usager_to_organisation(as_agent(bob.agent, bob.organisation), usager)
    assert not UsagerOrganisation.objects.filter(organisation=bob.organisation).exists()


def test_relatives_hang_from_one_responsible_in_the_same_espace(alice, bob, make_usager):
    parent = make_usager(alice.organisation, first_name="Nadia")
    child = usager_services.create_usager(
        as_agent(alice.agent, alice.organisation), {"first_name": "Léo", "last_name": "Martin"}, responsible=parent
    )
    assert list(parent.relatives.all()) == [child]
    with pytest.raises(DomainError, match="déjà rattaché"):
        usager_services.create_usager(
            as_agent(alice.agent, alice.organisation), {"first_name": "Petit", "last_name": "Fils"}, responsible=child
        )
    with pytest.raises(DomainError, match="même espace"):
        usager_services.create_usager(
            as_agent(bob.agent, bob.organisation), {"first_name": "A", "last_name": "B"}, responsible=parent
        )
    with pytest.raises(DomainError, match="des proches"):
        usager_services.update_usager(
            as_agent(alice.agent, parent.organisations.first()), parent, {}, responsible=make_usager(alice.organisation)
        )
    usager_services.update_usager(as_agent(alice.agent, child.organisations.first()), child, {}, responsible=None)
    child.refresh_from_db()
    assert child.responsible is None


# Duplicates ---------------------------------------------------------------------------------


def test_duplicates_are_found_by_email_phone_or_name_and_birth_date(alice, make_usager):
    by_email = make_usager(alice.organisation, last_name="Un", email="a@exemple.fr")
    by_phone = make_usager(alice.organisation, last_name="Deux", phone="0612345678")
    by_name = make_usager(
        alice.organisation, first_name="Éloïse", last_name="Dupré", birth_date=datetime.date(1990, 1, 2)
    )
    make_usager(alice.organisation, first_name="Éloïse", last_name="Dupré", birth_date=datetime.date(1991, 1, 2))

    ctx = as_agent(alice.agent, alice.organisation)
    alice.territory.usagers_visible_territory_wide = True  # the agent reads every file of the espace
    alice.territory.save()

    def found(**data):
        return {d.usager for d in usager_selectors.find_duplicates(ctx, data)}

    assert found(email="A@Exemple.fr") == {by_email}
    assert found(phone="+33 6 12 34 56 78") == {by_phone}
    assert found(first_name="ELOISE", last_name="dupre", birth_date=datetime.date(1990, 1, 2)) == {by_name}
    assert found(first_name="Éloïse", last_name="Dupré") == set()  # a name alone is not enough
    reasons = usager_selectors.find_duplicates(ctx, {"email": "a@exemple.fr"})[0].reasons
    assert reasons == ["même adresse e-mail"]


def test_duplicates_are_searched_only_among_the_files_the_agent_may_read(alice, bob, make_usager):
    other = make_usager(alice.other_organisation, email="a@exemple.fr")
    make_usager(bob.organisation, email="a@exemple.fr")
    ctx = as_agent(alice.agent, alice.organisation)
    assert usager_selectors.find_duplicates(ctx, {"email": "a@exemple.fr"}) == []
    alice.territory.usagers_visible_territory_wide = True
    alice.territory.save()
    ctx = as_agent(alice.agent, alice.organisation)
    assert [d.usager for d in usager_selectors.find_duplicates(ctx, {"email": "a@exemple.fr"})] == [other]


# Custom fields -----------------------------------------------------------------------------


def _field(territory, kind, **extra):
    extra.setdefault("label", f"Champ {kind}")
    if kind == CustomFieldKind.CHOICE:
        extra.setdefault("choices", ["RSA", "Logement"])
    return usager_services.create_custom_field(as_agent(None, territory), kind=kind, **extra)


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (CustomFieldKind.TEXT, "  Quartier   nord ", "Quartier nord"),
        (CustomFieldKind.LONG_TEXT, "ligne 1\nligne 2", "ligne 1\nligne 2"),
        (CustomFieldKind.NUMBER, "3,5", 3.5),
        (CustomFieldKind.NUMBER, "12", 12),
        (CustomFieldKind.DATE, datetime.date(2024, 12, 31), "2024-12-31"),
        (CustomFieldKind.DATE, "31/12/2024", "2024-12-31"),
        (CustomFieldKind.BOOLEAN, "oui", True),
        (CustomFieldKind.BOOLEAN, False, False),
        (CustomFieldKind.CHOICE, "Logement", "Logement"),
    ],
)
def test_custom_values_are_stored_typed(alice, make_usager, kind, typed, stored):
    field = _field(alice.territory, kind)
    usager = make_usager(alice.organisation, custom_values={field: typed})
    usager.refresh_from_db()
    assert usager.custom_values == {field.key: stored}


@pytest.mark.parametrize(
    ("kind", "bad", "message"),
    [
        (CustomFieldKind.TEXT, "x" * 256, "ne doit pas dépasser 255 caractères"),
        (CustomFieldKind.LONG_TEXT, "x" * 5001, "ne doit pas dépasser 5000 caractères"),
        (CustomFieldKind.NUMBER, "douze", "saisissez un nombre"),
        (CustomFieldKind.NUMBER, "1e400", "ce nombre est trop grand"),
        (CustomFieldKind.NUMBER, "NaN", "saisissez un nombre"),
        (CustomFieldKind.NUMBER, True, "saisissez un nombre"),
        (CustomFieldKind.DATE, "32/01/2024", "date valide"),
        (CustomFieldKind.DATE, 12, "date valide"),
        (CustomFieldKind.BOOLEAN, "peut-être", "oui ou par non"),
        (CustomFieldKind.CHOICE, "Santé", "ne fait pas partie des options"),
    ],
)
def test_bad_custom_values_are_refused_in_french_and_nothing_is_saved(alice, make_usager, kind, bad, message):
    field = _field(alice.territory, kind)
    usager = make_usager(alice.organisation)
    with pytest.raises(DomainError) as error:
        usager_services.update_usager(
            as_agent(alice.agent, usager.organisations.first()), usager, {"city": "Valence"}, {field: bad}
        )
    assert message in error.value.message
    assert error.value.field == field.key
    usager.refresh_from_db()
    assert (usager.custom_values, usager.city) == ({}, "")
    assert _actions(usager) == ["usager.created"]


def test_a_required_custom_field_must_be_filled_at_creation(alice):
    field = _field(alice.territory, CustomFieldKind.TEXT, label="Référent", required=True)
    with pytest.raises(DomainError, match="« Référent » est obligatoire"):
        usager_services.create_usager(as_agent(None, alice.organisation), {"first_name": "A", "last_name": "B"})
    with pytest.raises(DomainError, match="obligatoire"):
        usager_services.create_usager(
            as_agent(None, alice.organisation), {"first_name": "A", "last_name": "B"}, {field: " "}
        )
    assert not Usager.objects.exists()


def test_emptying_a_custom_value_removes_it(alice, make_usager):
    field = _field(alice.territory, CustomFieldKind.TEXT)
    usager = make_usager(alice.organisation, custom_values={field: "valeur"})
    changes = usager_services.update_usager(as_agent(None, usager.organisations.first()), usager, {}, {field: ""})
    usager.refresh_from_db()
    assert usager.custom_values == {}
    assert changes == {f"champ « {field.label} »": ["valeur", None]}


def test_a_custom_field_of_another_espace_or_archived_is_refused(alice, bob, make_usager):
    theirs = _field(bob.territory, CustomFieldKind.TEXT)
    archived = _field(alice.territory, CustomFieldKind.TEXT, label="Ancien")
    usager_services.archive_custom_field(as_agent(None, archived), archived)
    archived.refresh_from_db()
    usager = make_usager(alice.organisation)
    for field in (theirs, archived):
        with pytest.raises(DomainError, match="n'est pas proposé"):
            usager_services.update_usager(as_agent(None, usager.organisations.first()), usager, {}, {field: "x"})


def test_changing_the_type_of_a_field_with_values_is_refused_with_an_explanation(alice, make_usager):
    field = _field(alice.territory, CustomFieldKind.TEXT, label="Quartier")
    make_usager(alice.organisation, custom_values={field: "Nord"})
    with pytest.raises(DomainError) as error:
        usager_services.update_custom_field(as_agent(None, field), field, label="Quartier", kind=CustomFieldKind.NUMBER)
    assert error.value.code == "kind_locked"
    assert "1 usager(s) ont déjà une valeur" in error.value.message
    assert "créez un nouveau champ" in error.value.message
    field.refresh_from_db()
    assert field.kind == CustomFieldKind.TEXT


def test_changing_the_type_of_a_field_without_values_is_allowed_and_logged(alice):
    field = _field(alice.territory, CustomFieldKind.TEXT, label="Quartier")
    changes = usager_services.update_custom_field(
        as_agent(None, field), field, label="Quartier", kind=CustomFieldKind.CHOICE, choices=["Nord", "Sud"]
    )
    field.refresh_from_db()
    assert (field.kind, field.choices) == (CustomFieldKind.CHOICE, ["Nord", "Sud"])
    assert changes["kind"] == ["Texte court", "Liste de choix"]
    assert _actions(field) == ["custom_field.created", "custom_field.updated"]


def test_an_option_in_use_cannot_be_removed_from_a_list(alice, make_usager):
    field = _field(alice.territory, CustomFieldKind.CHOICE, label="Orientation", choices=["RSA", "Logement", "Santé"])
    make_usager(alice.organisation, custom_values={field: "Logement"})
    with pytest.raises(DomainError, match="« Logement » est utilisée par 1 usager"):
        usager_services.update_custom_field(
            as_agent(None, field), field, label="Orientation", kind=CustomFieldKind.CHOICE, choices=["RSA", "Santé"]
        )
    usager_services.update_custom_field(
        as_agent(None, field),
        field,
        label="Orientation",
        kind=CustomFieldKind.CHOICE,
        choices=["RSA", "Logement", "Emploi"],
    )
    field.refresh_from_db()
    assert field.choices == ["RSA", "Logement", "Emploi"]


@pytest.mark.parametrize(
    ("label", "kind", "choices", "message"),
    [
        ("", CustomFieldKind.TEXT, [], "Le libellé est obligatoire."),
        ("Nom de naissance", CustomFieldKind.TEXT, [], "déjà un champ standard"),
        ("Orientation", "couleur", [], "type de champ proposé"),
        ("Orientation", CustomFieldKind.CHOICE, ["", "  "], "au moins une option"),
        ("x" * 101, CustomFieldKind.TEXT, [], "100 caractères"),
    ],
)
def test_bad_custom_field_definitions_are_refused_in_french(alice, label, kind, choices, message):
    with pytest.raises(DomainError, match=message):
        usager_services.create_custom_field(as_agent(None, alice.territory), label=label, kind=kind, choices=choices)
    assert not CustomField.objects.exists()


def test_custom_field_labels_are_unique_per_espace_ignoring_case(alice, bob):
    _field(alice.territory, CustomFieldKind.TEXT, label="Quartier")
    with pytest.raises(DomainError, match="existe déjà"):
        _field(alice.territory, CustomFieldKind.TEXT, label="QUARTIER")
    assert _field(bob.territory, CustomFieldKind.TEXT, label="Quartier").territory == bob.territory


def test_choice_options_are_trimmed_and_deduplicated(alice):
    field = _field(alice.territory, CustomFieldKind.CHOICE, choices=[" RSA ", "RSA", "", "Emploi"])
    assert field.choices == ["RSA", "Emploi"]


def test_archiving_keeps_values_and_restoring_brings_them_back(alice, make_usager):
    field = _field(alice.territory, CustomFieldKind.TEXT, label="Quartier")
    usager = make_usager(alice.organisation, custom_values={field: "Nord"})
    assert usager_services.archive_custom_field(as_agent(alice.territory_admin, field), field) is True
    assert usager_services.archive_custom_field(as_agent(alice.territory_admin, field), field) is False
    usager_services.update_usager(as_agent(None, usager.organisations.first()), usager, {"city": "Valence"})
    usager.refresh_from_db()
    assert usager.custom_values == {field.key: "Nord"}
    assert usager_services.restore_custom_field(as_agent(alice.territory_admin, field), field) is True
    field.refresh_from_db()
    assert not field.is_archived
    assert _actions(field) == ["custom_field.created", "custom_field.archived", "custom_field.restored"]


def test_fields_move_up_and_down_and_stop_at_the_ends(alice):
    first, second, third = (_field(alice.territory, CustomFieldKind.TEXT, label=name) for name in ("A", "B", "C"))
    assert usager_services.move_custom_field(as_agent(None, third), third, "up") is True
    assert usager_services.move_custom_field(as_agent(None, first), first, "up") is False
    assert usager_services.move_custom_field(as_agent(None, first), first, "down") is True
    order = list(CustomField.objects.for_territory(alice.territory).values_list("label", flat=True))
    assert order == ["C", "A", "B"]
    assert usager_services.move_custom_field(as_agent(None, second), second, "down") is False
    assert _actions(third)[-1] == "custom_field.moved"


def test_a_new_field_needs_no_migration_and_goes_last(alice):
    factories.CustomFieldFactory(territory=alice.territory, position=7)
    field = _field(alice.territory, CustomFieldKind.DATE)
    assert field.position == 8
    assert field.key == f"cf_{field.pk}"
