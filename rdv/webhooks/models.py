"""Webhook endpoints of an organisation's information system, and the events written for them.

Each event to an endpoint is one row of the delivery outbox (`rdv.outbox.models.Delivery`,
channel « webhook »: the JSON body, the ordering key of the record, attempts with their HTTP
answers) and one `WebhookEvent` naming the endpoint, the model, the event and the record, for the
endpoint's delivery log. See docs/adr/0012-webhooks.md.
"""

import secrets

from django.db import models

from rdv.outbox.models import Delivery
from rdv.territories.models import Organisation

# What an endpoint may subscribe to: the established platform's names (its
# `WebhookEndpoint::ALL_SUBSCRIPTIONS`, without user_profile and referent_assignation, which are
# not records of their own here). The payload's `meta.model` is the second element.
SUBSCRIPTIONS = {
    "rdv": ("Rdv", "Rendez-vous"),
    "absence": ("Absence", "Absences"),
    "plage_ouverture": ("PlageOuverture", "Plages d'ouverture"),
    "user": ("User", "Usagers"),
    "organisation": ("Organisation", "Organisation"),
    "motif": ("Motif", "Motifs"),
    "lieu": ("Lieu", "Lieux"),
    "agent": ("Agent", "Agents"),
    "agent_role": ("AgentRole", "Droits des agents"),
}
DEFAULT_SUBSCRIPTIONS = ["rdv", "absence", "plage_ouverture"]
MODEL_NAMES = {model for model, _ in SUBSCRIPTIONS.values()}

# The usager fields an endpoint may receive (data minimisation): payload key → French label.
# `id` is always sent. An empty selection on the endpoint means every field.
USAGER_FIELDS = {
    "first_name": "Prénom",
    "last_name": "Nom",
    "birth_name": "Nom de naissance",
    "birth_date": "Date de naissance",
    "email": "Adresse e-mail",
    "phone_number": "Téléphone",
    "address": "Adresse",
    "responsible_id": "Usager responsable",
    "affiliation_number": "Numéro d'allocataire CAF",
    "family_situation": "Situation familiale",
    "number_of_children": "Nombre d'enfants",
    "case_number": "Numéro de dossier",
    "logement": "Logement",
    "notes": "Remarques",
    "notify_by_email": "Notifications par e-mail",
    "notify_by_sms": "Notifications par SMS",
    "created_at": "Date de création de la fiche",
}

SECRET_BYTES = 32


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


class WebhookEndpoint(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhook_endpoints")
    target_url = models.URLField("URL de destination", max_length=500)
    secret = models.CharField("clé secrète", max_length=200)
    # After a rotation, the previous secret signs too until `previous_secret_until`.
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    subscriptions = models.JSONField("éléments déclencheurs", default=list)
    usager_fields = models.JSONField("données des usagers envoyées", default=list, blank=True)
    active = models.BooleanField("actif", default=True)
    # Health: consecutive failed attempts, since when, whether the admins were told, why disabled.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook"
        verbose_name_plural = "webhooks"
        ordering = ["organisation__name", "target_url", "id"]
        constraints = [
            models.UniqueConstraint("organisation", "target_url", name="webhook_url_unique_in_organisation"),
        ]

    def __str__(self) -> str:
        return f"Webhook n° {self.pk} ({self.organisation.name})"

    @property
    def masked_secret(self) -> str:
        return "•" * 8 + self.secret[-4:]

    def subscribes_to(self, subscription: str) -> bool:
        return subscription in (self.subscriptions or [])

    def grace_until(self, now):
        """The end of the rotation's grace period while it lasts (the previous secret signs too)."""
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now:
            return self.previous_secret_until
        return None

    def signing_secrets(self, now) -> list[str]:
        """The current secret, then the previous one while its grace period lasts."""
        return [self.secret, self.previous_secret] if self.grace_until(now) else [self.secret]


class WebhookEvent(models.Model):
    """One event written for one endpoint (its delivery row carries the body and the attempts)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="events")
    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="webhook_event")
    model = models.CharField("modèle", max_length=30)
    event = models.CharField("événement", max_length=10)
    record_id = models.PositiveBigIntegerField("identifiant")
    reason = models.CharField(max_length=20, blank=True)  # "backfill", "test", "rgpd" or ""
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "événement webhook"
        verbose_name_plural = "événements webhook"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "created_at"], name="webhook_event_endpoint_idx")]

    def __str__(self) -> str:
        return f"{self.model} n° {self.record_id} {self.event}"
