from django.conf import settings

from rdv.accounts import selectors as account_selectors


def navigation(request) -> dict:
    """What the header menus need: the agent's organisations and the espaces they administer."""
    context = {"SITE_NAME": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    places = account_selectors.places(user)
    context["nav_organisations"] = [role.organisation for role in places.roles]
    context["nav_territories"] = places.territories
    return context
