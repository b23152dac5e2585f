"""Reads of the retention pages: an usager's data as exported (JSON and CSV rows), what deleting a
file removes, the files flagged for deletion. Scoped by rdv.retention.policies."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Prefetch
from django.utils import timezone

from rdv.bookings.models import Participation, ParticipationStatus, Rdv, RdvAgent, RdvStatus
from rdv.core.context import Context
from rdv.motifs.models import LocationType
from rdv.retention import policies
from rdv.usagers.models import CustomField, FamilySituation, Logement, Usager
from rdv.usagers.services import STANDARD_FIELDS

EXPORT_FORMATS = ("json", "csv")
REVIEW_ORDER = ("retention_flagged_at", "last_name_key", "first_name_key", "id")


def days_text(days: int) -> str:
    """« 2 ans », « 1 an », « 30 jours » (the retention settings, for the pages)."""
    if days >= 365 and days % 365 == 0:
        years = days // 365
        return f"{years} an{'s' if years > 1 else ''}"
    return f"{days} jour{'s' if days > 1 else ''}"


def inactivity_text() -> str:
    return days_text(settings.USAGER_INACTIVITY_DAYS)


def review_days() -> int:
    return settings.USAGER_DELETION_REVIEW_DAYS


def deletion_due(usager: Usager) -> datetime | None:
    """When a flagged file will be deleted (unless active again or kept by then)."""
    if usager.retention_flagged_at is None:
        return None
    return usager.retention_flagged_at + timedelta(days=settings.USAGER_DELETION_REVIEW_DAYS)


# The export ---------------------------------------------------------------------------------------


def _moment(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value is not None else None


def _standard_value(usager: Usager, name: str):
    value = getattr(usager, name)
    if isinstance(value, date):
        return value.isoformat()
    if name == "family_situation":
        return FamilySituation(value).label if value else None
    if name == "logement":
        return Logement(value).label if value else None
    if value == "":
        return None
    return value


def _label(name: str) -> str:
    return str(Usager._meta.get_field(name).verbose_name)


def _person(usager: Usager) -> dict:
    return {
        "identifiant": usager.pk,
        _label("first_name"): usager.first_name,
        _label("last_name"): usager.last_name,
        _label("birth_date"): usager.birth_date.isoformat() if usager.birth_date else None,
    }


def _rdv(rdv: Rdv, own_status: str | None, zone: ZoneInfo) -> dict:
    if rdv.motif.location_type == LocationType.PUBLIC_OFFICE and rdv.lieu is not None:
        address = rdv.lieu.address
    else:
        address = rdv.address or None
    return {
        "identifiant": rdv.pk,
        "début": _moment(rdv.starts_at, zone),
        "fin": _moment(rdv.ends_at, zone),
        "motif": rdv.motif.name,
        "type": LocationType(rdv.motif.location_type).label,
        "organisation": rdv.organisation.name,
        "lieu": rdv.lieu.name if rdv.lieu else None,
        "adresse": address,
        "lien de visioconférence": rdv.visio_url or None,
        "statut": RdvStatus(rdv.status).label,
        "statut de l’usager": ParticipationStatus(own_status).label if rdv.collective and own_status else None,
        "collectif": rdv.collective,
        "agents": [f"{link.agent.first_name} {link.agent.last_name}".strip() for link in rdv.agent_links.all()],
        "contexte": rdv.context or None,
        "motif d’annulation": rdv.cancel_reason or None,
        "pris le": _moment(rdv.created_at, zone),
    }


def usager_export(usager: Usager, *, organisation=None, agent=None, now: datetime | None = None) -> dict:
    """The usager's data, in French: the file's fields (those the espace hides
    included: they are stored), the values of the espace's custom fields (archived ones included),
    the organisations, the responsible usager and the relatives (identity only), and the RDVs with
    their Contexte (the admin hands the export over on request). No other usager's data: a
    collective RDV lists neither its other participants nor their statuses."""
    territory = usager.territory
    zone = territory.zone
    now = now or timezone.now()
    values = usager.custom_values or {}
    custom = {}
    for custom_field in CustomField.objects.filter(territory=territory).order_by("position", "id"):
        if values.get(custom_field.key) not in (None, ""):
            custom[custom_field.label] = custom_field.display(values[custom_field.key])
    own = Participation.objects.filter(usager=usager).select_related("rdv")
    statuses = {participation.rdv_id: participation.status for participation in own}
    rdvs = (
        Rdv.objects.filter(pk__in=statuses)
        .select_related("organisation", "motif", "lieu")
        .prefetch_related(Prefetch("agent_links", queryset=RdvAgent.objects.select_related("agent").order_by("pk")))
        .order_by("starts_at", "pk")
    )
    responsible = usager.responsible
    return {
        "export": {
            "date": _moment(now, zone),
            "espace": territory.name,
            "organisation": organisation.name if organisation is not None else None,
            "par": str(agent) if agent is not None else None,
        },
        "fiche": {
            "identifiant": usager.pk,
            **{_label(name): _standard_value(usager, name) for name in STANDARD_FIELDS},
            "fiche créée le": _moment(usager.created_at, zone),
            "fiche modifiée le": _moment(usager.updated_at, zone),
        },
        "champs personnalisés": custom,
        "organisations": sorted(usager.organisations.values_list("name", flat=True)),
        "usager responsable": _person(responsible) if responsible is not None else None,
        "proches": [_person(relative) for relative in usager.relatives.order_by("last_name_key", "first_name_key")],
        "rendez-vous": [_rdv(rdv, statuses.get(rdv.pk), zone) for rdv in rdvs],
    }


def _cell(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def export_rows(data: dict) -> list[list[str]]:
    """The export as CSV rows « Rubrique ; Champ ; Valeur » (one row per value)."""
    rows = [["Rubrique", "Champ", "Valeur"]]
    for section in ("export", "fiche", "champs personnalisés"):
        rows += [[section.capitalize(), key, _cell(value)] for key, value in data[section].items()]
    rows += [["Organisations", "organisation", name] for name in data["organisations"]]
    if data["usager responsable"]:
        rows += [["Usager responsable", key, _cell(value)] for key, value in data["usager responsable"].items()]
    for index, relative in enumerate(data["proches"], start=1):
        rows += [[f"Proche {index}", key, _cell(value)] for key, value in relative.items()]
    for index, rdv in enumerate(data["rendez-vous"], start=1):
        rows += [[f"Rendez-vous {index}", key, _cell(value)] for key, value in rdv.items()]
    return rows


# Deletion on request -------------------------------------------------------------------------------


@dataclass
class DeletionPreview:
    """What deleting the file removes: the RDVs where the usager is alone (deleted), the collective
    RDVs they leave (kept for the others), their relatives (detached, not deleted)."""

    deleted: list = field(default_factory=list)
    left: list = field(default_factory=list)
    relatives: int = 0

    @property
    def upcoming_deleted(self) -> list:
        now = timezone.now()
        return [rdv for rdv in self.deleted if rdv.ends_at > now]


def deletion_preview(ctx: Context, usager: Usager) -> DeletionPreview:
    if not policies.can_exercise_rights(ctx, usager):
        return DeletionPreview()
    rdvs = list(
        Rdv.objects.filter(participations__usager=usager)
        .select_related("motif", "organisation")
        .order_by("starts_at", "pk")
    )
    totals = dict(
        Participation.objects.filter(rdv__in=[rdv.pk for rdv in rdvs])
        .values("rdv")
        .annotate(n=Count("pk"))
        .values_list("rdv", "n")
    )
    return DeletionPreview(
        deleted=[rdv for rdv in rdvs if totals.get(rdv.pk, 0) <= 1],
        left=[rdv for rdv in rdvs if totals.get(rdv.pk, 0) > 1],
        relatives=Usager.objects.filter(responsible=usager).count(),
    )


# Review of inactive files ---------------------------------------------------------------------------


def flagged_usagers(ctx: Context):
    """The files of the organisation flagged for deletion, the first due first."""
    return policies.review_scope(ctx).order_by(*REVIEW_ORDER)


def flagged_count(ctx: Context) -> int:
    return policies.review_scope(ctx).count() if policies.can_review(ctx) else 0
