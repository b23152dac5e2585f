"""Webhooks of the espace administration (issue 19): the endpoints of the espace's organisations,
their secret, a test event, the delivery log with replays, and the documentation for SI teams.

Rights: rdv.webhooks.policies with the request context (espace admins only); an endpoint or event of
another espace is outside the scopes, so a 404. Every change goes through rdv.webhooks.services,
whose DomainError becomes a French error on the form or the page.

A secret is shown in full once: the service's answer is kept in the session for the next page,
which removes it as it shows it; every other page shows `masked_secret`.
"""

import json
from datetime import datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods

from rdv.core.errors import DomainError
from rdv.core.pagination import keyset_page, parse_id
from rdv.core.text import de
from rdv.outbox.models import DeliveryAttempt, Status
from rdv.webhooks import policies, services
from rdv.webhooks.models import SUBSCRIPTIONS, USAGER_FIELDS, WebhookEvent
from rdv.www import webhook_docs as docs
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.webhooks import (
    EVENT_LABELS,
    MODEL_LABELS,
    STATUS_FILTERS,
    EndpointForm,
    EventFilterForm,
    ReplayFailedForm,
    RotateSecretForm,
)
from rdv.www.tenancy import territory_admin_required

PAGE_SIZE = 50
LOG_ORDER = ("-created_at", "-id")  # newest first, served by the index webhook_event_endpoint_idx
FAILED = (Status.FAILING, Status.ABANDONED, Status.CANCELLED)
SECRET_SESSION_KEY = "webhook_secret_once"
ORIGINS = {"backfill": "enregistrement existant", "rgpd": "RGPD"}  # why an event exists, when not a change
STATUS_BADGES = {
    Status.SENT: "success",
    Status.FAILING: "warning",
    Status.ABANDONED: "error",
    Status.CANCELLED: "info",
    Status.PENDING: "new",
    Status.SENDING: "new",
}


def _render(request, template, ctx, title, status=200, **context):
    context.update({"territory": ctx.territory, "title": title})
    return render(request, template, context, status=status)


def _check(ctx) -> None:
    if not policies.can_manage(ctx):
        raise Http404("Page introuvable")


def _endpoint(ctx, endpoint_id):
    _check(ctx)
    return get_object_or_404(policies.scope(ctx).select_related("organisation__territory"), pk=endpoint_id)


def _edit_url(endpoint) -> str:
    return reverse("webhook_edit", args=[endpoint.organisation.territory_id, endpoint.pk])


def _log_url(endpoint, query: str = "") -> str:
    url = reverse("webhook_log", args=[endpoint.organisation.territory_id, endpoint.pk])
    return f"{url}?{query}" if query else url


