from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from rdv.availability import Recurrence, RecurringEvent
from rdv.territories.models import Organisation


class LieuQuerySet(models.QuerySet):
    def for_organisation(self, organisation: Organisation) -> "LieuQuerySet":
        return self.filter(organisation=organisation)

    def active(self) -> "LieuQuerySet":
        return self.filter(archived_at__isnull=True)


class Lieu(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="lieux")
    name = models.CharField("nom", max_length=200)
    address = models.CharField("adresse", max_length=300)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    is_open = models.BooleanField(
        "ouvert au public", default=True, help_text="Un lieu fermé n'est plus proposé pour de nouvelles plages."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LieuQuerySet.as_manager()

    class Meta:
        verbose_name = "lieu"
        ordering = ["name"]
        constraints = [
            # Archived lieux do not count: their names can be reused (restoring checks the clash first).
            models.UniqueConstraint(
                "organisation",
                Lower("name"),
                condition=models.Q(archived_at__isnull=True),
                name="lieu_name_unique_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RecurrenceKind(models.TextChoices):
    NONE = "none", "Pas de répétition"
    WEEKLY = "weekly", "Toutes les N semaines"
    MONTHLY = "monthly", "Tous les mois (même jour de la semaine)"


WEEKDAY_LABELS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MAX_RECURRENCE_INTERVAL = 52
# The fields of a plage or an absence that describe its recurrence (what the engine expands).
EVENT_FIELDS = [
    "first_date",
    "start_time",
    "end_time",
    "recurrence",
    "recurrence_interval",
    "recurrence_weekdays",
    "until",
    "recurrence_last_of_month",
]


def recurrence_constraints(prefix: str) -> list[models.BaseConstraint]:
    """Database guarantees shared by plages and absences (the services check them first)."""
    return [
        models.CheckConstraint(
            condition=models.Q(recurrence_interval__gte=1, recurrence_interval__lte=MAX_RECURRENCE_INTERVAL),
            name=f"{prefix}_interval_range",
        ),
        models.CheckConstraint(
            condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("first_date")),
            name=f"{prefix}_until_after_first_date",
        ),
    ]


class RecurrenceFields(models.Model):
    """Wall-clock recurrence shared by plages and absences (Europe/Paris local times)."""

    first_date = models.DateField("date de début")
    start_time = models.TimeField("heure de début")
    end_time = models.TimeField("heure de fin")
    recurrence = models.CharField("répétition", max_length=10, choices=RecurrenceKind, default=RecurrenceKind.NONE)
    recurrence_interval = models.PositiveSmallIntegerField("toutes les", default=1)
    recurrence_weekdays = models.JSONField("jours", default=list, blank=True)  # 0 = lundi … 6 = dimanche
    until = models.DateField("jusqu'au", null=True, blank=True)
    recurrence_last_of_month = models.BooleanField("le dernier jour de ce type du mois", default=False)

    class Meta:
        abstract = True

    def recurrence_rule(self) -> Recurrence:
        return Recurrence(
            kind=self.recurrence,
            interval=self.recurrence_interval or 1,
            weekdays=frozenset(self.recurrence_weekdays or ()),
            until=self.until if self.recurrence != RecurrenceKind.NONE else self.first_date,
            last_of_month=self.recurrence == RecurrenceKind.MONTHLY and self.recurrence_last_of_month,
        )

    @property
    def last_possible_date(self) -> date | None:
        if self.recurrence == RecurrenceKind.NONE:
            return self.first_date + timedelta(days=getattr(self, "span_days", 0))
        return self.until


class PlageOuvertureQuerySet(models.QuerySet):
    def for_organisation(self, organisation: Organisation) -> "PlageOuvertureQuerySet":
        return self.filter(organisation=organisation)

    def overlapping_dates(self, start: date, end: date) -> "PlageOuvertureQuerySet":
        """Plages that may have an occurrence between two dates (a coarse, indexed filter)."""
        return self.filter(first_date__lte=end).filter(
            models.Q(recurrence=RecurrenceKind.NONE, first_date__gte=start)
            | (~models.Q(recurrence=RecurrenceKind.NONE) & (models.Q(until__isnull=True) | models.Q(until__gte=start)))
        )


class PlageOuverture(RecurrenceFields):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="plages")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plages")
    lieu = models.ForeignKey(Lieu, on_delete=models.PROTECT, related_name="plages")
    motifs = models.ManyToManyField("motifs.Motif", related_name="plages", verbose_name="motifs")
    title = models.CharField("titre", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PlageOuvertureQuerySet.as_manager()

    class Meta:
        verbose_name = "plage d'ouverture"
        verbose_name_plural = "plages d'ouverture"
        ordering = ["first_date", "start_time"]
        indexes = [models.Index(fields=["agent", "first_date", "until"], name="plage_agent_dates_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")), name="plage_end_after_start"
            ),
            *recurrence_constraints("plage"),
        ]

    def __str__(self) -> str:
        return self.title or f"Plage du {self.first_date:%d/%m/%Y} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def event(self, exceptions=None, tz=None) -> RecurringEvent:
        """The series in the wall-clock time of its espace (`tz`, or read from the organisation)."""
        return RecurringEvent(
            first_date=self.first_date,
            start_time=self.start_time,
            end_time=self.end_time,
            recurrence=self.recurrence_rule(),
            exceptions=exceptions or {},
            tz=tz or self.organisation.territory.zone,
        )


