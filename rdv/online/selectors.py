"""Reads of the public booking journey (no account): which organisations serve a place, which motifs
a public actor may book and that have a free slot in their online window, the lieux of a motif
with their next free slot, and a week of free start times.

Who may book what is decided by rdv.motifs.policies (`bookable_condition` / `can_book` with a public
`Context`); the free slots come from the one slot function, `rdv.bookings.availability.find_slots`,
with `online=True` (the motifs' minimum and maximum booking delays) and the visitor's `holder_key`
(slots they hold stay visible to them). Nothing here names an agent or reads a RDV's details.

The week of free times reads through the slot cache (rdv.online.slotcache: free ranges per motif
and week, validated against version rows, cut at each read; never used by the booking re-check).

Cheap by construction: the first free slot of many motifs (or lieux) is looked for with one call of
the slot function per chunk of days for all of them at once, a week first, then four, then a
quarter at a time up to the furthest maximum delay; each chunk asks only for what is still
missing. Each call costs the slot function's constant number of queries.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from rdv.agendas.calendar import holiday_zone
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.availability import Slot
from rdv.bookings.availability import find_slots, next_availability_by_lieu, next_available_slot
from rdv.core.context import ActorKind, Context
from rdv.motifs.models import LocationType, Motif
from rdv.motifs.policies import bookable_condition, public_bookable
from rdv.online import slotcache
from rdv.territories import selectors as territory_selectors
from rdv.territories.models import Organisation, SectorCode, Territory

CHUNK_DAYS = (7, 28, 91)  # first-slot search: a week, then four, then a quarter at a time
PLACE_QUERY_MAX_LENGTH = 100
SUGGESTIONS_LIMIT = 10
ON_SITE = (LocationType.PUBLIC_OFFICE,)  # the motifs whose usager chooses a lieu


# Public actors --------------------------------------------------------------------------------


def public_context(organisation: Organisation, kind: ActorKind = ActorKind.USAGER) -> Context:
    return Context.public(organisation, kind=kind)


def bookable_motifs(organisations: Iterable[Organisation], kind: ActorKind = ActorKind.USAGER):
    """The active motifs of these organisations that a public actor of `kind` may book, in one query
    (each organisation's condition comes from rdv.motifs.policies.bookable_condition)."""
    condition = Q(pk__in=[])
    for organisation in organisations:
        condition |= Q(organisation_id=organisation.pk) & bookable_condition(public_context(organisation, kind))
    return Motif.objects.active().filter(condition)


# Where: sectorisation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Commune:
    code: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})" if self.name else self.code


def _normalise(query: str) -> str:
    return " ".join((query or "").split())[:PLACE_QUERY_MAX_LENGTH]


def is_code(query: str) -> bool:
    """A postal code or INSEE code: five digits, or 2A/2B and three digits (Corsica)."""
    return len(query) == 5 and (query.isdigit() or (query[:2].upper() in ("2A", "2B") and query[2:].isdigit()))


def organisations_for_place(territory: Territory | None, query: str) -> list[Organisation]:
    """The organisations serving a postal or INSEE code or a commune (in `territory`, or in every
    espace when None); an espace without any sector code offers all its organisations
    (rdv.territories.selectors.organisations_for_place)."""
    return list(territory_selectors.organisations_for_place(territory, _normalise(query)))


def communes_matching(query: str, territory: Territory | None = None, limit: int = SUGGESTIONS_LIMIT) -> list[Commune]:
    """Communes (name and code) matching the text, for suggestions."""
    query = _normalise(query)
    if not query:
        return []
    return [
        Commune(item.code, item.commune)
        for item in territory_selectors.communes_matching(query, territory=territory, limit=limit)
    ]


def territory_communes(territory: Territory, limit: int = 300) -> list[Commune]:
    """The communes of an espace's sectorisation (the field's suggestions when the espace is known)."""
    rows = (
        SectorCode.objects.filter(organisation__territory=territory)
        .order_by("commune", "code")
        .values_list("code", "commune")
        .distinct()[:limit]
    )
    return [Commune(code, commune) for code, commune in rows]


