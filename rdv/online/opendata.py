"""The open-data feed of an espace's next free slots, for partner maps and portals (issue 21).

One row per (organisation, lieu, motif open online to usagers) with the first free slot of the
motif's online window, exactly as a visitor of the public booking pages would be shown it: the
motifs come from `rdv.online.selectors.bookable_motifs` (the booking policy for a public usager),
the lieux follow the rule of `selectors.motif_lieux`, and the slots come from the one slot engine
path (`rdv.bookings.availability.next_availability_by`, the function behind
`next_availability_by_lieu`), for every motif of the espace at once. Motifs without a place
(phone, visio, home) have one row without a lieu and their first slot at any lieu, as the public
pages show them. Nothing personal: no agent, no usager, no RDV detail.

The feed is cached in the database (`AvailabilityFeed`, one row per espace), so that every web
process serves the same snapshot without a cache server:

- `on_action` (an audit listener, in the change's transaction) marks the snapshots of the espace
  stale when its plages, absences, RDVs, motifs, lieux or organisations change (and, for a RDV or
  an absence, the snapshots of the other espaces where its agents have plages);
- a snapshot older than `FEED_MAX_AGE` is stale too (time passes: a slot in the past disappears);
- a stale snapshot is recomputed by one request only: it claims the row with one conditional
  UPDATE (a lease of `COMPUTE_LEASE`), the others serve the previous rows meanwhile. The claim
  clears `stale` before the slots are read, so a change committed during the computation marks
  the new snapshot stale again (it is never lost).

A fresh snapshot is served with one query.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from rdv.agendas.models import Absence, Lieu, PlageOuverture
from rdv.availability import Slot
from rdv.bookings.availability import next_availability_by
from rdv.bookings.models import Rdv, RdvAgent
from rdv.core.context import ActorKind
from rdv.motifs.models import Motif
from rdv.online.models import AvailabilityFeed
from rdv.online.selectors import ON_SITE, bookable_motifs
from rdv.territories.models import Organisation, Territory

FEED_MAX_AGE = timedelta(seconds=60)  # a snapshot older than this is recomputed
COMPUTE_LEASE = timedelta(seconds=60)  # how long one request may take to recompute before another may

# The columns of a row, in order (the CSV header; the keys of each JSON row). See docs/api.md.
FIELDS = (
    "territory_id",
    "territory_name",
    "organisation_id",
    "organisation_name",
    "service_name",
    "motif_id",
    "motif_name",
    "location_type",
    "lieu_id",
    "lieu_name",
    "lieu_address",
    "next_slot_starts_at",
    "booking_url",
    "generated_at",
)


# Computing the rows --------------------------------------------------------------------------


def _offers(motifs: list[Motif]) -> tuple[dict[int, set[int]], dict[int, Lieu]]:
    """Where each motif is offered: per motif id, the open, active lieux with a plage offering it
    (for on-site motifs, the lieux of the motif's organisation only: selectors.motif_lieux's rule;
    the others are booked at any lieu the engine reads), and the lieux by id. Two queries."""
    through = PlageOuverture.motifs.through
    pairs = (
        through.objects.filter(
            motif_id__in=[motif.pk for motif in motifs],
            plageouverture__lieu__archived_at__isnull=True,
            plageouverture__lieu__is_open=True,
        )
        .values_list("motif_id", "plageouverture__lieu_id")
        .distinct()
    )
    pairs = list(pairs)
    lieux = {lieu.pk: lieu for lieu in Lieu.objects.filter(pk__in={lieu_id for _, lieu_id in pairs})}
    organisation_of = {motif.pk: motif.organisation_id for motif in motifs}
    on_site = {motif.pk for motif in motifs if motif.location_type in ON_SITE}
    offers: dict[int, set[int]] = {}
    for motif_id, lieu_id in pairs:
        if motif_id in on_site and lieux[lieu_id].organisation_id != organisation_of[motif_id]:
            continue
        offers.setdefault(motif_id, set()).add(lieu_id)
    return offers, lieux


def booking_url(motif: Motif, lieu: Lieu | None) -> str:
    """The public page of the motif's free times (at the lieu): it shows the motif's instructions
    first when it has some, like every link into the journey."""
    query = {"motif": motif.pk, **({"lieu": lieu.pk} if lieu is not None else {})}
    return f"{settings.SITE_URL}{reverse('public:week')}?{urlencode(query)}"


def compute_rows(territory: Territory, *, now: datetime | None = None) -> list[dict]:
    """The rows of the espace's feed at `now`: a constant number of queries (the motifs, where
    they are offered, then the slot function's queries per chunk of days for all motifs at once)."""
    now = now or timezone.now()
    tz = territory.zone
    organisations = list(Organisation.objects.filter(territory=territory))
    if not organisations:
        return []
    for organisation in organisations:
        organisation.territory = territory  # the public contexts read it: no query per organisation
    motifs = list(bookable_motifs(organisations, ActorKind.USAGER).select_related("service", "organisation__territory"))
    offers, lieux = _offers(motifs)
    motifs = [motif for motif in motifs if motif.pk in offers]
    on_site = {motif.pk for motif in motifs if motif.location_type in ON_SITE}
    expected = {
        (motif.pk, lieu_id) if motif.pk in on_site else (motif.pk, None)
        for motif in motifs
        for lieu_id in offers[motif.pk]
    }

    def key(motif_id: int, slot: Slot):
        if motif_id not in on_site:
            return (motif_id, None)  # a motif without a place: its first slot at any lieu
        return (motif_id, slot.lieu_id) if (motif_id, slot.lieu_id) in expected else None

    firsts = next_availability_by(motifs, key, expected, now=now)
    generated_at = timezone.localtime(now, tz).isoformat(timespec="seconds")
    by_pk = {motif.pk: motif for motif in motifs}
    rows = []
    for motif_id, lieu_id in expected:
        motif, lieu = by_pk[motif_id], lieux.get(lieu_id) if lieu_id is not None else None
        slot = firsts.get((motif_id, lieu_id))
        rows.append(
            {
                "territory_id": territory.pk,
                "territory_name": territory.name,
                "organisation_id": motif.organisation_id,
                "organisation_name": motif.organisation.name,
                "service_name": motif.service.name,
                "motif_id": motif.pk,
                "motif_name": motif.name,
                "location_type": motif.location_type,
                "lieu_id": lieu.pk if lieu else None,
                "lieu_name": lieu.name if lieu else None,
                "lieu_address": lieu.address if lieu else None,
                "next_slot_starts_at": slot.start.astimezone(tz).isoformat() if slot else None,
                "booking_url": booking_url(motif, lieu),
                "generated_at": generated_at,
            }
        )
    rows.sort(
        key=lambda row: (
            row["organisation_name"].lower(),
            row["organisation_id"],
            row["service_name"].lower(),
            row["motif_name"].lower(),
            row["motif_id"],
            (row["lieu_name"] or "").lower(),
            row["lieu_id"] or 0,
        )
    )
    return rows


