"""Resolve the tenant named in the URL and build the request's context, once.

Each decorator builds the agent's immutable context for the espace or organisation of the URL
(rdv.accounts.context: one query, the tenant included) and calls the view with it:
`view(request, ctx, ...)`, in the espace's time zone (times typed and shown are the espace's). Anything outside the
agent's rights answers 404 (no existence leak); anonymous visitors are sent to the login page.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils import timezone

from rdv.accounts.context import organisation_context, personal_context, territory_context


def territory_admin_required(view):
    @wraps(view)
    def wrapper(request, territory_id, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        ctx = territory_context(request.user, territory_id)
        if ctx is None:
            raise Http404("Espace introuvable")
        return _in_espace_time(request, ctx, view, *args, **kwargs)

    return wrapper


def _in_espace_time(request, ctx, view, *args, **kwargs):
    """Run the view in the espace's wall-clock time: forms read and pages show times there."""
    request.ctx = ctx
    with timezone.override(ctx.territory.zone):
        return view(request, ctx, *args, **kwargs)


def organisation_member_required(view):
    @wraps(view)
    def wrapper(request, organisation_id, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        ctx = organisation_context(request.user, organisation_id)
        if ctx is None:
            raise Http404("Organisation introuvable")
        return _in_espace_time(request, ctx, view, *args, **kwargs)

    return wrapper


def agent_required(view):
    """An agent's own pages (« Mes notifications »): the context names only them (no espace, no
    organisation); anonymous visitors are sent to the login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        ctx = personal_context(request.user) if request.user.is_authenticated else None
        if ctx is None:
            return redirect_to_login(request.get_full_path())
        request.ctx = ctx
        return view(request, ctx, *args, **kwargs)

    return wrapper
