"""The ICS file of a RDV for the usager (icalendar): what the confirmation page and e-mail offer.

Only what the usager may read: the motif, the times, the place (or the modality) and the motif's
instructions after booking. Never the Contexte, never an agent's name. The UID is stable (one per
RDV), so a calendar replaces the event when the file is downloaded again after a move; SEQUENCE
grows with each change."""

from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.html import strip_tags
from icalendar import Calendar, Event

from rdv.motifs.models import LocationType


def rdv_uid(rdv) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "rdv.localhost"
    return f"rdv-{rdv.pk}@{host}"


def rdv_ics(rdv, *, method: str = "PUBLISH", attendee: str = "") -> bytes:
    """`method`: PUBLISH (a file to download), REQUEST (attached to an e-mail: calendars add or
    update the event) or CANCEL (they remove it). REQUEST and CANCEL name the sender as organiser
    and `attendee` as the attendee, as calendar clients expect of an invitation."""
    calendar = Calendar()
    calendar.add("prodid", "-//Prise de rendez-vous service public//FR")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    if method in ("REQUEST", "CANCEL"):
        sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "ne-pas-repondre@localhost"
        event.add("organizer", f"mailto:{sender}", parameters={"CN": settings.SITE_NAME})
        if attendee:
            event.add("attendee", f"mailto:{attendee}", parameters={"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"})
    event.add("uid", rdv_uid(rdv))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", rdv.starts_at)
    event.add("dtend", rdv.ends_at)
    event.add("summary", f"Rendez-vous : {rdv.motif.name}")
    event.add("sequence", int(rdv.updated_at.timestamp()) % 2_000_000_000 if rdv.updated_at else 0)
    motif = rdv.motif
    if motif.location_type == LocationType.PUBLIC_OFFICE and rdv.lieu_id:
        event.add("location", f"{rdv.lieu.name}, {rdv.lieu.address}")
    elif motif.location_type == LocationType.PHONE:
        event.add("location", "Par téléphone")
    elif motif.location_type == LocationType.VISIO:
        event.add("location", "En visioconférence")
    else:
        event.add("location", "À domicile")
    if motif.instructions_after:
        event.add("description", strip_tags(motif.instructions_after).strip())
    event.add("status", "CANCELLED" if rdv.is_cancelled or method == "CANCEL" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
