"""The booking operations: the only code that creates or changes RDVs.

Each operation takes the actor's context first and refuses ("forbidden") what
rdv.bookings.policies does not allow (agents, usagers and prescripteurs online alike); it runs in
one transaction, re-checks the slot with the availability engine (the same data and code as the
displayed slots), calls `log_action`, and raises a `DomainError` with a French message. Public
pages, agent pages and the API all call these functions.

No double booking: on PostgreSQL an exclusion constraint on `RdvAgent` (agent, time range)
refuses overlapping exclusive rows, whatever the race; on SQLite write transactions are
serialised (BEGIN IMMEDIATE), so the re-check inside the transaction is authoritative.
"""

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.models import AgentRole
from rdv.agendas.calendar import holiday_zone
from rdv.agendas.locks import lock_agendas
from rdv.bookings import policies
from rdv.bookings.availability import is_slot_free
from rdv.bookings.models import (
    CANCELLED_STATUSES,
    CreatedBy,
    Participation,
    ParticipationStatus,
    Rdv,
    RdvAgent,
    RdvStatus,
)
from rdv.core.audit import log_action
from rdv.core.context import ActorKind, Context, require
from rdv.core.errors import DomainError
from rdv.core.text import de
from rdv.motifs.models import LocationType
from rdv.outbox.models import Purpose
from rdv.outbox.services import enqueue_email
from rdv.usagers import policies as usager_policies
from rdv.usagers.services import add_usager_to_organisation, create_usager

SLOT_TAKEN = "Ce créneau n'est plus disponible : un autre rendez-vous vient d'y être pris. Choisissez un autre créneau."
OUTSIDE_AVAILABILITY = (
    "Cet horaire est en dehors des disponibilités {agents} : pas de plage d'ouverture pour ce motif "
    "(et ce lieu) à cette heure, ou une absence, ou un jour férié."
)
IN_PAST = "Cet horaire est déjà passé."
# Refusals an agent may knowingly override ("Réserver quand même", recorded in the journal).
OVERRIDABLE = ("slot_taken", "outside_availability", "in_past")
CONTEXT_MAX_LENGTH = 5000
MAX_DURATION_MINUTES = 24 * 60


class BookingError(DomainError):
    pass


@dataclass
class BookingRequest:
    motif: object
    starts_at: datetime
    agents: Sequence
    usagers: Sequence = ()
    lieu: object | None = None
    duration_minutes: int | None = None
    context: str = ""
    address: str = ""
    visio_url: str = ""
    holder_key: str = ""  # online: the booker's own slot holds do not block them (SlotHold)
    displayed_at: datetime | None = None  # online: when the chosen slot was displayed (is_slot_free)


def _check_request(ctx: Context, request: BookingRequest) -> timedelta:
    organisation = ctx.organisation
    motif = request.motif
    if motif.archived_at is not None:
        raise BookingError("motif_archived", "Ce motif est archivé : il ne peut plus être réservé.", field="motif")
    # The motifs this context may book: active ones of its organisation, of its services (agents),
    # open online (usagers, prescripteurs).
    require(policies.can_book(ctx, motif), "Vous ne pouvez pas réserver ce motif.")
    _check_agents(organisation, request.agents)
    _check_lieu(organisation, motif, request.lieu)
    for usager in request.usagers:
        if usager.territory_id != organisation.territory_id:
            raise BookingError("usager_outside", "Usager inconnu.", field="usagers")
        require(usager_policies.can_add_to_organisation(ctx, usager))
    if len({usager.pk for usager in request.usagers}) != len(request.usagers):
        raise BookingError("usager_twice", "Un même usager est choisi deux fois.", field="usagers")
    _check_text(request.context, request.address, request.visio_url)
    _check_modality(motif, address=request.address, visio_url=request.visio_url)
    if not motif.collective and len(request.usagers) != 1:
        raise BookingError("one_usager", "Choisissez un usager pour ce rendez-vous.", field="usagers")
    if motif.collective and motif.max_participants and len(request.usagers) > motif.max_participants:
        raise BookingError(
            "capacity", f"Ce rendez-vous collectif compte au plus {motif.max_participants} participants.", "usagers"
        )
    minutes = request.duration_minutes or motif.default_duration_minutes
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise BookingError("duration_invalid", "La durée doit être comprise entre 1 minute et 24 heures.", "duration")
    return timedelta(minutes=minutes)


