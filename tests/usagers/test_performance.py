"""The usager list of a big organisation: a constant number of SQL queries, and an indexed search."""

import datetime
import html
import itertools
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.core import pagination
from rdv.usagers import selectors as usager_selectors
from rdv.usagers.models import Usager, UsagerOrganisation
from tests.helpers import as_agent, log_in, page_text

FIRST_NAMES = ["Éloïse", "Karim", "Jeanne", "Lucas", "Chloé", "Hugo", "Inès", "Théo", "Léa", "Noé"]
LAST_NAMES = ["Dupré", "Benali", "Lefèvre", "Moreau", "Garnier", "Roux", "Faure", "Mercier", "Blanc", "Guérin"]


def bulk_usagers(organisation, count: int) -> None:
    """`count` usagers in `organisation`, saved in bulk (search columns filled as the services do)."""
    usagers = []
    for index, (first, last) in zip(range(count), itertools.cycle(itertools.product(FIRST_NAMES, LAST_NAMES))):
        usager = Usager(
            territory=organisation.territory,
            first_name=first,
            last_name=f"{last}{index:05d}",
            email=f"usager{index}@exemple.fr",
            phone=f"+336{index:08d}",
            birth_date=datetime.date(1988, 4, 12) if index % 100 == 19 else None,
        )
        usager.refresh_search_fields()
        usagers.append(usager)
    created = Usager.objects.bulk_create(usagers, batch_size=2000)
    UsagerOrganisation.objects.bulk_create(
        (UsagerOrganisation(usager=usager, organisation=organisation) for usager in created), batch_size=2000
    )


def _count_queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), _text(response)


# Session, agent, the login check (2), the request context (organisation, role and services: one
# query), header menus (2), bounded count, page of usagers. (Before the request context: 10.) A page
# after the first adds the lookup of the row it starts from.
LIST_QUERIES = 9


def big_list_queries() -> int:
    """Beyond 1 000 files, PostgreSQL also asks its planner for an estimate of the count."""
    return LIST_QUERIES + (1 if connection.vendor == "postgresql" else 0)


def _text(response) -> str:
    return " ".join(page_text(response).split())


def test_usager_list_of_10000_usagers_renders_its_first_page_in_a_constant_number_of_queries(
    alice, django_assert_num_queries
):
    client = log_in(Client(), alice.agent)
    url = reverse("usager_list", args=[alice.organisation.pk])
    bulk_usagers(alice.organisation, 60)
    small, text = _count_queries(client, url)
    assert "60 usagers dans" in text

    bulk_usagers(alice.organisation, 9_940)
    with django_assert_num_queries(big_list_queries()):
        response = client.get(url)
    text = _text(response)
    count = response.context["count"]
    assert not count.exact and count.value >= 1000  # counted up to 1 000 rows, no more
    if connection.vendor == "sqlite":
        assert "Plus de 1 000 usagers dans" in text
    assert "affinez la recherche" in text
    assert text.count(f"/organisations/{alice.organisation.pk}/usagers/") >= 50
    assert "Usagers suivants" in text and "Usagers précédents" not in text
    assert small == LIST_QUERIES


def _names(response) -> list[str]:
    return [usager.last_name for usager in response.context["page"]]


def _follow(client, response, label: str):
    """Follow the pagination link `label` of the page."""
    match = re.search(rf'href="(\?[^"]*)">{label}</a>', response.content.decode())
    assert match, label
    return client.get(response.wsgi_request.path + html.unescape(match.group(1)))


def test_the_usager_list_pages_through_every_file_once_in_order(alice, django_assert_num_queries):
    bulk_usagers(alice.organisation, 120)
    expected = list(
        Usager.objects.in_organisation(alice.organisation)
        .order_by("last_name_key", "first_name_key", "id")
        .values_list("last_name", flat=True)
    )
    client = log_in(Client(), alice.agent)
    first = client.get(reverse("usager_list", args=[alice.organisation.pk]))
    with django_assert_num_queries(LIST_QUERIES + 1):
        second = _follow(client, first, "Usagers suivants")
    third = _follow(client, second, "Usagers suivants")
    assert _names(first) + _names(second) + _names(third) == expected
    assert [len(_names(page)) for page in (first, second, third)] == [50, 50, 20]
    assert "Usagers suivants" not in _text(third) and "Début de la liste" in _text(third)
    assert _names(_follow(client, third, "Usagers précédents")) == _names(second)
    back = _follow(client, second, "Usagers précédents")
    assert _names(back) == _names(first) and "Usagers précédents" not in _text(back)
    assert _names(_follow(client, third, "Début de la liste")) == _names(first)


def test_the_pages_of_a_search_keep_the_search(alice):
    bulk_usagers(alice.organisation, 1_000)  # 100 of each last name
    client = log_in(Client(), alice.agent)
    first = client.get(reverse("usager_list", args=[alice.organisation.pk]), {"q": "moreau"})
    second = _follow(client, first, "Usagers suivants")
    names = _names(first) + _names(second)
    assert len(names) == 100 and all(name.startswith("Moreau") for name in names)
    assert "100 usagers trouvés" in _text(second)


@pytest.mark.parametrize(
    "params",
    [{"apres": "abc"}, {"apres": "-1"}, {"avant": "99999999999999999999999"}, {"apres": "²"}, {"page": "x"}],
)
def test_garbage_page_positions_show_the_first_page(alice, params):
    bulk_usagers(alice.organisation, 60)
    client = log_in(Client(), alice.agent)
    url = reverse("usager_list", args=[alice.organisation.pk])
    response = client.get(url, params)
    assert response.status_code == 200
    assert _names(response) == _names(client.get(url))


