"""Usager files and the espace's custom fields: the only code that writes them.

Every function takes the actor's context first, refuses ("forbidden") what rdv.usagers.policies
does not allow, runs in a transaction, raises DomainError with a French message on bad input
(nothing is then changed) and records what it did with log_action. Reads (search, duplicates,
history) are in rdv.usagers.selectors.
"""

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.errors import DomainError
from rdv.core.phones import InvalidPhone, format_phone, normalise_phone
from rdv.core.text import normalise_text
from rdv.territories.models import USAGER_OPTIONAL_FIELDS, Territory
from rdv.usagers import policies
from rdv.usagers.models import (
    CustomField,
    CustomFieldKind,
    FamilySituation,
    Logement,
    Usager,
    UsagerOrganisation,
)

# Standard fields of the usager file, in display order.
STANDARD_FIELDS = (
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "email",
    "phone",
    "address",
    "postal_code",
    "city",
    "caf_number",
    "family_situation",
    "number_of_children",
    "case_number",
    "logement",
    "notify_by_email",
    "notify_by_sms",
    "notes",
)
ALWAYS_SHOWN = ("first_name", "last_name")
# The espace setting (USAGER_OPTIONAL_FIELDS key) that hides each standard field.
VISIBILITY_SETTING = {name: name for name in STANDARD_FIELDS if name not in ALWAYS_SHOWN} | {
    "notify_by_email": "notification_preferences",
    "notify_by_sms": "notification_preferences",
    "responsible": "responsible",
}
assert set(VISIBILITY_SETTING.values()) == set(USAGER_OPTIONAL_FIELDS)

MAX_CHILDREN = 30
TEXT_MAX_LENGTH = 255
LONG_TEXT_MAX_LENGTH = 5000
MAX_NUMBER = Decimal(10) ** 12
MAX_CHOICES = 100


def field_visible(territory: Territory, name: str) -> bool:
    """Whether the standard usager field `name` (or "responsible") is shown in this espace."""
    if name in ALWAYS_SHOWN:
        return True
    return territory.usager_field_visible(VISIBILITY_SETTING[name])


def _label(name: str) -> str:
    return str(Usager._meta.get_field(name).verbose_name)


# Standard fields -------------------------------------------------------------------------


