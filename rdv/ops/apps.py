from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operators' and developers' commands that drive several domain apps (demo data, espace
    creation, benchmarks). Nothing imports this app."""

    name = "rdv.ops"
    verbose_name = "Exploitation"
