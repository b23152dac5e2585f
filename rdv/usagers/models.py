"""Usagers (members of the public) and the custom fields an espace adds to their file.

Only rdv.usagers.services writes these rows: it keeps the normalised search columns in step.
"""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from rdv.core.phones import format_phone, phone_search_keys
from rdv.core.text import normalise_text
from rdv.territories.models import Organisation, Territory


class FamilySituation(models.TextChoices):
    SINGLE = "single", "Célibataire"
    MARRIED = "married", "Marié(e)"
    PACS = "pacs", "Pacsé(e)"
    CONCUBINAGE = "concubinage", "En concubinage"
    DIVORCED = "divorced", "Divorcé(e)"
    WIDOWED = "widowed", "Veuf ou veuve"


class Logement(models.TextChoices):
    SDF = "sdf", "Sans domicile fixe"
    HEBERGE = "heberge", "Hébergé(e)"
    LOCATAIRE = "locataire", "Locataire"
    PROPRIETAIRE = "proprietaire", "Propriétaire"
    ACCESSION = "en_accession_propriete", "En accession à la propriété"


class UsagerQuerySet(models.QuerySet):
    def in_organisation(self, organisation: Organisation) -> "UsagerQuerySet":
        """Usagers who belong to this organisation."""
        return self.filter(organisation_links__organisation=organisation)

    def visible_from(self, organisation: Organisation) -> "UsagerQuerySet":
        """What agents of `organisation` may see: its usagers, or every usager of the espace when the
        espace setting "usagers visibles sur tout l'espace" is on."""
        territory = organisation.territory
        if territory.usagers_visible_territory_wide:
            return self.filter(territory=territory)
        return self.in_organisation(organisation)

    def search(self, query: str) -> "UsagerQuerySet":
        """Accent- and case-insensitive search by name, e-mail, phone or birth date.

        Each word must appear in the normalised `search_text` column (a LIKE '%word%' served by a
        trigram index on PostgreSQL); a date (31/12/1990 or 1990-12-31) matches the birth date; a
        phone number typed with spaces or dots is matched on its digits."""
        query = (query or "").strip()
        if not query:
            return self
        birth_date = parse_search_date(query)
        if birth_date:
            return self.filter(birth_date=birth_date)
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 6 and re.fullmatch(r"[\d\s.\-+()/]+", query):
            if query.startswith("+") or query.startswith("00"):
                digits = digits[2:] if query.startswith("00") else digits
            return self.filter(search_text__contains=digits)
        queryset = self
        for word in normalise_text(query).split()[:8]:
            queryset = queryset.filter(search_text__contains=word)
        return queryset