def _clean_date(value: Any, name: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise DomainError("invalid_date", "Saisissez une date valide, par exemple 31/12/1990.", field=name) from exc
    if not isinstance(value, datetime.date):
        raise DomainError("invalid_date", "Saisissez une date valide, par exemple 31/12/1990.", field=name)
    if value > timezone.localdate():
        raise DomainError("birth_date_future", "La date de naissance ne peut pas être dans le futur.", field=name)
    if value.year < 1900:
        raise DomainError("birth_date_too_old", "La date de naissance doit être postérieure au 01/01/1900.", field=name)
    return value


def clean_standard_value(name: str, value: Any) -> Any:
    """The value to store for a standard field, or a DomainError in French."""
    if name in ("first_name", "last_name"):
        value = " ".join(str(value or "").split())
        if not value:
            message = "Le prénom est obligatoire." if name == "first_name" else "Le nom est obligatoire."
            raise DomainError(f"{name}_required", message, field=name)
    elif name == "birth_date":
        return _clean_date(value, name)
    elif name == "email":
        value = str(value or "").strip().lower()
        if value:
            try:
                validate_email(value)
            except ValidationError as exc:
                raise DomainError(
                    "invalid_email",
                    "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr.",
                    field=name,
                ) from exc
    elif name == "phone":
        try:
            return normalise_phone(str(value or ""))
        except InvalidPhone as exc:
            raise DomainError("invalid_phone", InvalidPhone.message, field=name) from exc
    elif name == "number_of_children":
        if value in (None, ""):
            return None
        try:
            value = int(value)
        except (TypeError, ValueError) as exc:
            raise DomainError("invalid_children", "Saisissez un nombre entier d'enfants.", field=name) from exc
        if not 0 <= value <= MAX_CHILDREN:
            raise DomainError(
                "invalid_children", f"Le nombre d'enfants doit être compris entre 0 et {MAX_CHILDREN}.", field=name
            )
        return value
    elif name in ("family_situation", "logement"):
        value = str(value or "")
        allowed = FamilySituation.values if name == "family_situation" else Logement.values
        if value and value not in allowed:
            raise DomainError("invalid_choice", "Choisissez une des valeurs proposées.", field=name)
        return value
    elif name in ("notify_by_email", "notify_by_sms"):
        return bool(value)
    elif name == "notes":
        value = str(value or "").strip()
        if len(value) > LONG_TEXT_MAX_LENGTH:
            raise DomainError(
                "too_long", f"Les remarques ne doivent pas dépasser {LONG_TEXT_MAX_LENGTH} caractères.", field=name
            )
        return value
    else:
        value = " ".join(str(value or "").split())
    max_length = Usager._meta.get_field(name).max_length
    if max_length and len(value) > max_length:
        raise DomainError(
            "too_long", f"« {_label(name).capitalize()} » ne doit pas dépasser {max_length} caractères.", field=name
        )
    return value


def _clean_data(territory: Territory, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated standard values. Fields the espace hides are ignored: their stored value is kept."""
    unknown = set(data) - set(STANDARD_FIELDS)
    if unknown:
        raise DomainError("unknown_field", "Champ inconnu : " + ", ".join(sorted(unknown)) + ".")
    return {name: clean_standard_value(name, value) for name, value in data.items() if field_visible(territory, name)}


def _display(name: str, value: Any) -> Any:
    """What the history shows for a standard value."""
    if value in (None, ""):
        return None
    if name == "birth_date":
        return value.strftime("%d/%m/%Y")
    if name == "phone":
        return format_phone(value)
    if name == "family_situation":
        return FamilySituation(value).label
    if name == "logement":
        return Logement(value).label
    return value


def _check_responsible(ctx: Context, usager: Usager, responsible: Usager) -> None:
    if responsible.territory_id != usager.territory_id:
        raise DomainError(
            "responsible_other_territory", "L'usager responsable doit appartenir au même espace.", field="responsible"
        )
    # The responsible's file must be one the actor may read (an usager online: themselves).
    if ctx.is_public:
        require(ctx.usager is not None and ctx.usager.pk == responsible.pk)
    else:
        require(policies.can_see(ctx, responsible))
    if usager.pk and responsible.pk == usager.pk:
        raise DomainError("responsible_self", "Un usager ne peut pas être son propre responsable.", field="responsible")
    if responsible.responsible_id:
        raise DomainError(
            "responsible_is_relative",
            f"{responsible} est déjà rattaché(e) à un responsable : rattachez le proche à ce responsable.",
            field="responsible",
        )
    if usager.pk and usager.relatives.exists():
        raise DomainError(
            "usager_has_relatives",
            "Cet usager a lui-même des proches rattachés : il ne peut pas être rattaché à un responsable.",
            field="responsible",
        )


# Custom field values ---------------------------------------------------------------------


def _custom_error(code: str, field: CustomField, message: str) -> DomainError:
    return DomainError(code, message, field=field.key)


def clean_custom_value(field: CustomField, value: Any) -> Any:
    """The JSON value to store for `field`, None when empty; DomainError (French) when invalid."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if field.required:
            raise _custom_error("custom_field_required", field, f"Le champ « {field.label} » est obligatoire.")
        return None
    kind = field.kind
    if kind in (CustomFieldKind.TEXT, CustomFieldKind.LONG_TEXT):
        if not isinstance(value, str):
            value = str(value)
        value = value.strip() if kind == CustomFieldKind.LONG_TEXT else " ".join(value.split())
        limit = TEXT_MAX_LENGTH if kind == CustomFieldKind.TEXT else LONG_TEXT_MAX_LENGTH
        if len(value) > limit:
            raise _custom_error(
                "custom_field_too_long", field, f"« {field.label} » ne doit pas dépasser {limit} caractères."
            )
        return value
    if kind == CustomFieldKind.NUMBER:
        invalid = _custom_error(
            "custom_field_invalid_number", field, f"« {field.label} » : saisissez un nombre, par exemple 12 ou 3,5."
        )
        if isinstance(value, bool):
            raise invalid
        text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise invalid from exc
        if not number.is_finite():
            raise invalid
        if abs(number) >= MAX_NUMBER:
            raise _custom_error(
                "custom_field_number_too_large", field, f"« {field.label} » : ce nombre est trop grand."
            )
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomFieldKind.DATE:
        invalid = _custom_error(
            "custom_field_invalid_date",
            field,
            f"« {field.label} » : saisissez une date valide, par exemple 31/12/2024.",
        )
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, str):
            text = value.strip()
            for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
                try:
                    value = datetime.datetime.strptime(text, pattern).date()
                    break
                except ValueError:
                    continue
        if not isinstance(value, datetime.date) or value.year < 1800 or value.year > 2200:
            raise invalid
        return value.isoformat()
    if kind == CustomFieldKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("oui", "true", "1"):
            return True
        if text in ("non", "false", "0"):
            return False
        raise _custom_error("custom_field_invalid_boolean", field, f"« {field.label} » : répondez par oui ou par non.")
    if kind == CustomFieldKind.CHOICE:
        value = str(value).strip()
        if value not in field.choices:
            raise _custom_error(
                "custom_field_invalid_choice",
                field,
                f"« {value} » ne fait pas partie des options de « {field.label} » : choisissez une option de la liste.",
            )
        return value
    raise _custom_error("custom_field_unknown_kind", field, f"Type inconnu pour « {field.label} ».")


def _clean_custom_values(
    territory: Territory, values: Mapping[CustomField, Any], *, creating: bool
) -> dict[CustomField, Any]:
    cleaned = {}
    for field, value in values.items():
        if field.territory_id != territory.pk or field.is_archived:
            raise DomainError("unknown_custom_field", f"Le champ « {field.label} » n'est pas proposé dans cet espace.")
        cleaned[field] = clean_custom_value(field, value)
    if creating:
        for field in CustomField.objects.for_territory(territory).active().filter(required=True):
            if field not in cleaned:
                raise _custom_error("custom_field_required", field, f"Le champ « {field.label} » est obligatoire.")
    return cleaned


def _custom_change_key(field: CustomField) -> str:
    return f"champ « {field.label} »"


# Usagers -------------------------------------------------------------------------------


@transaction.atomic
def create_usager(
    ctx: Context,
    data: Mapping[str, Any],
    custom_values: Mapping[CustomField, Any] | None = None,
    *,
    responsible: Usager | None = None,
) -> Usager:
    """Create an usager file in the context's organisation (and so in its espace)."""
    require(policies.can_create(ctx))
    organisation = ctx.organisation
    territory = organisation.territory
    data = dict(data)
    for name in ALWAYS_SHOWN:
        data.setdefault(name, "")
    usager = Usager(territory=territory, created_by=ctx.agent)
    for name, value in _clean_data(territory, data).items():
        setattr(usager, name, value)
    if responsible is not None and field_visible(territory, "responsible"):
        _check_responsible(ctx, usager, responsible)
        usager.responsible = responsible
    usager.custom_values = {
        field.key: value
        for field, value in _clean_custom_values(territory, custom_values or {}, creating=True).items()
        if value is not None
    }
    usager.refresh_search_fields()
    usager.save()
    UsagerOrganisation.objects.create(usager=usager, organisation=organisation)
    changes = {"last_name": usager.last_name, "first_name": usager.first_name, "organisation": organisation.name}
    if usager.responsible:
        changes["responsible"] = str(usager.responsible)
    log_action(ctx.actor, "usager.created", usager, changes, organisation=organisation)
    return usager


_NOT_GIVEN = object()


@transaction.atomic
def update_usager(
    ctx: Context,
    usager: Usager,
    data: Mapping[str, Any],
    custom_values: Mapping[CustomField, Any] | None = None,
    *,
    responsible: Any = _NOT_GIVEN,
) -> dict:
    """Change the given fields of an usager file of the context's organisation (others, and fields
    the espace hides, are kept).

    `responsible` is an Usager to attach to, None to detach, or left out. Returns the changes."""
    require(policies.can_edit(ctx, usager))
    locked = Usager.objects.select_for_update(of=("self",)).select_related("territory").get(pk=usager.pk)
    territory = locked.territory
    changes: dict[str, list] = {}
    for name, value in _clean_data(territory, data).items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = [_display(name, old), _display(name, value)]
            setattr(locked, name, value)
    if responsible is not _NOT_GIVEN and field_visible(territory, "responsible"):
        if responsible is not None:
            _check_responsible(ctx, locked, responsible)
        if locked.responsible_id != (responsible.pk if responsible else None):
            changes["responsible"] = [str(locked.responsible) if locked.responsible else None, str(responsible or "")]
            locked.responsible = responsible
    stored = dict(locked.custom_values or {})
    for field, value in _clean_custom_values(territory, custom_values or {}, creating=False).items():
        old = stored.get(field.key)
        if old != value:
            changes[_custom_change_key(field)] = [field.display(old) or None, field.display(value) or None]
            if value is None:
                stored.pop(field.key, None)
            else:
                stored[field.key] = value
    if not changes:
        return {}
    locked.custom_values = stored
    locked.refresh_search_fields()
    locked.save()
    log_action(ctx.actor, "usager.updated", locked, changes, organisation=ctx.organisation)
    return changes


def add_usager_to_organisation(ctx: Context, usager: Usager) -> bool:
    """Attach an usager of the espace to the context's organisation. Returns False when already
    there: then one read, no savepoint (every booking calls this, and its usager is nearly always
    there already: the file was just created in the organisation, or booked there before)."""
    require(policies.can_add_to_organisation(ctx, usager))
    if UsagerOrganisation.objects.filter(usager=usager, organisation=ctx.organisation).exists():
        return False
    return _attach(ctx, usager)


@transaction.atomic
def _attach(ctx: Context, usager: Usager) -> bool:
    organisation = ctx.organisation
    try:
        with transaction.atomic():
            _, created = UsagerOrganisation.objects.get_or_create(usager=usager, organisation=organisation)
    except IntegrityError:  # a concurrent request attached it first
        return False
    if created:
        log_action(
            ctx.actor,
            "usager.added_to_organisation",
            usager,
            {"organisation": organisation.name},
            organisation=organisation,
        )
    return created


# Custom fields ---------------------------------------------------------------------------


def options_not_allowed(kind: str) -> str:
    """Why a field that is not a list refuses options (the custom field form says the same)."""
    return (
        f"Un champ de type « {CustomFieldKind(kind).label} » n'a pas d'options : videz « Options de la liste », "
        f"ou choisissez le type « {CustomFieldKind.CHOICE.label} »."
    )


def _clean_custom_field(
    territory: Territory, label: str, kind: str, choices, help_text: str, exclude_pk: int | None = None
) -> tuple[str, str, list[str], str]:
    label = " ".join((label or "").split())
    if not label:
        raise DomainError("label_required", "Le libellé est obligatoire.", field="label")
    if len(label) > 100:
        raise DomainError("label_too_long", "Le libellé ne doit pas dépasser 100 caractères.", field="label")
    standard_labels = {normalise_text(_label(name)) for name in STANDARD_FIELDS}
    if normalise_text(label) in standard_labels:
        raise DomainError(
            "label_is_standard",
            f"« {label} » est déjà un champ standard de la fiche usager : choisissez un autre libellé.",
            field="label",
        )
    clash = CustomField.objects.filter(territory=territory, label__iexact=label).exclude(pk=exclude_pk).first()
    if clash:
        suffix = " (archivé : vous pouvez le restaurer)" if clash.is_archived else ""
        raise DomainError(
            "label_taken", f"Un champ nommé « {clash.label} » existe déjà dans cet espace{suffix}.", field="label"
        )
    if kind not in CustomFieldKind.values:
        raise DomainError("invalid_kind", "Choisissez un type de champ proposé.", field="kind")
    options: list[str] = []
    if kind != CustomFieldKind.CHOICE and any(" ".join(str(option).split()) for option in choices or []):
        raise DomainError("choices_not_allowed", options_not_allowed(kind), field="choices")
    if kind == CustomFieldKind.CHOICE:
        for option in choices or []:
            option = " ".join(str(option).split())
            if len(option) > 100:
                raise DomainError(
                    "choice_too_long", "Chaque option doit faire au plus 100 caractères.", field="choices"
                )
            if option and option not in options:
                options.append(option)
        if not options:
            raise DomainError(
                "choices_required",
                "Donnez au moins une option pour une liste de choix (une option par ligne).",
                field="choices",
            )
        if len(options) > MAX_CHOICES:
            raise DomainError(
                "too_many_choices", f"Une liste de choix a au plus {MAX_CHOICES} options.", field="choices"
            )
    help_text = " ".join((help_text or "").split())
    if len(help_text) > 300:
        raise DomainError(
            "help_text_too_long", "Le texte d'aide ne doit pas dépasser 300 caractères.", field="help_text"
        )
    return label, kind, options, help_text


def _usagers_with_value(field: CustomField) -> models.QuerySet:
    return Usager.objects.filter(territory_id=field.territory_id, custom_values__has_key=field.key)


@transaction.atomic
def create_custom_field(
    ctx: Context,
    *,
    label: str,
    kind: str,
    choices=(),
    required: bool = False,
    help_text: str = "",
    asked_online: bool = False,
) -> CustomField:
    """A new custom field of the usager files of the espace. `asked_online`: also asked to the
    usager (or prescripteur) who books online; then, when required, online booking requires it."""
    require(policies.can_manage_custom_fields(ctx))
    territory = ctx.territory
    label, kind, options, help_text = _clean_custom_field(territory, label, kind, choices, help_text)
    position = (CustomField.objects.filter(territory=territory).aggregate(m=Max("position"))["m"] or 0) + 1
    try:
        with transaction.atomic():
            field = CustomField.objects.create(
                territory=territory,
                label=label,
                kind=kind,
                choices=options,
                required=bool(required),
                help_text=help_text,
                asked_online=bool(asked_online),
                position=position,
            )
    except IntegrityError as exc:
        raise DomainError(
            "label_taken", f"Un champ nommé « {label} » existe déjà dans cet espace.", field="label"
        ) from exc
    log_action(
        ctx.actor,
        "custom_field.created",
        field,
        {
            "label": label,
            "kind": CustomFieldKind(kind).label,
            "choices": options,
            "required": bool(required),
            "asked_online": bool(asked_online),
        },
    )
    return field


@transaction.atomic
def update_custom_field(
    ctx: Context,
    field: CustomField,
    *,
    label: str,
    kind: str,
    choices=(),
    required: bool = False,
    help_text: str = "",
    asked_online: bool = False,
) -> dict:
    """Change a custom field (`asked_online`: see create_custom_field). Its type cannot change once
    an usager has a value for it, and an option of a list cannot be removed while an usager has it.
    Returns the changes."""
    require(policies.can_manage_custom_field(ctx, field))
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    label, kind, options, help_text = _clean_custom_field(
        field.territory, label, kind, choices, help_text, exclude_pk=field.pk
    )
    if kind != field.kind:
        count = _usagers_with_value(field).count()
        if count:
            raise DomainError(
                "kind_locked",
                f"Le type du champ « {field.label} » ne peut plus être modifié : {count} usager(s) ont déjà une "
                "valeur pour ce champ, qui ne correspondrait plus au nouveau type. Pour changer de type, créez un "
                "nouveau champ puis archivez celui-ci (ses valeurs restent conservées).",
                field="kind",
            )
    elif kind == CustomFieldKind.CHOICE:
        for removed in [option for option in field.choices if option not in options]:
            count = Usager.objects.filter(
                territory_id=field.territory_id, **{f"custom_values__{field.key}": removed}
            ).count()
            if count:
                raise DomainError(
                    "choice_in_use",
                    f"L'option « {removed} » est utilisée par {count} usager(s) : elle ne peut pas être retirée. "
                    "Modifiez d'abord leur fiche, ou archivez le champ.",
                    field="choices",
                )
    new = {
        "label": label,
        "kind": kind,
        "choices": options,
        "required": bool(required),
        "help_text": help_text,
        "asked_online": bool(asked_online),
    }
    changes = {}
    for name, value in new.items():
        old = getattr(field, name)
        if old != value:
            if name == "kind":
                changes[name] = [CustomFieldKind(old).label, CustomFieldKind(value).label]
            elif name == "choices":
                changes[name] = [", ".join(old) or None, ", ".join(value) or None]
            else:
                changes[name] = [old, value]
            setattr(field, name, value)
    if changes:
        try:
            with transaction.atomic():
                field.save()
        except IntegrityError as exc:
            raise DomainError(
                "label_taken", f"Un champ nommé « {label} » existe déjà dans cet espace.", field="label"
            ) from exc
        log_action(ctx.actor, "custom_field.updated", field, changes)
    return changes


@transaction.atomic
def archive_custom_field(ctx: Context, field: CustomField) -> bool:
    """Hide the field from forms and files; the values already typed are kept."""
    require(policies.can_manage_custom_field(ctx, field))
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    if field.is_archived:
        return False
    field.archived_at = timezone.now()
    field.save(update_fields=["archived_at"])
    log_action(ctx.actor, "custom_field.archived", field, {"label": field.label})
    return True


@transaction.atomic
def restore_custom_field(ctx: Context, field: CustomField) -> bool:
    """Show an archived field again, with the values it had."""
    require(policies.can_manage_custom_field(ctx, field))
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    if not field.is_archived:
        return False
    field.archived_at = None
    field.save(update_fields=["archived_at"])
    log_action(ctx.actor, "custom_field.restored", field, {"label": field.label})
    return True


@transaction.atomic
def move_custom_field(ctx: Context, field: CustomField, direction: str) -> bool:
    """Move a field one place up or down in the forms. Returns False at either end."""
    require(policies.can_manage_custom_field(ctx, field))
    if direction not in ("up", "down"):
        raise DomainError("invalid_direction", "Déplacement inconnu.")
    fields = list(
        CustomField.objects.select_for_update().filter(territory_id=field.territory_id).order_by("position", "id")
    )
    index = next(i for i, item in enumerate(fields) if item.pk == field.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(fields):
        return False
    fields[index], fields[target] = fields[target], fields[index]
    for position, item in enumerate(fields, start=1):
        item.position = position
    CustomField.objects.bulk_update(fields, ["position"])
    moved = fields[target]
    log_action(ctx.actor, "custom_field.moved", moved, {"position": [index + 1, target + 1]})
    return True
