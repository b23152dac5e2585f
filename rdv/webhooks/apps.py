from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "rdv.webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from rdv.core.audit import on_action
        from rdv.outbox import channels
        from rdv.outbox.models import Channel
        from rdv.webhooks import events, sender

        on_action(events.on_action)
        channels.register(Channel.WEBHOOK)(sender.send_webhook)
        channels.on_outcome(Channel.WEBHOOK)(events.on_delivery_outcome)
