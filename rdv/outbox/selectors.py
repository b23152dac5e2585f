"""Reads for the undelivered-messages pages."""

from dataclasses import dataclass

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.core.paginator import Page, Paginator

from rdv.core.context import Context
from rdv.outbox import policies
from rdv.outbox.models import Delivery, Status

PAGE_SIZE = 50


@dataclass
class DeliveryRow:
    delivery: Delivery
    description: str
    recipient: str  # empty when hidden
    subject: str  # empty when hidden
    error: str  # the stored error, or a neutral wording when hidden
    details_visible: bool


def _describe(delivery: Delivery, visible: bool) -> str:
    about = delivery.about
    subject = policies.SUBJECTS.get(about._meta.label) if about is not None else None
    if subject is not None:
        return subject.describe(about, visible)
    if about is None and delivery.object_id is not None:
        return "Objet supprimé"
    return delivery.get_purpose_display()


def _neutral_error(delivery: Delivery) -> str:
    if delivery.status == Status.ABANDONED:
        return "Envoi abandonné (détail réservé à qui voit l'objet du message)."
    return "Échec temporaire (détail réservé à qui voit l'objet du message)."


def undelivered_page(ctx: Context, page_number) -> tuple[Page, list[DeliveryRow]]:
    """One page of the failing and abandoned messages the context lists (and so may resend), most
    recent first, each with what the context may see of it."""
    queryset = (
        policies.visible_deliveries(ctx)
        .select_related("territory", "organisation")
        .prefetch_related(GenericPrefetch("about", [subject.queryset() for subject in policies.SUBJECTS.values()]))
        .order_by("-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(page_number)
    deliveries = list(page)
    visible = policies.details_visible(ctx, deliveries)
    rows = []
    for delivery in deliveries:
        shown = delivery.pk in visible
        rows.append(
            DeliveryRow(
                delivery=delivery,
                description=_describe(delivery, shown),
                recipient=delivery.recipient if shown else "",
                subject=delivery.subject if shown else "",
                error=delivery.last_error if shown else _neutral_error(delivery),
                details_visible=shown,
            )
        )
    return page, rows
