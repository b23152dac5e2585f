"""Tasks run by `manage.py db_worker` (django-tasks, database backend)."""

from django_tasks import task

from rdv.notifications import reminders


@task()
def send_reminders() -> int:
    """Periodic (scheduler): the reminders due now."""
    return reminders.send_due_reminders()
