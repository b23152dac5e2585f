"""Who may see, change and book motifs (see rdv.territories.policies for the style).

- espace admins: every motif of every organisation of the espace (espace pages), and create motifs
  in any of those organisations;
- organisation admins: the motifs of their organisation;
- basic agents: read their organisation's motifs; book those of their services (all of them when
  they work for a secretariat);
- usagers online book the active motifs open online to everyone; prescripteurs those open online
  to prescripteurs.
"""

from django.db.models import Exists, OuterRef, Q

from rdv.core.context import ActorKind, Context
from rdv.motifs.models import BookableBy, Motif
from rdv.territories.models import Organisation
from rdv.territories.policies import can_administer

# « Qui peut réserver » decides which public actors may book a motif online. Usagers also need the
# motif « ouvert aux usagers » (bookable_online, which that setting conditions); prescripteurs book
# the motifs open to them even when usagers may not book them.
PUBLIC_BOOKING = {
    ActorKind.USAGER: Q(bookable_online=True, bookable_by=BookableBy.EVERYONE),
    ActorKind.PRESCRIPTEUR: Q(
        bookable_by__in=(
            BookableBy.AGENTS_AND_PRESCRIPTEURS,
            BookableBy.AGENTS_PRESCRIPTEURS_INVITED_USAGERS,
            BookableBy.EVERYONE,
        )
    ),
}


def scope(ctx: Context):
    """The motifs the context's pages list: the espace's at espace level, the organisation's on
    the organisation's pages."""
    if ctx.organisation is None:
        return Motif.objects.for_territory(ctx.territory) if can_administer(ctx) else Motif.objects.none()
    if not ctx.is_member:
        return Motif.objects.none()
    return Motif.objects.for_organisation(ctx.organisation)


def can_create(ctx: Context) -> bool:
    """Create motifs from the context's pages: espace admins at espace level, organisation admins
    in their organisation."""
    if ctx.organisation is None:
        return can_administer(ctx)
    return can_create_in(ctx, ctx.organisation)


def can_create_in(ctx: Context, organisation: Organisation) -> bool:
    if can_administer(ctx) and ctx.in_territory(organisation):
        return True
    return ctx.is_organisation_admin and ctx.organisation == organisation


def can_manage(ctx: Context, motif: Motif) -> bool:
    """Change, duplicate, archive or restore the motif (on an organisation's pages, only the motifs
    of that organisation)."""
    if ctx.organisation is not None and not ctx.in_organisation(motif):
        return False
    return can_create_in(ctx, motif.organisation)


def bookable_condition(ctx: Context) -> Q:
    """The filter on active motifs of the context's organisation that the context may book."""
    if ctx.is_member:
        return Q() if ctx.sees_all_rdvs else Q(service_id__in=ctx.service_ids)
    if ctx.is_public:
        return PUBLIC_BOOKING[ctx.kind]
    return Q(pk__in=[])


def bookable_scope(ctx: Context):
    """The motifs this context may book: one rule for the booking form, the slot search, and the
    check inside the booking services."""
    if ctx.organisation is None:
        return Motif.objects.none()
    return Motif.objects.for_organisation(ctx.organisation).active().filter(bookable_condition(ctx))


def public_bookable(kind: ActorKind) -> Exists:
    """`can_book` for a public actor of `kind` in the organisation of the outer query's motif, as an
    annotation (the motif and the right in one query): `bookable_scope`'s rule, since a public
    actor's condition does not depend on the organisation, and a motif belongs to its own."""
    return Exists(Motif.objects.filter(pk=OuterRef("pk")).active().filter(PUBLIC_BOOKING[kind]))


def can_book(ctx: Context, motif: Motif) -> bool:
    return bookable_scope(ctx).filter(pk=motif.pk).exists()
