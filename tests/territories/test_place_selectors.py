"""Which organisations serve the place an usager types (organisations_for_place), and the
suggestions while typing (communes_matching): exact codes, communes without case, accents, hyphens
or « St », prefixes, espaces without sectorisation, the platform-wide search, constant queries."""

import pytest

from rdv.territories.models import SectorCode
from rdv.territories.selectors import CommuneSuggestion, communes_matching, organisations_for_place
from tests import factories


def _codes(organisation, *lines):
    for line in lines:
        code, _, commune = line.partition(" ")
        SectorCode.objects.create(organisation=organisation, code=code, commune=commune)


@pytest.fixture
def drome(db):
    """An espace with sectorisation: Valence, Romans, and an organisation without code."""
    territory = factories.TerritoryFactory(name="Drôme")
    valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    romans = factories.OrganisationFactory(territory=territory, name="MDS Romans")
    factories.OrganisationFactory(territory=territory, name="MDS sans code")
    _codes(valence, "26000 Valence", "26362 Valence", "26500 Bourg-lès-Valence")
    _codes(romans, "26100 Romans-sur-Isère", "26300 Bourg-de-Péage", "26500 Bourg-lès-Valence")
    return territory, valence, romans


@pytest.fixture
def loire(db):
    """Another espace with sectorisation (Saint-Étienne), and an espace without any code."""
    territory = factories.TerritoryFactory(name="Loire")
    stephanois = factories.OrganisationFactory(territory=territory, name="Maison Saint-Étienne")
    _codes(stephanois, "42000 Saint-Étienne", "42100 Saint-Étienne", "42270 Saint-Priest-en-Jarez")
    ardeche = factories.TerritoryFactory(name="Ardèche")
    privas = factories.OrganisationFactory(territory=ardeche, name="MDS Privas")
    aubenas = factories.OrganisationFactory(territory=ardeche, name="MDS Aubenas")
    return territory, stephanois, ardeche, [aubenas, privas]


def _names(organisations):
    return [organisation.name for organisation in organisations]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("26000", ["MDS Valence"]),
        ("26362", ["MDS Valence"]),  # the INSEE code of Valence
        ("26100", ["MDS Romans"]),
        ("26500", ["MDS Romans", "MDS Valence"]),  # a code served by two organisations
        ("valence", ["MDS Valence"]),
        ("VALENCE", ["MDS Valence"]),
        ("Val", ["MDS Valence"]),  # a prefix is enough
        ("bourg les valence", ["MDS Romans", "MDS Valence"]),
        ("Bourg-lès-Valence", ["MDS Romans", "MDS Valence"]),
        ("bourg", ["MDS Romans", "MDS Valence"]),  # Bourg-lès-Valence and Bourg-de-Péage
        ("Romans sur isere", ["MDS Romans"]),
        ("26000 Valence", ["MDS Valence"]),
        ("26500 Bourg", ["MDS Romans", "MDS Valence"]),
        ("26000 Romans", []),  # the code exists, not with that commune
        ("99999", []),
        ("2600", []),
        ("Lyon", []),
        ("", []),
        ("%", []),
        ("_alence", []),
    ],
)
def test_an_espace_with_sectorisation_offers_the_organisations_whose_codes_match(drome, query, expected):
    territory, *_ = drome
    assert _names(organisations_for_place(territory, query)) == expected


def test_a_code_without_commune_matches_its_code_followed_by_any_commune(drome):
    territory, _, romans = drome
    _codes(romans, "26750")
    assert organisations_for_place(territory, "26750 Génissieux") == [romans]
    assert organisations_for_place(territory, "26750") == [romans]
    assert organisations_for_place(territory, "Génissieux") == []


@pytest.mark.parametrize("query", ["st etienne", "St-Étienne", "saint etienne", "SAINT-ETIENNE", "st", "42000"])
def test_saint_and_st_hyphens_and_accents_are_tolerated(loire, query):
    territory, stephanois, *_ = loire
    assert organisations_for_place(territory, query) == [stephanois]


@pytest.mark.parametrize("query", ["26000", "Valence", "n'importe quoi", "", "99999"])
def test_an_espace_without_any_sector_code_offers_all_its_organisations_for_any_query(loire, drome, query):
    _, _, ardeche, organisations = loire
    assert organisations_for_place(ardeche, query) == organisations


