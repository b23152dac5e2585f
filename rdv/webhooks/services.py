"""Webhook endpoints: create, change, rotate the secret, delete, send a test event, backfill, replay.

Every function takes the request's context first and checks rdv.webhooks.policies; input errors
raise DomainError with a French message and change nothing. The secret never reaches the journal.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.errors import DomainError
from rdv.outbox import services as outbox
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from rdv.webhooks import events, payloads, policies
from rdv.webhooks.models import (
    DEFAULT_SUBSCRIPTIONS,
    SUBSCRIPTIONS,
    USAGER_FIELDS,
    WebhookEndpoint,
    WebhookEvent,
    new_secret,
)
from rdv.webhooks.sender import DestinationRefused, check_url

SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 200
REPLAYABLE = (Status.FAILING, Status.ABANDONED, Status.CANCELLED, Status.SENT)


def _clean(target_url: str, subscriptions, usager_fields, secret: str | None) -> tuple[str, list, list]:
    url = (target_url or "").strip()
    if not url:
        raise DomainError("invalid", "L'URL de destination est obligatoire.", field="target_url")
    if len(url) > 500:
        raise DomainError(
            "invalid", "L'URL de destination est trop longue (500 caractères au plus).", field="target_url"
        )
    try:
        check_url(url)
    except DestinationRefused as error:
        raise DomainError("invalid", str(error), field="target_url") from None
    subscriptions = list(dict.fromkeys(subscriptions or []))
    unknown = [name for name in subscriptions if name not in SUBSCRIPTIONS]
    if unknown:
        raise DomainError(
            "invalid", f"Élément déclencheur inconnu : {', '.join(map(str, unknown))}.", field="subscriptions"
        )
    if not subscriptions:
        raise DomainError("invalid", "Choisissez au moins un élément déclencheur.", field="subscriptions")
    usager_fields = list(dict.fromkeys(usager_fields or []))
    unknown = [name for name in usager_fields if name not in USAGER_FIELDS]
    if unknown:
        raise DomainError(
            "invalid", f"Donnée d'usager inconnue : {', '.join(map(str, unknown))}.", field="usager_fields"
        )
    if secret is not None and secret and not (SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH):
        raise DomainError(
            "invalid",
            f"La clé secrète doit compter de {SECRET_MIN_LENGTH} à {SECRET_MAX_LENGTH} caractères.",
            field="secret",
        )
    if secret and any(ch.isspace() for ch in secret):
        raise DomainError("invalid", "La clé secrète ne doit pas contenir d'espace.", field="secret")
    ordered = [name for name in SUBSCRIPTIONS if name in subscriptions]
    return url, ordered, [name for name in USAGER_FIELDS if name in usager_fields]


def _description(endpoint: WebhookEndpoint) -> dict:
    """What the journal keeps of an endpoint (never the secret)."""
    return {
        "url": endpoint.target_url,
        "éléments déclencheurs": ", ".join(endpoint.subscriptions),
        "données des usagers": ", ".join(endpoint.usager_fields) or "toutes",
        "actif": endpoint.active,
    }


@transaction.atomic
def create_endpoint(
    ctx: Context,
    *,
    organisation,
    target_url: str,
    subscriptions=None,
    usager_fields=(),
    secret: str = "",
    active: bool = True,
    backfill: bool = False,
) -> WebhookEndpoint:
    require(policies.can_manage(ctx) and ctx.in_territory(organisation))
    url, subscriptions, usager_fields = _clean(
        target_url, DEFAULT_SUBSCRIPTIONS if subscriptions is None else subscriptions, usager_fields, secret
    )
    if WebhookEndpoint.objects.filter(organisation=organisation, target_url=url).exists():
        raise DomainError("duplicate", "Cette organisation a déjà un webhook vers cette URL.", field="target_url")
    endpoint = WebhookEndpoint(
        organisation=organisation,
        target_url=url,
        secret=secret or new_secret(),
        subscriptions=subscriptions,
        usager_fields=usager_fields,
        active=active,
    )
    try:
        with transaction.atomic():
            endpoint.save()
    except IntegrityError:
        raise DomainError(
            "duplicate", "Cette organisation a déjà un webhook vers cette URL.", field="target_url"
        ) from None
    log_action(ctx.actor, "webhook.created", endpoint, _description(endpoint))
    if backfill and active:
        start_backfill(ctx, endpoint)
    return endpoint


@transaction.atomic
def update_endpoint(
    ctx: Context,
    endpoint: WebhookEndpoint,
    *,
    target_url: str,
    subscriptions,
    usager_fields=(),
    active: bool = True,
    backfill: bool = False,
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)
    require(policies.can_manage_endpoint(ctx, endpoint))
    url, subscriptions, usager_fields = _clean(target_url, subscriptions, usager_fields, None)
    if (
        WebhookEndpoint.objects.filter(organisation=endpoint.organisation, target_url=url)
        .exclude(pk=endpoint.pk)
        .exists()
    ):
        raise DomainError("duplicate", "Cette organisation a déjà un webhook vers cette URL.", field="target_url")
    before = _description(endpoint)
    reactivated = active and not endpoint.active
    endpoint.target_url, endpoint.subscriptions, endpoint.usager_fields = url, subscriptions, usager_fields
    endpoint.active = active
    if reactivated:  # a fresh start: the admins will be told again if it fails again
        endpoint.disabled_reason = ""
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        endpoint.alerted_at = None
    if not active:
        endpoint.disabled_reason = endpoint.disabled_reason or "Désactivé par un administrateur."
        # Its waiting events would each fail (« Webhook désactivé ») and alert the admins about a
        # webhook they switched off: cancel them (« Renvoyer » sends them again once it is back on).
        Delivery.objects.filter(webhook_event__endpoint=endpoint, status__in=(Status.PENDING, Status.FAILING)).update(
            status=Status.CANCELLED, next_attempt_at=None, last_error="Webhook désactivé."
        )
    endpoint.save()
    after = _description(endpoint)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        log_action(ctx.actor, "webhook.updated", endpoint, changes)
    if backfill and active:
        start_backfill(ctx, endpoint)
    return endpoint


@transaction.atomic
def rotate_secret(ctx: Context, endpoint: WebhookEndpoint, *, secret: str = "", grace_hours: int | None = None):
    """A new secret signs from now on; the previous one signs too during the grace period (the
    receiver has time to switch). Returns the endpoint with its new secret."""
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)
    require(policies.can_manage_endpoint(ctx, endpoint))
    secret = (secret or "").strip()
    if secret:
        _clean(endpoint.target_url, endpoint.subscriptions, (), secret)
        if secret == endpoint.secret:
            raise DomainError("invalid", "La nouvelle clé secrète doit être différente de l'actuelle.", field="secret")
    hours = settings.WEBHOOK_SECRET_GRACE_HOURS if grace_hours is None else grace_hours
    if not 0 <= hours <= 24 * 30:
        raise DomainError("invalid", "La période de transition doit durer de 0 à 720 heures.", field="grace_hours")
    endpoint.previous_secret = endpoint.secret if hours else ""
    endpoint.previous_secret_until = timezone.now() + timedelta(hours=hours) if hours else None
    endpoint.secret = secret or new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    log_action(ctx.actor, "webhook.secret_rotated", endpoint, {"période de transition (heures)": hours})
    return endpoint


@transaction.atomic
def end_grace_period(ctx: Context, endpoint: WebhookEndpoint) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)
    require(policies.can_manage_endpoint(ctx, endpoint))
    if endpoint.previous_secret:
        endpoint.previous_secret, endpoint.previous_secret_until = "", None
        endpoint.save(update_fields=["previous_secret", "previous_secret_until", "updated_at"])
        log_action(ctx.actor, "webhook.grace_ended", endpoint, {})


@transaction.atomic
def delete_endpoint(ctx: Context, endpoint: WebhookEndpoint) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)
    require(policies.can_manage_endpoint(ctx, endpoint))
    Delivery.objects.filter(webhook_event__endpoint=endpoint, status__in=(Status.PENDING, Status.FAILING)).update(
        status=Status.CANCELLED, next_attempt_at=None, last_error="Webhook supprimé."
    )
    log_action(ctx.actor, "webhook.deleted", endpoint, _description(endpoint))
    endpoint.delete()


@transaction.atomic
def send_test_event(ctx: Context, endpoint: WebhookEndpoint) -> WebhookEvent:
    """« Envoyer un événement de test »: a signed body with `meta.model` « Test » and
    `meta.webhook_reason` « test » (no personal data), sent even while the endpoint is inactive."""
    require(policies.can_manage_endpoint(ctx, endpoint))
    now = timezone.now()
    zone = endpoint.organisation.territory.zone
    data = {
        "id": None,
        "message": "Événement de test envoyé depuis la page du webhook.",
        "organisation": payloads.organisation_data(endpoint.organisation),
    }
    delivery = outbox.enqueue(
        channel=Channel.WEBHOOK,
        recipient=endpoint.target_url,
        subject="Test",
        text=payloads.body(data, model="Test", event="test", reason="test", timestamp=now, zone=zone),
        headers={"endpoint_id": endpoint.pk, "test": True},
        purpose=Purpose.WEBHOOK,
    )
    event = WebhookEvent.objects.create(
        endpoint=endpoint, delivery=delivery, model="Test", event="test", record_id=0, reason="test"
    )
    log_action(ctx.actor, "webhook.test_sent", endpoint, {})
    return event


# Backfill ----------------------------------------------------------------------------------------


@transaction.atomic
def start_backfill(ctx: Context, endpoint: WebhookEndpoint) -> None:
    """Send `created` for every existing subscribed record of the organisation, paced (a task, so
    the page does not wait; written after this transaction commits)."""
    require(policies.can_manage_endpoint(ctx, endpoint))
    from rdv.webhooks.tasks import backfill_endpoint

    log_action(ctx.actor, "webhook.backfill_started", endpoint, {"éléments": ", ".join(endpoint.subscriptions)})
    transaction.on_commit(lambda: backfill_endpoint.enqueue(endpoint.pk))


def backfill(endpoint_id: int, *, now: datetime | None = None) -> int:
    """Write the backfill events of an endpoint (the task's body): `WEBHOOK_BACKFILL_PER_SECOND`
    events a second from now on, in batches of one transaction each. Returns the number written."""
    endpoint = WebhookEndpoint.objects.select_related("organisation__territory").filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.active:
        return 0
    now = now or timezone.now()
    rate = max(settings.WEBHOOK_BACKFILL_PER_SECOND, 0.1)
    written = 0
    for model in [SUBSCRIPTIONS[name][0] for name in endpoint.subscriptions]:
        ids = list(events.record_ids(model, endpoint.organisation))
        for start in range(0, len(ids), 200):
            with transaction.atomic():
                for record_id in ids[start : start + 200]:
                    written += len(
                        events.write_events(
                            [endpoint],
                            model,
                            "created",
                            record_id,
                            reason=None,
                            origin="backfill",
                            send_after=now + timedelta(seconds=written / rate),
                        )
                    )
    return written


# Replay ------------------------------------------------------------------------------------------


def _replay(delivery: Delivery) -> bool:
    updated = Delivery.objects.filter(pk=delivery.pk, status__in=REPLAYABLE).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
    if updated:
        outbox.wake(delivery.pk)
    return bool(updated)


@transaction.atomic
def replay_event(ctx: Context, event: WebhookEvent) -> None:
    """« Renvoyer »: the same event (same body, same `webhook-id`) gets a fresh series of attempts."""
    event = WebhookEvent.objects.select_related("endpoint__organisation", "delivery").get(pk=event.pk)
    require(policies.can_manage_endpoint(ctx, event.endpoint))
    if not event.endpoint.active:
        raise DomainError("inactive", "Ce webhook est désactivé : réactivez-le avant de renvoyer des événements.")
    if not _replay(event.delivery):
        raise DomainError("not_replayable", "Cet événement est déjà en cours d'envoi : il n'y a rien à renvoyer.")
    log_action(ctx.actor, "webhook.replayed", event.endpoint, {"événement": f"{event} (envoi n° {event.delivery_id})"})


@transaction.atomic
def replay_failed(ctx: Context, endpoint: WebhookEndpoint, *, since: datetime, until: datetime) -> int:
    """Replay every event of the period whose delivery failed (abandoned, failing or cancelled)."""
    require(policies.can_manage_endpoint(ctx, endpoint))
    if until < since:
        raise DomainError("invalid", "La fin de la période doit suivre son début.")
    if not endpoint.active:
        raise DomainError("inactive", "Ce webhook est désactivé : réactivez-le avant de renvoyer des événements.")
    deliveries = Delivery.objects.filter(
        webhook_event__endpoint=endpoint,
        webhook_event__created_at__gte=since,
        webhook_event__created_at__lt=until,
        status__in=(Status.FAILING, Status.ABANDONED, Status.CANCELLED),
    ).order_by("id")
    count = sum(_replay(delivery) for delivery in deliveries)
    if count:
        log_action(ctx.actor, "webhook.replayed", endpoint, {"événements renvoyés": count})
    return count
