from django.shortcuts import render

from rdv.accounts import selectors as account_selectors


def home(request):
    if not request.user.is_authenticated:
        return render(request, "home_public.html", {"title": "Accueil"})
    places = account_selectors.places(request.user)
    return render(
        request, "home_agent.html", {"title": "Accueil", "roles": places.roles, "territories": places.territories}
    )
