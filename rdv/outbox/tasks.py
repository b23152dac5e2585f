"""Tasks run by `manage.py db_worker` (django-tasks, database backend)."""

from django.conf import settings
from django_tasks import task

from rdv.outbox import services


@task()
def deliver(delivery_id: int) -> str:
    """Enqueued with each new message and each retry (at its next attempt time)."""
    return services.deliver_one(delivery_id)


@task()
def deliver_due() -> dict[str, int]:
    """Periodic sweep (scheduler): expired leases of dead workers, retries whose wake-up was lost."""
    return services.deliver_due(budget_seconds=settings.OUTBOX_SWEEP_BUDGET_SECONDS)


@task()
def purge_sent_deliveries() -> int:
    return services.purge_sent()
