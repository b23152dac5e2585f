"""Public holidays of France from the maintained `holidays` package (never a hard-coded list)."""

from datetime import date
from functools import lru_cache

import holidays

# Espace setting values -> `holidays` subdivision codes (None: metropolitan France).
HOLIDAY_ZONES = {
    "": ("Métropole", None),
    "57": ("Moselle", "57"),
    "6AE": ("Alsace (Bas-Rhin, Haut-Rhin)", "6AE"),
    "971": ("Guadeloupe", "971"),
    "972": ("Martinique", "972"),
    "973": ("Guyane", "973"),
    "974": ("La Réunion", "974"),
    "976": ("Mayotte", "976"),
}


@lru_cache(maxsize=256)
def _year(zone: str, year: int) -> dict[date, str]:
    subdiv = HOLIDAY_ZONES.get(zone, ("", None))[1]
    return dict(holidays.France(years=year, subdiv=subdiv, language="fr"))


def holiday_dates(zone: str, start: date, end: date) -> dict[date, str]:
    """Holidays (date -> French name) between two dates, inclusive."""
    found = {}
    for year in range(start.year, end.year + 1):
        for day, name in _year(zone or "", year).items():
            if start <= day <= end:
                found[day] = name
    return found
