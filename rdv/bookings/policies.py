"""Who may see, book and change RDVs (see rdv.territories.policies for the style).

In an organisation where the agent is a basic agent or an admin (intervenants never log in):
- admins see every RDV of the organisation;
- agents of a secretariat service (`Service.is_secretariat`, in this espace) see every RDV of the
  organisation (they book for every service);
- other agents see the RDVs whose motif belongs to one of their services in this espace, and the
  RDVs they take part in as agent.
Whoever sees a RDV may change it (move, cancel, status, participants, arrival), as on the
established platform. Agents book the motifs of rdv.motifs.policies.bookable_scope and may
override the availability check after a confirmation.

An usager online sees and changes only their own RDVs (or their relatives'): they cancel up to
4 hours before when the motif allows it, and move an individual RDV they booked online up to
48 hours before when the motif allows it. Prescripteurs book; they change nothing afterwards.
Everything else (other organisations, other espaces) is outside: 404 in the pages, "forbidden" in
the services.
"""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from rdv.accounts.context import organisation_context
from rdv.bookings.models import CANCELLED_STATUSES, CreatedBy, Participation, Rdv, RdvAgent
from rdv.core.context import ActorKind, Context
from rdv.motifs import policies as motif_policies

USAGER_CANCEL_DEADLINE = timedelta(hours=4)
USAGER_MOVE_DEADLINE = timedelta(hours=48)


def _deadline(rdv: Rdv, setting: str, default: timedelta) -> timedelta:
    """The espace's deadline for usagers (« annulation / déplacement jusqu'à … heures avant »)."""
    hours = getattr(rdv.organisation.territory, setting, None)
    return default if hours is None else timedelta(hours=hours)


def _usager_condition(ctx: Context) -> Q:
    """The RDVs of the usager acting online, and those of their relatives."""
    if ctx.usager is None:
        return Q(pk__in=[])
    own = Participation.objects.filter(rdv_id=OuterRef("pk")).filter(
        Q(usager_id=ctx.usager.pk) | Q(usager__responsible_id=ctx.usager.pk)
    )
    return Q(Exists(own))


def condition(ctx: Context) -> Q:
    """The filter on Rdv rows this context may see (nothing when it has no right)."""
    if ctx.organisation is None:
        return Q(pk__in=[])
    in_organisation = Q(organisation_id=ctx.organisation.pk)
    if ctx.is_member:
        if ctx.sees_all_rdvs:
            return in_organisation
        own_services = Q(motif__service_id__in=ctx.service_ids)
        taking_part = Q(Exists(RdvAgent.objects.filter(rdv_id=OuterRef("pk"), agent_id=ctx.agent.pk)))
        return in_organisation & (own_services | taking_part)
    if ctx.kind == ActorKind.USAGER:
        return in_organisation & _usager_condition(ctx)
    return Q(pk__in=[])


def scope(ctx: Context):
    """The RDVs this context may see; pages fetch every RDV through it (404 outside)."""
    return Rdv.objects.filter(condition(ctx))


def can_see(ctx: Context, rdv: Rdv) -> bool:
    return scope(ctx).filter(pk=rdv.pk).exists()


def can_book(ctx: Context, motif) -> bool:
    return motif_policies.can_book(ctx, motif)


def can_override(ctx: Context) -> bool:
    """Book or move outside the availabilities, after an explicit confirmation: agents only."""
    return ctx.is_member


def can_change(ctx: Context, rdv: Rdv) -> bool:
    """Change the RDV's details, status, participants, arrival: whoever sees it, among agents."""
    return ctx.is_member and can_see(ctx, rdv)


def can_cancel(ctx: Context, rdv: Rdv, *, now=None) -> bool:
    """Agents: whoever sees the RDV. Others: an usager online, their own RDV (`can_see` lets no other
    public actor see one), up to 4 hours before (the espace's setting) when the motif allows it."""
    if ctx.is_member:
        return can_see(ctx, rdv)
    if rdv.status in CANCELLED_STATUSES:
        return False
    now = now or timezone.now()
    return (
        rdv.motif.usager_can_cancel
        and rdv.starts_at - now >= _deadline(rdv, "online_cancel_min_hours", USAGER_CANCEL_DEADLINE)
        and can_see(ctx, rdv)
    )


# RDVs booked online: by the usager, or by a prescripteur for them.
BOOKED_ONLINE = (CreatedBy.USAGER, CreatedBy.PRESCRIPTEUR)


def can_move(ctx: Context, rdv: Rdv, *, now=None) -> bool:
    """Agents: whoever sees the RDV. An usager online: their own individual RDV booked online (by
    them or by a prescripteur for them), up to 48 hours before (the espace's setting) when the motif allows it."""
    if ctx.is_member:
        return can_see(ctx, rdv)
    if rdv.status in CANCELLED_STATUSES:
        return False
    now = now or timezone.now()
    return (
        rdv.motif.usager_can_move
        and not rdv.collective
        and rdv.created_by in BOOKED_ONLINE
        and rdv.starts_at - now >= _deadline(rdv, "online_move_min_hours", USAGER_MOVE_DEADLINE)
        and can_see(ctx, rdv)
    )


def can_view_espace_stats(ctx: Context) -> bool:
    """The espace's statistics dashboard: its admins, acting for the espace."""
    return ctx.organisation is None and ctx.is_territory_admin


def can_view_organisation_stats(ctx: Context) -> bool:
    """The organisation's dashboard: every member (counting the RDVs `scope` lets them see)."""
    return ctx.is_member


def delivery_subject():
    """How the undelivered-messages pages (rdv.outbox) treat messages about a RDV: details for who
    may see the RDV, in its organisation (an espace admin sees those of the organisations they are
    a member of)."""
    from rdv.outbox.policies import Subject

    def visible(ctx: Context, rdvs: list) -> set:
        seen = set()
        by_organisation: dict[int, list] = {}
        for rdv in rdvs:
            by_organisation.setdefault(rdv.organisation_id, []).append(rdv.pk)
        for organisation_id, ids in by_organisation.items():
            if ctx.organisation is not None and ctx.organisation.pk == organisation_id:
                there = ctx
            elif ctx.is_system and ctx.territory is not None:
                organisation = next(r.organisation for r in rdvs if r.organisation_id == organisation_id)
                # the system of an espace acts in the organisations of that espace only
                there = Context.system(ctx.territory, organisation) if ctx.in_territory(organisation) else None
            else:
                there = organisation_context(ctx.agent, organisation_id) if ctx.agent is not None else None
            if there is not None and there.territory.pk == ctx.territory.pk:
                seen.update(scope(there).filter(pk__in=ids).values_list("pk", flat=True))
        return seen

    def describe(rdv: Rdv, shown: bool) -> str:
        if shown:
            local = timezone.localtime(rdv.starts_at, rdv.organisation.territory.zone)
            return f"Rendez-vous du {local:%d/%m/%Y à %H:%M} ({rdv.motif.name})"
        return f"Rendez-vous de l'organisation {rdv.organisation.name} (détails réservés à qui voit ce rendez-vous)"

    return Subject(
        queryset=lambda: Rdv.objects.select_related("motif", "organisation__territory"),
        visible=visible,
        describe=describe,
    )
