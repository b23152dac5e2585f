"""Bookings per minute for /metrics (registered with rdv.core in BookingsConfig.ready): RDVs created
in the last minute and on average over the last 15 minutes, by who created them (agent, usager
online, prescripteur). One query on the index of `created_at`."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Count, Q

from rdv.bookings.models import CreatedBy, Rdv
from rdv.core.metrics import Gauge


def gauges(now: datetime) -> Iterable[Gauge]:
    per_minute = Gauge(
        "rdv_bookings_per_minute",
        "RDVs created per minute, by creator (created_by), over the last minute (window=1m) and on "
        "average over the last 15 minutes (window=15m).",
        ("created_by", "window"),
    )
    for created_by in CreatedBy.values:
        per_minute.samples[(created_by, "1m")] = 0
        per_minute.samples[(created_by, "15m")] = 0
    rows = (
        Rdv.objects.filter(created_at__gte=now - timedelta(minutes=15))
        .values_list("created_by")
        .annotate(last_minute=Count("id", filter=Q(created_at__gte=now - timedelta(minutes=1))), last_15=Count("id"))
        .order_by()
    )
    for created_by, last_minute, last_15 in rows:
        per_minute.samples[(created_by, "1m")] = last_minute
        per_minute.samples[(created_by, "15m")] = round(last_15 / 15, 3)
    yield per_minute
