"""What the notifications remember: the reminders written (one per RDV, person, kind and start
time, so the scheduler running twice sends once, and a moved RDV gets reminders for its new time)."""

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
