from django.conf import settings

from rdv.accounts.models import AccessLevel, AgentRole
from rdv.territories.models import Territory


def navigation(request) -> dict:
    """What the header menus need: the agent's organisations and the espaces they administer."""
    context = {"SITE_NAME": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    context["nav_organisations"] = [
        role.organisation
        for role in AgentRole.objects.filter(agent=user)
        .exclude(access_level=AccessLevel.INTERVENANT)
        .select_related("organisation")
        .order_by("organisation__name")
    ]
    context["nav_territories"] = list(Territory.objects.filter(admin_roles__agent=user).order_by("name"))
    return context