def test_a_page_cannot_start_from_a_file_outside_the_organisation(alice, bob):
    bulk_usagers(alice.organisation, 60)
    bulk_usagers(bob.organisation, 1)
    hidden = Usager.objects.get(territory=bob.territory)
    client = log_in(Client(), alice.agent)
    url = reverse("usager_list", args=[alice.organisation.pk])
    response = client.get(url, {"apres": hidden.pk})
    assert _names(response) == _names(client.get(url))  # the first page: the cursor is ignored


def test_a_deep_page_costs_the_same_queries_as_the_second(alice):
    bulk_usagers(alice.organisation, 3_000)
    client = log_in(Client(), alice.agent)
    url = reverse("usager_list", args=[alice.organisation.pk])
    ordered = list(
        Usager.objects.in_organisation(alice.organisation)
        .order_by("last_name_key", "first_name_key", "id")
        .values_list("pk", flat=True)
    )
    second, _ = _count_queries(client, f"{url}?apres={ordered[49]}")
    deep, _ = _count_queries(client, f"{url}?apres={ordered[2_499]}")
    assert second == deep == big_list_queries() + 1
    response = client.get(url, {"apres": ordered[2_499]})
    assert [usager.pk for usager in response.context["page"]] == ordered[2_500:2_550]


@pytest.mark.parametrize("query", ["dupre", "06 00 00 12 34", "12/04/1988", "eloise dupre0"])
def test_usager_search_in_a_big_organisation_also_takes_a_constant_number_of_queries(
    alice, django_assert_num_queries, query
):
    bulk_usagers(alice.organisation, 3_000)
    alice.territory.usagers_visible_territory_wide = True
    alice.territory.save()
    client = log_in(Client(), alice.agent)
    for scope in ("", "&portee=espace"):
        with django_assert_num_queries(LIST_QUERIES):
            client.get(reverse("usager_list", args=[alice.organisation.pk]) + f"?q={query}{scope}")


def test_the_search_finds_the_right_people_among_thousands(alice):
    bulk_usagers(alice.organisation, 3_000)
    client = log_in(Client(), alice.agent)
    text = _text(client.get(reverse("usager_list", args=[alice.organisation.pk]) + "?q=GUERIN00019"))
    assert "1 usager trouvé" in text
    assert "GUÉRIN00019" in text


@pytest.mark.postgres
def test_postgresql_serves_the_accent_free_search_from_the_trigram_index(alice, postgres_only):
    bulk_usagers(alice.organisation, 10_000)
    with connection.cursor() as cursor:
        # What autovacuum does in production (VACUUM cannot run in the test's transaction): move the
        # bulk-inserted entries from the GIN pending list into the index, and refresh the statistics.
        cursor.execute("SELECT gin_clean_pending_list('usager_search_trgm_idx'::regclass)")
        cursor.execute("ANALYZE usagers_usager")
        cursor.execute("ANALYZE usagers_usagerorganisation")
    espace_wide = Usager.objects.filter(territory=alice.territory).search("guerin00019")
    plan = espace_wide.explain()
    print("\nEXPLAIN (espace-wide search)\n" + plan)
    assert "usager_search_trgm_idx" in plan
    in_organisation = (
        Usager.objects.in_organisation(alice.organisation)
        .search("guerin00019")
        .order_by("last_name_key", "first_name_key", "id")
    )
    plan = in_organisation.explain(analyze=True)
    print("\nEXPLAIN ANALYZE (organisation search)\n" + plan)
    assert "usager_search_trgm_idx" in plan
    assert [u.last_name for u in in_organisation] == ["Guérin00019"]
    first_page = Usager.objects.in_organisation(alice.organisation).order_by("last_name_key", "first_name_key", "id")[
        :50
    ]
    plan = first_page.explain(analyze=True)
    print("\nEXPLAIN ANALYZE (first page of the list, no search)\n" + plan)
    assert "usager_sort_idx" in plan
    assert len(list(first_page)) == 50


@pytest.mark.postgres
def test_postgresql_starts_a_deep_page_in_the_sort_index_and_estimates_big_counts(alice, postgres_only):
    bulk_usagers(alice.organisation, 10_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE usagers_usager")
        cursor.execute("ANALYZE usagers_usagerorganisation")
    ctx = as_agent(alice.agent, alice.organisation)
    queryset = usager_selectors.search(ctx)
    ordered = list(queryset.values_list("pk", flat=True))
    # The page after the 9 000th file: the index scan starts at that file (no OFFSET, no full scan).
    cursor_row = queryset.filter(pk=ordered[8_999]).values(*usager_selectors.SEARCH_ORDER).get()
    deep = queryset.filter(pagination._beyond(usager_selectors.SEARCH_ORDER, cursor_row, backwards=False))[:51]
    plan = deep.explain(analyze=True)
    print("\nEXPLAIN ANALYZE (a page deep in the list)\n" + plan)
    assert "usager_sort_idx" in plan
    assert "Index Cond" in plan  # the scan starts at the cursor's name, it does not filter from the top
    assert [u.pk for u in deep[:50]] == ordered[9_000:9_050]

    count = pagination.bounded_count(queryset)
    assert count.approximate and 9_000 <= count.value <= 11_000
    client = log_in(Client(), alice.agent)
    text = _text(client.get(reverse("usager_list", args=[alice.organisation.pk])))
    assert f"Environ {count.value:,} usagers dans".replace(",", " ") in text
