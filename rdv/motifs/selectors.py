"""Reads of motifs, scoped by the context (rdv.motifs.policies): the list pages, the motifs created
together, and the motifs a context may book (one selector for every form and search)."""

from collections import defaultdict

from django.db.models import Q

from rdv.core.context import Context
from rdv.motifs import policies
from rdv.motifs.models import Motif
from rdv.territories.models import Service
from rdv.territories.policies import organisations_scope


def motif_list(ctx: Context, filters: dict) -> list[Motif]:
    """The motifs of the list page, filtered (archived, organisation, service, type, online), each
    with `created_with`: the organisations of the other motifs of its creation batch."""
    queryset = policies.scope(ctx).select_related("organisation", "service")
    archived = filters.get("archived")
    if archived == "archives":
        queryset = queryset.archived()
    elif archived != "tous":
        queryset = queryset.active()
    if filters.get("organisation"):
        queryset = queryset.filter(organisation=filters["organisation"])
    if filters.get("service"):
        queryset = queryset.filter(service=filters["service"])
    if filters.get("location_type"):
        queryset = queryset.filter(location_type=filters["location_type"])
    if filters.get("online") == "oui":
        queryset = queryset.filter(bookable_online=True)
    elif filters.get("online") == "non":
        queryset = queryset.filter(bookable_online=False)
    motifs = list(queryset.order_by("organisation__name", "service__name", "name", "location_type", "pk"))
    # "Created together": the organisations of the other motifs of each batch, in one query.
    batches = defaultdict(list)
    rows = Motif.objects.filter(creation_batch__in={m.creation_batch for m in motifs}).values_list(
        "creation_batch", "pk", "organisation__name"
    )
    for batch, pk, organisation_name in rows.order_by("organisation__name"):
        batches[batch].append((pk, organisation_name))
    for motif in motifs:
        motif.created_with = [name for pk, name in batches[motif.creation_batch] if pk != motif.pk]
    return motifs


def siblings(ctx: Context, motif: Motif) -> tuple[list[Motif], list[Motif]]:
    """(all motifs created together with `motif`, those of them the context may also update)."""
    together = list(
        Motif.objects.filter(creation_batch=motif.creation_batch)
        .exclude(pk=motif.pk)
        .select_related("organisation__territory", "service")
        .order_by("organisation__name")
    )
    in_scope = set(policies.scope(ctx).filter(pk__in=[m.pk for m in together]).values_list("pk", flat=True))
    for other in together:
        other.in_scope = other.pk in in_scope
    editable = [m for m in together if m.in_scope and not m.is_archived and policies.can_manage(ctx, m)]
    return together, editable


def bookable_motifs(ctx: Context):
    """The motifs the context may book, for the booking form and the slot search (the booking
    services check the same rule: rdv.motifs.policies.bookable_scope)."""
    return policies.bookable_scope(ctx).select_related("service").order_by("service__name", "name", "location_type")


def service_choices(ctx: Context, current: Service | None = None):
    """The services a motif may belong to: active in the espace, not a secretariat. A motif keeps its
    service (`current`) even after the service is deactivated in the espace."""
    active = Service.objects.active_in(ctx.territory).filter(is_secretariat=False).values("pk")
    condition = Q(pk__in=active)
    if current is not None:
        condition |= Q(pk=current.pk)
    return Service.objects.filter(condition).order_by("name")


def filter_choices(ctx: Context) -> tuple:
    """(organisations, services) offered by the filters of the motif list: the espace's
    organisations at espace level (None on an organisation's pages), and the services of the listed
    motifs."""
    organisations = organisations_scope(ctx).order_by("name") if ctx.organisation is None else None
    services = Service.objects.filter(pk__in=policies.scope(ctx).values("service")).order_by("name")
    return organisations, services