def territory_has_sectorisation(territory: Territory) -> bool:
    return SectorCode.objects.filter(organisation__territory=territory).exists()


def organisations_offering(organisations: Iterable[Organisation], kind: ActorKind) -> list[Organisation]:
    """Those of `organisations` with at least one motif the actor may book (one query)."""
    organisations = list(organisations)
    offering = set(bookable_motifs(organisations, kind).values_list("organisation_id", flat=True).distinct())
    return [organisation for organisation in organisations if organisation.pk in offering]


# Online windows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A motif's online window in the espace's time: from now + minimum delay to now + maximum delay."""

    earliest: datetime
    latest: datetime
    tz: object

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.earliest, self.tz).date()

    @property
    def last_day(self) -> date:
        return timezone.localtime(self.latest, self.tz).date()


def online_window(motif: Motif, now: datetime | None = None, tz=None) -> Window:
    """`tz`: the espace's time zone (read from the motif when not given)."""
    now = now or timezone.now()
    return Window(
        earliest=now + timedelta(minutes=motif.min_booking_delay_minutes),
        latest=now + timedelta(minutes=motif.max_booking_delay_minutes),
        tz=tz or motif.organisation.territory.zone,
    )


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# First free slots -----------------------------------------------------------------------------


def first_slots(
    motifs: Iterable[Motif],
    *,
    now: datetime | None = None,
    holder_key: str = "",
    lieu_ids: Iterable[int] | None = None,
    after: date | None = None,
) -> dict[int, Slot]:
    """The first free online slot per motif id (at the lieux `lieu_ids` when given), from the local
    day `after` (default: today) to the end of each motif's online window (for one motif:
    rdv.bookings.availability.next_available_slot, per lieu: next_availability_by_lieu). The motifs
    belong to one espace. One call of the slot function per chunk of days (CHUNK_DAYS) for every
    motif still missing."""
    now = now or timezone.now()
    motifs = list(motifs)
    found: dict[int, Slot] = {}
    if not motifs:
        return found
    territory = motifs[0].organisation.territory
    tz, zone = territory.zone, holiday_zone(territory)
    windows = {motif.pk: online_window(motif, now, tz) for motif in motifs}
    last_days = {pk: window.last_day for pk, window in windows.items()}
    start = max(after or date.min, min(window.first_day for window in windows.values()))
    lieu_ids = sorted(lieu_ids) if lieu_ids is not None else None
    remaining = motifs
    chunks = iter(CHUNK_DAYS)
    length = next(chunks)
    while remaining and start <= max(last_days[m.pk] for m in remaining):
        end = start + timedelta(days=length - 1)
        searched = [m for m in remaining if last_days[m.pk] >= start]
        slots_by_motif = find_slots(
            searched,
            start,
            min(end, max(last_days[m.pk] for m in searched)),
            now=now,
            online=True,
            holder_key=holder_key,
            holiday_zone=zone,
            tz=tz,
            lieu_ids=lieu_ids,
        )
        for motif_id, slots in slots_by_motif.items():
            if slots and (motif_id not in found or slots[0].start < found[motif_id].start):
                found[motif_id] = slots[0]  # slots come sorted by start
        remaining = [m for m in remaining if m.pk not in found]
        start = end + timedelta(days=1)
        length = next(chunks, CHUNK_DAYS[-1])
    return found


# Services and motifs offered ----------------------------------------------------------------


@dataclass
class OfferedMotif:
    motif: Motif
    first_slot: Slot

    @property
    def needs_lieu(self) -> bool:
        return self.motif.location_type in ON_SITE


def offered_motifs(
    organisation: Organisation,
    kind: ActorKind = ActorKind.USAGER,
    *,
    now: datetime | None = None,
    holder_key: str = "",
    lieu: Lieu | None = None,
    service_id: int | None = None,
) -> list[OfferedMotif]:
    """The motifs of the organisation the actor may book that have a free slot in their online
    window (at `lieu` when given), ordered by service and name, each with its first free slot."""
    motifs = bookable_motifs([organisation], kind).select_related("service", "organisation__territory")
    if service_id is not None:
        motifs = motifs.filter(service_id=service_id)
    motifs = list(motifs.order_by("service__name", "name", "location_type", "pk"))
    firsts = first_slots(motifs, now=now, holder_key=holder_key, lieu_ids=[lieu.pk] if lieu else None)
    return [OfferedMotif(motif, firsts[motif.pk]) for motif in motifs if motif.pk in firsts]


