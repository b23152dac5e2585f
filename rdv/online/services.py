"""The online booking by the public: hold a slot, say who, verify by a code, confirm; then manage
the RDV from its link. Every RDV is created, moved and cancelled by rdv.bookings.services (with a
public context: the online rules, the engine's re-check and the database's no-double-booking
guarantee apply); this module adds what only the public path needs.

    booking = hold_slot(ctx, motif=…, lieu=…, starts_at=…, holder_key=…)     # one free agent held
    submit_prescripteur(booking, {...}, holder_key=…)                       # prescripteur mode
    submit_details(booking, {...}, holder_key=…)                            # sends the code
    booking = confirm_booking(booking, "123456", holder_key=…, ip=…)        # the RDV, once

Rules kept here: one hold per visitor; the fair choice of the agent (fewest RDVs that day, ties
random); the 6-digit code (keyed hash at rest, 10 minutes, 5 tries, single use, a few re-sends);
the fairness limits (upcoming RDVs per e-mail/phone and motif, bookings per IP and day); which
existing usager file a booking may reuse (only an unambiguous match on a verified e-mail); the
manage link (random token stored hashed, revocable, the first three letters of the last name).
"""

import base64
import dataclasses
import hashlib
import hmac
import random
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import format_html, format_html_join, strip_tags
from django.utils.safestring import mark_safe

from rdv.agendas.calendar import holiday_zone
from rdv.agendas.locks import lock_agendas
from rdv.availability.recurrence import local_day_interval
from rdv.bookings import policies as booking_policies
from rdv.bookings.availability import find_slots, is_slot_free
from rdv.bookings.models import CANCELLED_STATUSES, Participation, Rdv, RdvAgent, SlotHold
from rdv.bookings.services import (
    BookingError,
    BookingRequest,
    book_rdv,
    book_rdv_for_new_usager,
    cancel_rdv,
    move_rdv,
)
from rdv.core.audit import log_action
from rdv.core.context import ActorKind, Context, require
from rdv.core.dates import french_date
from rdv.core.errors import DomainError
from rdv.core.ratelimit import hit
from rdv.core.text import normalise_text
from rdv.motifs.models import LocationType
from rdv.online import slotcache
from rdv.online.ics import rdv_ics
from rdv.online.models import OPEN_STATUSES, BookingMode, BookingStatus, ManageLink, OnlineBooking
from rdv.outbox.models import Purpose
from rdv.outbox.services import enqueue_email
from rdv.sms.services import InvalidMobile, enqueue_sms, normalise_mobile
from rdv.usagers.models import CustomField, Usager
from rdv.usagers.services import clean_custom_value, clean_standard_value, create_usager, field_visible

CODE_DIGITS = 6
CODE_VALIDITY = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CODE_MAX_SENDS = 5
# A slot shown this long ago may still be held or booked at the time it was shown (see the engine's
# `displayed_at`); older pages are read with the real now.
DISPLAYED_AT_MAX_AGE = timedelta(minutes=30)
# The manage link opens the RDV until this long after it ended.
MANAGE_LINK_DAYS_AFTER_RDV = 30
MANAGE_TOKEN_BYTES = 32

SLOT_TAKEN = "Ce créneau vient d'être réservé, choisissez-en un autre."
BOOKING_CLOSED = (
    "Cette réservation n'est plus en cours (elle a expiré ou a été remplacée par une autre) : choisissez un créneau."
)
EMAIL_FOR_CODE = "Indiquez une adresse e-mail pour recevoir le code."
CONTACT_FOR_CODE = "Indiquez une adresse e-mail, ou un numéro de mobile pour recevoir le code de confirmation par SMS."
CONTACT_REQUIRED = "Indiquez une adresse e-mail ou un numéro de téléphone."
CONTACT_LIMIT = (
    "Vous avez déjà {count} rendez-vous à venir pour ce motif avec cette adresse e-mail ou ce numéro de "
    "téléphone : c'est le maximum. Annulez un rendez-vous existant ou contactez le service."
)
IP_LIMIT = (
    "Trop de rendez-vous ont été pris aujourd'hui depuis cette connexion. Réessayez demain ou contactez le service."
)
WRONG_CODE = "Ce code n'est pas le bon. Il vous reste {left} essai{plural}."
CODE_EXPIRED = "Ce code a expiré : demandez un nouveau code."
TOO_MANY_TRIES = "Trop d'essais avec ce code : demandez un nouveau code."
TOO_MANY_CODES = "Trop de codes ont été demandés pour cette réservation : recommencez la prise de rendez-vous."
CODE_FORMAT = "Saisissez le code à 6 chiffres reçu par e-mail."


class OnlineError(DomainError):
    pass


# Small French helpers ----------------------------------------------------------------------------


def french_time(moment: datetime, tz) -> str:
    """« 14 h 32 » in the espace's time zone."""
    local = timezone.localtime(moment, tz)
    return f"{local.hour} h {local:%M}"


def french_moment(moment: datetime, tz) -> str:
    """« mardi 1er mars 2027 à 14 h 00 » in the espace's time zone."""
    local = timezone.localtime(moment, tz)
    return f"{french_date(local.date())} à {french_time(moment, tz)}"


