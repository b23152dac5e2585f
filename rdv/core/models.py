from django.conf import settings
from django.db import models


class AuditLogQuerySet(models.QuerySet):
    def for_territory(self, territory) -> "AuditLogQuerySet":
        return self.filter(territory=territory)


class AuditLog(models.Model):
    """One row per change made through a service function (see rdv.core.audit.log_action)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_repr = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        "territories.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = "entrée du journal"
        verbose_name_plural = "journal"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["territory", "-created_at"], name="auditlog_territory_idx"),
            models.Index(fields=["object_type", "object_id"], name="auditlog_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_repr} {self.action} {self.object_repr}"


class RateCounter(models.Model):
    """Hits of one rate-limit key in one fixed time window (rdv.core.ratelimit). Kept in the
    database, so every web process shares the counts; old windows are purged by a periodic task."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint("key", "window_start", name="rate_counter_unique")]
        indexes = [models.Index(fields=["window_start"], name="rate_counter_window_idx")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M:%S}: {self.count}"


class Heartbeat(models.Model):
    """The last sign of life of a long-running process (the scheduler writes one every
    SCHEDULER_HEARTBEAT_SECONDS while it holds the leader lock); /healthz reports its age."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()
    holder = models.CharField(max_length=200, blank=True)  # host:pid of the process that wrote it

    class Meta:
        verbose_name = "signe de vie"
        verbose_name_plural = "signes de vie"

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S} ({self.holder})"
