"""Rate limits of the public pages: every public view is limited per client IP (fixed windows in
the database, rdv.core.ratelimit); a refusal is a French 429 page with `Retry-After`."""

from functools import wraps

from django.conf import settings

from rdv.core.ratelimit import Decision, client_ip, hit
from rdv.www.views.errors import too_many_requests as error_page_429

# (hits, seconds) per IP and per scope; settings.PUBLIC_RATE_LIMITS overrides entries.
DEFAULT_LIMITS = {
    "pages": (120, 60),  # browsing the journey
    "hold": (20, 600),  # slots held
    "code": (10, 600),  # verification codes sent or tried
    "manage": (10, 600),  # manage link: last-name letters tried
    "opendata": (60, 60),  # the open-data feed (rdv.www.public.opendata)
}


def limits_for(scope: str) -> tuple[int, int]:
    return {**DEFAULT_LIMITS, **getattr(settings, "PUBLIC_RATE_LIMITS", {})}[scope]


def too_many_requests(request, decision: Decision):
    """The French 429 page (static: it costs nothing during a rush), with `Retry-After`."""
    return error_page_429(decision.retry_after, decision.headers())


def check(request, scope: str, key: str = "") -> Decision:
    """Count one hit of this client (and `key`, e.g. a token) in `scope`."""
    limit, period = limits_for(scope)
    return hit(f"public:{scope}:{client_ip(request)}:{key}", limit=limit, period=period)


def rate_limited(scope: str = "pages", methods: tuple[str, ...] = ("GET", "HEAD", "POST")):
    """Decorate a public view: beyond the scope's limit for this IP, answer 429."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                decision = check(request, scope)
                if not decision.allowed:
                    return too_many_requests(request, decision)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
