"""Free slots of a motif and its next availability: the engine path of the agents' « Trouver un
créneau » (rdv.bookings.availability.find_slots), or the public pages' rules with `online=true`.
The established platform's API has no such endpoint (« too expensive to compute »). Both read from
the read replica when one is configured (docs/adr/0017-read-replica.md): slots are a moment behind
at most, and booking re-checks on the primary."""

from datetime import date, datetime, timedelta

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from rdv.agendas.calendar import holiday_zone
from rdv.api.auth import one, organisation_ctx
from rdv.api.errors import ApiError
from rdv.api.schemas import responses
from rdv.api.types import Flag, Id, IsoDate
from rdv.bookings.availability import find_slots, next_available_slot
from rdv.bookings.search import HORIZON_DAYS, first_slot_after
from rdv.core.db import reads_from_replica
from rdv.motifs.selectors import bookable_motifs
from rdv.online.selectors import online_window

router = Router(tags=["Créneaux"])

MAX_DAYS = 31
MAX_IDS = 500


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    duration_in_min: int
    lieu_id: int | None
    agent_ids: list[int] = Field(description="Les agents libres à cette heure (un seul suffit pour réserver).")


class SlotList(Schema):
    motif_id: int
    start_date: date
    end_date: date
    online: bool
    slots: list[SlotOut]


class NextAvailability(Schema):
    motif_id: int
    online: bool
    searched_until: date
    next_slot: SlotOut | None


class SlotFilters(Schema):
    lieu_id: Id | None = None
    agent_ids: list[Id] | None = Field(
        None, max_length=MAX_IDS, description="Seulement ces agents (agents uniquement)."
    )
    online: Flag = Field(
        False, description="true : les créneaux que le public voit (délais de réservation en ligne, lieux ouverts)."
    )


class Range(Schema):
    start_date: IsoDate = Field(description="Premier jour (AAAA-MM-JJ, heure locale de l’espace).")
    end_date: IsoDate = Field(description=f"Dernier jour inclus ; {MAX_DAYS} jours au plus par appel.")


class After(Schema):
    after: IsoDate | None = Field(None, description="Chercher à partir de ce jour (par défaut : aujourd’hui).")


def _slot_out(slot, zone) -> dict:
    return {
        "starts_at": slot.start.astimezone(zone),
        "ends_at": slot.end.astimezone(zone),
        "duration_in_min": int((slot.end - slot.start).total_seconds() // 60),
        "lieu_id": slot.lieu_id,
        "agent_ids": list(slot.agent_ids),
    }


def _motif(ctx, motif_id: int, filters: SlotFilters):
    motif = one(bookable_motifs(ctx).select_related("organisation__territory"), motif_id)
    if filters.online and not motif.bookable_online:
        raise ApiError(422, "not_online", "Ce motif n’est pas ouvert à la réservation en ligne.")
    return motif


def _options(ctx, filters: SlotFilters) -> dict:
    options = {"tz": ctx.territory.zone, "holiday_zone": holiday_zone(ctx.territory)}
    if filters.lieu_id is not None:
        options["lieu_ids"] = [filters.lieu_id]
    if filters.online:
        if filters.agent_ids:
            raise ApiError(
                422, "agents_online", "Le public ne choisit pas l’agent : retirez agent_ids avec online=true."
            )
        options["online"] = True
    elif filters.agent_ids:
        options["agent_ids"] = filters.agent_ids
    return options


@router.get(
    "/organisations/{organisation_id}/motifs/{motif_id}/slots",
    response=responses({200: SlotList}),
    summary="Créneaux libres d’un motif",
    description=(
        f"Les créneaux libres d’un motif entre deux jours inclus ({MAX_DAYS} jours au plus), calculés par le "
        "même moteur que les pages. Un créneau affiché n’est pas réservé : la réservation revérifie."
    ),
)
@reads_from_replica
def list_slots(request, organisation_id: int, motif_id: int, period: Query[Range], filters: Query[SlotFilters]):
    ctx = organisation_ctx(request, organisation_id)
    if period.end_date < period.start_date:
        raise ApiError(
            422, "invalid", "La fin précède le début.", [{"field": "end_date", "message": "La fin précède le début."}]
        )
    if (period.end_date - period.start_date).days >= MAX_DAYS:
        raise ApiError(
            422,
            "range_too_long",
            f"{MAX_DAYS} jours au plus par appel : découpez la période.",
            [{"field": "end_date", "message": f"{MAX_DAYS} jours au plus après start_date."}],
        )
    today = timezone.localdate(timezone=ctx.territory.zone)
    if period.start_date > today + timedelta(days=3 * 366):
        raise ApiError(422, "invalid", "Choisissez une période dans les trois prochaines années.")
    motif = _motif(ctx, motif_id, filters)
    slots = find_slots([motif], period.start_date, period.end_date, **_options(ctx, filters))[motif.pk]
    zone = ctx.territory.zone
    return {
        "motif_id": motif.pk,
        "start_date": period.start_date,
        "end_date": period.end_date,
        "online": filters.online,
        "slots": [_slot_out(slot, zone) for slot in slots],
    }


@router.get(
    "/organisations/{organisation_id}/motifs/{motif_id}/next_availability",
    response=responses({200: NextAvailability}),
    summary="Prochaine disponibilité d’un motif",
    description=(
        f"Le premier créneau libre : pour les agents dans les {HORIZON_DAYS} jours qui suivent `after`, pour le "
        "public (online=true) jusqu’au délai maximal de réservation du motif. `next_slot` est null sans créneau."
    ),
)
@reads_from_replica
def next_availability(request, organisation_id: int, motif_id: int, start: Query[After], filters: Query[SlotFilters]):
    ctx = organisation_ctx(request, organisation_id)
    motif = _motif(ctx, motif_id, filters)
    zone = ctx.territory.zone
    today = timezone.localdate(timezone=zone)
    day = max(start.after or today, today)
    if day > today + timedelta(days=3 * 366):
        raise ApiError(422, "invalid", "Choisissez un jour dans les trois prochaines années.")
    options = _options(ctx, filters)
    if filters.online:
        after = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        slot = next_available_slot(motif, lieu_id=filters.lieu_id, after=after)
        until = online_window(motif, tz=zone).last_day  # the public pages' own window
    else:
        # first_slot_after looks after a day (exclusive): start the day before.
        slot = first_slot_after(motif, day - timedelta(days=1), **options)
        until = day + timedelta(days=HORIZON_DAYS - 1)
    return {
        "motif_id": motif.pk,
        "online": filters.online,
        "searched_until": until,
        "next_slot": _slot_out(slot, zone) if slot is not None else None,
    }
