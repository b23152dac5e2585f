from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "rdv.territories"
    label = "territories"
    verbose_name = "Espaces et organisations"
