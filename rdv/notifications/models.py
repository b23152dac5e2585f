"""What the notifications remember: the reminders written (one per RDV, person, kind and start
time, so the scheduler running twice sends once, and a moved RDV gets reminders for its new time)."""

from django.conf import settings
from django.db import models

from rdv.outbox.models import Delivery


class ReminderKind(models.TextChoices):
    FIRST = "first", "Premier rappel"
    SECOND = "second", "Second rappel"


class Reminder(models.Model):
    rdv = models.ForeignKey("bookings.Rdv", on_delete=models.CASCADE, related_name="reminders")
    usager = models.ForeignKey("usagers.Usager", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    starts_at = models.DateTimeField()  # the RDV's start when the reminder was written
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rappel"
        constraints = [
            models.UniqueConstraint("rdv", "usager", "kind", "starts_at", name="reminder_once_per_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} du rendez-vous {self.rdv_id}"


class RdvLevel(models.TextChoices):
    """Which RDV changes an agent hears about by e-mail (the established platform's levels)."""

    ALL = "all", "Tous les changements"
    OTHERS = "others", "Les changements faits par d'autres"
    SOON = "soon", "Les changements faits par d'autres sur un RDV d'aujourd'hui ou de demain"
    NONE = "none", "Aucun"


class AgentPreferences(models.Model):
    """An agent's notification choices. One row per agent, written the first time they save their
    choices; an agent without a row has the defaults (`AgentPreferences.defaults_for`)."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    rdv_level = models.CharField(
        "changements de mes rendez-vous", max_length=10, choices=RdvLevel.choices, default=RdvLevel.OTHERS
    )
    plages_and_absences = models.BooleanField(
        "changements de mes plages d'ouverture et absences faits par d'autres", default=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "préférences de notification d'un agent"
        verbose_name_plural = "préférences de notification des agents"

    def __str__(self) -> str:
        return "Préférences de notification"

    @classmethod
    def defaults_for(cls, agent) -> "AgentPreferences":
        """The choices of an agent who never saved any (not written)."""
        return cls(agent=agent)


class CalendarFeed(models.Model):
    """The private address `/calendrier/<token>.ics` an agent subscribes their calendar to. Only
    the SHA-256 of the token is stored: the address is shown once, when created. At most one active
    (not revoked) feed per agent."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "lien d'agenda"
        verbose_name_plural = "liens d'agenda"
        constraints = [
            models.UniqueConstraint(
                "agent", condition=models.Q(revoked_at__isnull=True), name="calendar_feed_one_active_per_agent"
            ),
        ]

    def __str__(self) -> str:
        return f"Lien d'agenda n° {self.pk}"
