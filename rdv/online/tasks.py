"""Periodic clean-up of the online booking (scheduled by `run_scheduler`)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from rdv.bookings.models import SlotHold
from rdv.online import slotcache
from rdv.online.models import BookingStatus, OnlineBooking

# What someone typed and never confirmed is personal data kept for no purpose: gone after a day.
UNCONFIRMED_KEPT = timedelta(days=1)


def purge_online_leftovers(now=None) -> tuple[int, int]:
    """Delete expired slot holds and bookings never confirmed (with what was typed in them) after
    `UNCONFIRMED_KEPT`. Returns (holds, bookings) deleted."""
    now = now or timezone.now()
    holds, _ = SlotHold.objects.filter(expires_at__lt=now).delete()  # expired: the slot cache already ignores them
    slotcache.purge_versions(now)
    bookings, _ = (
        OnlineBooking.objects.exclude(status=BookingStatus.CONFIRMED)
        .filter(created_at__lt=now - UNCONFIRMED_KEPT)
        .delete()
    )
    return holds, bookings


@task()
def purge_online_bookings() -> None:
    purge_online_leftovers()
