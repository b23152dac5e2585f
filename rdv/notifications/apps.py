from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "rdv.notifications"
    verbose_name = "Notifications"

    def ready(self):
        from rdv.core.audit import on_action
        from rdv.notifications import agent_emails, events

        on_action(events.on_action)  # usagers
        on_action(agent_emails.on_action)  # agents
