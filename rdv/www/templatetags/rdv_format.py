"""French wording in templates: elisions (« d'Alice ») and dates (« lundi 1er mars 2027 »).

{% load rdv_format %}
Agenda {{ agent|de }}          -> Agenda d'Alice Martin / Agenda de Bruno Petit
{{ rdv.starts_at|date_fr }}    -> mardi 1er mars 2027 (a date-time is read in the active time zone)
{{ day|date_fr:"court" }}      -> 1er mars 2027 (no weekday)
{{ day|date_fr:"jour" }}       -> 1er mars (no weekday, no year)
{{ day|date_fr:"semaine" }}    -> lundi 1er mars (weekday, no year)
{{ day|date_fr:"numero" }}     -> lundi 1er (weekday and day of the month)
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
    """« mardi 1er mars 2027 »; style "court": « 1er mars 2027 »; "jour": « 1er mars »;
    "semaine": « mardi 1er mars »; "numero": « mardi 1er »."""
    if not isinstance(value, datetime.date):
        return ""
    return french_date(
        value,
        weekday=style in ("", "semaine", "numero"),
        year=style in ("", "court"),
        month=style != "numero",
    )
