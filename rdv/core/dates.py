"""Date bounds shared by every face (forms, URLs, API): beyond them, date arithmetic overflows
(year 9999 + 1 day) and nothing of the product makes sense anyway."""

import datetime

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
