"""« Jetons d’API » (the logged-in agent's own page): personal tokens for the organisation's
information system to call /api/v1 with the agent's rights. A token's secret is shown once, in the
answer to its creation (never stored: only its hash, rdv.accounts.services.create_api_token)."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from rdv.accounts import services
from rdv.core.errors import DomainError
from rdv.www.forms.accounts import ApiTokenForm
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.tenancy import agent_required

TITLE = "Jetons d’API"
SECRET_SESSION_KEY = "api_token_secret"
USAGE_DAYS = 30


def _status(token, now) -> tuple[str, str]:
    """(DSFR badge level, French label) of a token."""
    if token.revoked_at is not None:
        return "", "Révoqué"
    if token.expires_at is not None and token.expires_at <= now:
        return "warning", "Expiré"
    return "success", "Actif"


def _rows(ctx) -> list[dict]:
    """The agent's tokens with their status and their calls of the last 30 days (one query: the
    calls are counted by the database, from the API's journal)."""
    now = timezone.now()
    since = now - timedelta(days=USAGE_DAYS)
    # A GROUP BY drops the model's default ordering: newest first, said again.
    tokens = (
        services.agent_api_tokens(ctx)
        .annotate(recent_calls=Count("calls", filter=Q(calls__created_at__gte=since)))
        .order_by("-created_at", "-pk")
    )
    rows = []
    for token in tokens:
        level, label = _status(token, now)
        rows.append({"token": token, "status_level": level, "status": label, "active": token.is_usable(now)})
    return rows


def _page(request, ctx, form, *, created=None, secret: str = "", status: int = 200):
    response = render(
        request,
        "accounts/api_tokens.html",
        {
            "title": TITLE,
            "form": form,
            "rows": _rows(ctx),
            "usage_days": USAGE_DAYS,
            "limit": services.API_TOKENS_PER_AGENT,
            "created": created,
            "secret": secret,
        },
        status=status,
    )
    # The page holds the secret right after a creation; never keep a copy of it anywhere.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@agent_required
def api_tokens(request, ctx):
    """The list and the creation form; a valid POST creates a token and shows its secret, once."""
    form = ApiTokenForm(submitted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                token, secret = services.create_api_token(
                    ctx, name=form.cleaned_data["name"], expires_on=form.cleaned_data["expires_on"]
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                # Post/redirect/get: a reload must not create a second token. The secret crosses
                # the redirect in the session and is shown by the next page only.
                request.session[SECRET_SESSION_KEY] = {"token": token.pk, "secret": secret}
                return redirect("agent_api_tokens")
        return _page(request, ctx, form, status=400)
    shown = request.session.pop(SECRET_SESSION_KEY, None)
    created = services.agent_api_tokens(ctx).filter(pk=shown["token"]).first() if shown else None
    return _page(request, ctx, form, created=created, secret=shown["secret"] if created else "")


@require_http_methods(["GET", "POST"])
@agent_required
def api_token_revoke(request, ctx, token_id: int):
    """A confirmation step, then the revocation on a POST with `confirmer=1`. Another agent's token
    reads as absent (404)."""
    token = get_object_or_404(services.agent_api_tokens(ctx), pk=token_id)
    if token.revoked_at is not None:
        messages.info(request, f"Le jeton « {token.name} » est déjà révoqué.")
        return redirect("agent_api_tokens")
    if not (request.method == "POST" and request.POST.get("confirmer") == "1"):
        return render(
            request,
            "accounts/api_token_revoke.html",
            {
                "title": f"Révoquer le jeton « {token.name} » ?",
                "lead": "Les logiciels qui l’utilisent n’auront plus accès à l’API avec ce jeton.",
                "details": [
                    f"Jeton {token.prefix}…, créé le {timezone.localtime(token.created_at):%d/%m/%Y à %H:%M}.",
                ],
                "consequences": [
                    "Les appels à l’API faits avec ce jeton sont refusés dès maintenant (erreur 401).",
                    "La révocation est définitive : pour rétablir l’accès, créez un nouveau jeton "
                    "et transmettez-le à l’équipe du système d’information.",
                ],
                "action_url": request.path,
                "confirm_label": "Révoquer le jeton",
                "back_url": reverse("agent_api_tokens"),
                "back_label": "Garder le jeton",
            },
        )
    try:
        services.revoke_api_token(ctx, token)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Le jeton « {token.name} » est révoqué : il n’ouvre plus l’accès à l’API.")
    return redirect("agent_api_tokens")
