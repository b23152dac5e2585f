"""The text rules of the sectorisation (codes, communes, what an usager types) and of the sites
allowed to embed the public pages: plain functions, no database."""

import pytest

from rdv.territories.models import Territory
from rdv.territories.origins import MAX_ORIGINS, normalise_origin, parse_origins
from rdv.territories.sectors import (
    MAX_LINES,
    PlaceQuery,
    SectorLine,
    commune_key,
    errors_message,
    is_sector_code,
    parse_lines,
    parse_place_query,
)

# Codes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["26000", "01000", "98000", "97400", "26362", "2A004", "2B033", "20000"])
def test_postal_and_insee_codes_are_sector_codes(code):
    assert is_sector_code(code)


@pytest.mark.parametrize("code", ["2600", "260000", "00123", "99000", "2C004", "2A04", "ABCDE", "26 00", ""])
def test_other_values_are_not_sector_codes(code):
    assert not is_sector_code(code)


def test_lines_give_codes_with_their_commune_in_order_without_repeats():
    entries, errors = parse_lines(
        "26000 Valence\n\n  26500   Bourg-lès-Valence  \n2a004 Ajaccio\n26100\n26000 VALENCE\n"
        "26300;Bourg-de-Péage\n26800\tPortes-lès-Valence\n26000, L’Étoile"
    )

    assert errors == []
    assert entries == [
        SectorLine("26000", "Valence"),
        SectorLine("26500", "Bourg-lès-Valence"),
        SectorLine("2A004", "Ajaccio"),
        SectorLine("26100", ""),
        SectorLine("26300", "Bourg-de-Péage"),
        SectorLine("26800", "Portes-lès-Valence"),
        SectorLine("26000", "L'Étoile"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2600 Valence", "Ligne 1 (« 2600 Valence ») : un code postal ou un code INSEE a 5 caractères"),
        ("Valence 26000", "écrivez le code en premier, puis la commune : « 26000 Valence »"),
        ("Valence", "le code doit être un code postal (5 chiffres, par exemple 26000) ou un code INSEE"),
        ("00123 Nulle-part", "le code doit être un code postal"),
        ("26000 12", "le nom de la commune ne peut contenir que des lettres"),
        ("26000 <b>Valence</b>", "le nom de la commune ne peut contenir que des lettres"),
        ("26000 " + "a" * 151, "le nom de la commune ne doit pas dépasser 150 caractères"),
        ("+26000", "commencez la ligne par un code postal ou un code INSEE"),
    ],
)
def test_each_refused_line_is_named_with_a_french_reason(line, message):
    entries, errors = parse_lines(line)
    assert entries == []
    assert len(errors) == 1 and message in errors[0], errors


def test_the_error_names_the_line_number_among_good_lines():
    _, errors = parse_lines("26000 Valence\n\n2600 Valence")
    assert errors == ["Ligne 3 (« 2600 Valence ») : un code postal ou un code INSEE a 5 caractères, par exemple 26000."]


def test_too_many_lines_are_refused_at_once():
    entries, errors = parse_lines("\n".join(["26000 Valence"] * (MAX_LINES + 1)))
    assert entries == []
    assert errors == [f"Saisissez au plus {MAX_LINES} lignes à la fois ({MAX_LINES + 1} saisies)."]
    assert parse_lines("\n".join(["26000 Valence"] * MAX_LINES))[1] == []


def test_many_errors_are_summed_up_after_the_first_five():
    _, errors = parse_lines("\n".join(["x"] * 8))
    message = errors_message(errors)
    assert message.count("Ligne ") == 5
    assert message.endswith("… et 3 autres lignes à corriger.")


# Communes and places -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Saint-Étienne", "saint etienne"),
        ("st etienne", "saint etienne"),
        ("ST-ÉTIENNE", "saint etienne"),
        ("St. Étienne", "saint etienne"),
        ("Ste-Foy-lès-Lyon", "sainte foy les lyon"),
        ("L’Haÿ-les-Roses", "l hay les roses"),
        ("Bourg-lès-Valence", "bourg les valence"),
        ("Stella-Plage", "stella plage"),
    ],
)
def test_commune_keys_ignore_case_accents_hyphens_and_saint_abbreviations(typed, key):
    assert commune_key(typed) == key


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("26000", PlaceQuery(code="26000")),
        (" 2a004 ", PlaceQuery(code="2A004")),
        ("26000 Valence", PlaceQuery(code="26000", communes=("valence",))),
        ("Valence", PlaceQuery(communes=("valence",))),
        ("St-Étienne", PlaceQuery(communes=("saint etienne", "st etienne"))),
        ("st", PlaceQuery(communes=("saint", "st"))),  # « Saint… » or « Strasbourg » being typed
        ("260", PlaceQuery(code="260")),  # a number that is no code: matches no code
        ("", PlaceQuery()),
        ("   ", PlaceQuery()),
        ("!!!", PlaceQuery()),
        ("x" * 201, PlaceQuery()),
    ],
)
def test_what_an_usager_types_becomes_a_code_a_commune_or_both(typed, place):
    assert parse_place_query(typed) == place


