"""Tasks run by `manage.py db_worker` (django-tasks, database backend)."""

from django_tasks import task

from rdv.webhooks import services


@task()
def backfill_endpoint(endpoint_id: int) -> int:
    """The `created` events of every existing subscribed record of a new (or re-activated) endpoint."""
    return services.backfill(endpoint_id)
