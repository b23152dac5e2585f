"""Undelivered messages (failing and abandoned e-mails…) of an espace or of an organisation.

Rights: rdv.outbox.policies with the request context (espace admins on the espace page,
organisation admins on the organisation page); anything else is a 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rdv.core.errors import DomainError
from rdv.outbox import policies, selectors, services
from rdv.www.tenancy import organisation_member_required, territory_admin_required

TITLE = "Envois en échec"


def _page(request, ctx, template: str, **context):
    if not policies.can_view_page(ctx):
        raise Http404("Page introuvable")
    page, rows = selectors.undelivered_page(ctx, request.GET.get("page"))
    context.update({"territory": ctx.territory, "title": TITLE, "page": page, "rows": rows})
    return render(request, template, context)


def _retry(request, ctx, delivery_id) -> None:
    delivery = get_object_or_404(policies.visible_deliveries(ctx), pk=delivery_id)
    try:
        services.retry_delivery(ctx, delivery)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Le message n° {delivery.pk} est remis en file : il part dans quelques instants.")


@territory_admin_required
def espace_deliveries(request, ctx):
    return _page(request, ctx, "outbox/espace_undelivered.html")


@require_POST
@territory_admin_required
def espace_delivery_retry(request, ctx, delivery_id):
    _retry(request, ctx, delivery_id)
    return redirect("espace_deliveries", ctx.territory.pk)


@organisation_member_required
def organisation_deliveries(request, ctx):
    return _page(request, ctx, "outbox/organisation_undelivered.html", organisation=ctx.organisation)


@require_POST
@organisation_member_required
def organisation_delivery_retry(request, ctx, delivery_id):
    if not policies.can_view_page(ctx):
        raise Http404("Page introuvable")
    _retry(request, ctx, delivery_id)
    return redirect("organisation_deliveries", ctx.organisation.pk)