def _check_agents(organisation, agents: Sequence) -> None:
    if not agents:
        raise BookingError("agents_required", "Choisissez au moins un agent.", field="agents")
    agent_ids = {agent.pk for agent in agents}
    if len(agent_ids) != len(agents):
        raise BookingError("agent_twice", "Un même agent est choisi deux fois.", field="agents")
    members = set(
        AgentRole.objects.filter(organisation=organisation, agent_id__in=agent_ids).values_list("agent_id", flat=True)
    )
    if agent_ids - members:
        raise BookingError("agent_outside", "Cet agent ne fait pas partie de l'organisation.", field="agents")


def _check_lieu(organisation, motif, lieu) -> None:
    if motif.location_type == LocationType.PUBLIC_OFFICE:
        if lieu is None:
            raise BookingError("lieu_required", "Choisissez le lieu du rendez-vous.", field="lieu")
        if lieu.organisation_id != organisation.pk or lieu.archived_at is not None:
            raise BookingError("lieu_invalid", "Ce lieu n'est pas disponible.", field="lieu")
    elif lieu is not None:
        raise BookingError("lieu_unexpected", "Ce motif ne se déroule pas dans un lieu.", field="lieu")


def _check_text(context: str | None, address: str | None, visio_url: str | None) -> None:
    if context and len(context) > CONTEXT_MAX_LENGTH:
        raise BookingError(
            "context_too_long", f"Le contexte ne doit pas dépasser {CONTEXT_MAX_LENGTH} caractères.", field="context"
        )
    address_limit = Rdv._meta.get_field("address").max_length
    if address and len(address) > address_limit:
        raise BookingError(
            "address_too_long", f"L'adresse ne doit pas dépasser {address_limit} caractères.", field="address"
        )
    if visio_url:
        from django.core.exceptions import ValidationError
        from django.core.validators import URLValidator

        try:
            URLValidator(schemes=["https", "http"])(visio_url)
        except ValidationError as exc:
            raise BookingError(
                "visio_url_invalid",
                "Saisissez une adresse web valide, par exemple https://visio.exemple.fr/salle.",
                field="visio_url",
            ) from exc
        visio_limit = Rdv._meta.get_field("visio_url").max_length
        if len(visio_url) > visio_limit:
            raise BookingError(
                "visio_url_too_long", f"Le lien ne doit pas dépasser {visio_limit} caractères.", field="visio_url"
            )


ADDRESS_UNEXPECTED = "L'adresse du rendez-vous ne sert qu'aux motifs à domicile : videz ce champ."
VISIO_URL_UNEXPECTED = "Le lien de visioconférence ne sert qu'aux motifs en visioconférence : videz ce champ."


def _check_modality(motif, *, address: str | None, visio_url: str | None, current=None) -> None:
    """An address only for a motif « à domicile », a visio link only for a visio motif (the booking
    form shows each field only for those motifs; without JavaScript it shows both). A value the RDV
    already has (`current`) is accepted as it is."""
    if address and motif.location_type != LocationType.HOME and address != getattr(current, "address", None):
        raise BookingError("address_unexpected", ADDRESS_UNEXPECTED, field="address")
    if visio_url and motif.location_type != LocationType.VISIO and visio_url != getattr(current, "visio_url", None):
        raise BookingError("visio_url_unexpected", VISIO_URL_UNEXPECTED, field="visio_url")


def _recheck(
    organisation,
    motif,
    agents,
    start,
    duration,
    *,
    lieu=None,
    online=False,
    exclude=(),
    holder_key="",
    displayed_at=None,
) -> list:
    """Agents for whom [start, start + duration) is not a free time of their plages (online: not a
    slot displayed for them at this lieu, now or at `displayed_at`). Locks the agents' agendas
    first, so the answer holds until the transaction commits."""
    lock_agendas(agents)
    zone, tz = holiday_zone(organisation.territory), organisation.territory.zone
    return [
        agent
        for agent in agents
        if not is_slot_free(
            motif,
            agent.pk,
            start,
            online=online,
            exclude_rdv_ids=exclude,
            duration=duration,
            lieu_id=getattr(lieu, "pk", None),
            holiday_zone=zone,
            tz=tz,
            holder_key=holder_key,
            displayed_at=displayed_at,
        )
    ]


