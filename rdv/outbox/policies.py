"""Who may see and resend undelivered messages, and who may see their personal data.

Every rights decision of the outbox pages lives here, on top of today's predicates
(`rdv.accounts.perms`, `rdv.bookings.perms`), so it can be moved to the request context in one
place. The rule: the pages list the failing and abandoned messages of an espace (its admins) or
of an organisation (its admins); a message's subject, recipient and error are shown only to who
may see the object it concerns (a RDV: `can_see_rdv`; an invitation: the espace admins).
Everything else gets a neutral description.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from rdv.accounts import perms as account_perms
from rdv.outbox.models import Delivery


def can_view_territory_page(agent, territory) -> bool:
    return account_perms.is_territory_admin(agent, territory)


def can_view_organisation_page(agent, organisation) -> bool:
    return account_perms.is_organisation_admin(agent, organisation)


def visible_deliveries(agent, territory=None, organisation=None) -> QuerySet:
    """The undelivered messages listed on the espace page (`territory`) or on the organisation
    page (`organisation`): none when the agent is not an admin there."""
    undelivered = Delivery.objects.undelivered()
    if territory is not None and can_view_territory_page(agent, territory):
        return undelivered.filter(territory=territory)
    if organisation is not None and can_view_organisation_page(agent, organisation):
        return undelivered.filter(organisation=organisation)
    return undelivered.none()


def can_retry(agent, delivery: Delivery) -> bool:
    """Whoever lists the message may send it again (sending reveals nothing)."""
    if delivery.territory_id is not None and can_view_territory_page(agent, delivery.territory):
        return True
    return delivery.organisation_id is not None and can_view_organisation_page(agent, delivery.organisation)


def details_visible(agent, deliveries: Iterable[Delivery]) -> set[int]:
    """Ids of the deliveries whose personal data `agent` may see, in a few queries for a page
    (one per organisation of the RDVs concerned, one per espace of the invitations)."""
    from rdv.accounts.models import Invitation
    from rdv.bookings.models import Rdv
    from rdv.bookings.perms import rdvs_visible_to

    visible: set[int] = set()
    rdvs_by_organisation: dict[object, list[Delivery]] = defaultdict(list)
    admin_of: dict[int, bool] = {}
    for delivery in deliveries:
        about = delivery.about
        if isinstance(about, Rdv):
            rdvs_by_organisation[about.organisation].append(delivery)
        elif isinstance(about, Invitation):
            if about.territory_id not in admin_of:
                admin_of[about.territory_id] = account_perms.is_territory_admin(agent, about.territory)
            if admin_of[about.territory_id]:
                visible.add(delivery.pk)
    for organisation, group in rdvs_by_organisation.items():
        seen = set(
            rdvs_visible_to(agent, organisation)
            .filter(pk__in=[d.object_id for d in group])
            .values_list("pk", flat=True)
        )
        visible.update(d.pk for d in group if d.object_id in seen)
    return visible


def can_see_details(agent, delivery: Delivery) -> bool:
    return delivery.pk in details_visible(agent, [delivery])
