from django.apps import AppConfig


class AgendasConfig(AppConfig):
    name = "rdv.agendas"
    label = "agendas"
    verbose_name = "Agendas"
