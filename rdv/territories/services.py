"""Espace administration operations: organisations, service activation and espace settings.

Every function takes the actor's context first and refuses ("forbidden") unless the context
administers the espace (rdv.territories.policies)."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.errors import DomainError
from rdv.territories.models import (
    RDV_OPTIONAL_FIELDS,
    USAGER_OPTIONAL_FIELDS,
    HolidayZone,
    Organisation,
    SectorCode,
    Service,
    Territory,
    TerritoryService,
    TimeZone,
    WaitingRoomNotification,
    time_zone_of_departement,
)
from rdv.territories.origins import MAX_ORIGINS, parse_origins
from rdv.territories.policies import can_administer, can_change_organisation, can_manage_sector_codes
from rdv.territories.sectors import SectorLine, errors_message, parse_lines

NAME_MAX_LENGTH = Organisation._meta.get_field("name").max_length
assert Territory._meta.get_field("name").max_length == NAME_MAX_LENGTH


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("name_required", "Le nom est obligatoire.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError("name_too_long", f"Le nom ne doit pas dépasser {NAME_MAX_LENGTH} caractères.", field="name")
    return name


def _check_unique_organisation_name(territory: Territory, name: str, exclude_pk=None) -> None:
    clash = Organisation.objects.filter(territory=territory, name__iexact=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise DomainError(
            "organisation_name_taken",
            f"Une organisation nommée « {name} » existe déjà dans cet espace.",
            field="name",
        )


@transaction.atomic
def create_territory(ctx: Context, name: str, departement_number: str = "", time_zone: str = "") -> Territory:
    """A new espace: platform operators only (Context.operator(): command line and admin site). Its
    time zone defaults from the département."""
    require(ctx.is_system and ctx.territory is None)
    name = _clean_name(name)
    if Territory.objects.filter(name__iexact=name).exists():
        raise DomainError("territory_name_taken", f"Un espace nommé « {name} » existe déjà.", field="name")
    departement_number = (departement_number or "").strip()[:3]
    time_zone = time_zone or time_zone_of_departement(departement_number)
    if time_zone not in TimeZone.values:
        raise DomainError("time_zone_invalid", "Choisissez un fuseau horaire proposé.", field="time_zone")
    territory = Territory.objects.create(name=name, departement_number=departement_number, time_zone=time_zone)
    log_action(ctx.actor, "territory.created", territory, {"name": name, "time_zone": TimeZone(time_zone).label})
    return territory


@transaction.atomic
def create_organisation(ctx: Context, name: str) -> Organisation:
    require(can_administer(ctx))
    territory = ctx.territory
    name = _clean_name(name)
    _check_unique_organisation_name(territory, name)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(territory=territory, name=name)
    except IntegrityError as exc:  # a concurrent creation won the race
        raise DomainError(
            "organisation_name_taken", f"Une organisation nommée « {name} » existe déjà.", field="name"
        ) from exc
    log_action(ctx.actor, "organisation.created", organisation, {"name": name})
    return organisation


@transaction.atomic
def rename_organisation(ctx: Context, organisation: Organisation, name: str) -> Organisation:
    require(can_change_organisation(ctx, organisation))
    name = _clean_name(name)
    if name == organisation.name:
        return organisation
    _check_unique_organisation_name(organisation.territory, name, exclude_pk=organisation.pk)
    old = organisation.name
    organisation.name = name
    organisation.save(update_fields=["name"])
    log_action(ctx.actor, "organisation.renamed", organisation, {"name": [old, name]})
    return organisation


@transaction.atomic
def activate_service(ctx: Context, service: Service) -> bool:
    """Returns False when the service was already active."""
    require(can_administer(ctx))
    territory = ctx.territory
    _, created = TerritoryService.objects.get_or_create(territory=territory, service=service)
    if created:
        log_action(ctx.actor, "service.activated", territory, {"service": service.name})
    return created


@transaction.atomic
def deactivate_service(ctx: Context, service: Service) -> bool:
    """Agents keep their existing assignments (flagged in the agent list); new ones are refused."""
    require(can_administer(ctx))
    territory = ctx.territory
    deleted, _ = TerritoryService.objects.filter(territory=territory, service=service).delete()
    if deleted:
        log_action(ctx.actor, "service.deactivated", territory, {"service": service.name})
    return bool(deleted)


# Espace settings ----------------------------------------------------------------------------


def _locked(territory: Territory) -> Territory:
    return Territory.objects.select_for_update().get(pk=territory.pk)


@transaction.atomic
def set_hidden_usager_fields(ctx: Context, hidden: list[str]) -> dict:
    """Hide these standard usager fields in every organisation of the espace; show the others.

    Stored values are kept: a field shown again displays what was typed before. Returns the changes."""
    require(can_administer(ctx))
    territory = ctx.territory
    unknown = sorted(set(hidden) - set(USAGER_OPTIONAL_FIELDS))
    if unknown:
        raise DomainError(
            "unknown_usager_field", "Champ inconnu de la fiche usager : " + ", ".join(unknown) + ".", field="hidden"
        )
    locked = _locked(territory)
    old = set(locked.hidden_usager_fields or [])
    new = set(hidden)
    # Keep the catalogue's order, so the stored list is stable.
    locked.hidden_usager_fields = [name for name in USAGER_OPTIONAL_FIELDS if name in new]
    changes = {
        name: ["masqué" if name in old else "affiché", "masqué" if name in new else "affiché"]
        for name in USAGER_OPTIONAL_FIELDS
        if (name in old) != (name in new)
    }
    if changes:
        locked.save(update_fields=["hidden_usager_fields"])
        log_action(ctx.actor, "territory.usager_fields_updated", locked, changes)
    territory.hidden_usager_fields = locked.hidden_usager_fields
    return changes


@transaction.atomic
def set_usagers_visible_territory_wide(ctx: Context, visible: bool) -> bool:
    """Let agents find usagers of every organisation of the espace (and add them to theirs).

    Returns True when the setting changed."""
    require(can_administer(ctx))
    territory = ctx.territory
    locked = _locked(territory)
    old = locked.usagers_visible_territory_wide
    if old == bool(visible):
        return False
    locked.usagers_visible_territory_wide = bool(visible)
    locked.save(update_fields=["usagers_visible_territory_wide"])
    log_action(
        ctx.actor,
        "territory.usager_visibility_updated",
        locked,
        {"usagers_visible_territory_wide": [old, bool(visible)]},
    )
    territory.usagers_visible_territory_wide = bool(visible)
    return True


@transaction.atomic
def set_rdv_fields_enabled(ctx: Context, enabled: dict[str, bool]) -> dict:
    """Switch optional RDV fields on or off, e.g. {"context": False}.

    A field switched off is hidden everywhere; what was typed stays stored and reappears when it is
    switched on again. Returns the changes."""
    require(can_administer(ctx))
    territory = ctx.territory
    unknown = sorted(set(enabled) - set(RDV_OPTIONAL_FIELDS))
    if unknown:
        raise DomainError("unknown_rdv_field", "Champ inconnu de la fiche RDV : " + ", ".join(unknown) + ".")
    locked = _locked(territory)
    changes = {}
    for name, value in enabled.items():
        attribute, _ = RDV_OPTIONAL_FIELDS[name]
        old = getattr(locked, attribute)
        if old != bool(value):
            setattr(locked, attribute, bool(value))
            setattr(territory, attribute, bool(value))
            changes[attribute] = [old, bool(value)]
    if changes:
        locked.save(update_fields=list(changes))
        log_action(ctx.actor, "territory.rdv_fields_updated", locked, changes)
    return changes


@transaction.atomic
def set_waiting_room_notification(ctx: Context, mode: str) -> bool:
    """How agents are told that an usager is in the waiting room. Returns True when it changed."""
    require(can_administer(ctx))
    territory = ctx.territory
    if mode not in WaitingRoomNotification.values:
        raise DomainError(
            "invalid_waiting_room_mode",
            "Choisissez un mode de notification proposé.",
            field="waiting_room_notification",
        )
    locked = _locked(territory)
    old = locked.waiting_room_notification
    if old == mode:
        return False
    locked.waiting_room_notification = mode
    locked.save(update_fields=["waiting_room_notification"])
    log_action(
        ctx.actor,
        "territory.waiting_room_updated",
        locked,
        {"waiting_room_notification": [WaitingRoomNotification(old).label, WaitingRoomNotification(mode).label]},
    )
    territory.waiting_room_notification = mode
    return True


@transaction.atomic
def set_holiday_zone(ctx: Context, zone: str) -> bool:
    """Which public holidays close the agendas of the espace. Returns True when it changed."""
    require(can_administer(ctx))
    territory = ctx.territory
    if zone not in HolidayZone.values:
        raise DomainError("invalid_holiday_zone", "Choisissez une zone proposée.", field="holiday_zone")
    locked = _locked(territory)
    old = locked.holiday_zone
    if old == zone:
        return False
    locked.holiday_zone = zone
    locked.save(update_fields=["holiday_zone"])
    log_action(
        ctx.actor,
        "territory.holiday_zone_updated",
        locked,
        {"holiday_zone": [HolidayZone(old).label, HolidayZone(zone).label]},
    )
    territory.holiday_zone = zone
    return True


# Online booking settings --------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    minimum: int
    maximum: int
    unit: str  # « minutes », « heures », « rendez-vous »…
    what: str  # how the error message names the setting

    def message(self) -> str:
        return f"{self.what} : saisissez un nombre entier entre {self.minimum} et {self.maximum} {self.unit}."


# Territory attribute -> its bounds. Forms and services read them here.
ONLINE_BOOKING_BOUNDS: dict[str, Bound] = {
    "online_hold_minutes": Bound(2, 60, "minutes", "La durée de réservation provisoire"),
    "online_max_upcoming_per_contact": Bound(1, 50, "rendez-vous", "Le nombre de rendez-vous à venir par contact"),
    "online_max_bookings_per_ip_per_day": Bound(
        1, 1000, "réservations", "Le nombre de réservations par adresse IP et par jour"
    ),
    "online_cancel_min_hours": Bound(0, 168, "heures", "Le délai d'annulation"),
    "online_move_min_hours": Bound(0, 720, "heures", "Le délai de déplacement"),
}


def _clean_bounded(name: str, value) -> int:
    bound = ONLINE_BOOKING_BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not bound.minimum <= value <= bound.maximum:
        raise DomainError(f"{name}_out_of_bounds", bound.message(), field=name)
    return value


def clean_embedding_origins(text: str) -> list[str]:
    """The normalised origins of the textarea, or DomainError naming each refused line."""
    origins, errors = parse_origins(text)
    if errors:
        raise DomainError("embedding_origins_invalid", errors_message(errors), field="embedding_origins")
    return origins


@transaction.atomic
def set_online_booking_settings(
    ctx: Context,
    *,
    online_hold_minutes: int,
    online_max_upcoming_per_contact: int,
    online_max_bookings_per_ip_per_day: int,
    online_cancel_min_hours: int,
    online_move_min_hours: int,
    embedding_origins: str,
) -> dict:
    """The espace's online booking rules (holds, fairness limits, how late usagers may cancel or
    move) and the sites allowed to embed the public pages (one origin per line, at most
    MAX_ORIGINS). All or nothing; returns the changes."""
    require(can_administer(ctx))
    territory = ctx.territory
    values = {
        "online_hold_minutes": online_hold_minutes,
        "online_max_upcoming_per_contact": online_max_upcoming_per_contact,
        "online_max_bookings_per_ip_per_day": online_max_bookings_per_ip_per_day,
        "online_cancel_min_hours": online_cancel_min_hours,
        "online_move_min_hours": online_move_min_hours,
    }
    values = {name: _clean_bounded(name, value) for name, value in values.items()}
    origins = clean_embedding_origins(embedding_origins)
    assert len(origins) <= MAX_ORIGINS
    values["embedding_origins"] = "\n".join(origins)
    locked = _locked(territory)
    changes = {}
    for name, value in values.items():
        old = getattr(locked, name)
        if old != value:
            if name == "embedding_origins":
                changes[name] = [", ".join(old.splitlines()) or None, ", ".join(origins) or None]
            else:
                changes[name] = [old, value]
            setattr(locked, name, value)
            setattr(territory, name, value)
    if changes:
        locked.save(update_fields=list(changes))
        log_action(ctx.actor, "territory.online_booking_updated", locked, changes)
    return changes


# Sectorisation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectorCodesAdded:
    added: list[SectorCode]
    already_present: list[SectorLine]


@transaction.atomic
def add_sector_codes(ctx: Context, organisation: Organisation, text: str) -> SectorCodesAdded:
    """Add the codes of the textarea to the organisation's sectorisation: one code per line
    (5-digit postal code or INSEE code, 2A/2B in Corsica), optionally followed by the commune
    (« 26000 Valence »). Any refused line: nothing is added, the message names each line. Codes
    already present (same code, same commune up to case and accents) are left as they are."""
    require(can_manage_sector_codes(ctx, organisation))
    entries, errors = parse_lines(text)
    if errors:
        raise DomainError("sector_codes_invalid", errors_message(errors), field="codes")
    if not entries:
        raise DomainError(
            "sector_codes_required",
            "Saisissez au moins un code postal ou un code INSEE, par exemple « 26000 Valence ».",
            field="codes",
        )
    # Lock the organisation: two admins adding the same codes at once add them once.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    existing = {
        (code, key)
        for code, key in SectorCode.objects.filter(
            organisation=organisation, code__in={entry.code for entry in entries}
        ).values_list("code", "commune_key")
    }
    new = [entry for entry in entries if entry.key not in existing]
    present = [entry for entry in entries if entry.key in existing]
    rows = [
        SectorCode(organisation=organisation, code=entry.code, commune=entry.commune, commune_key=entry.key[1])
        for entry in new
    ]
    if rows:
        try:
            with transaction.atomic():
                SectorCode.objects.bulk_create(rows)
        except IntegrityError as exc:  # a concurrent addition won the race
            raise DomainError(
                "sector_code_taken", "Ces codes viennent d'être ajoutés par quelqu'un d'autre : rechargez la page."
            ) from exc
        log_action(
            ctx.actor,
            "sector_codes.added",
            organisation,
            {"sector_codes": [str(entry) for entry in new]},
        )
    return SectorCodesAdded(added=rows, already_present=present)


@transaction.atomic
def delete_sector_code(ctx: Context, sector_code: SectorCode) -> bool:
    """Remove one code from its organisation's sectorisation. Returns False when it was already gone."""
    organisation = sector_code.organisation
    require(can_manage_sector_codes(ctx, organisation))
    deleted, _ = SectorCode.objects.filter(pk=sector_code.pk, organisation=organisation).delete()
    if deleted:
        log_action(ctx.actor, "sector_codes.deleted", organisation, {"sector_codes": [str(sector_code)]})
    return bool(deleted)


