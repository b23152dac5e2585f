from django.apps import AppConfig


class UsagersConfig(AppConfig):
    name = "rdv.usagers"
    label = "usagers"
    verbose_name = "Usagers"
