"""The delivery outbox: write a message in the caller's transaction, claim it with a lease, send
it outside any transaction, record the outcome, retry with backoff, purge what was sent.

    enqueue_email(to=..., subject=..., text=..., purpose=..., about=obj, territory=..., organisation=...)
    run_due_deliveries()   # tests and one-off runs: send whatever is due, in this process

Workers (`manage.py db_worker`) run `rdv.outbox.tasks.deliver` for each new row and
`deliver_due` periodically (the scheduler), see docs/adr/0007-delivery-outbox.md.
"""

import logging
import os
import random
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.errors import DomainError
from rdv.outbox import channels, policies
from rdv.outbox.models import (
    CLAIMABLE,
    UNDELIVERED,
    AttemptOutcome,
    Channel,
    Delivery,
    DeliveryAttempt,
    Purpose,
    Status,
)

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 500
EXPIRED_ERROR = "Message expiré avant son envoi."
SUPERSEDED_ERROR = "Remplacé par un envoi plus récent."
MIN_RETRY_DELAY_SECONDS = 1.0


# Settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    factor: float
    max_seconds: float
    jitter: float  # 0.2 → each delay is drawn in [80 %, 120 %] of its nominal value


def retry_policy(channel: str) -> RetryPolicy:
    """The channel's policy (`OUTBOX_RETRY[channel]`), missing keys from `OUTBOX_RETRY["default"]`."""
    policies = settings.OUTBOX_RETRY
    values = {**policies["default"], **policies.get(channel, {})}
    return RetryPolicy(**values)


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def retry_delay(channel: str, attempts: int, rand: float | None = None) -> timedelta:
    """Exponential backoff with jitter after the `attempts`-th failed attempt (1 for the first)."""
    policy = retry_policy(channel)
    nominal = min(policy.base_seconds * policy.factor ** (attempts - 1), policy.max_seconds)
    rand = random.random() if rand is None else rand  # noqa: S311 - jitter, not security
    seconds = nominal * (1 - policy.jitter + 2 * policy.jitter * rand)
    return timedelta(seconds=max(seconds, MIN_RETRY_DELAY_SECONDS))


# Writing messages ---------------------------------------------------------------------------


def wake(delivery_id: int, run_after: datetime | None = None) -> None:
    """Ask a worker to try this row (at `run_after`). With the database task backend the task row
    is written in the current transaction: a rolled-back change leaves no task either. A lost
    wake-up only delays the message until the periodic `deliver_due`."""
    from rdv.outbox.tasks import deliver

    task = deliver.using(run_after=run_after) if run_after is not None else deliver
    task.enqueue(delivery_id)


@transaction.atomic
def enqueue(
    *,
    channel: str,
    recipient: str,
    text: str = "",
    subject: str = "",
    html: str = "",
    headers: dict | None = None,
    attachments: list | None = None,
    purpose: str = Purpose.OTHER,
    about=None,
    territory=None,
    organisation=None,
    expires_at: datetime | None = None,
    supersede: bool = False,
    ordering_key: str = "",
    send_after: datetime | None = None,
) -> Delivery:
    """Write one message to deliver, in the caller's transaction (outbox): a rolled-back change
    sends nothing. `about` is the object the message concerns (its rights govern who sees the
    message's details); `territory`/`organisation` the tenant whose admins see it if it fails.
    `expires_at`: never send after this instant (the row is abandoned instead). `supersede`:
    cancel the undelivered messages of the same purpose, object and recipient (e.g. an
    invitation link replaced by a new one). `ordering_key`: rows of the same key are sent in the
    order they were written, one at a time (see Delivery.ordering_key). `send_after`: not before
    this instant (e.g. a paced backfill)."""
    if not channels.has_sender(channel):
        raise ValueError(f"No sender registered for channel {channel!r}")
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(about) if about is not None else None
    object_id = about.pk if about is not None else None
    if supersede and about is not None:
        Delivery.objects.filter(
            channel=channel,
            purpose=purpose,
            recipient=recipient,
            content_type=content_type,
            object_id=object_id,
            status__in=(Status.PENDING, Status.FAILING, Status.ABANDONED),
        ).update(status=Status.CANCELLED, next_attempt_at=None, last_error=SUPERSEDED_ERROR)
    delivery = Delivery.objects.create(
        channel=channel,
        purpose=purpose,
        recipient=recipient,
        subject=subject,
        text=text,
        html=html,
        headers=headers or {},
        attachments=attachments or [],
        status=Status.PENDING,
        next_attempt_at=max(send_after, now) if send_after is not None else now,
        expires_at=expires_at,
        ordering_key=ordering_key,
        content_type=content_type,
        object_id=object_id,
        territory=territory,
        organisation=organisation,
    )
    wake(delivery.pk, run_after=send_after if send_after is not None and send_after > now else None)
    return delivery


def enqueue_email(*, to: str, subject: str, text: str, html: str = "", **kwargs) -> Delivery:
    """An e-mail to one address; see `enqueue` for the other arguments."""
    subject = " ".join(subject.splitlines()).strip()
    return enqueue(channel=Channel.EMAIL, recipient=to, subject=subject, text=text, html=html, **kwargs)


