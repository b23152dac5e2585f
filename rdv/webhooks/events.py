"""From a change to webhook deliveries, and from delivery outcomes to the endpoint's health.

`on_action` is told of every audit entry (rdv.core.audit.log_action), inside the change's
transaction: for each active endpoint of the organisations the record belongs to that subscribes
to its kind, one body is built now (the record as it is in this transaction) and written to the
delivery outbox with the ordering key of (endpoint, model, record), so the events of one record
reach an endpoint in order. A rolled-back change writes nothing; a written event survives crashes.

`on_delivery_outcome` is told of every attempt: a success clears the endpoint's failure count; a
failure counts, and after `WEBHOOK_ALERT_AFTER_FAILURES` failures in a row the endpoint is marked
failing and the admins of the espace and of the organisation get one e-mail (not one per event).
An answer « 410 Gone » disables the endpoint at once.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.models import AccessLevel, Agent, AgentRole
from rdv.outbox import services as outbox
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from rdv.usagers.models import UsagerOrganisation
from rdv.webhooks import payloads
from rdv.webhooks.models import SUBSCRIPTIONS, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

# The audit actions that are not changes of a record an information system follows.
IGNORED_ACTIONS = {
    "rdv.manage_link_revoked",
    "rdv.arrived",
    "rdv.arrival_undone",
    "usager.exported",
    "usager.retention_kept",
}
SUBSCRIPTION_OF_MODEL = {model: name for name, (model, _) in SUBSCRIPTIONS.items()}
# Audit prefix → (subscription model, the verbs that mean "created" / "destroyed").
PREFIXES = {
    "rdv": ("Rdv", {"created"}, {"deleted"}),
    "plage": ("PlageOuverture", {"created"}, {"deleted"}),
    "absence": ("Absence", {"created"}, {"deleted"}),
    "usager": ("User", {"created"}, {"deleted"}),
    "motif": ("Motif", {"created", "duplicated"}, set()),
    "lieu": ("Lieu", {"created"}, set()),
    "organisation": ("Organisation", {"created"}, set()),
}


LISTENED_PREFIXES = {*PREFIXES, "agent", "invitation"}


def _with_roles(event: str, agent, territory_id: int | None) -> list[tuple[str, str, object]]:
    """The agent's event, then its roles' in the espace (each reaches its organisation's endpoints)."""
    roles = AgentRole.objects.filter(agent=agent).select_related("organisation").order_by("pk")
    if territory_id is not None:
        roles = roles.filter(organisation__territory_id=territory_id)
    return [("Agent", event, agent)] + [("AgentRole", event, role) for role in roles]


def events_of(action: str, obj, territory_id: int | None = None) -> list[tuple[str, str, object]]:
    """(model, event, record) of the webhook events an audit action stands for."""
    if action in IGNORED_ACTIONS:
        return []
    prefix, _, verb = action.partition(".")
    if prefix in PREFIXES:
        model, created, destroyed = PREFIXES[prefix]
        event = "created" if verb in created else "destroyed" if verb in destroyed else "updated"
        return [(model, event, obj)]
    if action == "invitation.accepted" and getattr(obj, "accepted_by_id", None):
        return _with_roles("created", obj.accepted_by, territory_id)
    if prefix == "agent" and isinstance(obj, Agent):
        return _with_roles("created" if verb == "intervenant_added" else "updated", obj, territory_id)
    return []


def organisation_ids(model: str, record, territory_id: int | None) -> list[int]:
    """The organisations whose endpoints hear of this record."""
    if model == "Organisation":
        return [record.pk]
    if model == "User":
        return list(UsagerOrganisation.objects.filter(usager_id=record.pk).values_list("organisation_id", flat=True))
    if model == "Agent":
        roles = AgentRole.objects.filter(agent_id=record.pk)
        if territory_id is not None:
            roles = roles.filter(organisation__territory_id=territory_id)
        return list(roles.values_list("organisation_id", flat=True))
    organisation_id = getattr(record, "organisation_id", None)
    return [organisation_id] if organisation_id else []


def record_ids(model: str, organisation):
    """Every record of the organisation an endpoint subscribing to `model` follows (backfill)."""
    from rdv.accounts.models import AgentRole
    from rdv.agendas.models import Absence, Lieu, PlageOuverture
    from rdv.bookings.models import Rdv
    from rdv.motifs.models import Motif

    by_organisation = {"Rdv": Rdv, "PlageOuverture": PlageOuverture, "Absence": Absence, "Motif": Motif, "Lieu": Lieu}
    if model in by_organisation:
        return (
            by_organisation[model].objects.filter(organisation=organisation).order_by("pk").values_list("pk", flat=True)
        )
    if model == "Organisation":
        return [organisation.pk]
    if model == "User":
        return (
            UsagerOrganisation.objects.filter(organisation=organisation)
            .order_by("usager_id")
            .values_list("usager_id", flat=True)
        )
    if model == "Agent":
        return (
            AgentRole.objects.filter(organisation=organisation).order_by("agent_id").values_list("agent_id", flat=True)
        )
    if model == "AgentRole":
        return AgentRole.objects.filter(organisation=organisation).order_by("pk").values_list("pk", flat=True)
    return []


def on_action(entry, obj, related=None) -> None:
    """rdv.core.audit listener: write the deliveries of this change (same transaction). One query
    when the espace has no active endpoint (the common case). `related["webhook_reason"]` becomes
    the bodies' `meta.webhook_reason` ("rgpd" for deletions under the retention rules, rdv.retention):
    the body of a destroyed record is built here, before the caller deletes the row."""
    if entry.action in IGNORED_ACTIONS or entry.action.partition(".")[0] not in LISTENED_PREFIXES:
        return
    if (
        entry.territory_id is not None
        and not WebhookEndpoint.objects.filter(organisation__territory_id=entry.territory_id, active=True).exists()
    ):
        return
    for model, event, record in events_of(entry.action, obj, entry.territory_id):
        if record is None or record.pk is None:
            continue
        endpoints = subscribed_endpoints(model, organisation_ids(model, record, entry.territory_id))
        if endpoints:
            write_events(endpoints, model, event, record.pk, reason=(related or {}).get("webhook_reason"))


def subscribed_endpoints(model: str, organisation_ids: list[int]) -> list[WebhookEndpoint]:
    if not organisation_ids:
        return []
    subscription = SUBSCRIPTION_OF_MODEL[model]
    endpoints = WebhookEndpoint.objects.filter(organisation_id__in=organisation_ids, active=True).select_related(
        "organisation__territory"
    )
    return [endpoint for endpoint in endpoints if endpoint.subscribes_to(subscription)]


def ordering_key(endpoint_id: int, model: str, record_id: int) -> str:
    return f"webhook:{endpoint_id}:{model}:{record_id}"


def write_events(
    endpoints: list[WebhookEndpoint],
    model: str,
    event: str,
    record_id: int,
    *,
    reason: str | None,
    origin: str = "",
    record=None,
    send_after: datetime | None = None,
    now: datetime | None = None,
) -> list[WebhookEvent]:
    """One body per endpoint (usager fields as each endpoint selects), written to the outbox.
    `reason`: the body's `meta.webhook_reason` (null, or "rgpd"); `origin`: why the event was
    written, for the delivery log ("backfill", "rgpd" or "" for a change)."""
    record = record if record is not None else payloads.load(model, record_id)
    if record is None:
        return []
    now = now or timezone.now()
    written = []
    bodies: dict[tuple, str] = {}
    for endpoint in endpoints:
        zone = endpoint.organisation.territory.zone
        fields = tuple(endpoint.usager_fields or ())
        key = (fields, zone.key)
        if key not in bodies:
            data = payloads.record_data(model, record, zone, fields)
            bodies[key] = payloads.body(data, model=model, event=event, reason=reason, timestamp=now, zone=zone)
        delivery = outbox.enqueue(
            channel=Channel.WEBHOOK,
            recipient=endpoint.target_url,
            subject=f"{model} {event}",
            text=bodies[key],
            headers={"endpoint_id": endpoint.pk},
            purpose=Purpose.WEBHOOK,
            ordering_key=ordering_key(endpoint.pk, model, record_id),
            send_after=send_after,
        )
        written.append(
            WebhookEvent.objects.create(
                endpoint=endpoint,
                delivery=delivery,
                model=model,
                event=event,
                record_id=record_id,
                reason=origin or (reason or ""),
            )
        )
    return written


# Outcomes ----------------------------------------------------------------------------------------


def on_delivery_outcome(delivery: Delivery, status: str, report) -> None:
    """rdv.outbox.channels outcome hook of the webhook channel."""
    endpoint_id = (delivery.headers or {}).get("endpoint_id")
    if not endpoint_id or status == "lease_lost":
        return
    if status == Status.SENT:
        WebhookEndpoint.objects.filter(pk=endpoint_id).exclude(consecutive_failures=0, failing_since=None).update(
            consecutive_failures=0, failing_since=None, alerted_at=None
        )
        return
    now = timezone.now()
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update()
            .select_related("organisation__territory")
            .filter(pk=endpoint_id)
            .first()
        )
        if endpoint is None:
            return
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
        endpoint.consecutive_failures += 1
        if endpoint.failing_since is None:
            endpoint.failing_since = now
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now)
        if getattr(report, "status_code", None) == 410 and endpoint.active:
            disable(endpoint, f"Le serveur a répondu « 410 Gone » le {timezone.localtime(now):%d/%m/%Y à %H:%M}.")
            alert_admins(endpoint, gone=True)
        elif endpoint.alerted_at is None and endpoint.consecutive_failures >= settings.WEBHOOK_ALERT_AFTER_FAILURES:
            alert_admins(endpoint, gone=False)