REMINDER_MAX_HOURS = 14 * 24


def set_reminders(ctx: Context, first_hours: int, second_hours: int | None) -> dict:
    """When usagers are reminded of their RDVs: `first_hours` before (48 by default), and optionally
    a second time, closer to the RDV. Returns what changed."""
    require(can_administer(ctx))
    if not isinstance(first_hours, int) or not 1 <= first_hours <= REMINDER_MAX_HOURS:
        raise DomainError(
            "invalid_reminder",
            f"Le premier rappel doit être envoyé de 1 à {REMINDER_MAX_HOURS} heures avant.",
            field="reminder_first_hours",
        )
    if second_hours is not None:
        if not isinstance(second_hours, int) or not 1 <= second_hours <= REMINDER_MAX_HOURS:
            raise DomainError(
                "invalid_reminder",
                f"Le second rappel doit être envoyé de 1 à {REMINDER_MAX_HOURS} heures avant.",
                field="reminder_second_hours",
            )
        if second_hours >= first_hours:
            raise DomainError(
                "invalid_reminder",
                "Le second rappel doit être plus proche du rendez-vous que le premier.",
                field="reminder_second_hours",
            )
    locked = _locked(ctx.territory)
    changes = {}
    if locked.reminder_first_hours != first_hours:
        changes["reminder_first_hours"] = [locked.reminder_first_hours, first_hours]
    if locked.reminder_second_hours != second_hours:
        changes["reminder_second_hours"] = [locked.reminder_second_hours, second_hours]
    if changes:
        locked.reminder_first_hours, locked.reminder_second_hours = first_hours, second_hours
        locked.save(update_fields=["reminder_first_hours", "reminder_second_hours"])
        log_action(ctx.actor, "territory.reminders_updated", locked, changes)
        ctx.territory.reminder_first_hours, ctx.territory.reminder_second_hours = first_hours, second_hours
    return changes
