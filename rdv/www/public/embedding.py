"""Embedding of the public pages in other sites' iframes.

Every page of the product refuses to be framed (`X-Frame-Options: DENY` from Django's
XFrameOptionsMiddleware and `frame-ancestors 'none'` from django-csp, config/settings/base.py).
The public booking pages decorated with `@embeddable` may be framed by the product itself and by
the sites the espace of the page lists (`Territory.embedding_origins`, one origin per line):
`Content-Security-Policy: frame-ancestors 'self' <origins>`, and no X-Frame-Options (it cannot
name origins; browsers that know CSP ignore it when frame-ancestors is set anyway). A page whose
espace is not known yet (the first step across espaces, an error page) allows 'self' only.

A view names the espace of its page with `set_territory(request, territory)`.
"""

import re
from functools import wraps

from django.views.decorators.clickjacking import xframe_options_exempt

# An origin as a CSP source: scheme, host, optional port; nothing that could end the directive.
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")
MAX_ORIGINS = 20


def origins_of(territory) -> list[str]:
    """The espace's embedding origins that are well-formed CSP sources, in order, without repeats
    (the settings form validates them; this guards the header anyway)."""
    if territory is None:
        return []
    listed = getattr(territory, "embedding_origin_list", None)
    if listed is None or callable(listed):
        listed = listed() if callable(listed) else (territory.embedding_origins or "").splitlines()
    origins: list[str] = []
    for line in listed:
        origin = line.strip().rstrip("/")
        if ORIGIN_RE.match(origin) and origin.lower() not in origins:
            origins.append(origin.lower())
    return origins[:MAX_ORIGINS]


def set_territory(request, territory) -> None:
    """Name the espace of the page being rendered (its sites may frame it)."""
    request.public_territory = territory


def frame_ancestors(territory) -> list[str]:
    return ["'self'", *origins_of(territory)]


def embeddable(view):
    """The page may be framed by the product and the sites of its espace (see the module)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._csp_replace = {"frame-ancestors": frame_ancestors(getattr(request, "public_territory", None))}
        return response

    return xframe_options_exempt(wrapper)
