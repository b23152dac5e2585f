"""Models of the online booking (see rdv/online/__init__.py).

- `OnlineBooking`: one visitor's booking in progress, then its record once confirmed: the held
  slot (agent chosen at hold time), what the visitor typed, the verification code (hashed), the
  prescripteur when one books for a beneficiary, and the RDV created.
- `ManageLink`: the tokenised link `/r/<token>` to see, cancel or move a RDV booked online (only a
  hash of the token is stored).
- `AvailabilityFeed`: the cached open-data feed of an espace's next free slots (rdv.online.opendata).
- `SlotCacheVersion`: the version rows that validate the slot cache (rdv.online.slotcache).
"""

import uuid

from django.conf import settings
from django.db import models


class BookingMode(models.TextChoices):
    USAGER = "usager", "Usager"
    PRESCRIPTEUR = "prescripteur", "Prescripteur"


class BookingStatus(models.TextChoices):
    HELD = "held", "Créneau réservé provisoirement"
    CODE_SENT = "code_sent", "Code de vérification envoyé"
    CONFIRMED = "confirmed", "Rendez-vous confirmé"
    SLOT_TAKEN = "slot_taken", "Créneau pris entre-temps"
    ABANDONED = "abandoned", "Abandonné"


OPEN_STATUSES = (BookingStatus.HELD, BookingStatus.CODE_SENT)


class OnlineBooking(models.Model):
    """A booking by a member of the public, from the held slot to the confirmed RDV.

    `public_id` names it in URLs; the visitor's session key (`holder_key`) must match too. The
    code is stored as a keyed hash (`code_hash`), valid until `code_expires_at`, with a number of
    tries; `details` holds what the visitor typed (names, contact, birth date, custom field values,
    the relative) until the RDV and the usager files are created from it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder_key = models.CharField(max_length=64, db_index=True)
    mode = models.CharField(max_length=15, choices=BookingMode, default=BookingMode.USAGER)
    status = models.CharField(max_length=15, choices=BookingStatus, default=BookingStatus.HELD)
    organisation = models.ForeignKey("territories.Organisation", on_delete=models.CASCADE, related_name="+")
    motif = models.ForeignKey("motifs.Motif", on_delete=models.CASCADE, related_name="+")
    lieu = models.ForeignKey("agendas.Lieu", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    displayed_at = models.DateTimeField(null=True, blank=True)  # when the week page showed the slot
    hold = models.ForeignKey("bookings.SlotHold", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    hold_expires_at = models.DateTimeField()
    # What the visitor typed (cleaned values, JSON): see rdv.online.services.submit_details.
    details = models.JSONField(default=dict, blank=True)
    # The person the RDV is for (usager mode: the visitor; prescripteur mode: the beneficiary).
    contact_email = models.EmailField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    # Prescripteur mode: who booked.
    prescripteur_name = models.CharField("prescripteur", max_length=300, blank=True)
    prescripteur_email = models.EmailField("e-mail du prescripteur", max_length=254, blank=True)
    prescripteur_phone = models.CharField("téléphone du prescripteur", max_length=20, blank=True)
    prescripteur_structure = models.CharField("structure du prescripteur", max_length=300, blank=True)
    # Verification code.
    code_hash = models.CharField(max_length=128, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    # Outcome.
    rdv = models.OneToOneField(
        "bookings.Rdv", null=True, blank=True, on_delete=models.SET_NULL, related_name="online_booking"
    )
    usager = models.ForeignKey("usagers.Usager", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "réservation en ligne"
        verbose_name_plural = "réservations en ligne"
        indexes = [
            models.Index(fields=["motif", "contact_email"], name="onlinebooking_motif_email_idx"),
            models.Index(fields=["motif", "contact_phone"], name="onlinebooking_motif_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"Réservation en ligne {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_prescripteur(self) -> bool:
        return self.mode == BookingMode.PRESCRIPTEUR

    @property
    def code_recipient(self) -> str:
        """Where the verification code goes: the prescripteur's e-mail, the visitor's e-mail, or,
        without one, the visitor's mobile number (by SMS)."""
        if self.is_prescripteur:
            return self.prescripteur_email
        return self.contact_email or self.contact_phone

    @property
    def code_by_sms(self) -> bool:
        return not self.is_prescripteur and not self.contact_email and bool(self.contact_phone)


class ManageLink(models.Model):
    """The link `/r/<token>` that lets the person booked for see, cancel or move their RDV.

    Only the SHA-256 of the token is stored (`token_hash`); the token is shown once (confirmation
    page and e-mail). Revoked links (`revoked_at`) and links past `expires_at` open nothing."""

    rdv = models.ForeignKey("bookings.Rdv", on_delete=models.CASCADE, related_name="manage_links")
    usager = models.ForeignKey("usagers.Usager", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    # The token is an HMAC of this random salt with the SECRET_KEY: later e-mails about the RDV give
    # the same link again, while the database alone reveals no token.
    token_salt = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "lien de gestion d'un rendez-vous"
        verbose_name_plural = "liens de gestion des rendez-vous"

    def __str__(self) -> str:
        return f"Lien de gestion du rendez-vous {self.rdv_id}"


class AvailabilityFeed(models.Model):
    """The last computed open-data feed of an espace: one row per (organisation, lieu, motif open
    online to usagers) with its next free slot (rdv.online.opendata builds and serves it).

    Stored in the database so that every web process serves the same snapshot. `stale` is set in
    the transaction of any change of the espace's agendas, RDVs, motifs or lieux (an audit
    listener); a snapshot is also too old `FEED_MAX_AGE` after `generated_at`. `computing_until`
    is the lease of the one request that recomputes it (the others serve the previous rows)."""

    territory = models.OneToOneField(
        "territories.Territory", on_delete=models.CASCADE, primary_key=True, related_name="availability_feed"
    )
    rows = models.JSONField(default=list, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=True)
    computing_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "flux ouvert des prochaines disponibilités"
        verbose_name_plural = "flux ouverts des prochaines disponibilités"

    def __str__(self) -> str:
        return f"Flux des prochaines disponibilités de l'espace {self.territory_id}"


class SlotCacheVersion(models.Model):
    """A version of what the free times of the public pages depend on (rdv.online.slotcache):
    per agent and week (`week`: a Monday; RDVs and slot holds), per agent for every week (absences),
    per espace for every week (plages, lieux, motifs, settings). `version` is a random number
    replaced, in the change's transaction, by every change of that data; a cache entry is used only
    when the versions it was computed under are still the current ones."""

    class Scope(models.TextChoices):
        AGENT = "a", "Agent"
        TERRITORY = "t", "Espace"

    scope = models.CharField(max_length=1, choices=Scope.choices)
    object_id = models.BigIntegerField()
    week = models.DateField()  # a Monday, or ALL_WEEKS (rdv.online.slotcache)
    version = models.BigIntegerField()

    class Meta:
        verbose_name = "version du cache des créneaux"
        verbose_name_plural = "versions du cache des créneaux"
        constraints = [
            models.UniqueConstraint(fields=["scope", "object_id", "week"], name="slot_cache_version_unique"),
        ]

    def __str__(self) -> str:
        return f"Version du cache des créneaux {self.scope}{self.object_id} {self.week}"
