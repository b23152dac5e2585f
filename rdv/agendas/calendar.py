"""Agenda reading helpers: French wording of dates and recurrences, the holiday zone of an espace,
and the week view of an agent (plages, absences and public holidays per day).

Nothing here writes; the week view loads what it shows in a constant number of queries.
"""

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from django.utils import timezone

from rdv.agendas.holidays import holiday_dates
from rdv.agendas.models import ABSENCE_LOOKBACK_DAYS, WEEKDAY_LABELS, Absence, PlageOuverture, RecurrenceKind
from rdv.availability.recurrence import expand, local_day_interval, occurrence_dates
from rdv.core.dates import french_date
from rdv.territories.models import HolidayZone

WHOLE_DAY_START = time(0, 0)
WHOLE_DAY_END = time(23, 59)


# Wording -------------------------------------------------------------------------------------


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def time_range(start: time, end: time) -> str:
    return f"{hhmm(start)}–{hhmm(end)}"


def weekday_rank(day: date) -> int:
    """The rank of a date's weekday in its month (1–4, 5 meaning "the last")."""
    return (day.day - 1) // 7 + 1


def rank_label(day: date, last: bool = False) -> str:
    """ "1er mardi", "2e mardi", "dernier mardi"."""
    rank = 5 if last else weekday_rank(day)
    prefix = "1er" if rank == 1 else ("dernier" if rank >= 5 else f"{rank}e")
    return f"{prefix} {WEEKDAY_LABELS[day.weekday()]}"


def weekdays_label(weekdays) -> str:
    names = [WEEKDAY_LABELS[d] for d in sorted(set(weekdays))]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} et {names[-1]}"


def describe_recurrence(obj) -> str:
    """French summary of a plage's or absence's repetition, e.g. "Toutes les 2 semaines, le mardi et le
    jeudi, du lundi 2 mars 2026 au mardi 30 juin 2026"."""
    kind = obj.recurrence
    if kind == RecurrenceKind.NONE:
        return f"Une seule fois, le {french_date(obj.first_date)}"
    interval = obj.recurrence_interval or 1
    if kind == RecurrenceKind.WEEKLY:
        weekdays = obj.recurrence_weekdays or [obj.first_date.weekday()]
        every = "Chaque semaine" if interval == 1 else f"Toutes les {interval} semaines"
        text = f"{every}, le {weekdays_label(weekdays)}"
    else:
        every = "Tous les mois" if interval == 1 else f"Tous les {interval} mois"
        text = f"{every}, le {rank_label(obj.first_date, getattr(obj, 'recurrence_last_of_month', False))}"
    text += f", à partir du {french_date(obj.first_date)}"
    if obj.until:
        text += f" jusqu'au {french_date(obj.until)}"
    return text


def plage_name(plage: PlageOuverture) -> str:
    """What a plage is called in messages: its title, or its motifs (prefetched) when untitled."""
    if plage.title:
        return plage.title
    names = list(dict.fromkeys(motif.name for motif in plage.motifs.all()))  # unique, in order
    return ", ".join(names) if names else str(plage)


# Holidays ------------------------------------------------------------------------------------

DEPARTEMENT_ZONES = {"57": "57", "67": "6AE", "68": "6AE", "971": "971", "972": "972", "973": "973"}
DEPARTEMENT_ZONES.update({"974": "974", "976": "976"})


def holiday_zone(territory) -> str:
    """The public-holiday zone of an espace: its setting when one is chosen, else its département
    (Alsace-Moselle and overseas départements have extra holidays), else metropolitan France ("")."""
    explicit = getattr(territory, "holiday_zone", "") or ""
    if explicit in HolidayZone.values and explicit:
        return explicit
    return DEPARTEMENT_ZONES.get((getattr(territory, "departement_number", "") or "").strip().upper(), "")


