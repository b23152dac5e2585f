"""The retention rules the journeys of test_retention.py and test_usager_rights.py do not reach
(found by mutation testing, mutation/retention-*.toml): the time budget of the usagers' review,
the services' own transactions, two reviews at once (PostgreSQL)."""

import threading

import pytest
from django.db import connections, transaction

from rdv.core.models import AuditLog
from rdv.retention import services
from rdv.usagers.models import Usager
from tests.helpers import as_agent
from tests.retention.conftest import DAY, NOW, TWO_YEARS, aged, build_place

REVIEW = 30 * DAY


def _flagged(place, count: int) -> list[Usager]:
    usagers = [aged(place.usager(), NOW - TWO_YEARS - DAY) for _ in range(count)]
    Usager.objects.filter(pk__in=[usager.pk for usager in usagers]).update(retention_flagged_at=NOW - REVIEW)
    return usagers


def test_a_review_at_its_time_budget_deletes_a_first_batch_and_the_next_run_goes_on(place, settings):
    settings.RETENTION_RUN_BUDGET_SECONDS = 0  # every run stops after its first batch of deletions
    _flagged(place, 3)
    first = services.review_inactive_usagers(batch_size=2)
    assert (first.counts["usagers_deleted"], first.finished) == (2, False)
    assert Usager.objects.count() == 1
    second = services.review_inactive_usagers(batch_size=2)
    assert (second.counts["usagers_deleted"], second.finished) == (1, False)
    third = services.review_inactive_usagers(batch_size=2)
    assert (third.counts["usagers_deleted"], third.finished) == (0, True)
    assert not Usager.objects.exists()


def test_files_active_again_are_unflagged_in_batches(place):
    active_again = _flagged(place, 3)
    Usager.objects.filter(pk__in=[usager.pk for usager in active_again]).update(updated_at=NOW - DAY)
    report = services.review_inactive_usagers(batch_size=2)
    assert (report.counts["usagers_unflagged"], report.batches) == (3, 2)  # 2 + 1, nothing else to do
    assert not Usager.objects.filter(retention_flagged_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_the_rights_services_hold_their_own_transaction(alice):
    """Called outside any transaction (a command, a shell): the row locks need one of their own,
    which PostgreSQL enforces (select_for_update outside a transaction is an error there)."""
    place = build_place(alice)
    admin = as_agent(place.world.organisation_admin, place.organisation)
    kept, deleted = _flagged(place, 2)
    assert services.keep_usager(admin, kept) is True
    assert Usager.objects.get(pk=kept.pk).retention_flagged_at is None
    services.delete_usager(admin, deleted)
    assert not Usager.objects.filter(pk=deleted.pk).exists()
    services.export_usager(admin, kept, format="json")
    assert AuditLog.objects.filter(action="usager.exported", object_id=str(kept.pk)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviews_at_once_never_delete_the_same_usagers(postgres_only, alice):
    """A review skips the files another run holds (SKIP LOCKED): no file is deleted, journaled or
    announced twice, and the run does not wait."""
    place = build_place(alice)
    held, free = _flagged(place, 2), _flagged(place, 2)
    locked, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with transaction.atomic():
                list(Usager.objects.select_for_update().filter(pk__in=[usager.pk for usager in held]))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_run)
    thread.start()
    assert locked.wait(10)
    try:
        report = services.review_inactive_usagers()
    finally:
        release.set()
        thread.join()
    assert report.counts["usagers_deleted"] == 2
    assert set(Usager.objects.values_list("pk", flat=True)) == {usager.pk for usager in held}
    assert services.review_inactive_usagers().counts["usagers_deleted"] == 2
    assert AuditLog.objects.filter(action="usager.deleted").count() == 4
