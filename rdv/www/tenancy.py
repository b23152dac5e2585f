"""Resolve the tenant named in the URL and build the request's context, once.

Each decorator builds the agent's immutable context for the espace or organisation of the URL
(rdv.accounts.context: one query, the tenant included) and calls the view with it:
`view(request, ctx, ...)`. Anything outside the
agent's rights answers 404 (no existence leak); anonymous visitors are sent to the login page.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from rdv.accounts.context import organisation_context, territory_context


def territory_admin_required(view):
    @wraps(view)
    def wrapper(request, territory_id, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        ctx = territory_context(request.user, territory_id)
        if ctx is None:
            raise Http404("Espace introuvable")
        request.ctx = ctx
        return view(request, ctx, *args, **kwargs)

    return wrapper


def organisation_member_required(view):
    @wraps(view)
    def wrapper(request, organisation_id, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        ctx = organisation_context(request.user, organisation_id)
        if ctx is None:
            raise Http404("Organisation introuvable")
        request.ctx = ctx
        return view(request, ctx, *args, **kwargs)

    return wrapper
