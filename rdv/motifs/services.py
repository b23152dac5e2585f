"""Motif operations: the only code that creates or changes motifs.

Every function takes the actor's context first and refuses ("forbidden") what
rdv.motifs.policies does not allow; it runs in one transaction, checks every rule itself (so no
path can bypass one), raises `DomainError` with a French message, and records the change with
`log_action`.
`data` arguments are mappings of model field names (as the forms' cleaned data).
"""

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.errors import DomainError
from rdv.motifs import policies
from rdv.motifs.models import (
    BOOKABLE_BY_USAGERS,
    INSTRUCTIONS_MAX_LENGTH,
    MAX_BOOKING_DELAY_CEILING_MINUTES,
    MAX_DURATION_MINUTES,
    MAX_PARTICIPANTS_CEILING,
    MIN_BOOKING_DELAY_FLOOR_MINUTES,
    BookableBy,
    LocationType,
    Motif,
    Visibility,
)
from rdv.motifs.sanitize import rich_text_for_editing, sanitize_rich_text
from rdv.territories.models import Organisation, Service, Territory

CONFIGURATION_FIELDS = (
    "name",
    "color",
    "default_duration_minutes",
    "location_type",
    "service",
    "collective",
    "max_participants",
    "follow_up",
    "for_secretariat",
    "bookable_by",
)
ONLINE_BOOKING_FIELDS = (
    "bookable_online",
    "min_booking_delay_minutes",
    "max_booking_delay_minutes",
    "usager_can_move",
    "usager_can_cancel",
    "visibility",
)
INSTRUCTION_FIELDS = ("instructions_before", "instructions_after", "cancellation_warning")
NAME_MAX_LENGTH = Motif._meta.get_field("name").max_length
COLOR_RE = re.compile(r"^#[0-9a-f]{6}$")
COPY_SUFFIX = " (copie)"


# The lock on type and "collective" --------------------------------------------------------


def motif_has_rdvs(motif: Motif) -> bool:
    """True once any RDV uses the motif (its type and "collective" are then locked)."""
    return motif.pk is not None and motif.rdvs.exists()


# Validation -----------------------------------------------------------------------------


def _as_int(value: Any, code: str, message: str, field: str) -> int:
    if isinstance(value, bool):
        raise DomainError(code, message, field=field)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(code, message, field=field) from None


