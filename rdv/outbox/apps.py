from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "rdv.outbox"
    label = "outbox"
    verbose_name = "Envois (e-mails, SMS, webhooks)"

    def ready(self):
        from rdv.core.health import register_check
        from rdv.core.metrics import register_gauges
        from rdv.outbox import metrics

        register_check("queue", metrics.queue_check)
        register_gauges("outbox", metrics.gauges)
