"""Normalisation of names and phones, and the usager search (accent- and case-insensitive)."""

import datetime

import pytest

from rdv.core.phones import InvalidPhone, format_phone, normalise_phone
from rdv.core.text import normalise_text
from rdv.usagers import selectors as usager_selectors
from rdv.usagers import services as usager_services
from rdv.usagers.models import Usager
from tests.helpers import as_agent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Éloïse", "eloise"),
        ("  D'AUBIGNÉ-Œuvray ", "d aubigne oeuvray"),
        ("Strauß", "strauss"),
        ("Jean.Dupont@Exemple.FR", "jean dupont exemple fr"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalised_text_is_lowercase_without_accents_or_punctuation(raw, expected):
    assert normalise_text(raw) == expected


@pytest.mark.parametrize("raw", ["06 12 34 56 78", "06.12.34.56.78", "0612345678", "+33 6 12 34 56 78", "+33612345678"])
def test_french_phone_numbers_are_stored_in_e164_whatever_the_typing(raw):
    assert normalise_phone(raw) == "+33612345678"


def test_foreign_numbers_keep_their_country_and_display_internationally():
    assert normalise_phone("+32 470 12 34 56") == "+32470123456"
    assert format_phone("+32470123456") == "+32 470 12 34 56"
    assert format_phone("+33612345678") == "06 12 34 56 78"


@pytest.mark.parametrize("raw", ["12", "06 12 34", "bonjour", "+33 1 23", "00000000000000000"])
def test_invalid_phone_numbers_are_refused_with_a_french_message(raw):
    with pytest.raises(InvalidPhone, match="numéro de téléphone valide"):
        normalise_phone(raw)


@pytest.fixture
def people(alice, make_usager):
    organisation = alice.organisation
    return {
        "eloise": make_usager(
            organisation, first_name="Éloïse", last_name="Dupré", birth_date=datetime.date(1988, 4, 12)
        ),
        "oeuvray": make_usager(organisation, first_name="Zoé", last_name="Œuvray", email="zoe.oeuvray@exemple.fr"),
        "karim": make_usager(organisation, first_name="Karim", last_name="Benali", phone="06 12 34 56 78"),
        "other_org": make_usager(alice.other_organisation, first_name="Éloïse", last_name="Dupont"),
    }


def _found(organisation, query, territory_wide=False):
    ctx = as_agent(None, organisation)
    return set(usager_selectors.search(ctx, query, territory_wide=territory_wide))


@pytest.mark.parametrize("query", ["eloise", "ÉLOÏSE", "dupre", "Dupré", "DUPRE eloise", "dup", "elo dupr"])
def test_search_ignores_accents_and_case(alice, people, query):
    assert _found(alice.organisation, query) == {people["eloise"]}


def test_search_handles_ligatures_both_ways(alice, people):
    assert _found(alice.organisation, "oeuvray") == {people["oeuvray"]}
    assert _found(alice.organisation, "Œuvray") == {people["oeuvray"]}


def test_search_by_email(alice, people):
    assert _found(alice.organisation, "zoe.oeuvray@exemple.fr") == {people["oeuvray"]}


@pytest.mark.parametrize("query", ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 6 12 34 56 78", "0612"])
def test_search_by_phone_in_any_format(alice, people, query):
    assert _found(alice.organisation, query) == {people["karim"]}


@pytest.mark.parametrize("query", ["12/04/1988", "1988-04-12", "12.04.1988"])
def test_search_by_birth_date(alice, people, query):
    assert _found(alice.organisation, query) == {people["eloise"]}


def test_search_stays_in_the_organisation_unless_territory_wide_is_asked_and_allowed(alice, people):
    assert _found(alice.organisation, "eloise") == {people["eloise"]}
    # Asked but the espace setting is off: still the organisation only.
    assert _found(alice.organisation, "eloise", territory_wide=True) == {people["eloise"]}
    alice.territory.usagers_visible_territory_wide = True
    alice.territory.save()
    assert _found(alice.organisation, "eloise", territory_wide=True) == {people["eloise"], people["other_org"]}


def test_search_never_crosses_espaces(alice, bob, people, make_usager):
    make_usager(bob.organisation, first_name="Éloïse", last_name="Dupré")
    bob.territory.usagers_visible_territory_wide = True
    bob.territory.save()
    alice.territory.usagers_visible_territory_wide = True
    alice.territory.save()
    found = _found(alice.organisation, "dupre", territory_wide=True)
    assert found == {people["eloise"]}


def test_list_order_is_alphabetical_ignoring_accents(alice, make_usager):
    for last in ["Zola", "Émery", "Eboué", "ébert", "Fabre"]:
        make_usager(alice.organisation, last_name=last)
    names = [u.last_name for u in usager_selectors.search(as_agent(None, alice.organisation))]
    assert names == ["ébert", "Eboué", "Émery", "Fabre", "Zola"]


def test_search_columns_follow_the_changes_made_through_the_service(alice, make_usager):
    usager = make_usager(alice.organisation, first_name="Anne", last_name="Durand")
    usager_services.update_usager(as_agent(None, usager.organisations.first()), usager, {"last_name": "Lefèvre"})
    assert _found(alice.organisation, "lefevre") == {Usager.objects.get(pk=usager.pk)}
    assert _found(alice.organisation, "durand") == set()