# Claiming and sending -----------------------------------------------------------------------


def new_lease_owner() -> str:
    """Who holds a lease: host, process and a random part (one per claim)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def claim(*, delivery_id: int | None = None, due_before: datetime | None = None) -> Delivery | None:
    """Take one due row (that one, or the oldest due) for this worker, with a lease, and commit.

    Due: to send or failed temporarily with `next_attempt_at` passed, or in flight with an expired
    lease (its worker died). PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers
    never wait for nor take the same row. SQLite: the write transaction (BEGIN IMMEDIATE) is
    serialised. Rows past their `expires_at` are abandoned instead of being sent."""
    while True:
        now = timezone.now()
        with transaction.atomic():
            due = Delivery.objects.due(due_before or now)
            if delivery_id is not None:
                due = due.filter(pk=delivery_id)
            delivery = due.select_for_update(skip_locked=True).order_by("next_attempt_at", "id").first()
            if delivery is None:
                return None
            if delivery.expires_at is not None and delivery.expires_at <= now:
                Delivery.objects.filter(pk=delivery.pk).update(
                    status=Status.ABANDONED,
                    next_attempt_at=None,
                    lease_expires_at=None,
                    lease_owner="",
                    last_error=EXPIRED_ERROR,
                )
                continue
            lease_until = now + lease_duration()
            delivery.status = Status.SENDING
            delivery.attempts += 1
            delivery.lease_owner = new_lease_owner()
            delivery.lease_expires_at = lease_until
            delivery.next_attempt_at = lease_until
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Status.SENDING,
                attempts=F("attempts") + 1,
                lease_owner=delivery.lease_owner,
                lease_expires_at=lease_until,
                next_attempt_at=lease_until,
            )
            return delivery


_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|secret|key|password|signature|sig)=)[^&\s]+")
_URL_CREDENTIALS = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")


def safe_error(text: str) -> str:
    """An error as stored and shown: known secrets and URL credentials masked, size capped."""
    text = str(text)
    for secret in (settings.EMAIL_HOST_PASSWORD, settings.SECRET_KEY):
        if secret:
            text = text.replace(secret, "***")
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    text = _SECRET_QUERY.sub(r"\1***", text)
    return text[:ERROR_MAX_LENGTH]


def _still_owned(delivery: Delivery):
    return Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, lease_owner=delivery.lease_owner)


EXCERPT_MAX_LENGTH = 1000


def _record_attempt(delivery: Delivery, started_at: datetime, duration_ms: int, outcome: str, report) -> None:
    """The attempt's log row (what the other side answered, size-capped)."""
    is_error = isinstance(report, channels.DeliveryError)
    DeliveryAttempt.objects.create(
        delivery_id=delivery.pk,
        number=delivery.attempts,
        started_at=started_at,
        duration_ms=max(0, min(duration_ms, 2**31 - 1)),
        outcome=outcome,
        status_code=getattr(report, "status_code", None),
        response_excerpt=safe_error(getattr(report, "response_excerpt", "") or "")[:EXCERPT_MAX_LENGTH],
        error=safe_error(str(report) or type(report).__name__) if is_error else "",
    )


def _wake_next_in_order(delivery: Delivery) -> None:
    """A row of an ordering key is done: the next row of that key may be due already."""
    if not delivery.ordering_key:
        return
    following = (
        Delivery.objects.filter(ordering_key=delivery.ordering_key, status__in=CLAIMABLE, id__gt=delivery.pk)
        .order_by("id")
        .values_list("pk", "next_attempt_at")
        .first()
    )
    if following is not None:
        wake(following[0], run_after=following[1] if following[1] > timezone.now() else None)


def _record_success(delivery: Delivery, report, started_at: datetime, duration_ms: int) -> str:
    provider_id = report.provider_id if isinstance(report, channels.SendReport) else report
    with transaction.atomic():
        updated = _still_owned(delivery).update(
            status=Status.SENT,
            sent_at=timezone.now(),
            provider_id=(provider_id or "")[:255],
            next_attempt_at=None,
            lease_expires_at=None,
            lease_owner="",
            last_error="",
        )
        _record_attempt(delivery, started_at, duration_ms, AttemptOutcome.SENT, report)
        if updated:
            _wake_next_in_order(delivery)
    if not updated:
        logger.warning("Delivery %s was sent after its lease was taken over by another worker.", delivery.pk)
        return "lease_lost"
    return Status.SENT