def _refusal(
    busy_agents: Sequence, start: datetime, end: datetime, exclude: Iterable[int] = (), online: bool = False
) -> BookingError:
    """Why the re-check refused: another RDV holds the time, the time is past, or it lies outside
    the agents' plages (absence, holiday, no plage). The first is checked first: concurrent bookers
    of one slot all get "slot_taken"."""
    overlapping = RdvAgent.objects.filter(
        agent__in=busy_agents, blocks_agenda=True, starts_at__lt=end, ends_at__gt=start
    ).exclude(rdv_id__in=list(exclude))
    if online or overlapping.exists():
        return BookingError("slot_taken", SLOT_TAKEN, field="starts_at")
    if start < timezone.now():
        return BookingError("in_past", IN_PAST, field="starts_at")
    names = ", ".join(str(agent) for agent in busy_agents)
    return BookingError("outside_availability", OUTSIDE_AVAILABILITY.format(agents=de(names)), field="starts_at")


def _insert_agents(rdv: Rdv, agents: Iterable, exclusive: bool) -> None:
    try:
        with transaction.atomic():  # savepoint: the exclusion constraint may refuse the rows
            RdvAgent.objects.bulk_create(
                RdvAgent(rdv=rdv, agent=agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at, exclusive=exclusive)
                for agent in agents
            )
    except IntegrityError as exc:
        raise BookingError("slot_taken", SLOT_TAKEN) from exc


def _describe(rdv: Rdv, agents: Iterable) -> dict:
    return {
        # In UTC, one spelling per instant: a move to the same time, given in the espace's zone, changes nothing.
        "starts_at": rdv.starts_at.astimezone(UTC).isoformat(),
        "ends_at": rdv.ends_at.astimezone(UTC).isoformat(),
        "motif": rdv.motif.name,
        "lieu": str(rdv.lieu) if rdv.lieu_id else None,
        "agents": ", ".join(sorted(str(a) for a in agents)),
        "status": RdvStatus(rdv.status).label,
    }


CREATED_BY = {ActorKind.USAGER: CreatedBy.USAGER, ActorKind.PRESCRIPTEUR: CreatedBy.PRESCRIPTEUR}


def _check_override(ctx: Context, override: bool) -> None:
    if override:
        require(policies.can_override(ctx), "Seul un agent peut réserver en dehors des disponibilités.")


@transaction.atomic
def book_rdv(ctx: Context, request: BookingRequest, *, override: bool = False) -> Rdv:
    """Book a RDV in the context's organisation. `override` (agents only, after an explicit
    confirmation) books even outside the plages or over another RDV; it is recorded in the audit
    log. An usager or a prescripteur books online: the online booking window applies."""
    organisation = ctx.organisation
    duration = _check_request(ctx, request)
    _check_override(ctx, override)
    online = ctx.is_public
    start = request.starts_at
    if start.tzinfo is None:
        raise BookingError("naive_datetime", "Heure de début invalide.", field="starts_at")
    busy_agents = _recheck(
        organisation,
        request.motif,
        request.agents,
        start,
        duration,
        lieu=request.lieu,
        online=online,
        holder_key=request.holder_key,
        displayed_at=request.displayed_at,
    )
    if busy_agents and not override:
        raise _refusal(busy_agents, start, start + duration, online=online)
    rdv = Rdv.objects.create(
        organisation=organisation,
        motif=request.motif,
        lieu=request.lieu,
        starts_at=start,
        ends_at=start + duration,
        created_by=CREATED_BY.get(ctx.kind, CreatedBy.AGENT),
        created_by_agent=ctx.agent,
        context=request.context or "",
        address=request.address or "",
        visio_url=request.visio_url or "",
        collective=request.motif.collective,
        max_participants=request.motif.max_participants if request.motif.collective else None,
    )
    _insert_agents(rdv, request.agents, exclusive=not busy_agents)
    Participation.objects.bulk_create(Participation(rdv=rdv, usager=u) for u in request.usagers)
    for usager in request.usagers:  # an usager found across the espace now belongs here too
        add_usager_to_organisation(ctx, usager)
    changes = _describe(rdv, request.agents)
    changes["usagers"] = ", ".join(str(u) for u in request.usagers)
    if busy_agents:
        changes["override"] = "réservé hors disponibilité, confirmé par l'agent : " + ", ".join(
            str(a) for a in busy_agents
        )
    log_action(ctx.actor, "rdv.created", rdv, changes)
    return rdv


