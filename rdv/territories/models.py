from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models.functions import Lower

from rdv.territories.origins import stored_origins
from rdv.territories.sectors import commune_key

# Standard usager fields an espace may hide (all but first and last name), with their French labels.
# "notification_preferences" stands for the pair notify_by_email / notify_by_sms.
USAGER_OPTIONAL_FIELDS: dict[str, str] = {
    "birth_name": "Nom de naissance",
    "birth_date": "Date de naissance",
    "email": "Adresse e-mail",
    "phone": "Téléphone",
    "address": "Adresse",
    "postal_code": "Code postal",
    "city": "Commune",
    "caf_number": "Numéro d'allocataire CAF",
    "family_situation": "Situation familiale",
    "number_of_children": "Nombre d'enfants",
    "case_number": "Numéro de dossier",
    "logement": "Logement",
    "notification_preferences": "Préférences de notification (e-mail, SMS)",
    "notes": "Remarques",
    "responsible": "Proches rattachés à un usager responsable",
}

# Optional fields of the RDV file an espace may switch off: name -> (Territory attribute, French label).
RDV_OPTIONAL_FIELDS: dict[str, tuple[str, str]] = {
    "context": ("rdv_context_enabled", "Contexte"),
}


class HolidayZone(models.TextChoices):
    """Which French public holidays apply (codes of the `holidays` package's subdivisions)."""

    METROPOLE = "", "Métropole"
    MOSELLE = "57", "Moselle"
    ALSACE = "6AE", "Alsace (Bas-Rhin, Haut-Rhin)"
    GUADELOUPE = "971", "Guadeloupe"
    MARTINIQUE = "972", "Martinique"
    GUYANE = "973", "Guyane"
    REUNION = "974", "La Réunion"
    MAYOTTE = "976", "Mayotte"


class TimeZone(models.TextChoices):
    """The wall-clock time of an espace: plages, absences, holidays and RDVs are typed and shown in
    it (stored in UTC)."""

    PARIS = "Europe/Paris", "Métropole et Corse (heure de Paris)"
    GUADELOUPE = "America/Guadeloupe", "Guadeloupe, Saint-Martin, Saint-Barthélemy"
    MARTINIQUE = "America/Martinique", "Martinique"
    GUYANE = "America/Cayenne", "Guyane"
    SAINT_PIERRE = "America/Miquelon", "Saint-Pierre-et-Miquelon"
    REUNION = "Indian/Reunion", "La Réunion"
    MAYOTTE = "Indian/Mayotte", "Mayotte"
    NOUVELLE_CALEDONIE = "Pacific/Noumea", "Nouvelle-Calédonie"
    POLYNESIE = "Pacific/Tahiti", "Polynésie française (Tahiti)"
    WALLIS = "Pacific/Wallis", "Wallis-et-Futuna"


# The time zone of an espace from its département (or collectivité) number; mainland France otherwise.
DEPARTEMENT_TIME_ZONES = {
    "971": TimeZone.GUADELOUPE,
    "972": TimeZone.MARTINIQUE,
    "973": TimeZone.GUYANE,
    "974": TimeZone.REUNION,
    "975": TimeZone.SAINT_PIERRE,
    "976": TimeZone.MAYOTTE,
    "977": TimeZone.GUADELOUPE,
    "978": TimeZone.GUADELOUPE,
    "986": TimeZone.WALLIS,
    "987": TimeZone.POLYNESIE,
    "988": TimeZone.NOUVELLE_CALEDONIE,
}


# How the time of each zone is named in messages: « 09:00 (heure de La Réunion) ».
CLOCK_NAMES = {
    TimeZone.PARIS: "heure de Paris",
    TimeZone.GUADELOUPE: "heure de la Guadeloupe",
    TimeZone.MARTINIQUE: "heure de la Martinique",
    TimeZone.GUYANE: "heure de la Guyane",
    TimeZone.SAINT_PIERRE: "heure de Saint-Pierre-et-Miquelon",
    TimeZone.REUNION: "heure de La Réunion",
    TimeZone.MAYOTTE: "heure de Mayotte",
    TimeZone.NOUVELLE_CALEDONIE: "heure de Nouvelle-Calédonie",
    TimeZone.POLYNESIE: "heure de Tahiti",
    TimeZone.WALLIS: "heure de Wallis-et-Futuna",
}


