"""The usagers' e-mails about a RDV: confirmation, move, cancellation, cancellation undone, reminder
(HTML and text, in French, times in the espace's time zone, with the instructions after booking, the
manage link, an ICS file calendars understand, and a link to the notification preferences).

Never the Contexte nor an agent's name: the message is built from the usager-facing facts only
(motif, times, place, instructions), as the public pages are.
"""

import base64
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from rdv.motifs.models import LocationType
from rdv.online.ics import rdv_ics
from rdv.online.services import french_moment, manage_token, map_url

PREFERENCES_SALT = "notification-preferences"

SUBJECTS = {
    "created": "Rendez-vous confirmé le {when}",
    "moved": "Rendez-vous déplacé au {when}",
    "cancelled": "Rendez-vous du {when} annulé",
    "restored": "Rendez-vous de nouveau confirmé le {when}",
    "reminder": "Rappel : rendez-vous le {when}",
}
INTROS = {
    "created": "Votre rendez-vous est confirmé.",
    "moved": "Votre rendez-vous a été déplacé. Voici le nouvel horaire.",
    "cancelled_by_service": "Votre rendez-vous est annulé par le service. Vous pouvez reprendre rendez-vous.",
    "cancelled_by_usager": "Votre annulation est enregistrée : ce rendez-vous n'aura pas lieu.",
    "restored": "Votre rendez-vous n'est plus annulé : il est de nouveau confirmé.",
    "reminder": "Nous vous rappelons votre rendez-vous.",
}


@dataclass
class Email:
    to: str
    subject: str
    text: str
    html: str
    attachments: list


def when(rdv) -> str:
    """« mardi 9 mars 2027 à 10 h 00 », in the espace's time zone."""
    return french_moment(rdv.starts_at, rdv.organisation.territory.zone)


def place(rdv) -> tuple[str, str]:
    """(where, map link) as the usager reads it."""
    location = rdv.motif.location_type
    if location == LocationType.PUBLIC_OFFICE and rdv.lieu_id:
        return f"{rdv.lieu.name}, {rdv.lieu.address}", map_url(rdv.lieu)
    if location == LocationType.PHONE:
        return "Par téléphone : le service vous appellera.", ""
    if location == LocationType.VISIO:
        return "En visioconférence : le lien vous sera donné par le service.", ""
    return f"À domicile{' : ' + rdv.address if rdv.address else ''}", ""


def preferences_token(usager) -> str:
    return signing.dumps({"u": usager.pk}, salt=PREFERENCES_SALT, compress=True)


def preferences_url(usager) -> str:
    return settings.SITE_URL + reverse("public:notification_preferences", args=[preferences_token(usager)])


def manage_url(rdv, usager) -> str:
    return settings.SITE_URL + reverse("public:manage", args=[manage_token(rdv, usager)])


def rdv_email(kind: str, rdv, *, to: str, recipient, person, cancelled_by_usager: bool = False) -> Email:
    """`recipient`: the usager who receives the message (the responsible one for a relative);
    `person`: the usager the RDV is for."""
    intro_key = kind
    if kind == "cancelled":
        intro_key = "cancelled_by_usager" if cancelled_by_usager else "cancelled_by_service"
    where, map_link = place(rdv)
    instructions = rdv.motif.instructions_after.strip() if kind != "cancelled" else ""
    context = {
        "kind": kind,
        "greeting": f"Bonjour {recipient.first_name},".replace(" ,", ","),
        "intro": INTROS[intro_key],
        "for_relative": person.pk != recipient.pk,
        "person_name": f"{person.first_name} {person.last_name.upper()}",
        "when": when(rdv),
        "clock_name": rdv.organisation.territory.clock_name,
        "motif": rdv.motif.name,
        "service": rdv.motif.service.name,
        "organisation": rdv.organisation.name,
        "where": where,
        "map_link": map_link,
        # Instructions are sanitised HTML (rdv.motifs.sanitize), rendered as is in the HTML part.
        "instructions_html": mark_safe(instructions),  # noqa: S308
        "instructions_text": strip_tags(instructions).strip(),
        "manage_url": manage_url(rdv, person) if kind != "cancelled" else "",
        "preferences_url": preferences_url(recipient),
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }
    method = "CANCEL" if kind == "cancelled" else "REQUEST"
    attachment = {
        "filename": "rendez-vous.ics",
        "mimetype": f"text/calendar; method={method}",
        "content_base64": base64.b64encode(rdv_ics(rdv, method=method, attendee=to)).decode(),
    }
    return Email(
        to=to,
        subject=SUBJECTS[kind].format(when=context["when"]),
        text=render_to_string("notifications/rdv_email.txt", context),
        html=render_to_string("notifications/rdv_email.html", context),
        attachments=[attachment],
    )


# SMS ----------------------------------------------------------------------------------------------

WEEKDAYS_SHORT = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]
SMS_TEXTS = {
    "created": "RDV confirmé le {when}, {where}. Infos, déplacer ou annuler : {url}",
    "moved": "RDV déplacé au {when}, {where}. Infos : {url}",
    "cancelled": "Votre RDV du {when} ({where}) est annulé par le service.",
    "restored": "RDV de nouveau confirmé le {when}, {where}. Infos : {url}",
    "reminder": "Rappel : RDV le {when}, {where}. Infos, déplacer ou annuler : {url}",
}


def sms_when(rdv) -> str:
    """« mar. 9/03 à 10h00 »: short, in the espace's time zone."""
    local = timezone.localtime(rdv.starts_at, rdv.organisation.territory.zone)
    return f"{WEEKDAYS_SHORT[local.weekday()]} {local.day}/{local:%m} à {local.hour}h{local:%M}"


def sms_where(rdv) -> str:
    location = rdv.motif.location_type
    if location == LocationType.PUBLIC_OFFICE and rdv.lieu_id:
        return rdv.lieu.name
    return {LocationType.PHONE: "par téléphone", LocationType.VISIO: "en visio"}.get(location, "à domicile")


def rdv_sms(kind: str, rdv, person) -> str:
    """One SMS (160 GSM-7 characters whenever the lieu's name allows): when, where, and the manage
    link, which also shows the address and the instructions. Never the Contexte."""
    url = manage_url(rdv, person) if kind != "cancelled" else ""
    return SMS_TEXTS[kind].format(when=sms_when(rdv), where=sms_where(rdv), url=url)