@transaction.atomic
def book_rdv_for_new_usager(
    ctx: Context,
    usager_data: dict,
    request: BookingRequest,
    *,
    custom_values: Mapping | None = None,
    override: bool = False,
):
    """Create the usager's file (rdv.usagers.services.create_usager, with the values of the espace's
    custom fields: its required ones must be given) and book the RDV for them, in one transaction:
    when the booking is refused, no file is left behind. Returns (rdv, usager)."""
    usager = create_usager(ctx, usager_data, custom_values)
    if ctx.is_public and ctx.usager is None:  # online, the file just created is the person booked for
        ctx = dataclasses.replace(ctx, usager=usager)
    request.usagers = [*request.usagers, usager]
    rdv = book_rdv(ctx, request, override=override)
    return rdv, usager


@transaction.atomic
def update_rdv(ctx: Context, rdv: Rdv, *, context=None, address=None, visio_url=None) -> dict:
    """Change the free-text fields of a RDV (None: unchanged). Returns the changes.

    The Contexte's text is not copied to the journal (it is readable only by the agents who can
    see the RDV): the journal says that it changed."""
    require(policies.can_change(ctx, rdv))
    rdv = _locked(rdv)
    values = {"context": context, "address": address, "visio_url": visio_url}
    values = {name: value.strip() for name, value in values.items() if value is not None}
    _check_text(values.get("context"), values.get("address"), values.get("visio_url"))
    _check_modality(rdv.motif, address=values.get("address"), visio_url=values.get("visio_url"), current=rdv)
    changes = {}
    for name, value in values.items():
        old = getattr(rdv, name)
        if old != value:
            changes[name] = "modifié" if name == "context" else [old or None, value or None]
            setattr(rdv, name, value)
    if changes:
        rdv.save(update_fields=[*values, "updated_at"])
        log_action(ctx.actor, "rdv.updated", rdv, changes)
    return changes


def _locked(rdv: Rdv) -> Rdv:
    # Lock only the RDV row (`of=("self",)`): the lieu is a nullable outer join.
    return (
        Rdv.objects.select_for_update(of=("self",))
        .select_related("motif", "organisation__territory", "lieu")
        .get(pk=rdv.pk)
    )


@transaction.atomic
def move_rdv(
    ctx: Context,
    rdv: Rdv,
    new_start: datetime,
    *,
    agents: Sequence | None = None,
    lieu=None,
    override: bool = False,
    holder_key: str = "",
    displayed_at: datetime | None = None,
) -> Rdv:
    """Move a RDV (agents may also change its agents and lieu). An usager moves their RDV online:
    same agents and lieu, the online booking window applies."""
    rdv = _locked(rdv)
    if rdv.is_cancelled:
        raise BookingError("rdv_cancelled", "Ce rendez-vous est annulé : il ne peut plus être déplacé.")
    require(policies.can_move(ctx, rdv))
    _check_override(ctx, override)
    online = ctx.is_public
    if online and (agents is not None or lieu is not None):
        raise BookingError("forbidden", "Vous ne pouvez changer que l'horaire de votre rendez-vous.")
    if new_start is None or new_start.tzinfo is None:
        raise BookingError("naive_datetime", "Heure de début invalide.", field="starts_at")
    current_agents = [link.agent for link in rdv.agent_links.select_related("agent")]
    agents = list(agents) if agents is not None else current_agents
    lieu = lieu if lieu is not None else rdv.lieu
    _check_agents(rdv.organisation, agents)
    _check_lieu(rdv.organisation, rdv.motif, lieu)
    duration = timedelta(minutes=rdv.duration_minutes)
    busy = _recheck(
        rdv.organisation,
        rdv.motif,
        agents,
        new_start,
        duration,
        lieu=lieu,
        online=online,
        exclude=[rdv.pk],
        holder_key=holder_key,
        displayed_at=displayed_at,
    )
    if busy and not override:
        raise _refusal(busy, new_start, new_start + duration, exclude=[rdv.pk], online=online)
    before = _describe(rdv, current_agents)
    rdv.starts_at, rdv.ends_at, rdv.lieu = new_start, new_start + duration, lieu
    rdv.save(update_fields=["starts_at", "ends_at", "lieu", "updated_at"])
    rdv.agent_links.all().delete()
    _insert_agents(rdv, agents, exclusive=not busy)
    after = _describe(rdv, agents)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if busy:
        changes["override"] = "déplacé hors disponibilité, confirmé par l'agent : " + ", ".join(str(a) for a in busy)
    # The agents added and removed, as objects for the listeners (their notifications).
    before_ids, after_ids = {a.pk for a in current_agents}, {a.pk for a in agents}
    related = {
        "agents_added": [a for a in agents if a.pk not in before_ids],
        "agents_removed": [a for a in current_agents if a.pk not in after_ids],
    }
    log_action(ctx.actor, "rdv.moved", rdv, changes, related=related)
    return rdv


