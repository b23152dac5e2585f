"""Reminders: the scheduler runs `send_due_reminders` every few minutes (rdv.notifications.tasks).

For each espace, a reminder of each kind (first: `reminder_first_hours` before, 48 h by default;
second: `reminder_second_hours`, optional) is written once the RDV is within that many hours, for
each participant (to them or their responsible usager), if the RDV was booked before that time (a
RDV booked 3 hours ahead gets no « 48 hours before » reminder), is not cancelled, has not started,
and its motif is « visible et notifié ». A `Reminder` row per (RDV, usager, kind, start time) makes
it idempotent: running twice writes once; a moved RDV gets new reminders for its new time (the
waiting ones of the old time are cancelled by the move). The e-mail expires at the RDV's start: the
outbox never sends it later, even after retries during an outage.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from rdv.bookings.models import CANCELLED_STATUSES, Participation
from rdv.motifs.models import Visibility
from rdv.notifications.events import notify_usager
from rdv.notifications.models import Reminder, ReminderKind
from rdv.outbox.models import Purpose
from rdv.territories.models import Territory


def send_due_reminders(now=None) -> int:
    """Write the reminders due now; returns how many were written."""
    now = now or timezone.now()
    written = 0
    for territory in Territory.objects.only("pk", "reminder_first_hours", "reminder_second_hours"):
        for kind, hours in (
            (ReminderKind.FIRST, territory.reminder_first_hours),
            (ReminderKind.SECOND, territory.reminder_second_hours),
        ):
            if hours:
                written += _write(territory, kind, timedelta(hours=hours), now)
    return written


def _write(territory, kind: str, ahead: timedelta, now) -> int:
    participations = (
        Participation.objects.filter(
            rdv__organisation__territory=territory,
            rdv__starts_at__gt=now,
            rdv__starts_at__lte=now + ahead,
            rdv__created_at__lt=F("rdv__starts_at") - ahead,
            rdv__motif__visibility=Visibility.VISIBLE_AND_NOTIFIED,
        )
        .exclude(rdv__status__in=CANCELLED_STATUSES)
        .exclude(rdv__reminders__kind=kind, rdv__reminders__starts_at=F("rdv__starts_at"))
        .select_related("rdv__organisation__territory", "rdv__motif__service", "rdv__lieu", "usager__responsible")
        .order_by("rdv__starts_at", "pk")
    )
    written = 0
    for participation in participations:
        rdv, usager = participation.rdv, participation.usager
        try:
            with transaction.atomic():
                reminder = Reminder.objects.create(rdv=rdv, usager=usager, kind=kind, starts_at=rdv.starts_at)
                reminder.delivery = notify_usager("reminder", rdv, usager, purpose=Purpose.REMINDER)
                reminder.save(update_fields=["delivery"])
        except IntegrityError:  # written by a concurrent run
            continue
        written += 1
    return written
