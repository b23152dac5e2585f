"""Who may see and resend undelivered messages, and who may see their personal data (see
rdv.territories.policies for the style).

The pages list the failing and abandoned messages of an espace (to its admins) or of an
organisation (to its admins). A message's subject, recipient and error are shown only to who may
see the object it concerns. The outbox is a low layer (accounts and bookings send through it): it
cannot know who sees a RDV or an invitation, so each app registers, for the models its messages
are about, how to tell it (`register_subject`, from the app's `ready()`). Without a registered rule,
details stay hidden.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from rdv.core.context import Context
from rdv.outbox.models import Delivery


@dataclass(frozen=True)
class Subject:
    """How the outbox pages treat messages about one model."""

    queryset: Callable[[], QuerySet]  # the objects, with what `describe` reads
    visible: Callable[[Context, list], set]  # (page context, objects) -> pks whose details it may see
    describe: Callable[[object, bool], str]  # (object, details visible) -> French description


SUBJECTS: dict[str, Subject] = {}


def register_subject(model_label: str, subject: Subject) -> None:
    SUBJECTS[model_label] = subject


def can_view_page(ctx: Context) -> bool:
    """The espace page for espace admins, the organisation page for organisation admins."""
    if ctx.organisation is None:
        return ctx.is_territory_admin
    return ctx.is_organisation_admin


def scope(ctx: Context) -> QuerySet:
    """The messages of the context's page, whatever their status: the espace's on the espace page,
    the organisation's on the organisation page."""
    if not can_view_page(ctx):
        return Delivery.objects.none()
    if ctx.organisation is None:
        return Delivery.objects.filter(territory=ctx.territory)
    return Delivery.objects.filter(organisation=ctx.organisation)


def visible_deliveries(ctx: Context) -> QuerySet:
    """The undelivered messages the context's page lists."""
    return scope(ctx).undelivered()


def can_retry(ctx: Context, delivery: Delivery) -> bool:
    """Whoever may list the message may send it again (sending reveals nothing); the service then
    says whether there is anything to resend."""
    return scope(ctx).filter(pk=delivery.pk).exists()


def details_visible(ctx: Context, deliveries: Iterable[Delivery]) -> set[int]:
    """Ids of the deliveries whose personal data the context may see, asking each registered
    subject once for the objects of the page."""
    by_label: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.about is not None:
            by_label[delivery.about._meta.label].append(delivery)
    visible: set[int] = set()
    for label, group in by_label.items():
        subject = SUBJECTS.get(label)
        if subject is None:
            continue
        seen = subject.visible(ctx, [delivery.about for delivery in group])
        visible.update(delivery.pk for delivery in group if delivery.about.pk in seen)
    return visible


def can_see_details(ctx: Context, delivery: Delivery) -> bool:
    return delivery.pk in details_visible(ctx, [delivery])