def _clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise DomainError("name_required", "Le nom du motif est obligatoire.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError("name_too_long", f"Le nom ne doit pas dépasser {NAME_MAX_LENGTH} caractères.", field="name")
    return name


def _clean_color(value: Any) -> str:
    color = str(value or "").strip().lower()
    if not color:
        raise DomainError("color_required", "La couleur est obligatoire.", field="color")
    if not COLOR_RE.match(color):
        raise DomainError(
            "color_invalid",
            "La couleur doit être un code hexadécimal de la forme #1a2b3c.",
            field="color",
        )
    return color


def _clean_duration(value: Any) -> int:
    message = "La durée par défaut doit être un nombre entier de minutes, supérieur à zéro."
    duration = _as_int(value, "duration_invalid", message, "default_duration_minutes")
    if duration < 1:
        raise DomainError("duration_invalid", message, field="default_duration_minutes")
    if duration > MAX_DURATION_MINUTES:
        raise DomainError(
            "duration_too_long",
            f"La durée par défaut ne peut pas dépasser une journée ({MAX_DURATION_MINUTES} minutes).",
            field="default_duration_minutes",
        )
    return duration


def _clean_choice(value: Any, choices, code: str, message: str, field: str) -> str:
    if value not in choices.values:
        raise DomainError(code, message, field=field)
    return str(value)


def _clean_service(territory: Territory, service: Any, current: Motif | None) -> Service:
    if not isinstance(service, Service):
        raise DomainError("service_required", "Choisissez le service du motif.", field="service")
    unchanged = current is not None and current.service_id == service.pk
    if not unchanged and not Service.objects.active_in(territory).filter(pk=service.pk).exists():
        raise DomainError(
            "service_inactive", f"Le service « {service.name} » n'est pas activé dans l'espace.", field="service"
        )
    if service.is_secretariat:
        raise DomainError(
            "service_is_secretariat",
            "Un motif ne peut pas être rattaché au secrétariat : choisissez le service métier "
            "et cochez « Ouvert au secrétariat ».",
            field="service",
        )
    return service


def clean_configuration(territory: Territory, data: Mapping[str, Any], current: Motif | None = None) -> dict:
    """The configuration tab's values, checked. `current` is the motif being edited, if any."""
    cleaned = {
        "name": _clean_name(data.get("name")),
        "color": _clean_color(data.get("color")),
        "default_duration_minutes": _clean_duration(data.get("default_duration_minutes", 30)),
        "location_type": _clean_choice(
            data.get("location_type", LocationType.PUBLIC_OFFICE),
            LocationType,
            "location_type_invalid",
            "Choisissez un type de rendez-vous dans la liste.",
            "location_type",
        ),
        "service": _clean_service(territory, data.get("service"), current),
        "collective": bool(data.get("collective", False)),
        "max_participants": None,
        "follow_up": bool(data.get("follow_up", False)),
        "for_secretariat": bool(data.get("for_secretariat", False)),
        "bookable_by": _clean_choice(
            data.get("bookable_by", BookableBy.AGENTS),
            BookableBy,
            "bookable_by_invalid",
            "Choisissez qui peut réserver ce motif dans la liste.",
            "bookable_by",
        ),
    }
    if cleaned["collective"]:
        if cleaned["location_type"] != LocationType.PUBLIC_OFFICE:
            raise DomainError(
                "collective_not_on_site",
                "Un motif collectif se déroule forcément sur place : choisissez le type « Sur place » "
                "ou décochez « Motif collectif ».",
                field="collective",
            )
        message = (
            f"Indiquez le nombre maximum de participants du motif collectif (entre 2 et {MAX_PARTICIPANTS_CEILING})."
        )
        maximum = _as_int(data.get("max_participants"), "max_participants_invalid", message, "max_participants")
        if not 2 <= maximum <= MAX_PARTICIPANTS_CEILING:
            raise DomainError("max_participants_invalid", message, field="max_participants")
        cleaned["max_participants"] = maximum
    return cleaned


# The one rule between « Qui peut réserver » (Configuration) and « Ouvert aux usagers » (Réservation en
# ligne): a motif is open online only while usagers may book it (invited usagers, or everyone).
ONLINE_RULE = (
    "La réservation en ligne n'est possible que si « Qui peut réserver » (onglet « Configuration ») inclut les "
    f"usagers : « {BookableBy.AGENTS_PRESCRIPTEURS_INVITED_USAGERS.label} » ou « {BookableBy.EVERYONE.label} »."
)


def online_allowed(bookable_by: str) -> bool:
    return bookable_by in BOOKABLE_BY_USAGERS


def clean_online_booking(data: Mapping[str, Any], bookable_by: str) -> dict:
    """The online booking tab's values, checked; `bookable_by` is the motif's configuration."""
    delay_message = "Le délai {} doit être un nombre entier de minutes."
    min_delay = _as_int(
        data.get("min_booking_delay_minutes", 30),
        "min_delay_invalid",
        delay_message.format("minimum"),
        "min_booking_delay_minutes",
    )
    max_delay = _as_int(
        data.get("max_booking_delay_minutes", Motif._meta.get_field("max_booking_delay_minutes").default),
        "max_delay_invalid",
        delay_message.format("maximum"),
        "max_booking_delay_minutes",
    )
    if min_delay < MIN_BOOKING_DELAY_FLOOR_MINUTES:
        raise DomainError(
            "min_delay_too_short",
            f"Le délai minimum de réservation doit être d'au moins {MIN_BOOKING_DELAY_FLOOR_MINUTES} minutes.",
            field="min_booking_delay_minutes",
        )
    if max_delay < MIN_BOOKING_DELAY_FLOOR_MINUTES:
        raise DomainError(
            "max_delay_too_short",
            f"Le délai maximum de réservation doit être d'au moins {MIN_BOOKING_DELAY_FLOOR_MINUTES} minutes.",
            field="max_booking_delay_minutes",
        )
    if max_delay > MAX_BOOKING_DELAY_CEILING_MINUTES:
        raise DomainError(
            "max_delay_too_long",
            "Le délai maximum de réservation ne peut pas dépasser un an.",
            field="max_booking_delay_minutes",
        )
    if max_delay <= min_delay:
        raise DomainError(
            "max_delay_not_after_min",
            "Le délai maximum de réservation doit être supérieur au délai minimum.",
            field="max_booking_delay_minutes",
        )
    cleaned = {
        "bookable_online": bool(data.get("bookable_online", False)),
        "min_booking_delay_minutes": min_delay,
        "max_booking_delay_minutes": max_delay,
        "usager_can_move": bool(data.get("usager_can_move", True)),
        "usager_can_cancel": bool(data.get("usager_can_cancel", True)),
        "visibility": _clean_choice(
            data.get("visibility", Visibility.VISIBLE_AND_NOTIFIED),
            Visibility,
            "visibility_invalid",
            "Choisissez la visibilité pour l'usager dans la liste.",
            "visibility",
        ),
    }
    if cleaned["bookable_online"] and not online_allowed(bookable_by):
        raise DomainError(
            "online_needs_usagers",
            "Ce motif ne peut pas être ouvert aux usagers : « Qui peut réserver » vaut "
            f"« {BookableBy(bookable_by).label} ». {ONLINE_RULE}",
            field="bookable_online",
        )
    return cleaned


def clean_instructions(data: Mapping[str, Any]) -> dict:
    cleaned = {}
    for field in INSTRUCTION_FIELDS:
        raw = str(data.get(field) or "")
        if len(raw) > INSTRUCTIONS_MAX_LENGTH:
            raise DomainError(
                "text_too_long", f"Ce texte ne doit pas dépasser {INSTRUCTIONS_MAX_LENGTH} caractères.", field=field
            )
        cleaned[field] = sanitize_rich_text(raw)
    return cleaned


def find_name_clash(
    organisation: Organisation, service: Service, name: str, location_type: str, exclude_pk=None
) -> Motif | None:
    """Names are unique per organisation × service × type among motifs that are not archived."""
    key = name.casefold()
    candidates = (
        Motif.objects.active()
        .filter(organisation=organisation, service=service, location_type=location_type)
        .exclude(pk=exclude_pk)
        .only("name")
    )
    return next((other for other in candidates if other.name.casefold() == key), None)


def _clash_description(other: Motif, organisation: Organisation, service: Service, location_type: str) -> str:
    return (
        f"le motif « {other.name} » ({LocationType(location_type).label.lower()}, service {service.name}) "
        f"existe déjà dans l'organisation {organisation.name}"
    )


def _check_name_free(organisation: Organisation, service: Service, name: str, location_type: str, exclude_pk=None):
    other = find_name_clash(organisation, service, name, location_type, exclude_pk)
    if other is not None:
        description = _clash_description(other, organisation, service, location_type)
        raise DomainError(
            "motif_name_taken",
            description[0].upper() + description[1:] + ". Choisissez un autre nom, un autre type ou un autre service.",
            field="name",
        )


def _save(motif: Motif, **kwargs) -> None:
    """Save inside a savepoint: a concurrent clash on the unique constraint becomes a DomainError."""
    try:
        with transaction.atomic():
            motif.save(**kwargs)
    except IntegrityError as exc:
        raise DomainError(
            "motif_name_taken",
            f"Un motif « {motif.name} » de ce type et de ce service vient d'être créé dans l'organisation "
            f"{motif.organisation.name}.",
            field="name",
        ) from exc


# Audit helpers ----------------------------------------------------------------------------


def _display(motif: Motif, field: str, value: Any) -> Any:
    if field == "location_type":
        return LocationType(value).label
    if field == "bookable_by":
        return BookableBy(value).label
    if field == "visibility":
        return Visibility(value).label
    if field == "service":
        return value.name if value is not None else None
    if field in INSTRUCTION_FIELDS and isinstance(value, str):
        # The journal shows the text as the agent typed it, not the stored HTML (escaped, its
        # entities would read "&gt;" and its line breaks "<br>").
        text = rich_text_for_editing(value)
        return text[:300] + "…" if len(text) > 300 else text
    return value


def _apply(motif: Motif, values: Mapping[str, Any]) -> dict:
    """Set `values` on `motif`; return the audit diff {field: [old, new]} of what changed."""
    changes = {}
    for field, new in values.items():
        old = getattr(motif, field)
        if old != new:
            changes[field] = [_display(motif, field, old), _display(motif, field, new)]
            setattr(motif, field, new)
    return changes


def _snapshot(motif: Motif, fields: Iterable[str]) -> dict:
    return {field: _display(motif, field, getattr(motif, field)) for field in fields}


# Creation -------------------------------------------------------------------------------


@transaction.atomic
def create_territory_motifs(
    ctx: Context, organisations: Iterable[Organisation], data: Mapping[str, Any]
) -> list[Motif]:
    """One independent motif per organisation of the context's espace, all or none. They share a
    `creation_batch`.

    `data` holds the configuration fields, and optionally online booking and instruction fields.
    """
    territory = ctx.territory
    organisations = sorted({o.pk: o for o in organisations}.values(), key=lambda o: o.name.casefold())
    if not organisations:
        raise DomainError("organisations_required", "Choisissez au moins une organisation.", field="organisations")
    # Organisations of another espace, or where the context may not create motifs: forbidden.
    require(all(policies.can_create_in(ctx, organisation) for organisation in organisations))
    values = clean_configuration(territory, data)
    if any(field in data for field in ONLINE_BOOKING_FIELDS):
        values |= clean_online_booking(data, values["bookable_by"])
    if any(field in data for field in INSTRUCTION_FIELDS):
        values |= clean_instructions(data)
    batch = uuid.uuid4()
    names = [o.name for o in organisations]
    motifs = []
    for organisation in organisations:
        _check_name_free(organisation, values["service"], values["name"], values["location_type"])
        motif = Motif(organisation=organisation, creation_batch=batch, **values)
        _save(motif)
        details = _snapshot(motif, values.keys())
        if len(organisations) > 1:  # each copy says where it is, and where the others are
            details["organisation"] = organisation.name
            details["organisations"] = names
        log_action(ctx.actor, "motif.created", motif, details)
        motifs.append(motif)
    return motifs


def create_motif(ctx: Context, data: Mapping[str, Any]) -> Motif:
    """An organisation admin creates a motif in the context's organisation."""
    if ctx.organisation is None:
        raise DomainError("organisations_required", "Choisissez au moins une organisation.", field="organisations")
    return create_territory_motifs(ctx, [ctx.organisation], data)[0]


# Updates, one function per tab ----------------------------------------------------------------


def _locked_targets(ctx: Context, motif: Motif, also: Iterable[Motif]) -> list[Motif]:
    """The motif and the chosen motifs created together with it, locked for update; every one must
    be manageable by the context."""
    ids = [motif.pk] + [m.pk for m in also if m.pk != motif.pk]
    queryset = (
        Motif.objects.select_for_update(of=("self",)).select_related("organisation__territory").filter(pk__in=ids)
    )
    rows = {m.pk: m for m in queryset}
    targets = [rows[pk] for pk in ids if pk in rows]
    if len(targets) != len(ids) or any(t.creation_batch != rows[motif.pk].creation_batch for t in targets):
        raise DomainError("not_same_batch", "Ces motifs n'ont pas été créés ensemble.")
    territory_ids = {t.organisation.territory_id for t in targets}
    if len(territory_ids) != 1:
        raise DomainError("not_same_batch", "Ces motifs n'ont pas été créés ensemble.")
    require(all(policies.can_manage(ctx, target) for target in targets))
    for target in targets:
        if target.is_archived:
            raise DomainError(
                "motif_archived",
                f"Le motif « {target.name} » de l'organisation {target.organisation.name} est archivé : "
                "restaurez-le avant de le modifier.",
            )
    return targets


def _in_org(motif: Motif, multiple: bool) -> str:
    return f" (organisation {motif.organisation.name})" if multiple else ""


def _naming_organisation(error: DomainError, motif: Motif, multiple: bool) -> DomainError:
    """When several motifs are updated together, say which one a refusal is about."""
    if not multiple:
        return error
    return DomainError(error.code, error.message.rstrip(".") + _in_org(motif, True) + ".", error.field)


@transaction.atomic
def update_motif_configuration(
    ctx: Context, motif: Motif, data: Mapping[str, Any], *, also: Iterable[Motif] = ()
) -> list[Motif]:
    """The "Configuration" tab. `also`: motifs created together with `motif` to update the same way.

    Type and "collective" cannot change once RDVs exist for the motif: the RDVs were booked with
    that modality (a lieu, a phone call…) and their participants under that rule.
    A « Qui peut réserver » without usagers closes an online motif (ONLINE_RULE): the change is
    journaled and the motif gets `closed_online = True`.
    Returns the motifs that changed.
    """
    targets = _locked_targets(ctx, motif, also)
    multiple = len(targets) > 1
    changed = []
    for target in targets:
        try:
            values = clean_configuration(target.organisation.territory, data, current=target)
        except DomainError as error:
            raise _naming_organisation(error, target, multiple) from None
        locked = [field for field in ("location_type", "collective") if values[field] != getattr(target, field)]
        if locked and motif_has_rdvs(target):
            raise DomainError(
                "motif_in_use",
                "Des rendez-vous existent déjà pour ce motif"
                + _in_org(target, multiple)
                + " : son type et son caractère collectif ne peuvent plus changer, car ces rendez-vous ont été "
                "pris selon ces modalités. Dupliquez le motif pour proposer un autre type.",
                field=locked[0],
            )
        _check_name_free(
            target.organisation, values["service"], values["name"], values["location_type"], exclude_pk=target.pk
        )
        target.closed_online = target.bookable_online and not online_allowed(values["bookable_by"])
        if target.closed_online:
            values["bookable_online"] = False
        changes = _apply(target, values)
        if changes:
            _save(target)
            log_action(ctx.actor, "motif.configuration_updated", target, changes)
            changed.append(target)
    return changed


@transaction.atomic
def update_motif_online_booking(
    ctx: Context, motif: Motif, data: Mapping[str, Any], *, also: Iterable[Motif] = ()
) -> list[Motif]:
    """The "Réservation en ligne" tab. Returns the motifs that changed."""
    targets = _locked_targets(ctx, motif, also)
    changed = []
    for target in targets:
        try:
            values = clean_online_booking(data, target.bookable_by)
        except DomainError as error:
            raise _naming_organisation(error, target, len(targets) > 1) from None
        changes = _apply(target, values)
        if changes:
            _save(target)
            log_action(ctx.actor, "motif.online_booking_updated", target, changes)
            changed.append(target)
    return changed


@transaction.atomic
def update_motif_instructions(
    ctx: Context, motif: Motif, data: Mapping[str, Any], *, also: Iterable[Motif] = ()
) -> list[Motif]:
    """The "Notifications et instructions" tab: texts are sanitised before they are stored."""
    targets = _locked_targets(ctx, motif, also)
    values = clean_instructions(data)
    changed = []
    for target in targets:
        changes = _apply(target, values)
        if changes:
            _save(target)
            log_action(ctx.actor, "motif.instructions_updated", target, changes)
            changed.append(target)
    return changed


# Duplicate, archive, restore -------------------------------------------------------------------


def _copy_name(motif: Motif) -> str:
    taken = {
        name.casefold()
        for name in Motif.objects.active()
        .filter(organisation=motif.organisation_id, service=motif.service_id, location_type=motif.location_type)
        .values_list("name", flat=True)
    }
    number = 1
    while True:
        suffix = COPY_SUFFIX if number == 1 else f" (copie {number})"
        candidate = motif.name[: NAME_MAX_LENGTH - len(suffix)] + suffix
        if candidate.casefold() not in taken:
            return candidate
        number += 1


@transaction.atomic
def duplicate_motif(ctx: Context, motif: Motif) -> Motif:
    """A copy in the same organisation, named "<name> (copie)", to offer another type or duration."""
    source = Motif.objects.select_related("organisation", "service").get(pk=motif.pk)
    require(policies.can_manage(ctx, source))
    copy = Motif.objects.get(pk=source.pk)
    copy.pk = None
    copy.id = None
    copy._state.adding = True
    copy.name = _copy_name(source)
    copy.creation_batch = uuid.uuid4()
    copy.archived_at = None
    copy.created_at = None
    _save(copy)
    log_action(ctx.actor, "motif.duplicated", copy, {"source": f"{source.name} (n° {source.pk})", "name": copy.name})
    return copy


@transaction.atomic
def archive_motif(ctx: Context, motif: Motif) -> Motif:
    """Soft delete: no longer offered for new plages or bookings; existing RDVs keep it."""
    motif = Motif.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=motif.pk)
    require(policies.can_manage(ctx, motif))
    if motif.is_archived:
        raise DomainError("motif_already_archived", f"Le motif « {motif.name} » est déjà archivé.")
    motif.archived_at = timezone.now()
    motif.save(update_fields=["archived_at", "updated_at"])
    log_action(ctx.actor, "motif.archived", motif, {"archived_at": motif.archived_at.isoformat()})
    return motif


@transaction.atomic
def restore_motif(ctx: Context, motif: Motif) -> Motif:
    motif = Motif.objects.select_for_update(of=("self",)).select_related("organisation", "service").get(pk=motif.pk)
    require(policies.can_manage(ctx, motif))
    if not motif.is_archived:
        raise DomainError("motif_not_archived", f"Le motif « {motif.name} » n'est pas archivé.")
    other = find_name_clash(motif.organisation, motif.service, motif.name, motif.location_type, motif.pk)
    if other is not None:
        raise DomainError(
            "motif_name_taken",
            "Impossible de restaurer ce motif : "
            + _clash_description(other, motif.organisation, motif.service, motif.location_type)
            + ". Renommez ou archivez d'abord l'un des deux.",
        )
    motif.archived_at = None
    _save(motif, update_fields=["archived_at", "updated_at"])
    log_action(ctx.actor, "motif.restored", motif, {})
    return motif
