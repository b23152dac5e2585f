from django.apps import AppConfig


class OnlineConfig(AppConfig):
    name = "rdv.online"
    label = "online"
    verbose_name = "Réservation en ligne"

    def ready(self):
        from rdv.core.audit import on_action
        from rdv.online import opendata, slotcache

        on_action(opendata.on_action)
        on_action(slotcache.on_action)