def map_url(lieu) -> str:
    """An OpenStreetMap search of the lieu's address."""
    from urllib.parse import urlencode

    return "https://www.openstreetmap.org/search?" + urlencode({"query": lieu.address})


# Hold --------------------------------------------------------------------------------------------


def _displayed_at(displayed_at: datetime | None, now: datetime) -> datetime | None:
    """The instant the slot was shown, when it is recent and not in the future; else None."""
    if displayed_at is None or displayed_at.tzinfo is None:
        return None
    if not now - DISPLAYED_AT_MAX_AGE <= displayed_at <= now:
        return None
    return displayed_at


def _check_place(ctx: Context, motif, lieu) -> None:
    if motif.location_type == LocationType.PUBLIC_OFFICE:
        if lieu is None:
            raise OnlineError("lieu_required", "Choisissez le lieu du rendez-vous.", field="lieu")
        if lieu.organisation_id != ctx.organisation.pk or lieu.archived_at is not None or not lieu.is_open:
            raise OnlineError("lieu_invalid", "Ce lieu n'est pas disponible pour ce motif.", field="lieu")
    elif lieu is not None:
        raise OnlineError("lieu_unexpected", "Ce motif ne se déroule pas dans un lieu.", field="lieu")


def _slot_agents(motif, lieu, start: datetime, *, holder_key: str, now: datetime) -> list[int]:
    """The agents the engine offers at `start` for this motif and lieu (online rules, as of `now`)."""
    territory = motif.organisation.territory
    tz = territory.zone
    day = timezone.localtime(start, tz).date()
    slots = find_slots(
        [motif],
        day,
        day,
        now=now,
        online=True,
        lieu_ids=[lieu.pk] if lieu is not None else None,
        holiday_zone=holiday_zone(territory),
        tz=tz,
        holder_key=holder_key,
    )[motif.pk]
    lieu_id = lieu.pk if lieu is not None else None
    return sorted(
        {
            a
            for slot in slots
            if slot.start == start and (lieu is None or slot.lieu_id == lieu_id)
            for a in slot.agent_ids
        }
    )


def _agent_free(motif, agent_id: int, lieu, start: datetime, *, holder_key: str, displayed_at) -> bool:
    """The booking's own re-check (rdv.bookings.availability.is_slot_free) for one agent."""
    territory = motif.organisation.territory
    return is_slot_free(
        motif,
        agent_id,
        start,
        online=True,
        lieu_id=lieu.pk if lieu is not None else None,
        holiday_zone=holiday_zone(territory),
        tz=territory.zone,
        holder_key=holder_key,
        displayed_at=displayed_at,
    )


def _fairest_first(agent_ids: list[int], start: datetime, tz) -> list[int]:
    """Fair rotation: the agents with the fewest RDVs on that local day first, ties in random order."""
    day_start, day_end = local_day_interval(timezone.localtime(start, tz).date(), tz)
    counts = dict(
        RdvAgent.objects.filter(
            agent_id__in=agent_ids, blocks_agenda=True, starts_at__lt=day_end, ends_at__gt=day_start
        )
        .values("agent_id")
        .annotate(n=Count("id"))
        .values_list("agent_id", "n")
    )
    shuffle = random.Random()  # noqa: S311 - fairness between agents, not security
    return sorted(agent_ids, key=lambda agent_id: (counts.get(agent_id, 0), shuffle.random()))


def _free_agent(
    motif, candidates: list[int], lieu, start: datetime, *, holder_key: str, displayed_at, tz
) -> int | None:
    """The first of `candidates`, fairest first, free at `start` by the uncached re-check, its
    agenda locked until the transaction ends; None when none is. One agenda is locked at a time, in
    a savepoint rolled back when that agent is not free (its lock goes): a hold never waits for an
    agenda while it holds another one, so two holds never deadlock, and holds of different agents
    of a motif run side by side (locking every candidate made them wait for each other)."""
    if not candidates:
        return None
    for agent_id in _fairest_first(candidates, start, tz):
        with transaction.atomic():
            lock_agendas([agent_id])  # concurrent holds and bookings of this agent wait for this one
            if _agent_free(motif, agent_id, lieu, start, holder_key=holder_key, displayed_at=displayed_at):
                return agent_id
            transaction.set_rollback(True)  # not free: the savepoint and its lock go
    return None


def release_holds(holder_key: str) -> int:
    """Delete the visitor's slot holds; their slots are free again for everyone (the slot cache's
    versions of their weeks change in this transaction)."""
    holds = SlotHold.objects.filter(holder_key=holder_key)
    released = list(holds.values_list("agent_id", "starts_at", "ends_at"))
    if not released:
        return 0
    deleted, _ = holds.delete()
    slotcache.bump_released(released)
    return deleted


