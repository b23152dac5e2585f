from django.apps import AppConfig


class MotifsConfig(AppConfig):
    name = "rdv.motifs"
    label = "motifs"
    verbose_name = "Motifs de rendez-vous"
