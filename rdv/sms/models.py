"""Per-espace SMS settings (budget, warning threshold, providers) and the monthly counter the
budget is checked against. See docs/sms.md."""

from django.db import models


class SmsSettings(models.Model):
    """One row per espace, created the first time it is needed (`services.settings_for`)."""

    territory = models.OneToOneField(
        "territories.Territory", on_delete=models.CASCADE, related_name="sms_settings", verbose_name="espace"
    )
    monthly_segment_budget = models.PositiveIntegerField(
        "budget mensuel (segments)", default=0, help_text="0 : pas de budget."
    )
    warning_percent = models.PositiveSmallIntegerField("seuil d'alerte (%)", default=80)
    # Names from settings.SMS_PROVIDERS; blank: the platform's default provider / no fallback.
    provider = models.CharField("fournisseur", max_length=50, blank=True)
    fallback_provider = models.CharField("fournisseur de secours", max_length=50, blank=True)
    # The month (its first day, in the espace's calendar) whose warning e-mail was sent.
    warned_for_month = models.DateField("alerte envoyée pour le mois", null=True, blank=True)

    class Meta:
        verbose_name = "paramètres SMS"
        verbose_name_plural = "paramètres SMS"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warning_percent__gte=1, warning_percent__lte=100),
                name="sms_settings_warning_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Paramètres SMS de l'espace {self.territory}"


class SmsMonthlyUsage(models.Model):
    """What one espace's SMS cost in one month (the espace's calendar month). A counter, not a sum
    over the outbox rows: sent rows are purged after OUTBOX_KEEP_SENT_DAYS, and the budget check
    must lock one row per espace and month anyway.

    - accepted: segments of the SMS accepted for sending (the budget is checked against these,
      whatever happens to the messages afterwards);
    - refused: SMS not sent because the budget was exhausted;
    - sent_by_provider: {provider name: {"messages": n, "segments": n}} of the SMS each provider
      accepted (the fallback included);
    - undelivered: accepted SMS abandoned after failures (they still count against the budget).
    """

    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.CASCADE, related_name="sms_usages", verbose_name="espace"
    )
    month = models.DateField("mois")  # its first day
    messages_accepted = models.PositiveIntegerField(default=0)
    segments_accepted = models.PositiveIntegerField(default=0)
    messages_refused = models.PositiveIntegerField(default=0)
    segments_refused = models.PositiveIntegerField(default=0)
    messages_undelivered = models.PositiveIntegerField(default=0)
    segments_undelivered = models.PositiveIntegerField(default=0)
    sent_by_provider = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "consommation SMS du mois"
        verbose_name_plural = "consommations SMS par mois"
        ordering = ["-month"]
        constraints = [models.UniqueConstraint("territory", "month", name="sms_usage_territory_month_unique")]

    def __str__(self) -> str:
        return f"SMS de l'espace {self.territory} ({self.month:%m/%Y})"
