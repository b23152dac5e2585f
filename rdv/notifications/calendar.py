"""The calendar feed of an agent: their RDVs as an ICS file their calendar application subscribes
to (`/calendrier/<token>.ics`, rdv.www.views.agent_notifications).

One VEVENT per RDV the agent takes part in, with the same UID as the usager's file
(rdv.online.ics.rdv_uid: the event is the same RDV), the motif and the usagers' names as summary,
the place, CANCELLED for a cancelled RDV, and in the description the organisation, the RDV's page
and the Contexte only when the espace shows it. Nothing else about the usagers."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from rdv.motifs.models import LocationType
from rdv.online.ics import rdv_uid

REFRESH = timedelta(hours=1)  # how often calendar applications are asked to read the feed again


def agent_where(rdv) -> str:
    """Where the RDV takes place, as its agents read it (home address and visio link included)."""
    location = rdv.motif.location_type
    if location == LocationType.PUBLIC_OFFICE:
        return f"{rdv.lieu.name}, {rdv.lieu.address}" if rdv.lieu_id else "Sur place"
    if location == LocationType.PHONE:
        return "Par téléphone"
    if location == LocationType.VISIO:
        return "En visioconférence" + (f" : {rdv.visio_url}" if rdv.visio_url else "")
    return "À domicile" + (f" : {rdv.address}" if rdv.address else "")


def _summary(rdv) -> str:
    names = ", ".join(f"{p.usager.first_name} {p.usager.last_name}".strip() for p in rdv.participations.all())
    return f"{rdv.motif.name}" + (f" : {names}" if names else "")


def _description(rdv) -> str:
    lines = [f"{rdv.motif.service.name}, {rdv.organisation.name}"]
    if rdv.is_cancelled:
        lines.append(f"Annulé ({rdv.get_status_display()})" + (f" : {rdv.cancel_reason}" if rdv.cancel_reason else ""))
    if rdv.organisation.territory.rdv_field_enabled("context") and rdv.context:
        lines.append(f"Contexte : {rdv.context}")
    lines.append(f"Voir le rendez-vous : {rdv_page(rdv)}")
    return "\n".join(lines)


def rdv_page(rdv) -> str:
    return settings.SITE_URL + reverse("rdv_detail", args=[rdv.organisation_id, rdv.pk])


def agent_calendar(rdvs, *, now=None) -> bytes:
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//Prise de rendez-vous service public//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Mes rendez-vous — {settings.SITE_NAME}")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for rdv in rdvs:
        event = Event()
        event.add("uid", rdv_uid(rdv))
        event.add("dtstamp", now)
        event.add("dtstart", rdv.starts_at)
        event.add("dtend", rdv.ends_at)
        event.add("summary", _summary(rdv))
        event.add("location", agent_where(rdv))
        event.add("description", _description(rdv))
        event.add("url", rdv_page(rdv))
        event.add("status", "CANCELLED" if rdv.is_cancelled else "CONFIRMED")
        event.add("sequence", int(rdv.updated_at.timestamp()) % 2_000_000_000 if rdv.updated_at else 0)
        if rdv.updated_at:
            event.add("last-modified", rdv.updated_at)
        calendar.add_component(event)
    return calendar.to_ical()
