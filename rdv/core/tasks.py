"""Background tasks shared by every app (run by `manage.py db_worker`).

E-mails, SMS and webhooks are not tasks: they are delivery rows of `rdv.outbox`.
"""

from django.conf import settings
from django.core.management import call_command
from django_tasks import task


@task()
def prune_task_results() -> None:
    """Delete finished task results older than `TASK_RESULTS_KEEP_DAYS` (periodic, scheduler)."""
    call_command("prune_db_task_results", queue_name="*", min_age_days=settings.TASK_RESULTS_KEEP_DAYS, verbosity=0)


@task()
def purge_rate_counters() -> None:
    """Delete old rate-limit windows (periodic, scheduler)."""
    from rdv.core.ratelimit import purge_rate_counters as purge

    purge()