# Embedding origins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://www.exemple.fr", "https://www.exemple.fr"),
        ("  HTTPS://WWW.Exemple.FR/  ", "https://www.exemple.fr"),
        ("https://exemple.fr:443", "https://exemple.fr"),
        ("https://exemple.fr:8443", "https://exemple.fr:8443"),
        ("https://mairie-valence.fr", "https://mairie-valence.fr"),
        ("https://démarches.exemple.fr", "https://xn--dmarches-b1a.exemple.fr"),
    ],
)
def test_https_origins_are_normalised(typed, origin):
    assert normalise_origin(typed, allow_local_http=False) == (origin, "")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("http://www.exemple.fr", "seules les adresses en https:// sont acceptées"),
        ("www.exemple.fr", "l'adresse doit commencer par https://"),
        ("ftp://exemple.fr", "l'adresse doit commencer par https://"),
        ("https://www.exemple.fr/prendre-rdv", "sans chemin ni paramètres"),
        ("https://www.exemple.fr/?a=1", "sans chemin ni paramètres"),
        ("https://www.exemple.fr#haut", "sans chemin ni paramètres"),
        ("https://*.exemple.fr", "les caractères génériques (*) ne sont pas acceptés"),
        ("https://moi@exemple.fr", "ne doit pas contenir d'identifiant"),
        ("https://exemple.fr:0", "le port doit être un nombre entre 1 et 65535"),
        ("https://exemple.fr:70000", "le port doit être un nombre entre 1 et 65535"),
        ("https://exemple.fr:abc", "le port doit être un nombre entre 1 et 65535"),
        ("https://exemple", "le nom du site n'est pas valide"),
        ("https://-exemple.fr", "le nom du site n'est pas valide"),
        ("https://exemple..fr", "le nom du site n'est pas valide"),
        ("https://192.168.1.10", "le nom du site n'est pas valide"),
        ("https://exemple.fr 'unsafe-inline'", "une ligne contient un seul site, sans espace"),
        ("https://exemple.fr;script-src", "le nom du site n'est pas valide"),
        ("https://", "le nom du site n'est pas valide"),
        ("http://localhost:8000", "seules les adresses en https:// sont acceptées"),
    ],
)
def test_other_lines_are_refused_with_a_french_reason(typed, reason):
    origin, error = normalise_origin(typed, allow_local_http=False)
    assert origin is None
    assert reason in error


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://localhost", "https://localhost"),
    ],
)
def test_local_http_origins_are_accepted_in_development_and_tests_only(typed, origin):
    assert normalise_origin(typed, allow_local_http=True) == (origin, "")
    assert normalise_origin(typed, allow_local_http=False)[0] is None


def test_local_http_follows_the_setting(settings):
    settings.DEBUG = False
    settings.EMBEDDING_ALLOW_LOCAL_HTTP = False
    assert normalise_origin("http://localhost:8000")[0] is None
    settings.EMBEDDING_ALLOW_LOCAL_HTTP = True
    assert normalise_origin("http://localhost:8000")[0] == "http://localhost:8000"
    settings.EMBEDDING_ALLOW_LOCAL_HTTP = False
    settings.DEBUG = True
    assert normalise_origin("http://localhost:8000")[0] == "http://localhost:8000"


def test_origins_are_read_one_per_line_without_repeats_and_at_most_twenty():
    origins, errors = parse_origins("https://a.fr\n\nhttps://A.fr/\nhttps://b.fr\n")
    assert (origins, errors) == (["https://a.fr", "https://b.fr"], [])

    many = "\n".join(f"https://site{n}.fr" for n in range(MAX_ORIGINS + 1))
    origins, errors = parse_origins(many)
    assert errors == [f"Indiquez au plus {MAX_ORIGINS} sites ({MAX_ORIGINS + 1} saisis)."]
    assert parse_origins("\n".join(f"https://site{n}.fr" for n in range(MAX_ORIGINS)))[1] == []


def test_each_refused_origin_line_is_numbered():
    _, errors = parse_origins("https://a.fr\nhttp://b.fr")
    assert errors == ["Ligne 2 (« http://b.fr ») : seules les adresses en https:// sont acceptées."]


def test_the_espace_lists_its_stored_origins_each_checked_again(settings):
    settings.EMBEDDING_ALLOW_LOCAL_HTTP = False
    territory = Territory(
        embedding_origins="https://www.ladrome.fr\nhttps://mairie.fr/x\n\nhttp://localhost:8000\n"
        "https://x.fr; frame-ancestors *\nHTTPS://Valence.FR"
    )
    assert territory.embedding_origin_list == ["https://www.ladrome.fr", "https://valence.fr"]
    assert Territory(embedding_origins="").embedding_origin_list == []
