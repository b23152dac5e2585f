"""Resolve the tenant named in the URL and check the agent's right to it, once.

Anything outside the agent's rights answers 404 (no existence leak); anonymous visitors are
sent to the login page.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404

from rdv.accounts import perms
from rdv.territories.models import Organisation, Territory


def territory_admin_required(view):
    @wraps(view)
    def wrapper(request, territory_id, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        territory = get_object_or_404(Territory, pk=territory_id)
        if not perms.is_territory_admin(request.user, territory):
            raise Http404("Espace introuvable")
        request.territory = territory
        return view(request, territory, *args, **kwargs)

    return wrapper


def organisation_member_required(view):
    @wraps(view)
    def wrapper(request, organisation_id, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        organisation = get_object_or_404(Organisation.objects.select_related("territory"), pk=organisation_id)
        if not perms.can_access_organisation(request.user, organisation):
            raise Http404("Organisation introuvable")
        request.organisation = organisation
        return view(request, organisation, *args, **kwargs)

    return wrapper