@transaction.atomic
def hold_slot(
    ctx: Context,
    *,
    motif,
    lieu,
    starts_at: datetime | None,
    holder_key: str,
    displayed_at: datetime | None = None,
) -> OnlineBooking:
    """Hold the slot `starts_at` of `motif` (at `lieu`) for this visitor: pick one free agent of
    that slot (fair rotation) and create a SlotHold that the engine hides from everyone else until
    it expires (territory.online_hold_minutes). One hold per visitor: a new one replaces the
    previous one (and abandons its booking). Raises "slot_taken" when the slot is no longer free."""
    require(ctx.is_public, "Cette page est réservée à la prise de rendez-vous en ligne.")
    if motif.organisation_id != ctx.organisation.pk:
        raise OnlineError("motif_invalid", "Ce motif n'est pas proposé ici.", field="motif")
    if motif.archived_at is not None:
        raise OnlineError("motif_archived", "Ce motif n'est plus proposé : choisissez-en un autre.", field="motif")
    require(booking_policies.can_book(ctx, motif), "Ce motif ne peut pas être réservé en ligne.")
    _check_place(ctx, motif, lieu)
    if not holder_key:
        raise OnlineError("no_session", "Votre session a expiré : recommencez la prise de rendez-vous.")
    if starts_at is None or starts_at.tzinfo is None:
        raise OnlineError("start_invalid", "Cet horaire n'est pas valide : choisissez un créneau.", field="debut")
    now = timezone.now()
    displayed_at = _displayed_at(displayed_at, now)
    territory = ctx.territory
    # One hold per visitor: the previous one is released first (its slot becomes free again).
    OnlineBooking.objects.filter(holder_key=holder_key, status__in=OPEN_STATUSES).update(
        status=BookingStatus.ABANDONED, hold=None
    )
    release_holds(holder_key)
    # The slot's agents from the slot cache when it has them (each agent's free ranges, cut as the
    # engine cuts them); otherwise, or when none of them passes the uncached re-check, from the
    # engine. Either way the agent is the first, fairest first, that passes the re-check under the
    # agendas' locks.
    agent_id = None
    cached = slotcache.agents_at(
        motif,
        starts_at,
        lieu_id=lieu.pk if lieu is not None else None,
        now=now,
        window_now=displayed_at or now,
        tz=territory.zone,
        zone=holiday_zone(territory),
    )
    if cached:
        agent_id = _free_agent(
            motif, cached, lieu, starts_at, holder_key=holder_key, displayed_at=displayed_at, tz=territory.zone
        )
    if agent_id is None:
        candidates = _slot_agents(motif, lieu, starts_at, holder_key=holder_key, now=displayed_at or now)
        agent_id = _free_agent(
            motif, candidates, lieu, starts_at, holder_key=holder_key, displayed_at=displayed_at, tz=territory.zone
        )
    if agent_id is None:
        raise OnlineError("slot_taken", SLOT_TAKEN, field="debut")
    ends_at = starts_at + timedelta(minutes=motif.default_duration_minutes)
    expires_at = now + timedelta(minutes=territory.online_hold_minutes)
    hold = SlotHold.objects.create(
        motif=motif,
        lieu=lieu,
        agent_id=agent_id,
        starts_at=starts_at,
        ends_at=ends_at,
        holder_key=holder_key,
        expires_at=expires_at,
    )
    slotcache.bump_hold(hold)  # in this transaction: nobody else sees the held slot as free
    return OnlineBooking.objects.create(
        holder_key=holder_key,
        mode=BookingMode.PRESCRIPTEUR if ctx.kind == ActorKind.PRESCRIPTEUR else BookingMode.USAGER,
        organisation=ctx.organisation,
        motif=motif,
        lieu=lieu,
        agent_id=agent_id,
        starts_at=starts_at,
        ends_at=ends_at,
        displayed_at=displayed_at,
        hold=hold,
        hold_expires_at=expires_at,
    )


def booking_for(public_id, holder_key: str) -> OnlineBooking | None:
    """The visitor's booking named in the URL (None when unknown or someone else's)."""
    booking = (
        OnlineBooking.objects.select_related("organisation__territory", "motif", "lieu", "rdv")
        .filter(public_id=public_id)
        .first()
    )
    if booking is None or not holder_key or not constant_time_compare(booking.holder_key, holder_key):
        return None
    return booking


def _open(booking: OnlineBooking, holder_key: str) -> None:
    if not constant_time_compare(booking.holder_key, holder_key or ""):
        raise OnlineError("not_found", BOOKING_CLOSED)
    if not booking.is_open:
        raise OnlineError("booking_closed", BOOKING_CLOSED)


# Who ---------------------------------------------------------------------------------------------


def online_custom_fields(territory) -> list[CustomField]:
    """The espace's custom fields asked online: those marked « demandé lors de la réservation », and
    the required ones (an usager file cannot be created without them)."""
    return list(CustomField.objects.for_territory(territory).active().filter(Q(asked_online=True) | Q(required=True)))


def relatives_allowed(territory) -> bool:
    """Booking for a relative needs the « usager responsable » field, which an espace may hide."""
    return field_visible(territory, "responsible")


