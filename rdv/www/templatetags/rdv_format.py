"""French wording in templates: elisions (« d'Alice ») and dates (« lundi 1er mars 2027 »).

{% load rdv_format %}
Agenda {{ agent|de }}          -> Agenda d'Alice Martin / Agenda de Bruno Petit
{{ rdv.starts_at|date_fr }}    -> mardi 1er mars 2027 (a date-time is read in the active time zone)
{{ day|date_fr:"court" }}      -> 1er mars 2027 (no weekday)
"""

import datetime

from django import template
from django.utils import timezone

from rdv.agendas.calendar import french_date
from rdv.core import text

register = template.Library()


@register.filter
def de(name) -> str:
    return text.de(name)


@register.filter
def date_fr(value, style: str = "") -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    if not isinstance(value, datetime.date):
        return ""
    return french_date(value, weekday=style != "court")