@dataclass
class OfferedService:
    service: object
    motifs: list[OfferedMotif] = field(default_factory=list)


def offered_services(offered: list[OfferedMotif]) -> list[OfferedService]:
    """The services of the offered motifs, in order, each with its motifs."""
    services: dict[int, OfferedService] = {}
    for item in offered:
        services.setdefault(item.motif.service_id, OfferedService(item.motif.service)).motifs.append(item)
    return sorted(services.values(), key=lambda s: (s.service.name.lower(), s.service.pk))


# Lieux of a motif --------------------------------------------------------------------------------


def motif_lieux(motif: Motif):
    """The open, active lieux of the motif's organisation where a plage offers the motif."""
    offering = PlageOuverture.objects.filter(lieu_id=OuterRef("pk"), motifs=motif)
    return Lieu.objects.for_organisation(motif.organisation).active().filter(is_open=True).filter(Exists(offering))


@dataclass
class OfferedLieu:
    lieu: Lieu
    next_slot: Slot | None


def lieux_with_next_slot(motif: Motif, *, now: datetime | None = None, holder_key: str = "") -> list[OfferedLieu]:
    """The lieux of the motif with a free slot in its online window, soonest first."""
    lieux = list(motif_lieux(motif).order_by("name", "pk"))
    firsts = next_availability_by_lieu([motif], now=now, holder_key=holder_key, lieu_ids=[lieu.pk for lieu in lieux])
    offered = [OfferedLieu(lieu, firsts[lieu.pk]) for lieu in lieux if lieu.pk in firsts]
    return sorted(offered, key=lambda item: (item.next_slot.start, item.lieu.name.lower(), item.lieu.pk))


# A week of free times ------------------------------------------------------------------------


@dataclass
class FreeTime:
    start: datetime  # in the espace's time

    @property
    def iso(self) -> str:
        return self.start.isoformat()


@dataclass
class Day:
    day: date
    times: list[FreeTime] = field(default_factory=list)


@dataclass
class Week:
    monday: date
    days: list[Day]
    previous_week: date | None  # None: the previous week is outside the online window
    next_week: date | None  # None: the next week is outside the online window
    next_slot: datetime | None = None  # an empty week: the first free time after it (espace's time)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def count(self) -> int:
        return sum(len(day.times) for day in self.days)


def week_in_window(motif: Motif, monday: date, now: datetime | None = None) -> bool:
    """Some day of the week (Monday–Sunday) lies in the motif's online window."""
    window = online_window(motif, now)
    return monday + timedelta(days=6) >= window.first_day and monday <= window.last_day


def _next_start_cached(motif, sunday: date, window: Window, lieu_id, now, holder_key, zone) -> datetime | bool | None:
    """The first free start after `sunday` to the end of the online window, through the slot cache
    (the same starts as `next_available_slot` from the next Monday: its chunks cut the same free
    ranges), in one query when warm whatever the number of weeks. False: take the uncached path."""
    weeks, monday = [], sunday + timedelta(days=1)
    while monday <= window.last_day:
        weeks.append((monday, max(monday, window.first_day), min(monday + timedelta(days=6), window.last_day)))
        monday += timedelta(days=7)
    if not weeks:
        return None
    start = slotcache.first_start(
        motif, weeks, lieu_id=lieu_id, now=now, holder_key=holder_key, tz=window.tz, zone=zone
    )
    if start is None or start is False:
        return start
    return datetime.fromtimestamp(start, UTC)


