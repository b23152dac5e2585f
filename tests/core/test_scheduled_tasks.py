"""The periodic jobs and the scheduler's leader lock (the processes themselves are tested in
tests/outbox/test_real_processes.py)."""

from datetime import timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.utils import timezone
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from rdv.core.leader import leader_lock
from rdv.core.management.commands.run_scheduler import trigger_for
from rdv.core.tasks import prune_task_results


def test_every_scheduled_job_is_a_task_with_a_trigger():
    from django.utils.module_loading import import_string

    paths = [job["task"] for job in settings.SCHEDULED_TASKS]
    assert paths == [
        "rdv.outbox.tasks.deliver_due",
        "rdv.outbox.tasks.purge_sent_deliveries",
        "rdv.core.tasks.prune_task_results",
        "rdv.core.tasks.purge_rate_counters",
        "rdv.api.tasks.purge_api_records",
        "rdv.online.tasks.purge_online_bookings",
        "rdv.notifications.tasks.send_reminders",
        "rdv.retention.tasks.purge_old_rdvs",
        "rdv.retention.tasks.review_inactive_usagers",
        "rdv.retention.tasks.purge_old_audit_entries",
    ]
    for job in settings.SCHEDULED_TASKS:
        assert isinstance(import_string(job["task"]), Task)
    nightly = trigger_for(settings.SCHEDULED_TASKS[1])
    assert isinstance(nightly, CronTrigger)
    assert str(nightly.timezone) == "Europe/Paris"
    assert trigger_for(settings.SCHEDULED_TASKS[0]).interval == timedelta(seconds=settings.OUTBOX_SWEEP_SECONDS)


def test_old_finished_task_results_are_pruned(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASK_RESULTS_KEEP_DAYS = 7
    old, recent, waiting = (prune_task_results.enqueue() for _ in range(3))
    DBTaskResult.objects.filter(pk__in=[old.id, recent.id]).update(status="SUCCESSFUL")
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=timezone.now() - timedelta(days=8))
    DBTaskResult.objects.filter(pk=recent.id).update(finished_at=timezone.now() - timedelta(days=6))
    prune_task_results.call()
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.db_result.pk, waiting.db_result.pk}


@pytest.mark.django_db(transaction=True)
def test_only_one_holder_of_the_leader_lock_at_a_time():
    first, second, other = leader_lock("test-leader"), leader_lock("test-leader"), leader_lock("another-job")
    try:
        assert first.acquire() is True
        assert first.held() is True
        assert second.acquire() is False
        assert second.held() is False
        first.release()
        assert first.held() is False
        assert second.acquire() is True
        assert other.acquire() is True  # locks are per name
    finally:
        for lock in (first, second, other):
            lock.release()