class PlageException(models.Model):
    """One occurrence of a plage cancelled or moved, without touching the series."""

    plage = models.ForeignKey(PlageOuverture, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField("date de l'occurrence")
    cancelled = models.BooleanField("annulée", default=False)
    start_time = models.TimeField("nouvelle heure de début", null=True, blank=True)
    end_time = models.TimeField("nouvelle heure de fin", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("plage", "date", name="plage_exception_unique"),
            models.CheckConstraint(
                condition=models.Q(cancelled=True)
                | models.Q(start_time__isnull=False, end_time__isnull=False, end_time__gt=models.F("start_time")),
                name="plage_exception_times",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plage} · {self.date}"

    def as_rule(self):
        return None if self.cancelled else (self.start_time, self.end_time)


# A recurring absence lasts at most this many days (enforced by rdv.agendas.services), so readers of
# a window look this far back for occurrences still running.
ABSENCE_LOOKBACK_DAYS = 7


class AbsenceQuerySet(models.QuerySet):
    def overlapping_dates(self, start: date, end: date) -> "AbsenceQuerySet":
        return self.filter(first_date__lte=end).filter(
            models.Q(recurrence=RecurrenceKind.NONE, end_date__gte=start)
            | (~models.Q(recurrence=RecurrenceKind.NONE) & (models.Q(until__isnull=True) | models.Q(until__gte=start)))
        )


class Absence(RecurrenceFields):
    """An agent's unavailability: from first_date start_time to end_date end_time, maybe repeated."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="absences")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="absences")
    title = models.CharField("titre", max_length=200)
    end_date = models.DateField("date de fin")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = "absence"
        ordering = ["first_date", "start_time"]
        indexes = [models.Index(fields=["agent", "first_date", "end_date"], name="absence_agent_dates_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("first_date"))
                | models.Q(end_date=models.F("first_date"), end_time__gt=models.F("start_time")),
                name="absence_end_after_start",
            ),
            *recurrence_constraints("absence"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def span_days(self) -> int:
        return (self.end_date - self.first_date).days

    def event(self, tz=None) -> RecurringEvent:
        """The absence in the wall-clock time of its espace (`tz`, or read from the organisation)."""
        return RecurringEvent(
            first_date=self.first_date,
            start_time=self.start_time,
            end_time=self.end_time,
            recurrence=self.recurrence_rule(),
            span_days=self.span_days,
            tz=tz or self.organisation.territory.zone,
        )
