"""Background tasks shared by every app (run by `manage.py db_worker`)."""

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task


@task()
def send_email(subject: str, body: str, to: list[str]) -> int:
    """Send one plain-text e-mail (no HTML part: what agents and admins typed is shown as typed,
    never interpreted). Enqueued inside the transaction of the change that causes it, so nothing
    is sent for a rolled-back change and nothing is lost if the worker restarts.

    The subject is one line: names typed elsewhere (an espace's name…) may hold line breaks, which
    Django refuses in a header (BadHeaderError) and which could otherwise forge headers."""
    return send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, to)
