from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "rdv.retention"
    label = "retention"
    verbose_name = "Conservation des données (RGPD)"
