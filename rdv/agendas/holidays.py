"""Public holidays of France from the maintained `holidays` package (never a hard-coded list)."""

from datetime import date
from functools import lru_cache

import holidays

from rdv.territories.models import HolidayZone


@lru_cache(maxsize=256)
def _year(zone: str, year: int) -> dict[date, str]:
    subdiv = zone if zone in HolidayZone.values and zone else None  # "" is metropolitan France
    return dict(holidays.France(years=year, subdiv=subdiv, language="fr"))


def holiday_dates(zone: str, start: date, end: date) -> dict[date, str]:
    """Holidays (date -> French name) between two dates, inclusive."""
    found = {}
    for year in range(start.year, end.year + 1):
        for day, name in _year(zone or "", year).items():
            if start <= day <= end:
                found[day] = name
    return found
