"""The usager list of a big organisation: a constant number of SQL queries, and an indexed search."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.usagers.models import Usager, UsagerOrganisation
from tests.helpers import log_in, page_text

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
# query), header menus (2), count, page of usagers. (Before the request context: 10.)
LIST_QUERIES = 9


def _text(response) -> str:
    return " ".join(page_text(response).split())


def test_usager_list_of_10000_usagers_renders_its_first_page_in_a_constant_number_of_queries(
    alice, django_assert_num_queries
):
    client = log_in(Client(), alice.agent)
    url = reverse("usager_list", args=[alice.organisation.pk])
    bulk_usagers(alice.organisation, 60)
    small, _ = _count_queries(client, url)

    bulk_usagers(alice.organisation, 9_940)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(url)
    text = _text(response)
    assert "10000 usagers dans" in text
    assert text.count(f"/organisations/{alice.organisation.pk}/usagers/") >= 50
    assert "1 / 200" in text  # 50 per page
    assert small == LIST_QUERIES


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