# Week view -----------------------------------------------------------------------------------


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class Entry:
    kind: str  # "plage" or "absence"
    start: time | None  # local times within the day; None: from the start / to the end of the day
    end: time | None
    title: str
    obj: object
    occurrence_date: date | None = None  # plages: the occurrence's date (the key of its exception)
    cancelled: bool = False
    moved: bool = False

    @property
    def whole_day(self) -> bool:
        return self.start is None and self.end is None

    @property
    def times(self) -> str:
        if self.whole_day:
            return "Journée entière"
        if self.start is None:
            return f"jusqu'à {hhmm(self.end)}"
        if self.end is None:
            return f"à partir de {hhmm(self.start)}"
        return time_range(self.start, self.end)

    @property
    def sort_key(self):
        return (self.start or time(0), self.kind)


@dataclass
class Day:
    day: date
    holiday: str = ""
    entries: list[Entry] = field(default_factory=list)
    is_today: bool = False

    @property
    def label(self) -> str:
        return french_date(self.day)


def _absence_entries(absence: Absence, days: dict[date, Day], monday: date, sunday: date, title: str, tz) -> None:
    """The absence's occurrences cut into days of the espace shown (`tz`); an absence of another
    espace is expanded in its own time zone."""
    for start, end in expand(absence.event(), monday, sunday):
        for day in days.values():
            day_start, day_end = local_day_interval(day.day, tz)
            if start >= day_end or end <= day_start:
                continue
            local_start = None if start <= day_start else start.astimezone(tz).time()
            local_end = None if end >= day_end else end.astimezone(tz).time()
            if local_start == WHOLE_DAY_START:
                local_start = None
            if local_end is not None and local_end >= WHOLE_DAY_END:
                local_end = None
            day.entries.append(Entry("absence", local_start, local_end, title, absence))


def week(organisation, agent, monday: date, zone: str = "") -> list[Day]:
    """The seven days from `monday`, in the espace's time, with the agent's plages of this
    organisation, their absences (all organisations) and the public holidays (`zone`). Four
    queries (plages, their motifs, their exceptions, absences)."""
    tz = organisation.territory.zone
    today = timezone.localdate(timezone=tz)
    sunday = monday + timedelta(days=6)
    days = {
        monday + timedelta(days=i): Day(monday + timedelta(days=i), is_today=monday + timedelta(days=i) == today)
        for i in range(7)
    }
    for day, name in holiday_dates(zone, monday, sunday).items():
        days[day].holiday = name
    plages = (
        PlageOuverture.objects.for_organisation(organisation)
        .filter(agent=agent)
        .overlapping_dates(monday, sunday)
        .select_related("lieu")
        .prefetch_related("motifs", "exceptions")
    )
    for plage in plages:
        exceptions = {exception.date: exception for exception in plage.exceptions.all()}
        name = plage_name(plage)
        for day in occurrence_dates(plage.event(tz=tz), monday, sunday):
            exception = exceptions.get(day)
            start, end = plage.start_time, plage.end_time
            if exception is not None and not exception.cancelled:
                start, end = exception.start_time, exception.end_time
            days[day].entries.append(
                Entry(
                    "plage",
                    start,
                    end,
                    name,
                    plage,
                    occurrence_date=day,
                    cancelled=bool(exception and exception.cancelled),
                    moved=bool(exception and not exception.cancelled),
                )
            )
    # Every absence of the agent blocks their slots here, wherever it was entered; those of other
    # organisations show without their title (it is theirs to read).
    absences = (
        Absence.objects.filter(agent=agent)
        .overlapping_dates(monday - timedelta(days=ABSENCE_LOOKBACK_DAYS), sunday)
        .select_related("organisation__territory")
    )
    for absence in absences:
        title = absence.title if absence.organisation_id == organisation.pk else "indisponible (autre organisation)"
        _absence_entries(absence, days, monday, sunday, title, tz)
    for day in days.values():
        day.entries.sort(key=lambda entry: entry.sort_key)
    return list(days.values())
