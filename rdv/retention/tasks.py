"""The nightly data retention jobs (scheduled by `run_scheduler`, see SCHEDULED_TASKS)."""

from django_tasks import task

from rdv.retention import services


@task()
def purge_old_rdvs() -> None:
    services.purge_old_rdvs()


@task()
def review_inactive_usagers() -> None:
    services.review_inactive_usagers()


@task()
def purge_old_audit_entries() -> None:
    services.purge_old_audit_entries()
