from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from rdv.accounts.policies import can_log_in


class AgentBackend(ModelBackend):
    """E-mail + password, case-insensitive e-mail; intervenants cannot log in."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and can_log_in(user)


def axes_username(request, credentials=None) -> str | None:
    """The login as django-axes counts failures (AXES_USERNAME_CALLABLE): e-mails are
    case-insensitive, so "Alice@x.fr" and "alice@x.fr" must share one failure counter."""
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(field)
    if not isinstance(username, str):
        return username
    return username.strip().lower()
