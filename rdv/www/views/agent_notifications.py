"""« Mes notifications » (the logged-in agent's own page): which changes they hear about by e-mail,
and the private address of their calendar feed (created, shown once, revoked). The feed itself,
`/calendrier/<token>.ics`, needs no session: the token is the key."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from rdv.core.errors import DomainError
from rdv.core.ratelimit import client_ip, hit
from rdv.notifications import selectors, services
from rdv.notifications.calendar import agent_calendar
from rdv.online.services import token_digest
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.notifications import AgentNotificationsForm
from rdv.www.tenancy import agent_required

TITLE = "Mes notifications"
# Calendar applications read a feed every 15 minutes to a few hours: (hits, seconds) per link, and
# per client address for unknown or revoked links (nobody guesses a 256-bit token, but nobody
# should hammer the page trying).
FEED_LIMIT = (30, 600)
FEED_MISSES_LIMIT = (20, 600)
FEED_NOT_FOUND = "Lien d'agenda inconnu ou révoqué. Créez un nouveau lien depuis la page « Mes notifications »."


def _page(request, ctx, form, *, new_feed_url: str = "", status: int = 200):
    return render(
        request,
        "accounts/notifications.html",
        {
            "title": TITLE,
            "form": form,
            "feed": selectors.active_calendar_feed(ctx.agent),
            "new_feed_url": new_feed_url,
        },
        status=status,
    )


@agent_required
def notifications(request, ctx):
    preferences = selectors.agent_preferences(ctx.agent)
    initial = {"rdv_level": preferences.rdv_level, "plages_and_absences": preferences.plages_and_absences}
    form = AgentNotificationsForm(submitted(request), initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                changes = services.set_agent_preferences(ctx, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if changes:
                    messages.success(request, "Vos choix de notification sont enregistrés.")
                else:
                    messages.info(request, "Aucune modification.")
                return redirect("agent_notifications")
        return _page(request, ctx, form, status=400)
    return _page(request, ctx, form)


def feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("calendar_feed", args=[token])


@require_POST
@agent_required
def calendar_feed_create(request, ctx):
    """Create the link (replacing the active one) and show it, once: only its hash is kept."""
    token = services.create_calendar_feed(ctx)
    preferences = selectors.agent_preferences(ctx.agent)
    form = AgentNotificationsForm(
        initial={"rdv_level": preferences.rdv_level, "plages_and_absences": preferences.plages_and_absences}
    )
    response = _page(request, ctx, form, new_feed_url=feed_url(token))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@agent_required
def calendar_feed_revoke(request, ctx):
    try:
        services.revoke_calendar_feed(ctx)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Le lien d'agenda est révoqué : les agendas abonnés ne reçoivent plus vos rendez-vous."
        )
    return redirect("agent_notifications")


def _text(status: int, text: str, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(text, content_type="text/plain; charset=utf-8", status=status)
    response.product_page = True  # this short text, also in development (rdv.www.middleware)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@require_GET
def calendar_feed(request, token: str):
    """The agent's RDVs as an ICS file (no session: the token is the key). Unknown or revoked: 404."""
    decision = hit(f"calendar-feed:{token_digest(token)}", limit=FEED_LIMIT[0], period=FEED_LIMIT[1])
    if not decision.allowed:
        return _text(429, "Trop de demandes pour ce lien d'agenda : réessayez plus tard.", decision.headers())
    feed = selectors.calendar_feed(token)
    if feed is None:
        misses = hit(
            f"calendar-feed-miss:{client_ip(request)}", limit=FEED_MISSES_LIMIT[0], period=FEED_MISSES_LIMIT[1]
        )
        if not misses.allowed:
            return _text(429, "Trop de demandes : réessayez plus tard.", misses.headers())
        return _text(404, FEED_NOT_FOUND)
    body = agent_calendar(selectors.feed_rdvs(feed.agent))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="mes-rendez-vous.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
