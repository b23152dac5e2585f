"""Usager files (the established platform's « users »): search, create, read, update.

Records are rdv.webhooks.payloads.usager_data (the webhooks' « user ») with a few extra keys. The
espace's settings apply as on the pages: a standard field the espace hides is null in every answer
and ignored in a request (as by the service), the nested responsible is shown only when the agent
may read that file, and only the espace's active custom fields are listed.
"""

import copy
from datetime import date, datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

from rdv.api.auth import one, organisation_ctx
from rdv.api.errors import NOT_FOUND_MESSAGE, ApiError
from rdv.api.pagination import Meta, PageParams, paginate
from rdv.api.routes.request_fields import named_as_in_request
from rdv.api.schemas import responses
from rdv.api.types import INT64, Flag, Id, Integer, IsoDate
from rdv.core.context import Context
from rdv.core.text import SEARCH_MAX_LENGTH
from rdv.usagers import policies, selectors, services
from rdv.usagers.models import Usager
from rdv.webhooks.models import USAGER_FIELDS
from rdv.webhooks.payloads import usager_data

router = Router(tags=["Usagers"])

CustomValue = StrictBool | StrictInt | StrictFloat | StrictStr | None

# Standard field (rdv.usagers.services.STANDARD_FIELDS, and "responsible") -> key of usager_data.
RECORD_KEY = {
    "birth_name": "birth_name",
    "birth_date": "birth_date",
    "email": "email",
    "phone": "phone_number",
    "address": "address",
    "postal_code": "address",
    "city": "address",
    "caf_number": "affiliation_number",
    "family_situation": "family_situation",
    "number_of_children": "number_of_children",
    "case_number": "case_number",
    "logement": "logement",
    "notes": "notes",
    "notify_by_email": "notify_by_email",
    "notify_by_sms": "notify_by_sms",
    "responsible": "responsible_id",
}
# Request key -> standard field of the service (the established platform's names where it has them).
INPUT_FIELD = {
    "first_name": "first_name",
    "last_name": "last_name",
    "birth_name": "birth_name",
    "birth_date": "birth_date",
    "email": "email",
    "phone_number": "phone",
    "address": "address",
    "postal_code": "postal_code",
    "city": "city",
    "affiliation_number": "caf_number",
    "family_situation": "family_situation",
    "number_of_children": "number_of_children",
    "case_number": "case_number",
    "logement": "logement",
    "notes": "notes",
    "notify_by_email": "notify_by_email",
    "notify_by_sms": "notify_by_sms",
}
REQUEST_FIELD = {service: key for key, service in INPUT_FIELD.items()} | {"responsible": "responsible_id"}


# Schemas -------------------------------------------------------------------------------------------


class UsagerRecord(Schema):
    id: int
    first_name: str
    last_name: str
    birth_name: str | None = None
    birth_date: date | None = None
    email: str | None = None
    phone_number: str | None = None
    phone_number_formatted: str | None = None
    address: str | None = Field(None, description="Adresse complète (ligne, code postal, commune).")
    address_details: None = None
    responsible_id: int | None = None
    affiliation_number: str | None = None
    caisse_affiliation: None = None
    family_situation: str | None = None
    number_of_children: int | None = None
    case_number: str | None = None
    logement: str | None = None
    notes: str | None = None
    notify_by_email: bool | None = None
    notify_by_sms: bool | None = None
    created_at: datetime
    invitation_created_at: None = None
    invitation_accepted_at: None = None


class CustomFieldValue(Schema):
    key: str = Field(description="Clé du champ dans `custom_fields` des requêtes (cf_<id>).")
    label: str
    kind: str = Field(description="text, long_text, number, date (AAAA-MM-JJ), boolean ou choice.")
    value: CustomValue


class UsagerOut(UsagerRecord):
    responsible: UsagerRecord | None = Field(
        None, description="L’usager responsable, quand vous avez accès à sa fiche."
    )
    address_line: str | None = Field(None, description="La ligne d’adresse seule (champ `address` des requêtes).")
    postal_code: str | None = None
    city: str | None = None
    organisation_ids: list[int] = Field(description="Les organisations dont l’usager fait partie.")
    custom_fields: list[CustomFieldValue] = Field(description="Les champs personnalisés actifs de l’espace.")


class UsagerOne(Schema):
    usager: UsagerOut


class UsagerList(Schema):
    usagers: list[UsagerOut]
    meta: Meta


