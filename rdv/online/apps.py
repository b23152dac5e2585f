from django.apps import AppConfig


class OnlineConfig(AppConfig):
    name = "rdv.online"
    label = "online"
    verbose_name = "Réservation en ligne"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from rdv.core.audit import on_action
        from rdv.online import opendata, slotcache

        on_action(opendata.on_action)
        on_action(slotcache.on_action)
        request_started.connect(slotcache.start_request_versions, dispatch_uid="slotcache-request-start")
        request_finished.connect(slotcache.end_request_versions, dispatch_uid="slotcache-request-end")