def time_zone_of_departement(number: str) -> str:
    return DEPARTEMENT_TIME_ZONES.get((number or "").strip().upper(), TimeZone.PARIS)


@lru_cache(maxsize=32)
def zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class WaitingRoomNotification(models.TextChoices):
    NONE = "none", "Aucune notification"
    VISUAL = "visual", "Notification visuelle dans l'agenda"
    EMAIL = "email", "E-mail à l'agent"
    BOTH = "both", "Notification visuelle et e-mail"


DEFAULT_HOLD_MINUTES = 10


class Territory(models.Model):
    """An Espace: the top-level tenant."""

    name = models.CharField("nom", max_length=200)
    departement_number = models.CharField("numéro de département", max_length=3, blank=True)
    # Set by the platform operators (defaults from the département when the espace is created).
    time_zone = models.CharField("fuseau horaire", max_length=40, choices=TimeZone, default=TimeZone.PARIS)
    created_at = models.DateTimeField(auto_now_add=True)

    # Espace settings (changed only through rdv.territories.services).
    usagers_visible_territory_wide = models.BooleanField("usagers visibles sur tout l'espace", default=False)
    hidden_usager_fields = models.JSONField("champs de la fiche usager masqués", default=list, blank=True)
    rdv_context_enabled = models.BooleanField("champ Contexte des RDV activé", default=True)
    holiday_zone = models.CharField(
        "jours fériés", max_length=3, choices=HolidayZone, default=HolidayZone.METROPOLE, blank=True
    )
    waiting_room_notification = models.CharField(
        "notification de la salle d'attente",
        max_length=10,
        choices=WaitingRoomNotification,
        default=WaitingRoomNotification.VISUAL,
    )
    # Online booking (public pages at /prendre-rdv/): holds, fairness limits, what usagers may do.
    online_hold_minutes = models.PositiveSmallIntegerField(
        "durée de réservation provisoire d'un créneau (minutes)", default=DEFAULT_HOLD_MINUTES
    )
    online_max_upcoming_per_contact = models.PositiveSmallIntegerField(
        "rendez-vous à venir par e-mail ou téléphone et par motif", default=1
    )
    online_max_bookings_per_ip_per_day = models.PositiveSmallIntegerField(
        "réservations en ligne par adresse IP et par jour", default=10
    )
    online_cancel_min_hours = models.PositiveSmallIntegerField(
        "annulation par l'usager jusqu'à (heures avant le RDV)", default=4
    )
    online_move_min_hours = models.PositiveSmallIntegerField(
        "déplacement par l'usager jusqu'à (heures avant le RDV)", default=48
    )
    # Reminders to usagers (rdv.notifications): hours before the RDV; the second one is optional.
    reminder_first_hours = models.PositiveSmallIntegerField("premier rappel (heures avant le RDV)", default=48)
    reminder_second_hours = models.PositiveSmallIntegerField(
        "second rappel (heures avant le RDV)", null=True, blank=True
    )
    # Sites allowed to show the public pages in an iframe: one origin per line (https://exemple.fr).
    embedding_origins = models.TextField("sites autorisés à intégrer la prise de rendez-vous", blank=True)

    class Meta:
        verbose_name = "espace"
        verbose_name_plural = "espaces"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="territory_name_unique_ci")]

    def __str__(self) -> str:
        return self.name

    @property
    def territory(self) -> "Territory":
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The espace's wall-clock time zone."""
        return zone_info(self.time_zone or TimeZone.PARIS)

    @property
    def clock_name(self) -> str:
        """« heure de La Réunion »: how messages name the espace's time."""
        return CLOCK_NAMES.get(self.time_zone, CLOCK_NAMES[TimeZone.PARIS])

    def usager_field_visible(self, name: str) -> bool:
        """False when the espace hides this standard usager field (first and last name are always shown)."""
        return name not in (self.hidden_usager_fields or [])

    def rdv_field_enabled(self, name: str) -> bool:
        """Whether an optional RDV field (e.g. "context") is shown in this espace.

        While off the field is hidden everywhere; stored values are kept and come back when it is
        switched on again."""
        attribute, _ = RDV_OPTIONAL_FIELDS[name]
        return bool(getattr(self, attribute))

    @property
    def embedding_origin_list(self) -> list[str]:
        """The sites allowed to show the public pages in an iframe (CSP `frame-ancestors`), e.g.
        ["https://www.ladrome.fr"]: each stored line checked again, invalid ones left out."""
        return stored_origins(self.embedding_origins)

    @property
    def waiting_room_notifies_visually(self) -> bool:
        return self.waiting_room_notification in (WaitingRoomNotification.VISUAL, WaitingRoomNotification.BOTH)

    @property
    def waiting_room_notifies_by_email(self) -> bool:
        return self.waiting_room_notification in (WaitingRoomNotification.EMAIL, WaitingRoomNotification.BOTH)


