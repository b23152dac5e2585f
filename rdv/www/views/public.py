from django.shortcuts import render

from rdv.accounts.models import AccessLevel, AgentRole
from rdv.territories.models import Territory


def home(request):
    if not request.user.is_authenticated:
        return render(request, "home_public.html", {"title": "Accueil"})
    roles = (
        AgentRole.objects.filter(agent=request.user)
        .exclude(access_level=AccessLevel.INTERVENANT)
        .select_related("organisation__territory")
        .order_by("organisation__territory__name", "organisation__name")
    )
    territories = Territory.objects.filter(admin_roles__agent=request.user).order_by("name")
    return render(request, "home_agent.html", {"title": "Accueil", "roles": roles, "territories": territories})