def disable(endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop the endpoint: no new event is written for it and its waiting events are cancelled."""
    endpoint.active = False
    endpoint.disabled_reason = reason[:300]
    endpoint.save(update_fields=["active", "disabled_reason", "updated_at"])
    Delivery.objects.filter(webhook_event__endpoint=endpoint, status__in=(Status.PENDING, Status.FAILING)).update(
        status=Status.CANCELLED, next_attempt_at=None, last_error="Webhook désactivé."
    )


def admin_emails(endpoint: WebhookEndpoint) -> list[str]:
    organisation = endpoint.organisation
    emails = set(
        Agent.objects.filter(territory_roles__territory_id=organisation.territory_id, is_active=True).values_list(
            "email", flat=True
        )
    )
    emails |= set(
        Agent.objects.filter(
            roles__organisation=organisation, roles__access_level=AccessLevel.ADMIN, is_active=True
        ).values_list("email", flat=True)
    )
    return sorted(email for email in emails if email)


def alert_admins(endpoint: WebhookEndpoint, *, gone: bool) -> None:
    """One e-mail per admin, once until the endpoint works again (called under the row lock)."""
    endpoint.alerted_at = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(alerted_at=endpoint.alerted_at)
    context = {
        "endpoint": endpoint,
        "gone": gone,
        "log_url": settings.SITE_URL + reverse("webhook_log", args=[endpoint.organisation.territory_id, endpoint.pk]),
    }
    subject = (
        "Webhook désactivé : " if gone else "Webhook en échec : "
    ) + f"{endpoint.organisation.name} ne reçoit plus les événements"
    text = render_to_string("webhooks/alert_email.txt", context)
    for email in admin_emails(endpoint):
        outbox.enqueue_email(
            to=email,
            subject=subject,
            text=text,
            purpose=Purpose.WEBHOOK_ALERT,
            territory=endpoint.organisation.territory,
            organisation=endpoint.organisation,
        )
    logger.warning("Webhook endpoint %s is failing; %s admins alerted.", endpoint.pk, "gone" if gone else "")