def _keep_secret_once(request, endpoint, secret: str, what: str) -> None:
    request.session[SECRET_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": secret, "what": what}


def _secret_once(request, endpoint) -> dict | None:
    """The full secret of this endpoint if the previous action just made it, removed as it is read."""
    kept = request.session.get(SECRET_SESSION_KEY)
    if not kept or kept.get("endpoint") != endpoint.pk:
        return None
    del request.session[SECRET_SESSION_KEY]
    return kept


def _not_allowed(request, ctx, endpoint, action: str):
    """A GET on an action that only a button starts: a French page (405) with the way back."""
    response = _render(
        request,
        "webhooks/not_allowed.html",
        ctx,
        "Action à lancer depuis la page du webhook",
        status=405,
        endpoint=endpoint,
        action=action,
    )
    response["Allow"] = "POST"
    return response


def _health(endpoint) -> tuple[str, str]:
    """(badge level, French label) of an endpoint's state."""
    if not endpoint.active:
        return "error", f"Désactivé : {endpoint.disabled_reason or 'par un administrateur.'}"
    if endpoint.failing_since:
        since = timezone.localtime(endpoint.failing_since)
        failures = endpoint.consecutive_failures
        return (
            "warning",
            f"En échec depuis le {since:%d/%m/%Y à %H:%M} ({failures} échec{pluralize(failures)} d'affilée)",
        )
    return "success", "Actif"


# List -------------------------------------------------------------------------------------------


@territory_admin_required
def webhook_list(request, ctx):
    _check(ctx)
    latest = WebhookEvent.objects.filter(endpoint=OuterRef("pk")).order_by(*LOG_ORDER)
    endpoints = (
        policies.scope(ctx)
        .select_related("organisation")
        .annotate(
            last_status=Subquery(latest.values("delivery__status")[:1]),
            last_event_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("organisation__name", "target_url", "id")
    )
    rows = []
    for endpoint in endpoints:
        level, label = _health(endpoint)
        rows.append(
            {
                "endpoint": endpoint,
                "health_level": level,
                "health": label,
                "triggers": [SUBSCRIPTIONS[name][1] for name in endpoint.subscriptions if name in SUBSCRIPTIONS],
                "last_status": Status(endpoint.last_status).label if endpoint.last_status else "",
                "last_badge": STATUS_BADGES.get(endpoint.last_status, "info"),
            }
        )
    return _render(request, "webhooks/list.html", ctx, "Webhooks", rows=rows)


# Create and change ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_new(request, ctx):
    _check(ctx)
    form = EndpointForm(ctx, submitted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.create_endpoint(
                ctx,
                organisation=data["organisation"],
                target_url=data["target_url"],
                subscriptions=data["subscriptions"],
                usager_fields=data["usager_fields"],
                secret=data["secret"],
                active=data["active"],
                backfill=data["backfill"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            _keep_secret_once(request, endpoint, endpoint.secret, "created")
            text = f"Le webhook {de(endpoint.organisation.name)} vers {endpoint.target_url} est créé."
            if data["backfill"] and data["active"]:
                text += " Les enregistrements existants partent progressivement."
            messages.success(request, text)
            return redirect(_edit_url(endpoint))
    return _render(request, "webhooks/form.html", ctx, "Ajouter un webhook", form=form)


def _edit_page(request, ctx, endpoint, *, form=None, rotate_form=None, status=200):
    form = form or EndpointForm(
        ctx,
        creating=False,
        initial={
            "target_url": endpoint.target_url,
            "subscriptions": endpoint.subscriptions,
            "usager_fields": endpoint.usager_fields,
            "active": endpoint.active,
        },
    )
    level, label = _health(endpoint)
    grace_until = endpoint.grace_until(timezone.now())
    secret_once = _secret_once(request, endpoint)
    response = _render(
        request,
        "webhooks/edit.html",
        ctx,
        f"Webhook {de(endpoint.organisation.name)}",
        status=status,
        endpoint=endpoint,
        form=form,
        rotate_form=rotate_form or RotateSecretForm(),
        secret_once=secret_once,
        grace_until=grace_until,
        health_level=level,
        health=label,
    )
    if secret_once:  # no copy of the page with the secret in any cache, nor in the browser's history
        patch_cache_control(response, no_store=True, private=True)
    return response


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_edit(request, ctx, endpoint_id):
    endpoint = _endpoint(ctx, endpoint_id)
    if request.method != "POST":
        return _edit_page(request, ctx, endpoint)
    form = EndpointForm(ctx, request.POST, creating=False)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_endpoint(
                ctx,
                endpoint,
                target_url=data["target_url"],
                subscriptions=data["subscriptions"],
                usager_fields=data["usager_fields"],
                active=data["active"],
                backfill=data["backfill"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            text = "Les modifications du webhook sont enregistrées."
            if data["backfill"] and data["active"]:
                text += " Les enregistrements existants partent progressivement."
            messages.success(request, text)
            return redirect(_edit_url(endpoint))
    return _edit_page(request, ctx, endpoint, form=form)


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_rotate(request, ctx, endpoint_id):
    endpoint = _endpoint(ctx, endpoint_id)
    if request.method != "POST":
        return _not_allowed(request, ctx, endpoint, "Renouveler la clé")
    form = RotateSecretForm(request.POST)
    if form.is_valid():
        try:
            endpoint = services.rotate_secret(
                ctx, endpoint, secret=form.cleaned_data["secret"], grace_hours=form.cleaned_data["grace_hours"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            _keep_secret_once(request, endpoint, endpoint.secret, "rotated")
            hours = form.cleaned_data["grace_hours"]
            if hours:
                text = (
                    f"La clé secrète est renouvelée. L'ancienne signe encore les envois pendant {hours} "
                    f"heure{pluralize(hours)}."
                )
            else:
                text = "La clé secrète est renouvelée. L'ancienne ne signe plus rien."
            messages.success(request, text)
            return redirect(_edit_url(endpoint))
    return _edit_page(request, ctx, endpoint, rotate_form=form)


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_end_grace(request, ctx, endpoint_id):
    endpoint = _endpoint(ctx, endpoint_id)
    if request.method != "POST":
        return _not_allowed(request, ctx, endpoint, "Retirer l'ancienne clé maintenant")
    try:
        services.end_grace_period(ctx, endpoint)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "L'ancienne clé secrète est retirée : seule la nouvelle signe les envois.")
    return redirect(_edit_url(endpoint))


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_test(request, ctx, endpoint_id):
    endpoint = _endpoint(ctx, endpoint_id)
    if request.method != "POST":
        return _not_allowed(request, ctx, endpoint, "Envoyer un événement de test")
    try:
        services.send_test_event(ctx, endpoint)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_edit_url(endpoint))
    messages.success(request, "L'événement de test part dans quelques instants : suivez-le dans ce journal.")
    return redirect(_log_url(endpoint))


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_delete(request, ctx, endpoint_id):
    """A confirmation step, then the deletion on a POST with `confirmer=1`."""
    endpoint = _endpoint(ctx, endpoint_id)
    if not (request.method == "POST" and request.POST.get("confirmer") == "1"):
        return _render(
            request,
            "espace/confirm.html",
            ctx,
            f"Supprimer le webhook {de(endpoint.organisation.name)} ?",
            lead=f"Les événements {de(endpoint.organisation.name)} ne seront plus envoyés à {endpoint.target_url}.",
            details=[],
            consequences=[
                "Les événements en attente d'envoi ou en échec pour ce webhook sont annulés.",
                "Son journal des envois est supprimé avec lui.",
                "Pour l'interrompre seulement, décochez plutôt « Actif » : vous pourrez le réactiver.",
            ],
            action_url=request.path,
            confirm_label="Supprimer le webhook",
            back_url=_edit_url(endpoint),
            back_label="Garder le webhook",
        )
    try:
        services.delete_endpoint(ctx, endpoint)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_edit_url(endpoint))
    messages.success(request, f"Le webhook {de(endpoint.organisation.name)} vers {endpoint.target_url} est supprimé.")
    return redirect("webhook_list", ctx.territory.pk)


# Delivery log -----------------------------------------------------------------------------------


def _period(du, au) -> tuple[datetime | None, datetime | None]:
    """The period from day `du` to day `au` included, in the active (the espace's) time zone."""
    since = timezone.make_aware(datetime.combine(du, time.min)) if du else None
    until = timezone.make_aware(datetime.combine(au + timedelta(days=1), time.min)) if au else None
    return since, until


def _filter_query(data: dict) -> str:
    """The filters as a query string (built from validated values only)."""
    values = {
        "statut": data.get("statut") or "",
        "modele": data.get("modele") or "",
        "du": data["du"].isoformat() if data.get("du") else "",
        "au": data["au"].isoformat() if data.get("au") else "",
    }
    return urlencode({key: value for key, value in values.items() if value})


def _pretty_body(text: str) -> str:
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


@territory_admin_required
def webhook_log(request, ctx, endpoint_id):
    endpoint = _endpoint(ctx, endpoint_id)
    filters = EventFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    events = policies.events_scope(ctx).filter(endpoint=endpoint)
    if data.get("statut"):
        events = events.filter(delivery__status__in=STATUS_FILTERS[data["statut"]][1])
    if data.get("modele"):
        events = events.filter(model=data["modele"])
    since, until = _period(data.get("du"), data.get("au"))
    if since:
        events = events.filter(created_at__gte=since)
    if until:
        events = events.filter(created_at__lt=until)
    events = events.select_related("delivery").prefetch_related(
        Prefetch("delivery__attempt_rows", queryset=DeliveryAttempt.objects.order_by("started_at", "id"))
    )
    page = keyset_page(
        events,
        LOG_ORDER,
        after=parse_id(request.GET.get("apres")),
        before=parse_id(request.GET.get("avant")),
        size=PAGE_SIZE,
    )
    rows = []
    for event in page:
        delivery = event.delivery
        attempts = list(delivery.attempt_rows.all())
        rows.append(
            {
                "event": event,
                "delivery": delivery,
                "model_label": MODEL_LABELS.get(event.model, event.model),
                "event_label": EVENT_LABELS.get(event.event, event.event),
                "origin": ORIGINS.get(event.reason, ""),
                "badge": STATUS_BADGES.get(delivery.status, "info"),
                "attempts": attempts,
                "last_status_code": next((a.status_code for a in reversed(attempts) if a.status_code), None),
                "next_attempt_at": delivery.next_attempt_at
                if delivery.status in (Status.PENDING, Status.FAILING)
                else None,
                "body": _pretty_body(delivery.text),
                "replayable": delivery.status in services.REPLAYABLE,
            }
        )
    query = _filter_query(data)
    today = timezone.localdate()
    replay_form = ReplayFailedForm(
        initial={"du": data.get("du") or today - timedelta(days=3), "au": data.get("au") or today},
        auto_id="renvoi_%s",  # the filters above have their own « du » and « au »
    )
    level, label = _health(endpoint)
    return _render(
        request,
        "webhooks/log.html",
        ctx,
        f"Journal des envois du webhook {de(endpoint.organisation.name)}",
        endpoint=endpoint,
        filters=filters,
        page=page,
        rows=rows,
        query=query,
        filter_fields=parse_qsl(query),
        replay_form=replay_form,
        health_level=level,
        health=label,
    )


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_replay(request, ctx, endpoint_id, event_id):
    endpoint = _endpoint(ctx, endpoint_id)
    if request.method != "POST":
        return _not_allowed(request, ctx, endpoint, "Renvoyer")
    event = get_object_or_404(policies.events_scope(ctx).filter(endpoint=endpoint), pk=event_id)
    try:
        services.replay_event(ctx, event)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"L'événement « {event} » est renvoyé : il part dans quelques instants.")
    filters = EventFilterForm(request.POST)
    return redirect(_log_url(endpoint, _filter_query(filters.cleaned_data if filters.is_valid() else {})))


@require_http_methods(["GET", "POST"])
@territory_admin_required
def webhook_replay_failed(request, ctx, endpoint_id):
    """The events of a period whose delivery failed, sent again: a confirmation step (how many),
    then the replay on a POST with `confirmer=1`."""
    endpoint = _endpoint(ctx, endpoint_id)
    if request.method != "POST":
        return _not_allowed(request, ctx, endpoint, "Renvoyer les envois en échec de la période")
    form = ReplayFailedForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_log_url(endpoint))
    du, au = form.cleaned_data["du"], form.cleaned_data["au"]
    since, until = _period(du, au)
    query = _filter_query({"du": du, "au": au})
    if request.POST.get("confirmer") != "1":
        count = (
            policies.events_scope(ctx)
            .filter(endpoint=endpoint, created_at__gte=since, created_at__lt=until, delivery__status__in=FAILED)
            .count()
        )
        period = f"du {du:%d/%m/%Y} au {au:%d/%m/%Y}"
        if not count:
            messages.info(request, f"Aucun envoi en échec {period} : il n'y a rien à renvoyer.")
            return redirect(_log_url(endpoint, query))
        return _render(
            request,
            "espace/confirm.html",
            ctx,
            f"Renvoyer {count} événement{pluralize(count)} en échec ?",
            lead=f"Les événements du webhook {de(endpoint.organisation.name)} créés {period} dont l'envoi a échoué "
            f"(en échec, abandonnés ou annulés) : {count}.",
            details=[],
            consequences=[
                "Chacun repart pour une nouvelle série de tentatives, avec le même corps et le même identifiant "
                "(webhook-id) : le système d'information peut reconnaître ceux qu'il aurait déjà reçus.",
                "Les événements d'un même enregistrement repartent dans leur ordre.",
            ],
            hidden_fields=[("du", du.isoformat()), ("au", au.isoformat())],
            action_url=request.path,
            confirm_label=f"Renvoyer {count} événement{pluralize(count)}",
            back_url=_log_url(endpoint, query),
            back_label="Ne rien renvoyer",
        )
    try:
        count = services.replay_failed(ctx, endpoint, since=since, until=until)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if count:
            messages.success(request, f"{count} événement{pluralize(count)} renvoyé{pluralize(count)}.")
        else:
            messages.info(request, "Aucun envoi en échec dans la période : il n'y a rien à renvoyer.")
    return redirect(_log_url(endpoint, query))


# Documentation -----------------------------------------------------------------------------------


@territory_admin_required
def webhook_docs(request, ctx):
    _check(ctx)
    return _render(
        request,
        "webhooks/docs.html",
        ctx,
        "Documentation des webhooks",
        subscriptions=[(name, model, label) for name, (model, label) in SUBSCRIPTIONS.items()],
        usager_fields=list(USAGER_FIELDS.items()),
        example_body=docs.example_rdv_body(ctx.territory.zone),
        verify_example=docs.verify_example(),
        retry=docs.retry_schedule(),
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        alert_after=settings.WEBHOOK_ALERT_AFTER_FAILURES,
        grace_hours=settings.WEBHOOK_SECRET_GRACE_HOURS,
        backfill_rate=settings.WEBHOOK_BACKFILL_PER_SECOND,
        require_https=settings.WEBHOOK_REQUIRE_HTTPS,
    )
