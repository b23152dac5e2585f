"""Keyset pages and bounded counts (rdv.core.pagination), on journal rows whose dates tie."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from rdv.core.models import AuditLog
from rdv.core.pagination import _round, bounded_count, keyset_page, parse_id

ORDER = ("-created_at", "-id")


@pytest.fixture
def entries(db):
    """25 entries, in groups of five sharing the same date: only the id breaks the ties."""
    rows = AuditLog.objects.bulk_create(AuditLog(action="x", object_type="t", object_id=str(i)) for i in range(25))
    for index, row in enumerate(rows):
        AuditLog.objects.filter(pk=row.pk).update(created_at=datetime(2027, 1, 1 + index // 5, tzinfo=UTC))
    return list(AuditLog.objects.order_by(*ORDER))


def test_keyset_pages_go_through_every_row_once_in_order_despite_ties(entries):
    seen, page = [], keyset_page(AuditLog.objects.all(), ORDER, size=4)
    assert page.is_first and not page.has_previous
    while True:
        seen.extend(page.rows)
        if not page.has_next:
            break
        page = keyset_page(AuditLog.objects.all(), ORDER, after=page.last_id, size=4)
        assert page.has_previous and not page.is_first
    assert seen == entries


def test_a_page_before_a_row_is_the_page_that_led_to_it(entries):
    third = keyset_page(AuditLog.objects.all(), ORDER, after=entries[7].pk, size=4)
    assert third.rows == entries[8:12]
    second = keyset_page(AuditLog.objects.all(), ORDER, before=third.first_id, size=4)
    assert second.rows == entries[4:8] and second.has_previous and second.has_next
    first = keyset_page(AuditLog.objects.all(), ORDER, before=second.first_id, size=4)
    assert first.rows == entries[:4] and not first.has_previous and first.is_first


def test_an_id_outside_the_queryset_gives_the_first_page(entries):
    outside = entries[0].pk
    page = keyset_page(AuditLog.objects.exclude(pk=outside), ORDER, after=outside, size=4)
    assert page.is_first and page.rows == entries[1:5]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), ("", None), ("-1", None), ("1e3", None), ("²", None), ("１２", None), (str(2**63), None)],
)
def test_page_ids_from_the_url(raw, expected):
    assert parse_id(raw) == expected


def test_counts_are_exact_up_to_the_cap(entries):
    assert bounded_count(AuditLog.objects.all(), cap=25).exact
    assert bounded_count(AuditLog.objects.all(), cap=25).value == 25
    beyond = bounded_count(AuditLog.objects.all(), cap=24)
    assert not beyond.exact and beyond.value >= 24
    if connection.vendor == "sqlite":
        assert (beyond.value, beyond.approximate) == (24, False)  # « plus de 24 »


def test_estimates_keep_two_significant_digits():
    assert [_round(n) for n in (7, 52, 1_234, 52_347, 987_654)] == [7, 52, 1_200, 52_000, 990_000]