# Serving the snapshot ------------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    territory: Territory
    generated_at: datetime
    rows: list[dict]

    @property
    def generated_at_iso(self) -> str:
        """In the espace's time, as in the rows."""
        return timezone.localtime(self.generated_at, self.territory.zone).isoformat(timespec="seconds")


def _fresh(snapshot: AvailabilityFeed, now: datetime) -> bool:
    return not snapshot.stale and snapshot.generated_at is not None and snapshot.generated_at >= now - FEED_MAX_AGE


def _as_feed(snapshot: AvailabilityFeed) -> Feed:
    return Feed(snapshot.territory, snapshot.generated_at, snapshot.rows)


def _claim(territory_id: int, now: datetime) -> bool:
    """Take the right to recompute the snapshot: one conditional UPDATE, so one request wins. It
    clears `stale` now, so that a change committed while the slots are read marks it again."""
    needed = Q(stale=True) | Q(generated_at__isnull=True) | Q(generated_at__lt=now - FEED_MAX_AGE)
    free = Q(computing_until__isnull=True) | Q(computing_until__lte=now)
    return bool(
        AvailabilityFeed.objects.filter(needed, free, pk=territory_id).update(
            stale=False, computing_until=now + COMPUTE_LEASE
        )
    )


def availability_feed(territory_id: int, *, now: datetime | None = None) -> Feed | None:
    """The espace's feed (None: no such espace). A fresh snapshot costs one query; a stale one is
    recomputed by the request that claims it, the others get the previous rows."""
    now = now or timezone.now()
    snapshot = AvailabilityFeed.objects.select_related("territory").filter(pk=territory_id).first()
    if snapshot is None:
        territory = Territory.objects.filter(pk=territory_id).first()
        if territory is None:
            return None
        snapshot, _ = AvailabilityFeed.objects.select_related("territory").get_or_create(territory=territory)
    if _fresh(snapshot, now):
        return _as_feed(snapshot)
    territory = snapshot.territory
    if not _claim(territory.pk, now):
        latest = AvailabilityFeed.objects.select_related("territory").get(pk=territory.pk)
        if latest.generated_at is not None:
            return _as_feed(latest)  # another request is recomputing it: the previous rows meanwhile
        return Feed(territory, now, compute_rows(territory, now=now))  # the very first one
    try:
        rows = compute_rows(territory, now=now)
    except Exception:
        AvailabilityFeed.objects.filter(pk=territory.pk).update(stale=True, computing_until=None)
        raise
    AvailabilityFeed.objects.filter(pk=territory.pk).update(rows=rows, generated_at=now, computing_until=None)
    return Feed(territory, now, rows)


# Marking snapshots stale -------------------------------------------------------------------------

# The audit actions that may change a row: of agendas, RDVs, motifs, lieux, organisations (by
# prefix), and the espace's public holidays.
FEED_PREFIXES = {"rdv", "plage", "absence", "motif", "lieu", "organisation"}
FEED_ACTIONS = {"territory.holiday_zone_updated"}
IGNORED_ACTIONS = {"rdv.manage_link_revoked", "rdv.arrived", "rdv.arrival_undone"}


def _agents_of(obj) -> Iterable | None:
    """The agents whose busy times the object changes (a subquery), for their other espaces."""
    if isinstance(obj, Rdv):
        return RdvAgent.objects.filter(rdv_id=obj.pk).values("agent_id")
    if isinstance(obj, Absence):
        return [obj.agent_id]
    return None


def on_action(entry, obj, related=None) -> None:
    """rdv.core.audit listener: mark the snapshots this change may alter stale, in the change's
    transaction (one UPDATE, which touches nothing when they are stale already)."""
    action = entry.action
    if action in IGNORED_ACTIONS or (action.partition(".")[0] not in FEED_PREFIXES and action not in FEED_ACTIONS):
        return
    concerned = Q(pk=entry.territory_id) if entry.territory_id is not None else Q(pk__in=[])
    agents = _agents_of(obj)
    if agents is not None:
        concerned |= Q(pk__in=PlageOuverture.objects.filter(agent_id__in=agents).values("organisation__territory_id"))
    AvailabilityFeed.objects.filter(concerned, stale=False).update(stale=True)
