"""Periodic tasks of the API (run by `manage.py db_worker`, enqueued by the scheduler)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from rdv.api.models import ApiCall, IdempotencyRecord


def purge(now=None) -> tuple[int, int]:
    """Delete calls older than API_CALLS_KEEP_DAYS and idempotency keys older than
    API_IDEMPOTENCY_HOURS. Returns both counts."""
    now = now or timezone.now()
    calls, _ = ApiCall.objects.filter(created_at__lt=now - timedelta(days=settings.API_CALLS_KEEP_DAYS)).delete()
    keys, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    ).delete()
    return calls, keys


@task()
def purge_api_records() -> None:
    purge()