class OrganisationQuerySet(models.QuerySet):
    def for_territory(self, territory: Territory) -> "OrganisationQuerySet":
        return self.filter(territory=territory)


class Organisation(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="organisations")
    name = models.CharField("nom", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "organisation"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("territory", Lower("name"), name="organisation_name_unique_in_territory"),
        ]

    def __str__(self) -> str:
        return self.name


class SectorCode(models.Model):
    """Sectorisation: a postal code or INSEE code (5 characters) an organisation serves, with the
    commune's name so an usager can type it. An espace without any code offers every organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sector_codes")
    code = models.CharField("code postal ou code INSEE", max_length=5)
    commune = models.CharField("commune", max_length=150, blank=True)
    # The commune compared without case, accents, hyphens or « St » abbreviations
    # (rdv.territories.sectors.commune_key): an usager's « st etienne » finds « Saint-Étienne » with a
    # plain LIKE on every database. Derived from `commune` on every save.
    commune_key = models.CharField(max_length=150, blank=True, default="", editable=False)

    class Meta:
        verbose_name = "code de sectorisation"
        verbose_name_plural = "codes de sectorisation"
        ordering = ["code", "commune"]
        constraints = [models.UniqueConstraint("organisation", "code", "commune", name="sector_code_unique")]
        indexes = [
            models.Index(fields=["code"], name="sector_code_idx"),
            models.Index(fields=["commune_key"], name="sector_commune_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.commune}".strip()

    def save(self, *args, **kwargs):
        # A derived column, like a search index: not a business rule.
        self.commune_key = commune_key(self.commune)[:150]
        if kwargs.get("update_fields") is not None and "commune" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "commune_key"}
        super().save(*args, **kwargs)


class ServiceQuerySet(models.QuerySet):
    def active_in(self, territory: Territory) -> "ServiceQuerySet":
        return self.filter(territory_activations__territory=territory)


class Service(models.Model):
    """The global catalogue of services (professions), extended by platform operators."""

    name = models.CharField("nom", max_length=200, unique=True)
    short_name = models.CharField("nom court", max_length=40, blank=True)
    is_secretariat = models.BooleanField(
        "secrétariat",
        default=False,
        help_text="Les agents de ce service voient les rendez-vous de tous les services de leur organisation.",
    )

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = "service"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TerritoryService(models.Model):
    """A service activated in an espace. No row: the service is inactive there."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="service_activations")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="territory_activations")
    activated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "service activé"
        verbose_name_plural = "services activés"
        constraints = [models.UniqueConstraint("territory", "service", name="territory_service_unique")]

    def __str__(self) -> str:
        return f"{self.service} ({self.territory})"