class UsagerChange(Schema):
    """Fields of a file. Absent: unchanged (on creation: empty); null or "": emptied."""

    model_config = ConfigDict(extra="forbid")

    birth_name: str | None = None
    birth_date: IsoDate | None = Field(None, description="AAAA-MM-JJ, dans le passé, après 1900.")
    email: str | None = None
    phone_number: str | None = Field(None, description="Numéro français (06 12 34 56 78) ou international (+32…).")
    address: str | None = Field(None, description="La ligne d’adresse, ou l’adresse entière.")
    postal_code: str | None = None
    city: str | None = None
    affiliation_number: str | None = Field(None, description="Numéro d’allocataire CAF.")
    family_situation: str | None = Field(None, description="single, married, pacs, concubinage, divorced, widowed.")
    number_of_children: Integer | None = Field(None, ge=0, le=INT64)
    case_number: str | None = None
    logement: str | None = Field(None, description="sdf, heberge, locataire, proprietaire, en_accession_propriete.")
    notes: str | None = None
    notify_by_email: Flag | None = None
    notify_by_sms: Flag | None = None
    responsible_id: Id | None = Field(None, description="L’usager responsable (null : détacher).")
    custom_fields: dict[str, CustomValue] | None = Field(
        None, description="Valeurs des champs personnalisés par clé (cf_<id>) ; null vide un champ."
    )


class UsagerCreate(UsagerChange):
    first_name: str
    last_name: str
    ignore_duplicates: Flag = Field(
        False, description="Créer la fiche même si une fiche semblable existe (sinon 409 `duplicate`)."
    )


class UsagerUpdate(UsagerChange):
    first_name: str | None = None
    last_name: str | None = None


class UsagerFilters(Schema):
    q: str = Field(
        "",
        max_length=SEARCH_MAX_LENGTH,
        description="Nom, prénom, e-mail, téléphone ou date de naissance (JJ/MM/AAAA) ; accents ignorés.",
    )
    territory_wide: Flag = Field(
        False,
        description="Chercher dans tout l’espace (quand l’espace rend les usagers visibles sur tout l’espace).",
    )


# Records -------------------------------------------------------------------------------------------


def _wanted(territory) -> tuple[set[str], set[str]]:
    """(keys of usager_data the espace shows, standard fields it hides)."""
    hidden = {name for name in RECORD_KEY if not services.field_visible(territory, name)}
    shown_keys = {RECORD_KEY[name] for name in RECORD_KEY if name not in hidden}
    return {"first_name", "last_name", "created_at"} | (shown_keys & set(USAGER_FIELDS)), hidden


def _record(usager: Usager, zone, wanted: set[str], hidden: set[str]) -> dict:
    shown = copy.copy(usager)
    for name in ("address", "postal_code", "city"):  # the combined address keeps the shown parts only
        if name in hidden:
            setattr(shown, name, "")
    return usager_data(shown, zone, sorted(wanted), nested=False)


