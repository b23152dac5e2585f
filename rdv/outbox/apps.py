from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "rdv.outbox"
    label = "outbox"
    verbose_name = "Envois (e-mails, SMS, webhooks)"
