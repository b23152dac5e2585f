"""Date bounds shared by every face (forms, URLs, API): beyond them, date arithmetic overflows
(year 9999 + 1 day) and nothing of the product makes sense anyway."""

import datetime

from django.utils import timezone

DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2200, 12, 31)
DATE_OUT_OF_RANGE = "Saisissez une date entre 1900 et 2200."


def parse_day(raw: str | None) -> datetime.date | None:
    """A YYYY-MM-DD date from a URL parameter, or None when absent, malformed or out of range."""
    try:
        day = datetime.date.fromisoformat(raw or "")
    except ValueError:
        return None
    return day if DATE_MIN <= day <= DATE_MAX else None


WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(day: datetime.date, weekday: bool = True, year: bool = True, month: bool = True) -> str:
    """The date as French pages and messages write it: « mardi 3 mars 2026 », « dimanche 1er mars
    2026 » (« 1er » for the first day of a month, always; « 1er mars » without year). A date-time is
    read in the active time zone (the espace's on its pages)."""
    if isinstance(day, datetime.datetime):
        day = (timezone.localtime(day) if timezone.is_aware(day) else day).date()
    number = "1er" if day.day == 1 else str(day.day)
    if not month:  # « lundi 1er », within a week already named
        return f"{WEEKDAYS[day.weekday()]} {number}" if weekday else number
    text = f"{number} {MONTHS[day.month - 1]}" + (f" {day.year}" if year else "")
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def french_datetime(moment: datetime.datetime, tz=None) -> str:
    """« lundi 1er mars 2027 à 09:30 », in `tz` (default: the active time zone)."""
    local = timezone.localtime(moment, tz)
    return f"{french_date(local.date())} à {local:%H:%M}"
