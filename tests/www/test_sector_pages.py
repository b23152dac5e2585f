"""Sectorisation pages: an organisation's codes listed, added many at once, removed after a
confirmation; from the espace administration (espace admins) and from the organisation's pages (its
admins). Everyone else gets a 404, two espaces side by side; bad input answers in French and changes
nothing; the pages run a fixed number of queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.territories.models import SectorCode
from tests.helpers import log_in, page_text


def espace_url(world, organisation=None) -> str:
    return reverse("espace_organisation_sectors", args=[world.territory.pk, (organisation or world.organisation).pk])


def espace_delete_url(world, code) -> str:
    return reverse("espace_organisation_sector_delete", args=[world.territory.pk, code.organisation_id, code.pk])


def organisation_url(organisation) -> str:
    return reverse("organisation_sectors", args=[organisation.pk])


def organisation_delete_url(code) -> str:
    return reverse("organisation_sector_delete", args=[code.organisation_id, code.pk])


def _codes(organisation) -> list[str]:
    return [str(code) for code in SectorCode.objects.filter(organisation=organisation).order_by("code", "commune")]


def _state() -> tuple:
    return (sorted(SectorCode.objects.values_list("organisation", "code", "commune")), AuditLog.objects.count())


def _code(organisation, code="26000", commune="Valence") -> SectorCode:
    return SectorCode.objects.create(organisation=organisation, code=code, commune=commune)


# The espace administration -------------------------------------------------------------------------


def test_the_espace_admin_adds_several_codes_at_once_and_sees_them(alice):
    client = log_in(Client(), alice.territory_admin)
    response = client.post(
        espace_url(alice), {"codes": "26000 Valence\r\n26500 Bourg-lès-Valence\r\n\r\n2a004 Ajaccio"}, follow=True
    )

    text = page_text(response)
    assert "3 codes ajoutés à la sectorisation d'alice Centre." in text
    assert _codes(alice.organisation) == ["26000 Valence", "26500 Bourg-lès-Valence", "2A004 Ajaccio"]
    for cell in ("<td>26000</td>", "<td>Valence</td>", "<td>Bourg-lès-Valence</td>", "<td>2A004</td>"):
        assert cell in text
    assert 'Retirer<span class="fr-sr-only"> le code 26500 Bourg-lès-Valence</span>' in text


def test_codes_already_present_are_said_so(alice):
    client = log_in(Client(), alice.territory_admin)
    client.post(espace_url(alice), {"codes": "26000 Valence"})
    response = client.post(espace_url(alice), {"codes": "26000 valence\n26100"}, follow=True)

    text = page_text(response)
    assert "1 code ajouté à la sectorisation d'alice Centre." in text
    assert "1 code était déjà présent : 26000 valence." in text
    assert _codes(alice.organisation) == ["26000 Valence", "26100"]


@pytest.mark.parametrize(
    ("codes", "messages"),
    [
        ("", ["Saisissez au moins un code postal ou un code INSEE, par exemple « 26000 Valence »."]),
        ("\r\n   \r\n", ["Saisissez au moins un code postal ou un code INSEE"]),
        (
            "26000 Valence\r\n2600 Valence\r\nValence 26000",
            [
                "Ligne 2 (« 2600 Valence ») : un code postal ou un code INSEE a 5 caractères, par exemple 26000.",
                "Ligne 3 (« Valence 26000 ») : écrivez le code en premier, puis la commune : « 26000 Valence ».",
            ],
        ),
        ("26000 <script>alert(1)</script>", ["le nom de la commune ne peut contenir que des lettres"]),
        ("\n".join(["x"] * 7), ["Ligne 5 (« x »)", "… et 2 autres lignes à corriger."]),
        ("\n".join(["26000 Valence"] * 1001), ["Saisissez au plus 1000 lignes à la fois"]),
        ("9" * 200_000, ["Saisissez au plus 1000 lignes à la fois."]),
    ],
)
def test_bad_lines_are_refused_in_french_and_nothing_is_added(alice, codes, messages):
    before = _state()
    response = log_in(Client(), alice.territory_admin).post(espace_url(alice), {"codes": codes})

    assert response.status_code == 200
    text = page_text(response)
    for message in messages:
        assert message in text
    assert "<script>alert" not in response.content.decode()
    assert _state() == before


def test_the_espace_admin_manages_an_organisation_where_they_have_no_role(alice):
    client = log_in(Client(), alice.territory_admin)
    assert client.get(espace_url(alice, alice.other_organisation)).status_code == 200
    client.post(espace_url(alice, alice.other_organisation), {"codes": "26100 Romans-sur-Isère"})
    assert _codes(alice.other_organisation) == ["26100 Romans-sur-Isère"]


def test_removing_a_code_asks_for_confirmation_first(alice):
    code = _code(alice.organisation)
    other = _code(alice.organisation, "26362")
    client = log_in(Client(), alice.territory_admin)

    confirmation = client.get(espace_delete_url(alice, code))
    text = page_text(confirmation)
    assert confirmation.status_code == 200
    assert "Retirer le code « 26000 Valence » de la sectorisation d'alice Centre ?" in text
    assert "ne se verront plus proposer alice Centre" in text
    assert _codes(alice.organisation) == ["26000 Valence", "26362 Valence"]
    # A POST without the confirmation shows the same step.
    assert client.post(espace_delete_url(alice, code)).status_code == 200
    assert _codes(alice.organisation) == ["26000 Valence", "26362 Valence"]

    response = client.post(espace_delete_url(alice, code), {"confirmer": "1"}, follow=True)
    assert "Le code « 26000 Valence » est retiré de la sectorisation d'alice Centre." in page_text(response)
    assert list(SectorCode.objects.all()) == [other]
    assert AuditLog.objects.filter(action="sector_codes.deleted").count() == 1
    # Gone: its URL now answers 404.
    assert client.post(espace_delete_url(alice, code), {"confirmer": "1"}).status_code == 404


def test_the_page_says_whether_the_espace_is_sectorised(alice):
    client = log_in(Client(), alice.territory_admin)
    assert "Pas de sectorisation dans l'espace" in page_text(client.get(espace_url(alice)))
    _code(alice.other_organisation, "26100", "Romans")
    text = page_text(client.get(espace_url(alice)))
    assert "Cette organisation n'est proposée à aucun usager en ligne" in text
    text = page_text(client.get(espace_url(alice, alice.other_organisation)))
    assert "Pas de sectorisation" not in text and "n'est proposée à aucun usager" not in text


def test_the_organisations_page_counts_the_codes_and_links_to_each_sectorisation(alice):
    _code(alice.organisation)
    _code(alice.organisation, "26362")
    text = page_text(
        log_in(Client(), alice.territory_admin).get(reverse("espace_organisations", args=[alice.territory.pk]))
    )
    assert "2 codes" in text and "Aucun code" in text
    assert f'href="{espace_url(alice)}"' in text
    assert f'href="{espace_url(alice, alice.other_organisation)}"' in text
    assert 'Sectorisation<span class="fr-sr-only"> d\'alice Centre</span>' in text


# The organisation's pages ------------------------------------------------------------------------------


def test_the_organisation_admin_manages_the_codes_from_the_organisation_pages(alice):
    client = log_in(Client(), alice.organisation_admin)
    home = page_text(client.get(reverse("organisation_home", args=[alice.organisation.pk])))
    assert f'href="{organisation_url(alice.organisation)}"' in home

    response = client.post(organisation_url(alice.organisation), {"codes": "26000 Valence"}, follow=True)
    assert "1 code ajouté à la sectorisation d'alice Centre." in page_text(response)
    assert response.redirect_chain[-1][0] == organisation_url(alice.organisation)
    code = SectorCode.objects.get()

    confirmation = client.get(organisation_delete_url(code))
    assert "Retirer le code « 26000 Valence »" in page_text(confirmation)
    response = client.post(organisation_delete_url(code), {"confirmer": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == organisation_url(alice.organisation)
    assert not SectorCode.objects.exists()


def test_a_basic_agent_sees_no_link_and_gets_404(alice):
    code = _code(alice.organisation)
    client = log_in(Client(), alice.agent)
    home = page_text(client.get(reverse("organisation_home", args=[alice.organisation.pk])))
    assert "Sectorisation" not in home
    before = _state()
    assert client.get(organisation_url(alice.organisation)).status_code == 404
    assert client.post(organisation_url(alice.organisation), {"codes": "26100"}).status_code == 404
    assert client.post(organisation_delete_url(code), {"confirmer": "1"}).status_code == 404
    assert _state() == before


def test_the_espace_admin_also_reaches_them_from_an_organisation_they_belong_to(alice):
    client = log_in(Client(), alice.territory_admin)
    assert client.get(organisation_url(alice.organisation)).status_code == 200


# Who gets a 404: every page × every visitor, two espaces side by side ------------------------------------


def _pages(world, code):
    """(method, url, data) of every sectorisation page of `world`, for the code `code`."""
    return [
        ("get", espace_url(world), None),
        ("post", espace_url(world), {"codes": "26100"}),
        ("get", espace_delete_url(world, code), None),
        ("post", espace_delete_url(world, code), {"confirmer": "1"}),
        ("get", organisation_url(world.organisation), None),
        ("post", organisation_url(world.organisation), {"codes": "26100"}),
        ("get", organisation_delete_url(code), None),
        ("post", organisation_delete_url(code), {"confirmer": "1"}),
    ]


# (visitor, the pages it may open: "espace", "organisation" or both)
VISITORS = [
    ("territory_admin", {"espace", "organisation"}),
    ("organisation_admin", {"organisation"}),
    ("agent", set()),
]


@pytest.mark.parametrize(("visitor", "opens"), VISITORS)
def test_who_opens_which_page(alice, bob, visitor, opens):
    code = _code(alice.organisation)
    client = log_in(Client(), getattr(alice, visitor))
    pages = {
        espace_url(alice): "espace",
        espace_delete_url(alice, code): "espace",
        organisation_url(alice.organisation): "organisation",
        organisation_delete_url(code): "organisation",
    }
    for url, entrance in pages.items():
        assert client.get(url).status_code == (200 if entrance in opens else 404), (visitor, url)


@pytest.mark.parametrize("visitor", ["territory_admin", "organisation_admin", "agent"])
def test_the_other_espace_s_agents_get_404_and_change_nothing(alice, bob, visitor):
    code = _code(alice.organisation)
    before = _state()
    client = log_in(Client(), getattr(bob, visitor))
    for method, url, data in _pages(alice, code):
        assert getattr(client, method)(url, data).status_code == 404, (method, url)
    assert _state() == before


def test_own_espace_with_another_espace_s_ids_answers_404(alice, bob):
    bob_code = _code(bob.organisation, "07000", "Privas")
    own_code = _code(alice.organisation)
    before = _state()
    client = log_in(Client(), alice.territory_admin)
    urls = [
        reverse("espace_organisation_sectors", args=[alice.territory.pk, bob.organisation.pk]),
        reverse("espace_organisation_sector_delete", args=[alice.territory.pk, bob.organisation.pk, bob_code.pk]),
        reverse("espace_organisation_sector_delete", args=[alice.territory.pk, alice.organisation.pk, bob_code.pk]),
        # A code of the espace, named under another of its organisations.
        reverse(
            "espace_organisation_sector_delete", args=[alice.territory.pk, alice.other_organisation.pk, own_code.pk]
        ),
        organisation_url(bob.organisation),
        reverse("organisation_sector_delete", args=[alice.organisation.pk, bob_code.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"codes": "26100", "confirmer": "1"}).status_code == 404, url
    assert _state() == before


def test_the_organisation_admin_cannot_reach_a_sibling_organisation_s_codes(alice):
    code = _code(alice.other_organisation)
    before = _state()
    client = log_in(Client(), alice.organisation_admin)
    assert client.get(organisation_url(alice.other_organisation)).status_code == 404
    assert client.post(organisation_delete_url(code), {"confirmer": "1"}).status_code == 404
    assert (
        client.post(
            reverse("organisation_sector_delete", args=[alice.organisation.pk, code.pk]), {"confirmer": "1"}
        ).status_code
        == 404
    )
    assert _state() == before


def test_anonymous_visitors_are_sent_to_the_login_page(alice):
    code = _code(alice.organisation)
    for method, url, data in _pages(alice, code):
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


# Queries ------------------------------------------------------------------------------------------------


# The base page (session, agent, menus: 6 queries on the espace pages, 5 on the organisation's), the
# organisation (espace pages), the codes.
@pytest.mark.parametrize(("entrance", "expected"), [("espace", 8), ("organisation", 7)])
def test_the_list_runs_the_same_number_of_queries_for_one_code_or_a_hundred(alice, entrance, expected):
    client = log_in(Client(), alice.territory_admin)
    url = espace_url(alice) if entrance == "espace" else organisation_url(alice.organisation)
    _code(alice.organisation)
    client.get(url)
    counts = []
    for more in (0, 99):
        for n in range(more):
            _code(alice.organisation, f"{26100 + n}", f"Commune {n}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert page_text(response).count("<td>Commune ") == more
        counts.append(len(queries))
    assert counts == [expected, expected]