@transaction.atomic
def cancel_rdv(ctx: Context, rdv: Rdv, *, by_usager: bool = False, reason: str = "") -> Rdv:
    """Cancel: "annulé par l'usager" (excused) or "annulé par le service" (revoked). The slot is
    freed at once. An usager online cancels their own RDV (always "annulé par l'usager")."""
    require(policies.can_cancel(ctx, rdv))
    by_usager = by_usager or ctx.is_public
    return _set_status(ctx, rdv, RdvStatus.EXCUSED if by_usager else RdvStatus.REVOKED, reason=reason)


@transaction.atomic
def set_status(ctx: Context, rdv: Rdv, status: str, *, reason: str = "") -> Rdv:
    require(policies.can_change(ctx, rdv))
    if status not in RdvStatus.values:
        raise BookingError("status_invalid", "Statut inconnu.", field="status")
    return _set_status(ctx, rdv, status, reason=reason)


def _set_status(ctx: Context, rdv: Rdv, status: str, *, reason: str = "") -> Rdv:
    rdv = _locked(rdv)
    old = rdv.status
    if old == status:
        return rdv
    now = timezone.now()
    if status in (RdvStatus.SEEN, RdvStatus.NOSHOW) and rdv.starts_at > now:
        raise BookingError("status_future", "Ce rendez-vous n'a pas encore eu lieu.", field="status")
    was_cancelled, cancelled = old in CANCELLED_STATUSES, status in CANCELLED_STATUSES
    if was_cancelled and not cancelled:
        # Un-cancelling takes the time again: it must still be free. The explicit check covers
        # SQLite and non-exclusive rows; the exclusion constraint covers races on PostgreSQL.
        retaken = BookingError(
            "slot_taken", "Ce créneau a été repris entre-temps : le rendez-vous ne peut pas être rétabli."
        )
        links = list(rdv.agent_links.all())
        lock_agendas([link.agent_id for link in links])
        clash = Q()
        for link in links:
            clash |= Q(agent_id=link.agent_id, starts_at__lt=link.ends_at, ends_at__gt=link.starts_at)
        if links and RdvAgent.objects.filter(clash, blocks_agenda=True).exclude(rdv=rdv).exists():
            raise retaken
        try:
            with transaction.atomic():
                rdv.agent_links.update(blocks_agenda=True)
        except IntegrityError as exc:
            raise retaken from exc
    elif cancelled and not was_cancelled:
        rdv.agent_links.update(blocks_agenda=False)
    rdv.status, rdv.status_changed_at = status, now
    rdv.status_changed_by = ctx.agent
    if cancelled or was_cancelled:
        limit = Rdv._meta.get_field("cancel_reason").max_length
        rdv.cancel_reason = (reason or "").strip()[:limit] if cancelled else ""
    rdv.save(update_fields=["status", "status_changed_at", "status_changed_by", "cancel_reason", "updated_at"])
    if not rdv.collective:  # an individual RDV's participation follows it (same status values)
        rdv.participations.update(status=status)
    changes = {"status": [RdvStatus(old).label, RdvStatus(status).label]}
    if cancelled and reason:
        changes["reason"] = rdv.cancel_reason
    log_action(ctx.actor, "rdv.cancelled" if cancelled and not was_cancelled else "rdv.status_changed", rdv, changes)
    return rdv