def _clean_person(territory, data: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """Names, contact and birth date, cleaned by the usager file's own rules (French errors)."""
    person = {}
    for name in ("first_name", "last_name", "email", "phone", "birth_date"):
        if name == "birth_date" and not territory.usager_field_visible("birth_date"):
            continue
        try:
            value = clean_standard_value(name, data.get(name))
        except DomainError as error:
            raise OnlineError(error.code, error.message, field=prefix + name) from error
        if name == "birth_date":
            value = value.isoformat() if value else None
        person[name] = value
    return person


def _clean_custom(territory, values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = {}
    for field in online_custom_fields(territory):
        try:
            value = clean_custom_value(field, values.get(field.key))
        except DomainError as error:
            raise OnlineError(error.code, error.message, field=field.key) from error
        if value is not None:
            cleaned[field.key] = value
    return cleaned


@transaction.atomic
def submit_prescripteur(booking: OnlineBooking, data: Mapping[str, Any], *, holder_key: str) -> OnlineBooking:
    """Prescripteur mode, first step: who books (name, e-mail — it receives the code —, phone,
    structure)."""
    booking = OnlineBooking.objects.select_for_update().get(pk=booking.pk)
    _open(booking, holder_key)
    if not booking.is_prescripteur:
        raise OnlineError("not_prescripteur", BOOKING_CLOSED)
    name = " ".join(str(data.get("name") or "").split())
    structure = " ".join(str(data.get("structure") or "").split())
    limit = OnlineBooking._meta.get_field("prescripteur_name").max_length
    if not name:
        raise OnlineError("name_required", "Indiquez vos prénom et nom.", field="name")
    if len(name) > limit:
        raise OnlineError("too_long", f"Le nom ne doit pas dépasser {limit} caractères.", field="name")
    if not structure:
        raise OnlineError("structure_required", "Indiquez votre organisation ou structure.", field="structure")
    if len(structure) > limit:
        raise OnlineError("too_long", f"La structure ne doit pas dépasser {limit} caractères.", field="structure")
    try:
        email = clean_standard_value("email", data.get("email"))
        phone = clean_standard_value("phone", data.get("phone"))
    except DomainError as error:
        raise OnlineError(error.code, error.message, field=error.field) from error
    if not email:
        raise OnlineError("email_required", EMAIL_FOR_CODE, field="email")
    booking.prescripteur_name, booking.prescripteur_structure = name, structure
    booking.prescripteur_email, booking.prescripteur_phone = email, phone
    booking.save()
    return booking


def submit_details(
    booking: OnlineBooking,
    data: Mapping[str, Any],
    *,
    holder_key: str,
    custom_values: Mapping[str, Any] | None = None,
    relative: Mapping[str, Any] | None = None,
) -> OnlineBooking:
    """« Vos coordonnées » (or the beneficiary's): clean what was typed, check the limit per e-mail
    or phone, then send the verification code. `custom_values` are keyed by CustomField.key;
    `relative` (usager mode) names the relative the RDV is for."""
    with transaction.atomic():
        booking = (
            OnlineBooking.objects.select_for_update(of=("self",))  # not the organisation, territory and motif rows
            .select_related("organisation__territory", "motif")  # the motif: named in the code's e-mail
            .get(pk=booking.pk)
        )
        _open(booking, holder_key)
        territory = booking.organisation.territory
        if booking.is_prescripteur and not booking.prescripteur_email:
            raise OnlineError("prescripteur_missing", "Indiquez d'abord qui vous êtes (prescripteur).")
        person = _clean_person(territory, data)
        if not person["email"] and not person["phone"]:
            raise OnlineError("contact_required", CONTACT_REQUIRED, field="email")
        if not booking.is_prescripteur and not person["email"]:
            # The code goes by e-mail, or by SMS to a mobile number.
            try:
                normalise_mobile(person["phone"])
            except InvalidMobile:
                raise OnlineError("email_required", CONTACT_FOR_CODE, field="email") from None
        details: dict[str, Any] = {"person": person, "custom": _clean_custom(territory, custom_values or {})}
        if relative is not None:
            if booking.is_prescripteur or not relatives_allowed(territory):
                raise OnlineError(
                    "relative_not_allowed", "La prise de rendez-vous pour un proche n'est pas proposée ici."
                )
            relative_person = _clean_person(territory, {**relative, "email": "", "phone": ""}, prefix="relative_")
            details["relative"] = {
                k: relative_person[k] for k in ("first_name", "last_name", "birth_date") if k in relative_person
            }
        _check_contact_limit(booking, person["email"], person["phone"])
        booking.details = details
        booking.contact_email, booking.contact_phone = person["email"], person["phone"]
        return _send_code(booking)  # which saves the booking, details included (one UPDATE)


def resend_code(booking: OnlineBooking, *, holder_key: str) -> OnlineBooking:
    """A new code (the previous one stops working). The views rate-limit it per IP too."""
    with transaction.atomic():
        booking = (
            OnlineBooking.objects.select_for_update(of=("self",))  # not the organisation and territory rows
            .select_related("organisation__territory")
            .get(pk=booking.pk)
        )
        _open(booking, holder_key)
        if booking.status != BookingStatus.CODE_SENT:
            raise OnlineError("no_code", "Complétez d'abord vos coordonnées.")
        return _send_code(booking)


def _code_hash(booking: OnlineBooking, code: str) -> str:
    return salted_hmac("rdv.online.code", f"{booking.public_id}:{code}", algorithm="sha256").hexdigest()


def _send_code(booking: OnlineBooking) -> OnlineBooking:
    if booking.codes_sent >= CODE_MAX_SENDS:
        raise OnlineError("too_many_codes", TOO_MANY_CODES)
    now = timezone.now()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    booking.code_hash = _code_hash(booking, code)
    booking.code_expires_at = now + CODE_VALIDITY
    booking.code_attempts = 0
    booking.codes_sent += 1
    booking.status = BookingStatus.CODE_SENT
    booking.save()
    territory = booking.organisation.territory
    tz = territory.zone
    minutes = int(CODE_VALIDITY.total_seconds() // 60)
    if booking.code_by_sms:
        enqueue_sms(
            territory=territory,
            organisation=booking.organisation,
            to=booking.code_recipient,
            text=f"Code de confirmation de votre RDV : {code} (valable {minutes} min). Sans demande de votre part, "
            "ignorez ce SMS.",
            purpose=Purpose.OTHER,
            expires_at=booking.code_expires_at,
        )
        return booking
    enqueue_email(
        to=booking.code_recipient,
        subject=f"Votre code de confirmation : {code}",
        text=(
            "Bonjour,\n\n"
            f"Voici votre code pour confirmer le rendez-vous « {booking.motif.name} » du "
            f"{french_moment(booking.starts_at, tz)} :\n\n    {code}\n\n"
            f"Ce code est valable {minutes} minutes. Saisissez-le sur la page de réservation.\n\n"
            "Si vous n'avez pas demandé ce rendez-vous, ignorez ce message : rien ne sera réservé.\n"
        ),
        purpose=Purpose.OTHER,
        territory=territory,
        organisation=booking.organisation,
        expires_at=booking.code_expires_at,
    )
    return booking


# Fairness limits ---------------------------------------------------------------------------------


def upcoming_for_contact(
    motif, email: str, phone: str, *, now: datetime | None = None, territory_id: int | None = None
) -> int:
    """Upcoming, not cancelled RDVs of this motif for this e-mail or phone: the usager's own, their
    relatives' (the responsible's contact), and those booked online with that contact.

    Read from the contact's side, each step on an index (usagers of the motif's espace by e-mail or
    phone, their relatives, then their upcoming RDVs of the motif and those booked online with the
    contact), the distinct RDVs found counted: one query joining every RDV of the motif to its
    usagers took 60 ms of the database for each confirmation of a 50,000-usager espace, and grew with
    the espace."""
    now = now or timezone.now()
    contacts = {field: value for field, value in (("email", email), ("phone", phone)) if value}
    if not contacts:
        return 0
    territory_id = territory_id or motif.organisation.territory_id
    holders = Q(pk__in=[])
    booked = Q(pk__in=[])
    for field, value in contacts.items():
        holders |= Q(**{field: value})
        booked |= Q(**{f"contact_{field}": value})
    people = list(Usager.objects.filter(holders, territory_id=territory_id).values_list("pk", flat=True))
    if people:
        people += Usager.objects.filter(responsible_id__in=people).values_list("pk", flat=True)
    upcoming = Q(rdv__motif=motif, rdv__starts_at__gt=now) & ~Q(rdv__status__in=CANCELLED_STATUSES)
    rdv_ids = set(OnlineBooking.objects.filter(booked, upcoming, motif=motif).values_list("rdv_id", flat=True))
    if people:  # their upcoming RDVs of the motif only: not an usager's whole history
        rdv_ids.update(Participation.objects.filter(upcoming, usager_id__in=people).values_list("rdv_id", flat=True))
    return len(rdv_ids)


def _check_contact_limit(booking: OnlineBooking, email: str, phone: str) -> None:
    limit = booking.organisation.territory.online_max_upcoming_per_contact
    count = upcoming_for_contact(booking.motif, email, phone, territory_id=booking.organisation.territory_id)
    if count >= limit:
        raise OnlineError("contact_limit", CONTACT_LIMIT.format(count=count), field="email")


def _count_ip(territory, ip: str) -> None:
    """One booking more from this IP today (the espace's calendar day): refused beyond the espace's
    limit. Counted inside the booking's transaction, so a refused booking counts nothing."""
    decision = hit(
        f"online:bookings-per-ip:{territory.pk}:{ip or 'inconnue'}",
        limit=territory.online_max_bookings_per_ip_per_day,
        period=24 * 3600,
        day_in=territory.zone,
    )
    if not decision.allowed:
        raise OnlineError("ip_limit", IP_LIMIT)


# Confirm -----------------------------------------------------------------------------------------


def _matching(queryset, person: Mapping[str, Any]):
    """Files with the same names (accents and case ignored) and no conflicting birth date: a file
    with a birth date matches only the same birth date."""
    queryset = queryset.filter(
        last_name_key=normalise_text(person["last_name"])[:150],
        first_name_key=normalise_text(person["first_name"])[:150],
    )
    birth_date = person.get("birth_date")
    if birth_date:
        return queryset.filter(Q(birth_date=birth_date) | Q(birth_date__isnull=True))
    return queryset.filter(birth_date__isnull=True)


def _unique(queryset) -> Usager | None:
    found = list(queryset[:2])
    return found[0] if len(found) == 1 else None


def find_existing_usager(territory, person: Mapping[str, Any]) -> Usager | None:
    """The usager file this booking may reuse: exactly one file of the espace with the verified
    e-mail, the same names and no conflicting birth date, not itself a relative. Anything else
    (no e-mail, several files, a doubt) creates a new file: a booking is never attached to somebody
    else's file, and nothing of a found file is shown to the visitor."""
    if not person.get("email"):
        return None
    queryset = Usager.objects.filter(territory=territory, email=person["email"], responsible__isnull=True)
    return _unique(_matching(queryset, person))


def _usager_data(person: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in person.items() if value not in (None, "")}


def _custom_objects(territory, custom: Mapping[str, Any]) -> dict[CustomField, Any]:
    fields = {field.key: field for field in online_custom_fields(territory)}
    return {fields[key]: value for key, value in custom.items() if key in fields}


def _request(booking: OnlineBooking, usagers) -> BookingRequest:
    request = BookingRequest(
        motif=booking.motif,
        starts_at=booking.starts_at,
        agents=[booking.agent],
        usagers=list(usagers),
        lieu=booking.lieu,
        holder_key=booking.holder_key,
        displayed_at=booking.displayed_at,
    )
    return request


def _book(booking: OnlineBooking) -> tuple[Rdv, Usager]:
    """Create (or find) the usager files and book, with the public context of the booking's mode."""
    organisation = booking.organisation
    territory = organisation.territory
    details = booking.details or {}
    person = details.get("person", {})
    custom = _custom_objects(territory, details.get("custom", {}))
    data = _usager_data(person)
    if booking.is_prescripteur:
        label = f"Prescripteur : {booking.prescripteur_name} ({booking.prescripteur_structure})"
        ctx = Context.public(organisation, kind=ActorKind.PRESCRIPTEUR, label=label)
        return book_rdv_for_new_usager(ctx, data, _request(booking, []), custom_values=custom)
    ctx = Context.public(organisation, kind=ActorKind.USAGER)
    existing = find_existing_usager(territory, person)
    relative = details.get("relative")
    if relative:
        responsible = existing or create_usager(ctx, data, custom)
        ctx = dataclasses.replace(ctx, usager=responsible, label=responsible.full_name)
        found = _unique(_matching(responsible.relatives.all(), relative))
        usager = found or create_usager(ctx, _usager_data(relative), custom, responsible=responsible)
        return book_rdv(ctx, _request(booking, [usager])), usager
    if existing is not None:
        ctx = dataclasses.replace(ctx, usager=existing, label=existing.full_name)
        return book_rdv(ctx, _request(booking, [existing])), existing
    return book_rdv_for_new_usager(ctx, data, _request(booking, []), custom_values=custom)


def confirm_booking(booking: OnlineBooking, code: str, *, holder_key: str, ip: str = "") -> OnlineBooking:
    """Check the code and book, once. The booking row is locked: a double submit (even concurrent)
    waits, then finds the booking confirmed and returns it (one RDV). A wrong code counts a try
    (kept even though the call raises). When the slot was taken meanwhile, or a fairness limit
    refuses, nothing is created and the hold is released. On success the confirmed booking carries
    `manage_token` (the manage link's token, shown once)."""
    code = re.sub(r"\s", "", str(code or ""))
    error: DomainError | None = None
    with transaction.atomic():
        booking = (
            OnlineBooking.objects.select_for_update(of=("self",))
            .select_related("organisation__territory", "motif", "lieu", "agent")
            .get(pk=booking.pk)
        )
        if not constant_time_compare(booking.holder_key, holder_key or ""):
            raise OnlineError("not_found", BOOKING_CLOSED)
        if booking.status == BookingStatus.CONFIRMED:
            return booking
        if booking.status != BookingStatus.CODE_SENT:
            raise OnlineError("booking_closed", BOOKING_CLOSED)
        now = timezone.now()
        if booking.code_attempts >= CODE_MAX_ATTEMPTS:
            error = OnlineError("too_many_tries", TOO_MANY_TRIES, field="code")
        elif booking.code_expires_at is None or now >= booking.code_expires_at:
            error = OnlineError("code_expired", CODE_EXPIRED, field="code")
        elif not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code) or not constant_time_compare(
            booking.code_hash, _code_hash(booking, code)
        ):
            booking.code_attempts += 1
            booking.save(update_fields=["code_attempts", "updated_at"])
            left = CODE_MAX_ATTEMPTS - booking.code_attempts
            error = (
                OnlineError("wrong_code", WRONG_CODE.format(left=left, plural="s" if left > 1 else ""), field="code")
                if left
                else OnlineError("too_many_tries", TOO_MANY_TRIES, field="code")
            )
        else:
            error = _confirm(booking, ip)
    if error is not None:
        raise error
    return booking


def _confirm(booking: OnlineBooking, ip: str) -> DomainError | None:
    """Inside the locked transaction: limits, files, RDV, manage link, e-mails (all or nothing)."""
    territory = booking.organisation.territory
    try:
        with transaction.atomic():  # savepoint: a refusal leaves no file, no RDV, no count
            _check_contact_limit(booking, booking.contact_email, booking.contact_phone)
            _count_ip(territory, ip)
            rdv, usager = _book(booking)
            token = manage_token(rdv, usager)  # the link a notification of the booking may have made
            booking.status, booking.rdv, booking.usager = BookingStatus.CONFIRMED, rdv, usager
            booking.code_hash, booking.confirmed_at, booking.hold = "", timezone.now(), None
            booking.save()
            release_holds(booking.holder_key)
            _email_confirmation(booking, token)
            booking.manage_token = token  # type: ignore[attr-defined]
    except DomainError as error:
        taken = error.code == "slot_taken"
        booking.status = BookingStatus.SLOT_TAKEN if taken else BookingStatus.ABANDONED
        booking.code_hash, booking.hold, booking.rdv, booking.usager, booking.confirmed_at = "", None, None, None, None
        booking.save()
        release_holds(booking.holder_key)
        return OnlineError("slot_taken", SLOT_TAKEN, field="debut") if taken else error
    return None


# Confirmation e-mail -----------------------------------------------------------------------------


def place_lines(rdv: Rdv) -> list[str]:
    """Where the RDV happens, as the usager reads it (no agent name)."""
    motif = rdv.motif
    if motif.location_type == LocationType.PUBLIC_OFFICE and rdv.lieu_id:
        lines = [f"Lieu : {rdv.lieu.name}, {rdv.lieu.address}", f"Plan : {map_url(rdv.lieu)}"]
        if rdv.lieu.phone:
            lines.append(f"Téléphone du lieu : {rdv.lieu.phone}")
        return lines
    if motif.location_type == LocationType.PHONE:
        return ["Rendez-vous par téléphone : le service vous appellera."]
    if motif.location_type == LocationType.VISIO:
        return ["Rendez-vous en visioconférence : le lien vous sera communiqué par le service."]
    return ["Rendez-vous à domicile."]


def manage_url(token: str) -> str:
    return settings.SITE_URL + reverse("public:manage", args=[token])


def _email_confirmation(booking: OnlineBooking, token: str) -> None:
    """The confirmation to the person booked for (their e-mail, or the responsible's for a relative)
    and, in prescripteur mode, a copy to the prescripteur. Same facts as the confirmation page; never
    the Contexte."""
    rdv, territory = booking.rdv, booking.organisation.territory
    tz = territory.zone
    motif = rdv.motif
    url = manage_url(token)
    instructions = motif.instructions_after or ""
    facts = [
        f"Rendez-vous : {motif.name}",
        f"Date : {french_moment(rdv.starts_at, tz)} ({territory.clock_name})",
        *place_lines(rdv),
    ]
    text = list(facts)
    if instructions:
        text += ["", "Informations pour votre rendez-vous :", strip_tags(instructions).strip()]
    text += ["", f"Pour voir, déplacer ou annuler ce rendez-vous : {url}"]
    html = format_html(
        '<ul>{}</ul>{}<p><a href="{}">Voir, déplacer ou annuler ce rendez-vous</a></p>',
        format_html_join("", "<li>{}</li>", ((line,) for line in facts)),
        # Instructions are sanitised HTML (rdv.motifs.sanitize), rendered as is.
        mark_safe(f"<h2>Informations pour votre rendez-vous</h2>{instructions}") if instructions else "",  # noqa: S308
        url,
    )
    attachment = {
        "filename": "rendez-vous.ics",
        "mimetype": "text/calendar",
        "content_base64": base64.b64encode(rdv_ics(rdv)).decode(),
    }
    person = (booking.details or {}).get("person", {})
    beneficiary = booking.usager
    recipients = []
    if booking.contact_email:
        greeting = f"Bonjour {person.get('first_name', '')},".replace(" ,", ",")
        if booking.is_prescripteur:
            intro = f"{booking.prescripteur_name} ({booking.prescripteur_structure}) a pris pour vous ce rendez-vous."
        elif (booking.details or {}).get("relative"):
            intro = f"Vous avez pris ce rendez-vous pour {beneficiary.full_name}."
        else:
            intro = "Votre rendez-vous est confirmé."
        recipients.append((booking.contact_email, greeting, intro))
    if booking.is_prescripteur:
        recipients.append(
            (
                booking.prescripteur_email,
                f"Bonjour {booking.prescripteur_name},",
                f"Copie de la confirmation du rendez-vous pris pour {beneficiary.full_name}.",
            )
        )
    for to, greeting, intro in recipients:
        enqueue_email(
            to=to,
            subject=f"Rendez-vous confirmé le {french_date(timezone.localtime(rdv.starts_at, tz).date())}",
            text="\n".join([greeting, "", intro, "", *text]) + "\n",
            html=format_html("<p>{}</p><p>{}</p>{}", greeting, intro, html),
            attachments=[attachment],
            purpose=Purpose.OTHER,
            about=rdv,
            territory=territory,
            organisation=booking.organisation,
            expires_at=rdv.starts_at,
        )


# Manage link -------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


DERIVED_TOKEN_LENGTH = 22  # 132 bits: unguessable, and short enough for a one-segment SMS


def _derived_token(salt: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"manage-link:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:DERIVED_TOKEN_LENGTH]


def _create_manage_link(rdv: Rdv, usager: Usager) -> str:
    salt = secrets.token_urlsafe(MANAGE_TOKEN_BYTES)
    token = _derived_token(salt)
    ManageLink.objects.create(rdv=rdv, usager=usager, token_hash=_token_hash(token), token_salt=salt)
    return token


def manage_token(rdv: Rdv, usager: Usager) -> str:
    """The token of the usager's valid link to this RDV (the same one every time, so every e-mail
    about the RDV carries the same link), created if there is none. Revoked and expired links are
    never given again."""
    now = timezone.now()
    link = (
        ManageLink.objects.filter(rdv=rdv, usager=usager, revoked_at__isnull=True)
        .exclude(token_salt="")
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-id")
        .first()
    )
    return _derived_token(link.token_salt) if link is not None else _create_manage_link(rdv, usager)


def token_digest(token: str) -> str:
    """A short, non-secret name of a token for rate-limit keys (never the token itself)."""
    return _token_hash(token or "")[:16]


def manage_link(token: str) -> ManageLink | None:
    """The valid link of this token: known, not revoked, not past its expiry nor 30 days after the
    RDV ended. None otherwise (one answer for every reason)."""
    if not token or len(token) > 200:
        return None
    link = (
        ManageLink.objects.select_related(
            "rdv__motif", "rdv__lieu", "rdv__organisation__territory", "usager__responsible"
        )
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if link is None or not link_is_active(link, link.rdv):
        return None
    return link


def link_is_active(link: ManageLink, rdv: Rdv, *, now: datetime | None = None) -> bool:
    """Whether the link opens its RDV: not revoked, not past its expiry nor 30 days after the RDV."""
    now = now or timezone.now()
    if link.revoked_at is not None:
        return False
    if link.expires_at is not None and now >= link.expires_at:
        return False
    return now < rdv.ends_at + timedelta(days=MANAGE_LINK_DAYS_AFTER_RDV)


def active_manage_links(ctx: Context, rdv: Rdv) -> list[ManageLink]:
    """The RDV's links that still open it (one per person booked online), for the agents who may
    revoke them; `rdv` comes from the agent's scope (rdv.bookings.policies). One query."""
    if not ctx.is_member:
        return []
    links = ManageLink.objects.filter(rdv=rdv, revoked_at__isnull=True).select_related("usager").order_by("created_at")
    return [link for link in links if link_is_active(link, rdv)]


def _three_letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", normalise_text(text))[:3]


def letters_match(link: ManageLink | None, letters: str) -> bool:
    """The first three letters of the last name (accents, case, spaces and hyphens ignored) of the
    person the RDV is for, or of their responsible (who received the link)."""
    typed = _three_letters(letters or "")
    if link is None or not typed:
        return False
    names = [link.usager.last_name]
    if link.usager.responsible_id:
        names.append(link.usager.responsible.last_name)
    return any(constant_time_compare(typed, _three_letters(name)) for name in names if _three_letters(name))


@transaction.atomic
def revoke_manage_link(ctx: Context, link: ManageLink) -> None:
    """Agents who may change the RDV revoke its link (e.g. sent to a wrong address)."""
    require(booking_policies.can_change(ctx, link.rdv))
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        log_action(ctx.actor, "rdv.manage_link_revoked", link.rdv, {})


def manage_context(link: ManageLink) -> Context:
    """The person booked for, acting online on their RDV."""
    return Context.public(link.rdv.organisation, kind=ActorKind.USAGER, usager=link.usager)


def can_cancel_online(link: ManageLink, *, now: datetime | None = None) -> bool:
    rdv = link.rdv
    return booking_policies.can_cancel(manage_context(link), rdv, now=now)


def can_move_online(link: ManageLink, *, now: datetime | None = None) -> bool:
    rdv = link.rdv
    return booking_policies.can_move(manage_context(link), rdv, now=now)


def cancel_online(link: ManageLink) -> Rdv:
    """« Annuler » from the manage link: rdv.bookings.services.cancel_rdv with the usager's context
    (the motif must allow it, before the espace's deadline)."""
    return cancel_rdv(manage_context(link), link.rdv)


def move_online(link: ManageLink, new_start: datetime | None) -> Rdv:
    """« Déplacer »: rdv.bookings.services.move_rdv with the usager's context: same agents and lieu,
    online rules; atomic (the old time is freed only if the new one is taken)."""
    try:
        return move_rdv(manage_context(link), link.rdv, new_start)
    except BookingError as error:
        if error.code == "slot_taken":
            raise OnlineError("slot_taken", SLOT_TAKEN, field="debut") from error
        raise


def move_slots(link: ManageLink, start_date, end_date) -> list:
    """The free times to move this RDV to: the same motif, agents and lieu, online rules."""
    rdv = link.rdv
    territory = rdv.organisation.territory
    agent_ids = list(rdv.agent_links.values_list("agent_id", flat=True))
    slots = find_slots(
        [rdv.motif],
        start_date,
        end_date,
        online=True,
        agent_ids=agent_ids,
        lieu_ids=[rdv.lieu_id] if rdv.lieu_id else None,
        holiday_zone=holiday_zone(territory),
        tz=territory.zone,
        exclude_rdv_ids=[rdv.pk],
    )[rdv.motif_id]
    return [slot for slot in slots if set(agent_ids) <= set(slot.agent_ids) and slot.start != rdv.starts_at]
