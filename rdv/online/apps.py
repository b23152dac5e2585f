from django.apps import AppConfig


class OnlineConfig(AppConfig):
    name = "rdv.online"
    label = "online"
    verbose_name = "Réservation en ligne"