@transaction.atomic
def add_participant(ctx: Context, rdv: Rdv, usager) -> Participation:
    """Add an usager to a RDV; a collective RDV refuses participants beyond its capacity (the RDV
    row is locked, so concurrent joins are counted one after the other)."""
    require(policies.can_change(ctx, rdv))
    rdv = _locked(rdv)
    if rdv.is_cancelled:
        raise BookingError("rdv_cancelled", "Ce rendez-vous est annulé.")
    if usager.territory_id != rdv.organisation.territory_id:
        raise BookingError("usager_outside", "Usager inconnu.", field="usager")
    if rdv.participations.filter(usager=usager).exists():
        raise BookingError("already_participant", f"{usager} participe déjà à ce rendez-vous.", field="usager")
    if not rdv.collective and rdv.participations.exists():
        raise BookingError("not_collective", "Ce rendez-vous individuel a déjà son usager.", field="usager")
    active = rdv.participations.exclude(status__in=[ParticipationStatus.EXCUSED, ParticipationStatus.REVOKED])
    if rdv.max_participants and active.count() >= rdv.max_participants:
        raise BookingError("full", "Ce rendez-vous collectif est complet.", field="usager")
    add_usager_to_organisation(ctx, usager)  # checks that the context may book this usager here
    participation = Participation.objects.create(rdv=rdv, usager=usager)
    log_action(ctx.actor, "rdv.participant_added", rdv, {"usager": str(usager)}, related={"usager": usager})
    return participation


@transaction.atomic
def remove_participant(ctx: Context, rdv: Rdv, usager) -> None:
    require(policies.can_change(ctx, rdv))
    rdv = _locked(rdv)
    if not rdv.participations.filter(usager=usager).exists():
        raise BookingError("not_participant", "Cet usager ne participe pas à ce rendez-vous.", field="usager")
    if not rdv.collective:
        raise BookingError(
            "last_participant",
            "Un rendez-vous individuel garde son usager : pour changer d'usager, annulez ce rendez-vous "
            "et réservez-en un nouveau.",
            field="usager",
        )
    rdv.participations.filter(usager=usager).delete()
    log_action(ctx.actor, "rdv.participant_removed", rdv, {"usager": str(usager)}, related={"usager": usager})


@transaction.atomic
def mark_arrived(ctx: Context, rdv: Rdv, arrived: bool = True) -> Rdv:
    """Waiting room: the usager has arrived (only on the day of the RDV), or undo. The agents of
    the RDV are told according to the espace setting: visual mark in their agenda (read from
    `arrived_at`) and/or an e-mail at once."""
    require(policies.can_change(ctx, rdv))
    rdv = _locked(rdv)
    if rdv.is_cancelled:
        raise BookingError("rdv_cancelled", "Ce rendez-vous est annulé.")
    tz = rdv.organisation.territory.zone  # "today" in the espace
    if timezone.localtime(rdv.starts_at, tz).date() != timezone.localdate(timezone=tz):
        raise BookingError("not_today", "L'arrivée ne peut être signalée que le jour du rendez-vous.")
    if arrived == (rdv.arrived_at is not None):
        return rdv
    rdv.arrived_at = timezone.now() if arrived else None
    rdv.arrived_marked_by = ctx.agent if arrived else None
    rdv.save(update_fields=["arrived_at", "arrived_marked_by", "updated_at"])
    log_action(ctx.actor, "rdv.arrived" if arrived else "rdv.arrival_undone", rdv, {})
    territory = rdv.organisation.territory
    if arrived and territory.waiting_room_notifies_by_email:
        _email_arrival(rdv)
    return rdv


def _email_arrival(rdv: Rdv) -> None:
    tz = rdv.organisation.territory.zone
    local = timezone.localtime(rdv.starts_at, tz)
    # Useless once the espace's day is over: never delivered late after a long outage.
    end_of_day = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    rdv_url = settings.SITE_URL + reverse("rdv_detail", args=[rdv.organisation_id, rdv.pk])
    usagers = ", ".join(str(p.usager) for p in rdv.participations.select_related("usager")) or "L'usager"
    for link in rdv.agent_links.select_related("agent"):
        agent = link.agent
        if not agent.email:
            continue
        enqueue_email(
            to=agent.email,
            subject=f"Salle d'attente : {usagers} est arrivé(e) pour le RDV de {local:%H:%M}",
            text=(
                f"Bonjour,\n\n{usagers} est arrivé(e) en salle d'attente pour le rendez-vous "
                f"« {rdv.motif.name} » de {local:%H:%M}.\n\nLe rendez-vous : {rdv_url}\n"
            ),
            purpose=Purpose.WAITING_ROOM,
            about=rdv,
            territory=rdv.organisation.territory,
            organisation=rdv.organisation,
            expires_at=end_of_day,
        )


__all__ = [
    "BookingError",
    "BookingRequest",
    "add_participant",
    "book_rdv",
    "book_rdv_for_new_usager",
    "cancel_rdv",
    "mark_arrived",
    "move_rdv",
    "remove_participant",
    "set_status",
    "update_rdv",
]
