"""Reads for the undelivered-messages pages."""

from dataclasses import dataclass

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.core.paginator import Page, Paginator
from django.utils import timezone

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
    from rdv.accounts.models import Invitation
    from rdv.bookings.models import Rdv

    about = delivery.about
    if isinstance(about, Rdv):
        if visible:
            local = timezone.localtime(about.starts_at)
            return f"Rendez-vous du {local:%d/%m/%Y à %H:%M} ({about.motif.name})"
        return f"Rendez-vous de l'organisation {about.organisation.name} (détails réservés à qui voit ce rendez-vous)"
    if isinstance(about, Invitation):
        return f"Invitation de {about.email}" if visible else "Invitation d'un agent"
    if about is None and delivery.object_id is not None:
        return "Objet supprimé"
    return delivery.get_purpose_display()


def _neutral_error(delivery: Delivery) -> str:
    if delivery.status == Status.ABANDONED:
        return "Envoi abandonné (détail réservé à qui voit l'objet du message)."
    return "Échec temporaire (détail réservé à qui voit l'objet du message)."


def undelivered_page(agent, page_number, territory=None, organisation=None) -> tuple[Page, list[DeliveryRow]]:
    """One page of the failing and abandoned messages the agent may list (and so resend), most
    recent first, each with what the agent may see of it."""
    from rdv.accounts.models import Invitation
    from rdv.bookings.models import Rdv

    queryset = (
        policies.visible_deliveries(agent, territory=territory, organisation=organisation)
        .select_related("territory", "organisation")
        .prefetch_related(
            GenericPrefetch(
                "about",
                [Rdv.objects.select_related("motif", "organisation"), Invitation.objects.select_related("territory")],
            )
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(page_number)
    deliveries = list(page)
    visible = policies.details_visible(agent, deliveries)
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