def test_an_organisation_without_code_is_not_offered_where_the_espace_has_sectorisation(drome):
    territory, *_ = drome
    assert "MDS sans code" not in _names(organisations_for_place(territory, "Valence"))
    assert organisations_for_place(territory, "Privas") == []


def test_the_search_in_an_espace_never_returns_another_espace_s_organisations(drome, loire):
    territory, *_ = drome
    loire_territory, stephanois, *_ = loire
    _codes(stephanois, "26000 Valence")  # the same code in another espace
    assert _names(organisations_for_place(territory, "26000")) == ["MDS Valence"]
    assert organisations_for_place(loire_territory, "26000") == [stephanois]


def test_across_espaces_only_matching_organisations_are_returned_by_espace_then_name(drome, loire):
    _, stephanois, _, _ = loire
    _codes(stephanois, "26500 Bourg-lès-Valence")
    found = organisations_for_place(None, "Bourg-lès-Valence")
    assert [(o.territory.name, o.name) for o in found] == [
        ("Drôme", "MDS Romans"),
        ("Drôme", "MDS Valence"),
        ("Loire", "Maison Saint-Étienne"),
    ]
    # Espaces without sectorisation are not offered by the platform-wide search.
    assert organisations_for_place(None, "Privas") == []
    assert organisations_for_place(None, "") == []


def test_the_search_runs_one_query_whatever_the_number_of_codes(drome, loire, django_assert_num_queries):
    territory, valence, romans = drome
    with django_assert_num_queries(1):
        few = organisations_for_place(territory, "Valence")
        assert few[0].territory.name == "Drôme"  # the espace comes with it
    _codes(valence, *[f"26{n:03d} Commune {n}" for n in range(100, 160)])
    _codes(romans, *[f"26{n:03d} Valence {n}" for n in range(200, 260)])
    with django_assert_num_queries(1):
        many = organisations_for_place(territory, "Valence")
        [organisation.territory.name for organisation in many]
    assert _names(many) == ["MDS Romans", "MDS Valence"]
    with django_assert_num_queries(1):
        organisations_for_place(None, "42000")
    with django_assert_num_queries(1):
        organisations_for_place(loire[2], "Valence")  # the espace without codes


# Suggestions ---------------------------------------------------------------------------------------


def test_suggestions_start_with_communes_starting_with_the_text_then_names_containing_it(drome):
    assert communes_matching("valence") == [
        CommuneSuggestion("26000", "Valence"),
        CommuneSuggestion("26362", "Valence"),
        CommuneSuggestion("26500", "Bourg-lès-Valence"),
    ]
    assert communes_matching("valence")[0].label == "26000 Valence"


def test_suggestions_for_the_digits_of_a_code(drome):
    assert communes_matching("265") == [CommuneSuggestion("26500", "Bourg-lès-Valence")]
    # By commune, each code and commune once (26500 is served by two organisations).
    assert [s.label for s in communes_matching("26")] == [
        "26300 Bourg-de-Péage",
        "26500 Bourg-lès-Valence",
        "26100 Romans-sur-Isère",
        "26000 Valence",
        "26362 Valence",
    ]
    assert communes_matching("2a") == []


def test_suggestions_show_each_commune_once_and_respect_the_limit(drome, loire):
    territory, valence, _ = drome
    _codes(valence, "26000 VALENCE")  # another spelling of the same commune
    assert [s.code for s in communes_matching("Valence", territory)] == ["26000", "26362", "26500"]
    assert len(communes_matching("b", territory, limit=1)) == 1
    assert communes_matching("Valence", territory, limit=0) == []


def test_suggestions_tolerate_st_and_stay_in_the_espace_given(drome, loire):
    territory, *_ = drome
    loire_territory, *_ = loire
    assert [s.label for s in communes_matching("st etienne")] == ["42000 Saint-Étienne", "42100 Saint-Étienne"]
    assert [s.label for s in communes_matching("St", loire_territory)] == [
        "42000 Saint-Étienne",
        "42100 Saint-Étienne",
        "42270 Saint-Priest-en-Jarez",
    ]
    assert communes_matching("st etienne", territory) == []
    assert communes_matching("", territory) == []
    assert communes_matching("%", territory) == []


def test_suggestions_run_one_query(drome, django_assert_num_queries):
    territory, valence, _ = drome
    _codes(valence, *[f"26{n:03d} Valence {n}" for n in range(100, 200)])
    with django_assert_num_queries(1):
        suggestions = communes_matching("vale", territory, limit=10)
    assert len(suggestions) == 10
