from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "rdv.notifications"
    verbose_name = "Notifications"

    def ready(self):
        from rdv.core.audit import on_action
        from rdv.notifications import events

        on_action(events.on_action)
