from django.conf import settings
from django.db import models

from rdv.territories.models import Organisation


class RdvStatus(models.TextChoices):
    UNKNOWN = "unknown", "À venir"
    SEEN = "seen", "Vu"
    EXCUSED = "excused", "Annulé par l'usager"
    REVOKED = "revoked", "Annulé par le service"
    NOSHOW = "noshow", "Absent"


CANCELLED_STATUSES = (RdvStatus.EXCUSED, RdvStatus.REVOKED)


class CreatedBy(models.TextChoices):
    AGENT = "agent", "Agent"
    USAGER = "usager", "Usager"
    PRESCRIPTEUR = "prescripteur", "Prescripteur"


class RdvQuerySet(models.QuerySet):
    def for_organisation(self, organisation: Organisation) -> "RdvQuerySet":
        return self.filter(organisation=organisation)


class RdvFacts:
    """What a RDV's status and times say: shared by the model and the agenda's plain values
    (rdv.bookings.selectors.AgendaRdv), which have `status`, `starts_at` and `ends_at`."""

    __slots__ = ()

    @property
    def is_cancelled(self) -> bool:
        return self.status in CANCELLED_STATUSES

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Rdv(RdvFacts, models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="rdvs")
    motif = models.ForeignKey("motifs.Motif", on_delete=models.PROTECT, related_name="rdvs")
    lieu = models.ForeignKey("agendas.Lieu", null=True, blank=True, on_delete=models.PROTECT, related_name="rdvs")
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")
    status = models.CharField("statut", max_length=10, choices=RdvStatus, default=RdvStatus.UNKNOWN)
    created_by = models.CharField(max_length=15, choices=CreatedBy, default=CreatedBy.AGENT)
    created_by_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Internal note for agents ("Contexte"): never shown to usagers (pages, e-mails, SMS, ICS).
    # Hidden while the espace switches the field off; the text stays stored.
    context = models.TextField("contexte", blank=True)
    address = models.CharField("adresse (à domicile)", max_length=300, blank=True)
    visio_url = models.URLField("lien de visioconférence", blank=True)
    collective = models.BooleanField("collectif", default=False)
    max_participants = models.PositiveIntegerField("places", null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField("motif d'annulation", max_length=300, blank=True)
    # Waiting room: the usager has arrived (stored, so a restart loses nothing).
    arrived_at = models.DateTimeField("arrivé à", null=True, blank=True)
    arrived_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RdvQuerySet.as_manager()

    class Meta:
        verbose_name = "rendez-vous"
        verbose_name_plural = "rendez-vous"
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["organisation", "starts_at"], name="rdv_org_start_idx"),
            # The statistics dashboards (rdv.bookings.stats): index-only scans of an organisation's
            # period on PostgreSQL (INCLUDE is PostgreSQL-only: Django skips this index on SQLite).
            models.Index(
                fields=["organisation", "starts_at"],
                include=["motif", "status", "created_by", "created_at"],
                name="rdv_org_start_stats_idx",
            ),
            # Bookings of the last minutes (rdv.bookings.metrics, at each scrape of /metrics).
            models.Index(fields=["created_at"], name="rdv_created_idx"),
        ]

    def __str__(self) -> str:
        from django.utils import timezone

        local = timezone.localtime(self.starts_at, self.organisation.territory.zone)  # the espace's time
        return f"RDV {self.motif.name} le {local:%d/%m/%Y %H:%M}"

    @property
    def territory(self):
        return self.organisation.territory


class RdvAgent(models.Model):
    """An agent of a RDV, with the RDV's times copied so the database can refuse overlaps
    (exclusion constraint on PostgreSQL) and the availability loader can read busy times with
    one indexed query."""

    rdv = models.ForeignKey(Rdv, on_delete=models.CASCADE, related_name="agent_links")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rdv_links")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocks_agenda = models.BooleanField(default=True)  # False once the RDV is cancelled
    # True unless an agent knowingly booked over another RDV ("override", logged): exclusive rows
    # of one agent may not overlap (PostgreSQL exclusion constraint, see migration 0002).
    exclusive = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint("rdv", "agent", name="rdv_agent_unique")]
        indexes = [models.Index(fields=["agent", "starts_at"], name="rdvagent_agent_start_idx")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.rdv}"


class ParticipationStatus(models.TextChoices):
    UNKNOWN = "unknown", "À venir"
    SEEN = "seen", "Vu"
    EXCUSED = "excused", "Annulé par l'usager"
    REVOKED = "revoked", "Annulé par le service"
    NOSHOW = "noshow", "Absent"


class Participation(models.Model):
    """An usager in a RDV, with their own status (useful for collective RDVs)."""

    rdv = models.ForeignKey(Rdv, on_delete=models.CASCADE, related_name="participations")
    usager = models.ForeignKey("usagers.Usager", on_delete=models.PROTECT, related_name="participations")
    status = models.CharField("statut", max_length=10, choices=ParticipationStatus, default=ParticipationStatus.UNKNOWN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint("rdv", "usager", name="participation_unique")]

    def __str__(self) -> str:
        return f"{self.usager} · {self.rdv}"


class SlotHold(models.Model):
    """A slot held for a few minutes by someone booking online (rdv.online): while it lasts, the
    availability engine counts it as busy for everyone but its holder (`holder_key`), so nobody
    else sees or books it; it expires by itself (`expires_at`). The booking re-checks anyway."""

    motif = models.ForeignKey("motifs.Motif", on_delete=models.CASCADE, related_name="+")
    lieu = models.ForeignKey("agendas.Lieu", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    holder_key = models.CharField(max_length=64, db_index=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["agent", "expires_at"], name="slothold_agent_expiry_idx")]

    def __str__(self) -> str:
        return f"Créneau réservé provisoirement ({self.starts_at:%Y-%m-%d %H:%M})"
