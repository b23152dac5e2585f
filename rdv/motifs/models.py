"""Motifs: the reason and booking rules of an appointment, owned by one organisation and one service.

An espace admin creates "the same" motif in several organisations at once: each organisation gets
its own independent row, and the rows created together share `creation_batch`.
"""

import uuid

from django.db import models
from django.db.models.functions import Lower

from rdv.territories.models import Organisation, Service, Territory

MINUTES_PER_DAY = 24 * 60
DEFAULT_DURATION_MINUTES = 30
MAX_DURATION_MINUTES = MINUTES_PER_DAY
DEFAULT_MIN_BOOKING_DELAY_MINUTES = 30
DEFAULT_MAX_BOOKING_DELAY_MINUTES = 90 * MINUTES_PER_DAY  # three months of 30 days
MIN_BOOKING_DELAY_FLOOR_MINUTES = 30
MAX_BOOKING_DELAY_CEILING_MINUTES = 365 * MINUTES_PER_DAY
MAX_PARTICIPANTS_CEILING = 1000
INSTRUCTIONS_MAX_LENGTH = 5000


class LocationType(models.TextChoices):
    PUBLIC_OFFICE = "public_office", "Sur place"
    PHONE = "phone", "Par téléphone"
    VISIO = "visio", "En visioconférence"
    HOME = "home", "À domicile"


LOCATION_LABELS = dict(LocationType.choices)


class BookableBy(models.TextChoices):
    AGENTS = "agents", "Agents de l'organisation uniquement"
    AGENTS_AND_PRESCRIPTEURS = "agents_and_prescripteurs", "Agents et prescripteurs"
    AGENTS_PRESCRIPTEURS_INVITED_USAGERS = (
        "agents_prescripteurs_invited_usagers",
        "Agents, prescripteurs et usagers invités",
    )
    EVERYONE = "everyone", "Tout le monde"


# Who may book decides whether usagers can book themselves at all.
BOOKABLE_BY_USAGERS = (BookableBy.AGENTS_PRESCRIPTEURS_INVITED_USAGERS, BookableBy.EVERYONE)


class Visibility(models.TextChoices):
    VISIBLE_AND_NOTIFIED = "visible_and_notified", "Visible par l'usager et notifié"
    VISIBLE_NOT_NOTIFIED = "visible_not_notified", "Visible par l'usager mais non notifié"
    INVISIBLE = "invisible", "Invisible pour l'usager (ni affiché ni notifié)"


class MotifQuerySet(models.QuerySet):
    def for_territory(self, territory: Territory) -> "MotifQuerySet":
        return self.filter(organisation__territory=territory)

    def for_organisation(self, organisation: Organisation) -> "MotifQuerySet":
        return self.filter(organisation=organisation)

    def active(self) -> "MotifQuerySet":
        """Not archived: the only motifs to offer for new plages and new bookings."""
        return self.filter(archived_at__isnull=True)

    def archived(self) -> "MotifQuerySet":
        return self.filter(archived_at__isnull=False)

    def online(self) -> "MotifQuerySet":
        return self.active().filter(bookable_online=True)


class Motif(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="motifs")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="motifs")
    # Configuration
    name = models.CharField("nom", max_length=200)
    color = models.CharField("couleur", max_length=7, default="#000091")
    default_duration_minutes = models.PositiveIntegerField(
        "durée par défaut (minutes)", default=DEFAULT_DURATION_MINUTES
    )
    location_type = models.CharField("type", max_length=20, choices=LocationType, default=LocationType.PUBLIC_OFFICE)
    collective = models.BooleanField("collectif", default=False)
    max_participants = models.PositiveIntegerField("nombre maximum de participants", null=True, blank=True)
    follow_up = models.BooleanField("suivi par le référent", default=False)
    for_secretariat = models.BooleanField("ouvert au secrétariat", default=False)
    bookable_by = models.CharField("qui peut réserver", max_length=40, choices=BookableBy, default=BookableBy.AGENTS)
    # Online booking
    bookable_online = models.BooleanField("ouvert aux usagers", default=False)
    min_booking_delay_minutes = models.PositiveIntegerField(
        "délai minimum de réservation (minutes)", default=DEFAULT_MIN_BOOKING_DELAY_MINUTES
    )
    max_booking_delay_minutes = models.PositiveIntegerField(
        "délai maximum de réservation (minutes)", default=DEFAULT_MAX_BOOKING_DELAY_MINUTES
    )
    usager_can_move = models.BooleanField("l'usager peut déplacer son rendez-vous", default=True)
    usager_can_cancel = models.BooleanField("l'usager peut annuler son rendez-vous", default=True)
    visibility = models.CharField(
        "visibilité pour l'usager", max_length=30, choices=Visibility, default=Visibility.VISIBLE_AND_NOTIFIED
    )
    # Notifications and instructions: sanitised HTML (see rdv.motifs.sanitize), safe to render as is.
    instructions_before = models.TextField("instructions avant la réservation", blank=True)
    instructions_after = models.TextField("instructions après la réservation", blank=True)
    cancellation_warning = models.TextField("avertissement d'annulation", blank=True)
    # Bookkeeping
    creation_batch = models.UUIDField("lot de création", default=uuid.uuid4, db_index=True, editable=False)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MotifQuerySet.as_manager()

    class Meta:
        verbose_name = "motif"
        ordering = ["organisation__name", "service__name", "name", "location_type"]
        constraints = [
            # Archived motifs do not count: their names can be reused (as in the established platform).
            # Restoring one checks the clash first (rdv.motifs.services.restore_motif).
            models.UniqueConstraint(
                "organisation",
                "service",
                Lower("name"),
                "location_type",
                condition=models.Q(archived_at__isnull=True),
                name="motif_name_unique_active",
            ),
            models.CheckConstraint(
                condition=models.Q(default_duration_minutes__gte=1, default_duration_minutes__lte=MAX_DURATION_MINUTES),
                name="motif_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(collective=False) | models.Q(location_type=LocationType.PUBLIC_OFFICE),
                name="motif_collective_on_site",
            ),
            models.CheckConstraint(
                condition=models.Q(min_booking_delay_minutes__gte=MIN_BOOKING_DELAY_FLOOR_MINUTES)
                & models.Q(max_booking_delay_minutes__gt=models.F("min_booking_delay_minutes")),
                name="motif_booking_delays",
            ),
        ]

    def __str__(self) -> str:
        return self.label_of(self.name, self.location_type)

    @staticmethod
    def label_of(name: str, location_type: str) -> str:
        """How a motif is named (« Accueil (sur place) »), from its two fields alone (lists read as values)."""
        return f"{name} ({str(LOCATION_LABELS.get(location_type, location_type)).lower()})"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def territory(self) -> Territory:
        return self.organisation.territory
