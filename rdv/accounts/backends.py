from django.contrib.auth.backends import ModelBackend

from rdv.accounts.perms import can_log_in


class AgentBackend(ModelBackend):
    """E-mail + password, case-insensitive e-mail; intervenants cannot log in."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and can_log_in(user)
