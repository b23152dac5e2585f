from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rdv.accounts"
    label = "accounts"
    verbose_name = "Agents"

    def ready(self):
        from rdv.accounts.policies import delivery_subject
        from rdv.outbox.policies import register_subject

        register_subject("accounts.Invitation", delivery_subject())
