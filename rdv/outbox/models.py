"""One row per message to deliver, whatever the channel: the source of truth of every send.

A row is written by `rdv.outbox.services.enqueue` inside the transaction of the change that
causes it; workers claim due rows with a lease, send outside any transaction and record the
outcome (see docs/adr/0007-delivery-outbox.md).
"""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "Webhook"


class Status(models.TextChoices):
    PENDING = "pending", "à envoyer"
    SENDING = "sending", "en cours"
    SENT = "sent", "envoyé"
    FAILING = "failing", "échec temporaire"
    ABANDONED = "abandoned", "abandonné"
    CANCELLED = "cancelled", "annulé"


# Rows a worker may claim when `next_attempt_at` has passed (for SENDING rows, `next_attempt_at`
# is the lease expiry: the row is claimable again if its worker died).
CLAIMABLE = (Status.PENDING, Status.SENDING, Status.FAILING)
UNDELIVERED = (Status.FAILING, Status.ABANDONED)


class Purpose(models.TextChoices):
    """Why the message exists: its label on the admin page, and how its object is described."""

    INVITATION = "invitation", "Invitation d'un agent"
    PASSWORD_RESET = "password_reset", "Réinitialisation du mot de passe"
    WAITING_ROOM = "waiting_room", "Salle d'attente"
    WEBHOOK = "webhook", "Événement webhook"
    RDV_NOTIFICATION = "rdv_notification", "Notification de rendez-vous"
    REMINDER = "reminder", "Rappel de rendez-vous"
    WEBHOOK_ALERT = "webhook_alert", "Alerte webhook en échec"
    AGENT_NOTIFICATION = "agent_notification", "Notification agent"
    OTHER = "other", "Autre message"


class DeliveryQuerySet(models.QuerySet):
    def undelivered(self) -> "DeliveryQuerySet":
        return self.filter(status__in=UNDELIVERED)

    def due(self, now) -> "DeliveryQuerySet":
        """Rows a worker may claim at `now`: claimable with `next_attempt_at` passed, and not held
        back by an earlier unfinished row of their ordering key."""
        earlier_unfinished = Delivery.objects.filter(
            ordering_key=models.OuterRef("ordering_key"), id__lt=models.OuterRef("id"), status__in=CLAIMABLE
        )
        return self.filter(status__in=CLAIMABLE, next_attempt_at__lte=now).filter(
            models.Q(ordering_key="") | ~models.Exists(earlier_unfinished)
        )


class Delivery(models.Model):
    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField("canal", max_length=16, choices=Channel.choices)
    purpose = models.CharField("type", max_length=32, choices=Purpose.choices, default=Purpose.OTHER)
    recipient = models.CharField("destinataire", max_length=2048)
    # Rendered content (an SMS uses `text`; a webhook its JSON body in `text`).
    subject = models.CharField("objet", max_length=998, blank=True)
    text = models.TextField("texte", blank=True)
    html = models.TextField("HTML", blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # [{"filename": ..., "mimetype": ..., "content_base64": ...}]
    attachments = models.JSONField(default=list, blank=True)

    status = models.CharField("statut", max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochaine tentative", null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField("à envoyer avant", null=True, blank=True)
    last_error = models.CharField("dernière erreur", max_length=500, blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    # Rows with the same non-empty key are sent one after the other, in id order: a row is not
    # claimed while an earlier row of its key is still to send, in flight or failing (the events of
    # one record to one webhook endpoint, say). Abandoned, sent and cancelled rows hold nothing back.
    ordering_key = models.CharField(max_length=100, blank=True, default="")

    # What the message is about (RDV, invitation, agent…) and the tenant it belongs to.
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        "territories.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = "envoi"
        verbose_name_plural = "envois"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="delivery_claimable_idx",
                condition=models.Q(status__in=CLAIMABLE),
            ),
            models.Index(fields=["territory", "status"], name="delivery_territory_idx"),
            models.Index(fields=["organisation", "status"], name="delivery_organisation_idx"),
            models.Index(fields=["status", "sent_at"], name="delivery_status_sent_idx"),
            models.Index(fields=["content_type", "object_id"], name="delivery_object_idx"),
            models.Index(
                fields=["ordering_key", "id"],
                name="delivery_ordering_idx",
                condition=models.Q(status__in=CLAIMABLE) & ~models.Q(ordering_key=""),
            ),
        ]
        constraints = [
            # A row is claimable exactly when it has a next attempt time (one partial index serves
            # every claim; sent, abandoned and cancelled rows are never taken again).
            models.CheckConstraint(
                condition=(models.Q(status__in=CLAIMABLE) & models.Q(next_attempt_at__isnull=False))
                | (~models.Q(status__in=CLAIMABLE) & models.Q(next_attempt_at__isnull=True)),
                name="delivery_next_attempt_iff_claimable",
            ),
        ]

    def __str__(self) -> str:
        # Neutral on purpose: shown in the espace journal, where personal data does not belong.
        return f"{self.get_channel_display()} n° {self.pk}"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "réussi"
    TEMPORARY = "temporary", "échec temporaire"
    PERMANENT = "permanent", "échec définitif"


class DeliveryAttempt(models.Model):
    """One try at sending a row: when, how long, what the other side answered (the delivery log of
    webhook endpoints shows them)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField("tentative")
    started_at = models.DateTimeField("début")
    duration_ms = models.PositiveIntegerField("durée (ms)")
    outcome = models.CharField("résultat", max_length=10, choices=AttemptOutcome.choices)
    status_code = models.PositiveSmallIntegerField("code HTTP", null=True, blank=True)
    response_excerpt = models.CharField("début de la réponse", max_length=1000, blank=True)
    error = models.CharField("erreur", max_length=500, blank=True)

    class Meta:
        verbose_name = "tentative d'envoi"
        verbose_name_plural = "tentatives d'envoi"
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["delivery", "number"], name="attempt_delivery_idx"),
            # The attempts of the last hour, by outcome (rdv.outbox.metrics, at each scrape).
            models.Index(fields=["started_at"], name="attempt_started_idx"),
        ]

    def __str__(self) -> str:
        return f"Tentative {self.number} de l'envoi n° {self.delivery_id}"
