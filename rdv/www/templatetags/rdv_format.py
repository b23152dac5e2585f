"""French wording in templates: elisions (« d'Alice ») and dates (« lundi 1er mars 2027 »).

{% load rdv_format %}
Agenda {{ agent|de }}          -> Agenda d'Alice Martin / Agenda de Bruno Petit
{{ rdv.starts_at|date_fr }}    -> mardi 1er mars 2027 (a date-time is read in the active time zone)
{{ day|date_fr:"court" }}      -> 1er mars 2027 (no weekday)
"""

import datetime

from django import template

from rdv.core import text
from rdv.core.dates import french_date

register = template.Library()


@register.filter
def de(name) -> str:
    return text.de(name)


@register.filter
def date_fr(value, style: str = "") -> str:
    """« mardi 1er mars 2027 »; style "court": « 1er mars 2027 »; style "jour": « 1er mars »."""
    if not isinstance(value, datetime.date):
        return ""
    return french_date(value, weekday=not style, year=style != "jour")