def _record_failure(
    delivery: Delivery, error: Exception, permanent: bool, started_at: datetime, duration_ms: int
) -> str:
    message = safe_error(str(error) or type(error).__name__)
    policy = retry_policy(delivery.channel)
    give_up = permanent or delivery.attempts >= policy.max_attempts
    status = Status.ABANDONED if give_up else Status.FAILING
    next_attempt_at = None if give_up else timezone.now() + retry_delay(delivery.channel, delivery.attempts)
    with transaction.atomic():
        updated = _still_owned(delivery).update(
            status=status,
            next_attempt_at=next_attempt_at,
            lease_expires_at=None,
            lease_owner="",
            last_error=message,
        )
        _record_attempt(
            delivery,
            started_at,
            duration_ms,
            AttemptOutcome.PERMANENT if permanent else AttemptOutcome.TEMPORARY,
            error if isinstance(error, channels.DeliveryError) else channels.DeliveryError(message),
        )
        if updated and not give_up:
            wake(delivery.pk, run_after=next_attempt_at)
        if updated and give_up:
            _wake_next_in_order(delivery)
    if not updated:
        logger.warning("Delivery %s failed after its lease was taken over by another worker.", delivery.pk)
        return "lease_lost"
    logger.warning(
        "Delivery %s (%s) attempt %s failed, %s: %s",
        delivery.pk,
        delivery.channel,
        delivery.attempts,
        status,
        message,
    )
    return status


def send_claimed(delivery: Delivery) -> str:
    """Send a claimed row through its channel, outside any transaction (no lock is held while a
    server is slow), then record the outcome if this worker still owns the lease."""
    sender = channels.sender_for(delivery.channel)
    started_at, started = timezone.now(), time.monotonic()

    def elapsed_ms() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        report = sender(delivery)
    except channels.PermanentError as error:
        report, status = error, _record_failure(delivery, error, True, started_at, elapsed_ms())
    except Exception as error:  # TemporaryError, and anything unexpected: retried with backoff
        if not isinstance(error, channels.TemporaryError):
            logger.exception("Unexpected error while sending delivery %s", delivery.pk)
        report, status = error, _record_failure(delivery, error, False, started_at, elapsed_ms())
    else:
        status = _record_success(delivery, report, started_at, elapsed_ms())
    for hook in channels.outcome_hooks(delivery.channel):
        try:
            hook(delivery, status, report)
        except Exception:  # a hook's failure must not lose the recorded outcome
            logger.exception("Outcome hook %s failed for delivery %s", getattr(hook, "__name__", hook), delivery.pk)
    return status


def deliver_one(delivery_id: int) -> str:
    """Send this row if it is due (the task enqueued with each message and each retry)."""
    delivery = claim(delivery_id=delivery_id)
    if delivery is None:
        return "not_due"
    return send_claimed(delivery)


def deliver_due(
    budget_seconds: float | None = None,
    limit: int | None = None,
    clock=time.monotonic,
    due_before: datetime | None = None,
) -> dict[str, int]:
    """Send every row due when the call starts (retries, expired leases, lost wake-ups), or before
    `due_before`, one at a time, until none is left, `limit` rows were claimed or `budget_seconds`
    have passed."""
    started = clock()
    due_before = due_before or timezone.now()
    counts: dict[str, int] = {}
    claimed = 0
    while limit is None or claimed < limit:
        if budget_seconds is not None and clock() - started >= budget_seconds:
            break
        delivery = claim(due_before=due_before)
        if delivery is None:
            break
        claimed += 1
        outcome = send_claimed(delivery)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def run_due_deliveries(due_before: datetime | None = None) -> dict[str, int]:
    """Send, in this process, everything that is due now (or before `due_before`): what tests and
    one-off scripts call where production has workers."""
    return deliver_due(due_before=due_before)


# Admin actions and housekeeping -------------------------------------------------------------


@transaction.atomic
def retry_delivery(ctx: Context, delivery: Delivery) -> Delivery:
    """« Renvoyer »: a failing or abandoned message gets a fresh series of attempts, now."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    require(policies.can_retry(ctx, delivery), "Vous ne pouvez pas renvoyer ce message.")
    if delivery.status not in UNDELIVERED:
        raise DomainError(
            "not_undelivered",
            f"Ce message n'est plus en échec (statut : {delivery.get_status_display()}) : il n'y a rien à renvoyer.",
        )
    now = timezone.now()
    if delivery.expires_at is not None and delivery.expires_at <= now:
        expired = timezone.localtime(delivery.expires_at)
        raise DomainError(
            "expired",
            f"Ce message n'est plus valable depuis le {expired:%d/%m/%Y à %H:%M} : il ne peut pas être renvoyé.",
        )
    previous = delivery.get_status_display()
    delivery.status = Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    log_action(ctx.actor, "delivery.retried", delivery, {"status": [previous, delivery.get_status_display()]})
    wake(delivery.pk)
    return delivery


def purge_sent(now: datetime | None = None) -> int:
    """Delete the messages sent (or cancelled) more than `OUTBOX_KEEP_SENT_DAYS` days ago: their
    content holds single-use links and personal data. Failing and abandoned ones stay visible."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OUTBOX_KEEP_SENT_DAYS)
    old = Q(status=Status.SENT, sent_at__lt=cutoff) | Q(status=Status.CANCELLED, created_at__lt=cutoff)
    _, per_model = Delivery.objects.filter(old).delete()  # their attempt rows go with them
    return per_model.get(Delivery._meta.label, 0)
