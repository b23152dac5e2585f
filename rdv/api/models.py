"""What the API keeps of its own: the journal of calls and the idempotency keys of its POSTs.

Both belong to the API face, not to a domain app: they record requests, not business facts.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiCall(models.Model):
    """One authenticated call (method, path, agent, status): kept a year (`purge_api_calls`)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    token = models.ForeignKey("accounts.ApiToken", null=True, on_delete=models.SET_NULL, related_name="calls")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "appel d’API"
        verbose_name_plural = "appels d’API"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`: the same key and body get it
    again, without a second change. Unique per token; kept `API_IDEMPOTENCY_HOURS`."""

    token = models.ForeignKey("accounts.ApiToken", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Null while the first request runs.
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint("token", "key", name="api_idempotency_unique")]

    def __str__(self) -> str:
        return self.key
