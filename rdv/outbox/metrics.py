"""The outbox's figures for /healthz and /metrics (registered with rdv.core in OutboxConfig.ready):
counts only, no recipient nor content. Each is one indexed query."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Min, Q

from rdv.core.health import CheckResult, seconds_since
from rdv.core.metrics import Gauge
from rdv.outbox.models import CLAIMABLE, AttemptOutcome, Channel, Delivery, DeliveryAttempt, Status


def queue_check(now: datetime) -> CheckResult:
    """How many messages are due and how long the oldest has waited. Rows held back behind an
    earlier row of their ordering key (one webhook endpoint down) are not due: they wait for that
    row, not for a worker. Degraded when the oldest due message waited over
    HEALTH_QUEUE_MAX_LAG_SECONDS (workers stopped or overwhelmed)."""
    figures = Delivery.objects.due(now).aggregate(due=Count("id"), oldest=Min("next_attempt_at"))
    lag = seconds_since(figures["oldest"], now) or 0.0
    degraded = lag > settings.HEALTH_QUEUE_MAX_LAG_SECONDS
    return CheckResult({"ok": not degraded, "due": figures["due"], "oldest_due_seconds": lag}, degraded)


def gauges(now: datetime) -> Iterable[Gauge]:
    depth = Gauge(
        "rdv_outbox_queue_depth",
        "Messages still to deliver (to send, in flight, failing), by channel and status.",
        ("channel", "status"),
    )
    for channel in Channel.values:
        for status in CLAIMABLE:
            depth.samples[(channel, str(status))] = 0
    rows = Delivery.objects.filter(status__in=CLAIMABLE).values_list("channel", "status").annotate(n=Count("id"))
    for channel, status, count in rows.order_by():
        depth.samples[(channel, status)] = count
    yield depth

    queue = queue_check(now).details
    yield Gauge("rdv_outbox_due", "Messages due now (waiting for a worker).", samples={(): queue["due"]})
    yield Gauge(
        "rdv_outbox_oldest_due_seconds",
        "How long the oldest due message has waited for a worker.",
        samples={(): queue["oldest_due_seconds"]},
    )

    # Attempts of the last hour: sent; failed (to be retried); abandoned (the failure that gave up).
    last_hour = Gauge(
        "rdv_outbox_deliveries_last_hour",
        "Delivery attempts of the last hour by channel and result: sent, failed (will be retried), abandoned.",
        ("channel", "status"),
    )
    failed = ~Q(outcome=AttemptOutcome.SENT)
    gave_up = failed & Q(delivery__status=Status.ABANDONED, number=F("delivery__attempts"))
    rows = (
        DeliveryAttempt.objects.filter(started_at__gte=now - timedelta(hours=1))
        .values_list("delivery__channel")
        .annotate(
            sent=Count("id", filter=Q(outcome=AttemptOutcome.SENT)),
            failed=Count("id", filter=failed),
            abandoned=Count("id", filter=gave_up),
        )
        .order_by()
    )
    for channel in Channel.values:
        for status in ("sent", "failed", "abandoned"):
            last_hour.samples[(channel, status)] = 0
    for channel, sent, failed_count, abandoned in rows:
        last_hour.samples[(channel, "sent")] = sent
        last_hour.samples[(channel, "failed")] = failed_count - abandoned
        last_hour.samples[(channel, "abandoned")] = abandoned
    yield last_hour