class Serialiser:
    """Turns a page of usagers into records in a constant number of queries."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.zone = ctx.territory.zone
        self.wanted, self.hidden = _wanted(ctx.territory)
        self.custom_fields = list(selectors.custom_fields(ctx))

    def __call__(self, usagers: list[Usager]) -> list[dict]:
        responsible_ids = {u.responsible_id for u in usagers if u.responsible_id}
        readable = set()
        if responsible_ids and "responsible" not in self.hidden:
            readable = set(policies.scope(self.ctx).filter(pk__in=responsible_ids).values_list("pk", flat=True))
        return [self.one(usager, readable) for usager in usagers]

    def one(self, usager: Usager, readable: set[int]) -> dict:
        data = _record(usager, self.zone, self.wanted, self.hidden)
        show = services.field_visible
        territory = self.ctx.territory
        values = usager.custom_values or {}
        data.update(
            responsible=(
                _record(usager.responsible, self.zone, self.wanted, self.hidden)
                if usager.responsible_id in readable
                else None
            ),
            address_line=(usager.address or None) if show(territory, "address") else None,
            postal_code=(usager.postal_code or None) if show(territory, "postal_code") else None,
            city=(usager.city or None) if show(territory, "city") else None,
            organisation_ids=sorted(link.organisation_id for link in usager.organisation_links.all()),
            custom_fields=[
                {"key": field.key, "label": field.label, "kind": field.kind, "value": values.get(field.key)}
                for field in self.custom_fields
            ],
        )
        return data


def _loaded(queryset):
    return queryset.select_related("responsible").prefetch_related("organisation_links")


def _one_out(ctx: Context, usager_id: int) -> dict:
    usager = one(_loaded(policies.scope(ctx)), usager_id)
    return {"usager": Serialiser(ctx)([usager])[0]}


# Requests ------------------------------------------------------------------------------------------


def _request_field(field: str) -> str:
    if field.startswith("cf_"):
        return f"custom_fields.{field}"
    return REQUEST_FIELD.get(field, field)


def _standard(given: dict) -> dict:
    return {INPUT_FIELD[key]: value for key, value in given.items() if key in INPUT_FIELD}


def _custom_values(ctx: Context, given: dict | None) -> dict:
    """{CustomField: value} from {key: value}; a key that is not an active field of the espace is 422."""
    if not given:
        return {}
    fields = {field.key: field for field in selectors.custom_fields(ctx)}
    unknown = [key for key in given if key not in fields]
    if unknown:
        raise ApiError(
            422,
            "unknown_custom_field",
            "Ce champ personnalisé n’existe pas dans cet espace (voir `custom_fields` d’une fiche).",
            [{"field": f"custom_fields.{key[:50]}", "message": "Champ personnalisé inconnu."} for key in unknown[:20]],
        )
    return {fields[key]: value for key, value in given.items()}


def _responsible(ctx: Context, responsible_id: int | None) -> Usager | None:
    if responsible_id is None:
        return None
    responsible = policies.scope(ctx).filter(pk=responsible_id).first()
    if responsible is None:  # as every id out of reach: 404
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE, [{"field": "responsible_id", "message": NOT_FOUND_MESSAGE}])
    return responsible


def _check_duplicates(ctx: Context, data: dict) -> None:
    duplicates = selectors.find_duplicates(ctx, data)
    if duplicates:
        raise ApiError(
            409,
            "duplicate",
            "Une fiche semblable existe déjà. Pour créer la fiche quand même, renvoyez la requête avec "
            "« ignore_duplicates »: true.",
            [
                {"field": "duplicates", "message": f"Usager n° {d.usager.pk} ({d.usager}) : {', '.join(d.reasons)}"}
                for d in duplicates
            ],
        )


# Routes --------------------------------------------------------------------------------------------

BASE = "/organisations/{organisation_id}/usagers"


@router.get(BASE, response=responses({200: UsagerList}), summary="Chercher des usagers")
def list_usagers(request, organisation_id: int, filters: Query[UsagerFilters], params: Query[PageParams]):
    """Les usagers de l’organisation (ou de l’espace avec `territory_wide`), par ordre alphabétique."""
    ctx = organisation_ctx(request, organisation_id)
    territory_wide = filters.territory_wide and ctx.territory.usagers_visible_territory_wide
    usagers = _loaded(selectors.search(ctx, filters.q, territory_wide=territory_wide))
    return paginate(usagers, params, key="usagers", serialise=Serialiser(ctx))


@router.post(BASE, response=responses({201: UsagerOne}, write=True), summary="Créer une fiche usager")
def create_usager(request, organisation_id: int, payload: UsagerCreate):
    ctx = organisation_ctx(request, organisation_id)
    given = payload.model_dump(exclude_unset=True)
    data = _standard(given)
    responsible = _responsible(ctx, given.get("responsible_id"))
    custom_values = _custom_values(ctx, given.get("custom_fields"))
    if not payload.ignore_duplicates:
        _check_duplicates(ctx, data)
    with named_as_in_request(_request_field):
        usager = services.create_usager(ctx, data, custom_values, responsible=responsible)
    return Status(201, _one_out(ctx, usager.pk))


@router.get(BASE + "/{usager_id}", response=responses({200: UsagerOne}), summary="Une fiche usager")
def get_usager(request, organisation_id: int, usager_id: int):
    ctx = organisation_ctx(request, organisation_id)
    return _one_out(ctx, usager_id)


@router.patch(BASE + "/{usager_id}", response=responses({200: UsagerOne}, write=True), summary="Modifier une fiche")
def update_usager(request, organisation_id: int, usager_id: int, payload: UsagerUpdate):
    """Les champs absents ne changent pas. Seules les fiches de l’organisation se modifient (403 pour
    une fiche d’une autre organisation visible sur tout l’espace)."""
    ctx = organisation_ctx(request, organisation_id)
    usager = one(policies.scope(ctx), usager_id)
    given = payload.model_dump(exclude_unset=True)
    for name in ("first_name", "last_name"):
        if name in given and given[name] is None:
            given[name] = ""  # the service's « obligatoire » message
    extra: dict[str, Any] = {}
    if "responsible_id" in given:
        extra["responsible"] = _responsible(ctx, given["responsible_id"])
    custom_values = _custom_values(ctx, given.get("custom_fields"))
    with named_as_in_request(_request_field):
        services.update_usager(ctx, usager, _standard(given), custom_values, **extra)
    return _one_out(ctx, usager.pk)