def parse_search_date(text: str) -> datetime.date | None:
    text = text.strip()
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class Usager(models.Model):
    """A member of the public. Belongs to an espace and to one or more of its organisations."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="usagers", verbose_name="espace")
    organisations = models.ManyToManyField(
        Organisation, through="UsagerOrganisation", related_name="usagers", verbose_name="organisations"
    )
    responsible = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="relatives",
        verbose_name="usager responsable",
        help_text="Pour un enfant ou une personne à charge : l'usager qui s'en occupe.",
    )

    first_name = models.CharField("prénom", max_length=150)
    last_name = models.CharField("nom", max_length=150)
    birth_name = models.CharField("nom de naissance", max_length=150, blank=True)
    birth_date = models.DateField("date de naissance", null=True, blank=True)
    email = models.EmailField("adresse e-mail", max_length=254, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True, help_text="Format international E.164.")
    address = models.CharField("adresse", max_length=300, blank=True)
    postal_code = models.CharField("code postal", max_length=10, blank=True)
    city = models.CharField("commune", max_length=150, blank=True)
    notes = models.TextField("remarques", blank=True)
    caf_number = models.CharField("numéro d'allocataire CAF", max_length=20, blank=True)
    family_situation = models.CharField("situation familiale", max_length=20, choices=FamilySituation, blank=True)
    number_of_children = models.PositiveSmallIntegerField("nombre d'enfants", null=True, blank=True)
    case_number = models.CharField("numéro de dossier", max_length=50, blank=True)
    logement = models.CharField("logement", max_length=30, choices=Logement, blank=True)
    notify_by_email = models.BooleanField("notifications par e-mail", default=True)
    notify_by_sms = models.BooleanField("notifications par SMS", default=True)

    # Values of the espace's custom fields, keyed by CustomField.key ("cf_<id>"). See ADR 0002.
    custom_values = models.JSONField("champs personnalisés", default=dict, blank=True)

    # Normalised copies (lowercase, no accents) maintained by the service functions, for search.
    last_name_key = models.CharField(max_length=150, editable=False, default="")
    first_name_key = models.CharField(max_length=150, editable=False, default="")
    search_text = models.TextField(editable=False, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Data retention (rdv.retention): when the nightly review found the file without activity for
    # USAGER_INACTIVITY_DAYS (deleted USAGER_DELETION_REVIEW_DAYS later unless active again), and
    # when an admin last chose to keep it (counts as activity). Written by rdv.retention only, with
    # queryset updates: neither moves `updated_at`.
    retention_flagged_at = models.DateTimeField("signalée pour suppression le", null=True, blank=True)
    retention_kept_at = models.DateTimeField("conservée le", null=True, blank=True)

    objects = UsagerQuerySet.as_manager()

    class Meta:
        verbose_name = "usager"
        ordering = ["last_name_key", "first_name_key", "id"]
        indexes = [
            models.Index(fields=["territory", "email"], name="usager_territory_email_idx"),
            models.Index(fields=["territory", "phone"], name="usager_territory_phone_idx"),
            models.Index(
                fields=["territory", "last_name_key", "first_name_key", "birth_date"],
                name="usager_territory_name_idx",
            ),
            models.Index(fields=["last_name_key", "first_name_key", "id"], name="usager_sort_idx"),
            models.Index(
                fields=["retention_flagged_at"],
                name="usager_retention_flagged_idx",
                condition=models.Q(retention_flagged_at__isnull=False),
            ),
            # PostgreSQL also gets a trigram GIN index on search_text (migration 0002).
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return self.name_of(self.first_name, self.last_name)

    @staticmethod
    def name_of(first_name: str, last_name: str) -> str:
        """How an usager is named (« Jeanne DUPONT »), from the two fields alone (lists read as values)."""
        return f"{first_name} {last_name.upper()}".strip()

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    def refresh_search_fields(self) -> None:
        """Recompute the normalised columns from the current values (called by the services)."""
        self.last_name_key = normalise_text(self.last_name)[:150]
        self.first_name_key = normalise_text(self.first_name)[:150]
        parts = [
            self.last_name_key,
            self.first_name_key,
            normalise_text(self.birth_name),
            normalise_text(self.email),
            phone_search_keys(self.phone),
            normalise_text(self.case_number),
            normalise_text(self.caf_number),
        ]
        self.search_text = " ".join(part for part in parts if part)


class UsagerOrganisation(models.Model):
    """The usager belongs to the organisation (their file is visible to its agents)."""

    usager = models.ForeignKey(Usager, on_delete=models.CASCADE, related_name="organisation_links")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="usager_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rattachement de l'usager"
        verbose_name_plural = "rattachements des usagers"
        constraints = [models.UniqueConstraint("organisation", "usager", name="usager_organisation_unique")]

    def __str__(self) -> str:
        return f"{self.usager} · {self.organisation}"


class CustomFieldKind(models.TextChoices):
    TEXT = "text", "Texte court"
    LONG_TEXT = "long_text", "Texte long"
    NUMBER = "number", "Nombre"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Oui / non"
    CHOICE = "choice", "Liste de choix"


class CustomFieldQuerySet(models.QuerySet):
    def for_territory(self, territory: Territory) -> "CustomFieldQuerySet":
        return self.filter(territory=territory)

    def active(self) -> "CustomFieldQuerySet":
        return self.filter(archived_at__isnull=True)


class CustomField(models.Model):
    """An extra field of the usager file, defined by the espace. Values live in Usager.custom_values."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="custom_fields")
    label = models.CharField("libellé", max_length=100)
    kind = models.CharField("type", max_length=20, choices=CustomFieldKind)
    choices = models.JSONField("options", default=list, blank=True)
    required = models.BooleanField("obligatoire", default=False)
    # Asked to the usager (or prescripteur) in the online booking form.
    asked_online = models.BooleanField("demandé lors de la réservation", default=False)
    help_text = models.CharField("texte d'aide", max_length=300, blank=True)
    position = models.PositiveIntegerField("ordre", default=0)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        verbose_name = "champ personnalisé"
        verbose_name_plural = "champs personnalisés"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint("territory", Lower("label"), name="custom_field_label_unique_in_territory"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def key(self) -> str:
        """Key of this field's value in Usager.custom_values (not a bare number: JSON paths treat
        digits as array indexes)."""
        return f"cf_{self.pk}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def display(self, value) -> str:
        """French rendering of a stored value."""
        if value is None or value == "":
            return ""
        if self.kind == CustomFieldKind.BOOLEAN:
            return "Oui" if value else "Non"
        if self.kind == CustomFieldKind.DATE:
            try:
                return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
            except (TypeError, ValueError):
                return str(value)
        if self.kind == CustomFieldKind.NUMBER:
            text = format(Decimal(str(value)).normalize(), "f") if not isinstance(value, bool) else str(value)
            return text.replace(".", ",")
        return str(value)