def week_of_free_times(
    motif: Motif,
    monday: date,
    *,
    lieu: Lieu | None = None,
    now: datetime | None = None,
    holder_key: str = "",
) -> Week:
    """The free start times of the motif (at `lieu` when given) in the week of `monday`, in the
    espace's time, through the slot cache (or from one call of the slot function when it is off or
    the visitor holds a slot: the same times); an empty week gives the next free time after it
    (searching to the end of the online window)."""
    now = now or timezone.now()
    monday = monday_of(monday)
    sunday = monday + timedelta(days=6)
    territory = motif.organisation.territory
    tz = territory.zone
    window = online_window(motif, now)
    first_day, last_day = max(monday, window.first_day), min(sunday, window.last_day)
    days = [Day(monday + timedelta(days=offset)) for offset in range(7)]
    lieu_id = lieu.pk if lieu is not None else None
    zone = holiday_zone(territory)
    starts: list[int] | None = []
    if first_day <= last_day:
        starts = slotcache.week_starts(
            motif, monday, first_day, last_day, lieu_id=lieu_id, now=now, holder_key=holder_key, tz=tz, zone=zone
        )
        cached = starts is not None
        if starts is None:  # the cache is off, or the visitor holds a slot: the slot function itself
            slots = find_slots(
                [motif],
                first_day,
                last_day,
                now=now,
                online=True,
                holder_key=holder_key,
                holiday_zone=zone,
                tz=tz,
                lieu_ids=None if lieu_id is None else [lieu_id],
            )[motif.pk]
            starts = sorted({int(slot.start.timestamp()) for slot in slots})
    else:
        cached = slotcache.enabled()
    by_day = {day.day: day for day in days}
    for start in starts:  # sorted, one time per start (any lieu, any agent)
        local = datetime.fromtimestamp(start, UTC).astimezone(tz)
        if local.date() in by_day:
            by_day[local.date()].times.append(FreeTime(local))
    week = Week(
        monday=monday,
        days=days,
        previous_week=monday - timedelta(days=7) if monday - timedelta(days=1) >= window.first_day else None,
        next_week=monday + timedelta(days=7) if monday + timedelta(days=7) <= window.last_day else None,
    )
    if not starts:
        next_monday = datetime.combine(sunday + timedelta(days=1), time.min, tzinfo=tz)
        after = _next_start_cached(motif, sunday, window, lieu_id, now, holder_key, zone) if cached else False
        if after is False:  # the cache is off, or the visitor holds a slot
            slot = next_available_slot(motif, lieu_id=lieu_id, after=next_monday, now=now, holder_key=holder_key)
            after = slot.start if slot is not None else None
        week.next_slot = after.astimezone(tz) if after is not None else None
    return week


# Lookups by id -----------------------------------------------------------------------------------


def territory_by_id(pk: int) -> Territory | None:
    return Territory.objects.filter(pk=pk).first()


def organisation_by_id(pk: int) -> Organisation | None:
    return Organisation.objects.select_related("territory").filter(pk=pk).first()


def motif_by_id(pk: int, kind: ActorKind | None = None) -> Motif | None:
    """The motif with its organisation, espace and service; with `kind`, annotated with
    `public_bookable`: whether a public actor of that kind may book it (`can_book`'s rule), in the same
    query (the public pages read both at each request). Cached under the espace's version
    (slotcache.under_espace_version)."""

    def read():
        motifs = Motif.objects.select_related("organisation__territory", "service").filter(pk=pk)
        if kind is not None:
            motifs = motifs.annotate(public_bookable=public_bookable(kind))
        return motifs.first()

    return slotcache.under_espace_version("motif", pk, kind or "", read)


def lieu_by_id(pk: int, motif: Motif | None = None) -> Lieu | None:
    """The lieu with its organisation and espace; with `motif`, annotated with `offers_motif`:
    whether it is one of the motif's lieux (`motif_lieux`), in the same query. Cached under
    the espace's version (slotcache.under_espace_version)."""

    def read():
        lieux = Lieu.objects.select_related("organisation__territory").filter(pk=pk)
        if motif is not None:
            lieux = lieux.annotate(offers_motif=Exists(motif_lieux(motif).filter(pk=OuterRef("pk"))))
        return lieux.first()

    return slotcache.under_espace_version("lieu", pk, motif.pk if motif is not None else "", read)
