"""Reads of usager files, scoped by the context (rdv.usagers.policies): search, duplicates, the file
page's relatives and history."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q

from rdv.core.audit import describe_entries
from rdv.core.context import Context
from rdv.core.models import AuditLog
from rdv.core.phones import InvalidPhone, normalise_phone
from rdv.core.text import normalise_text
from rdv.usagers import policies
from rdv.usagers.models import CustomField, Usager, UsagerOrganisation
from rdv.usagers.services import STANDARD_FIELDS, field_visible

HISTORY_SIZE = 100
SEARCH_ORDER = ("last_name_key", "first_name_key", "id")  # served by the index usager_sort_idx


def search(ctx: Context, query: str = "", *, territory_wide: bool = False):
    """Usagers of the context's organisation (or, with `territory_wide` and the espace setting on,
    of its whole espace) matching `query`, in alphabetical order, each with `is_member` (belongs to
    the organisation)."""
    queryset = policies.scope(ctx) if territory_wide else policies.members_scope(ctx)
    return (
        queryset.search(query)
        .annotate(
            is_member=Exists(UsagerOrganisation.objects.filter(organisation=ctx.organisation, usager=OuterRef("pk")))
        )
        .order_by(*SEARCH_ORDER)
    )


@dataclass
class Duplicate:
    usager: Usager
    reasons: list[str]
    is_member: bool = False


def find_duplicates(
    ctx: Context, data: Mapping[str, Any], *, exclude_pk: int | None = None, limit: int = 5
) -> list[Duplicate]:
    """Files the context may read that look like the one described by `data`: same e-mail, same
    phone, or same first name, last name and birth date."""
    email = str(data.get("email") or "").strip().lower()
    try:
        phone = normalise_phone(str(data.get("phone") or ""))
    except InvalidPhone:
        phone = ""
    last_key = normalise_text(data.get("last_name"))
    first_key = normalise_text(data.get("first_name"))
    birth_date = data.get("birth_date")
    condition = Q()
    if email:
        condition |= Q(email=email)
    if phone:
        condition |= Q(phone=phone)
    if last_key and first_key and birth_date:
        condition |= Q(last_name_key=last_key, first_name_key=first_key, birth_date=birth_date)
    if not condition:
        return []
    queryset = policies.scope(ctx).filter(condition)
    if exclude_pk:
        queryset = queryset.exclude(pk=exclude_pk)
    queryset = queryset.annotate(
        in_organisation=Exists(UsagerOrganisation.objects.filter(organisation=ctx.organisation, usager=OuterRef("pk")))
    )
    duplicates = []
    for usager in queryset.order_by("last_name_key", "first_name_key", "id")[:limit]:
        reasons = []
        if email and usager.email == email:
            reasons.append("même adresse e-mail")
        if phone and usager.phone == phone:
            reasons.append("même numéro de téléphone")
        if (
            birth_date
            and usager.birth_date == birth_date
            and usager.last_name_key == last_key
            and usager.first_name_key == first_key
        ):
            reasons.append("mêmes nom, prénom et date de naissance")
        duplicates.append(Duplicate(usager, reasons, usager.in_organisation))
    return duplicates


def hidden_fields(territory) -> set[str]:
    """The standard fields (and "responsible") the espace hides: left out of files and histories."""
    return {name for name in [*STANDARD_FIELDS, "responsible"] if not field_visible(territory, name)}


def history(ctx: Context, usager: Usager) -> list[AuditLog]:
    """The file's journal, for those who may read the file (fields the espace hides left out)."""
    if not policies.can_see(ctx, usager):
        return []
    entries = list(
        AuditLog.objects.filter(object_type=Usager._meta.label, object_id=str(usager.pk))
        .select_related("organisation")
        .order_by("-created_at", "-id")[:HISTORY_SIZE]
    )
    return describe_entries(entries, hidden_fields(ctx.territory))


def relatives(ctx: Context, usager: Usager) -> list[Usager]:
    return list(policies.scope(ctx).filter(responsible=usager).order_by("last_name_key", "first_name_key", "id"))


def custom_fields(ctx: Context):
    """The espace's active custom fields, in form order."""
    return CustomField.objects.for_territory(ctx.territory).active().order_by("position", "id")


def required_custom_fields(ctx: Context):
    """The espace's active custom fields a new file must fill in (the usager created inline on the
    booking form shows them), in form order."""
    return custom_fields(ctx).filter(required=True)


def custom_field_usage(ctx: Context, field: CustomField) -> int:
    """How many usager files of the espace have a value for this custom field."""
    if not policies.can_manage_custom_field(ctx, field):
        return 0
    return Usager.objects.filter(territory_id=field.territory_id, custom_values__has_key=field.key).count()
