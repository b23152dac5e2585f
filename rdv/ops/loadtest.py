"""What the load test and the fault drill check in the database once the clients have stopped
(scripts/loadtest, scripts/fault-drill, `manage.py loadtest_check`): plain functions, so that tests
can fabricate the faults they look for.

- `double_bookings()`: pairs of RDV rows of one agent that block the agenda, are exclusive (not a
  deliberate override) and overlap — what the exclusion constraint forbids;
- `overbooked_rdvs()`: collective RDVs with more participants (not cancelled) than places;
- `lost_bookings(public_ids)`: online bookings the clients saw confirmed that have no RDV;
- `delivery_summary(since)`: deliveries (e-mail, SMS, webhook) created since the run started, by
  status; `not_sent` counts those still to send, failing or abandoned (lost for the usager).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q

DOUBLE_BOOKINGS_SQL = """
SELECT a.agent_id, a.rdv_id, b.rdv_id
FROM bookings_rdvagent a
JOIN bookings_rdvagent b
  ON a.agent_id = b.agent_id AND a.id < b.id
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
WHERE a.blocks_agenda AND b.blocks_agenda AND a.exclusive AND b.exclusive
ORDER BY a.agent_id, a.rdv_id, b.rdv_id
"""


def double_bookings(limit: int = 20) -> dict:
    """{"count": n, "examples": [[agent_id, rdv_id, other_rdv_id], …]} (first `limit` pairs)."""
    with connection.cursor() as cursor:
        cursor.execute(DOUBLE_BOOKINGS_SQL)
        rows = cursor.fetchall()
    return {"count": len(rows), "examples": [list(row) for row in rows[:limit]]}


def overbooked_rdvs(limit: int = 20) -> dict:
    """Collective RDVs holding more usagers (participations not cancelled) than their places."""
    from django.db.models import F

    from rdv.bookings.models import CANCELLED_STATUSES, Rdv

    rows = list(
        Rdv.objects.filter(max_participants__isnull=False)
        .exclude(status__in=CANCELLED_STATUSES)
        .annotate(taken=Count("participations", filter=~Q(participations__status__in=["excused", "revoked"])))
        .filter(taken__gt=F("max_participants"))
        .order_by("pk")
        .values_list("pk", "taken", "max_participants")
    )
    return {"count": len(rows), "examples": [list(row) for row in rows[:limit]]}


def lost_bookings(public_ids: Iterable[str]) -> dict:
    """The bookings a client saw confirmed (their public ids) against the database: each must be a
    confirmed online booking with its RDV, not cancelled."""
    from rdv.online.models import BookingStatus, OnlineBooking

    wanted = sorted(set(map(str, public_ids)))
    found = set()
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        found.update(
            str(public_id)
            for public_id in OnlineBooking.objects.filter(
                public_id__in=chunk, status=BookingStatus.CONFIRMED, rdv__isnull=False
            ).values_list("public_id", flat=True)
        )
    missing = [public_id for public_id in wanted if public_id not in found]
    return {"seen_by_clients": len(wanted), "in_database": len(found), "lost": len(missing), "examples": missing[:20]}


def delivery_summary(since: datetime) -> dict:
    """Deliveries created since `since`, by status, and how many are not sent (still due, in flight,
    failing or abandoned). Cancelled rows (a message that no longer applies) are not lost."""
    from rdv.outbox.models import Delivery, Status

    by_status = dict(
        Delivery.objects.filter(created_at__gte=since)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    not_sent = sum(
        by_status.get(status, 0) for status in (Status.PENDING, Status.SENDING, Status.FAILING, Status.ABANDONED)
    )
    return {"total": sum(by_status.values()), "by_status": by_status, "not_sent": not_sent}


def online_bookings_since(since: datetime) -> int:
    """RDVs booked online (created by the usager) since `since`."""
    from rdv.bookings.models import CreatedBy, Rdv

    return Rdv.objects.filter(created_at__gte=since, created_by=CreatedBy.USAGER).count()
