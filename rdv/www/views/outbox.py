"""Undelivered messages (failing and abandoned e-mails…) of an espace or of an organisation."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rdv.core.errors import DomainError
from rdv.outbox import policies, selectors, services
from rdv.www.tenancy import organisation_member_required, territory_admin_required

TITLE = "Envois en échec"


@territory_admin_required
def espace_deliveries(request, territory):
    page, rows = selectors.undelivered_page(request.user, request.GET.get("page"), territory=territory)
    return render(
        request,
        "outbox/espace_undelivered.html",
        {"territory": territory, "title": TITLE, "page": page, "rows": rows},
    )


@require_POST
@territory_admin_required
def espace_delivery_retry(request, territory, delivery_id):
    delivery = get_object_or_404(policies.visible_deliveries(request.user, territory=territory), pk=delivery_id)
    _retry(request, delivery)
    return redirect("espace_deliveries", territory.pk)


def _organisation_admin(request, organisation) -> None:
    if not policies.can_view_organisation_page(request.user, organisation):
        raise Http404("Page introuvable")


@organisation_member_required
def organisation_deliveries(request, organisation):
    _organisation_admin(request, organisation)
    page, rows = selectors.undelivered_page(request.user, request.GET.get("page"), organisation=organisation)
    return render(
        request,
        "outbox/organisation_undelivered.html",
        {"organisation": organisation, "title": TITLE, "page": page, "rows": rows},
    )


@require_POST
@organisation_member_required
def organisation_delivery_retry(request, organisation, delivery_id):
    _organisation_admin(request, organisation)
    delivery = get_object_or_404(policies.visible_deliveries(request.user, organisation=organisation), pk=delivery_id)
    _retry(request, delivery)
    return redirect("organisation_deliveries", organisation.pk)


def _retry(request, delivery) -> None:
    try:
        services.retry_delivery(request.user, delivery)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Le message n° {delivery.pk} est remis en file : il part dans quelques instants.")
