from django.apps import AppConfig


class WwwConfig(AppConfig):
    name = "rdv.www"
    label = "www"
    verbose_name = "Pages"
