"""From a change to the agents' e-mails, in the change's transaction (an audit listener, registered
in apps.py next to the usagers' one).

RDVs (created, moved, changed, cancelled, a participant added or removed): each agent of the RDV
hears about it according to their choice (« Mes notifications », rdv.notifications.models.RdvLevel):
- « Tous les changements »: every change, their own included;
- « Les changements faits par d'autres » (the default): not the changes they made themselves;
- « … sur un RDV d'aujourd'hui ou de demain »: changes by others to a RDV on today or tomorrow in the
  espace's time zone (for a move: the old or the new day);
- « Aucun »: nothing.
Agents added to a RDV get « créé », agents removed from it « annulé » (by the same rules). Nothing for
a RDV that has started; the e-mail expires at the RDV's start (the outbox never sends it later).

Plages d'ouverture and absences: their agent hears about changes made by someone else when they
chose so (the default).

The e-mail gives the times in the espace's time zone, the RDV's page and the Contexte only when the
espace shows it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rdv.agendas.models import Absence, PlageOuverture
from rdv.bookings.models import Rdv
from rdv.core.audit import ACTION_LABELS, describe_changes
from rdv.notifications.calendar import agent_where, rdv_page
from rdv.notifications.messages import when
from rdv.notifications.models import AgentPreferences, RdvLevel
from rdv.notifications.selectors import preferences_by_agent
from rdv.online.services import french_moment
from rdv.outbox.models import Purpose
from rdv.outbox.services import enqueue_email

RDV_ACTIONS = {
    "rdv.created",
    "rdv.moved",
    "rdv.updated",
    "rdv.cancelled",
    "rdv.participant_added",
    "rdv.participant_removed",
}
SUBJECTS = {
    "created": "Nouveau rendez-vous le {when}",
    "moved": "Rendez-vous déplacé au {when}",
    "updated": "Rendez-vous du {when} modifié",
    "cancelled": "Rendez-vous du {when} annulé",
    "removed": "Rendez-vous du {when} annulé pour vous",
    "participant_added": "Participant ajouté au rendez-vous du {when}",
    "participant_removed": "Participant retiré du rendez-vous du {when}",
}
INTROS = {
    "created": "Un rendez-vous a été ajouté à votre agenda.",
    "moved": "Un de vos rendez-vous a été déplacé.",
    "updated": "Un de vos rendez-vous a été modifié.",
    "cancelled": "Un de vos rendez-vous a été annulé.",
    "removed": "Vous avez été retiré(e) de ce rendez-vous : il n'est plus dans votre agenda.",
    "participant_added": "Un participant a été ajouté à un de vos rendez-vous.",
    "participant_removed": "Un participant a été retiré d'un de vos rendez-vous.",
}
# Changes of a RDV an agent is told about in « modifié » (the Contexte only when the espace shows it).
UPDATED_FIELDS = {"context": "Contexte", "address": "Adresse", "visio_url": "Lien de visioconférence"}


def on_action(entry, obj, related=None) -> None:
    related = related or {}
    if entry.action in RDV_ACTIONS and isinstance(obj, Rdv):
        notify_rdv_agents(entry, obj, related)
    elif isinstance(obj, PlageOuverture | Absence) and entry.action.partition(".")[0] in ("plage", "absence"):
        notify_agenda_owner(entry, obj)


# Who hears about what ------------------------------------------------------------------------


def wants(level: str, *, by_self: bool, soon: bool) -> bool:
    """Whether an agent with this level hears about a change (`by_self`: they made it; `soon`: the
    RDV is today or tomorrow in its espace)."""
    if level == RdvLevel.NONE:
        return False
    if level == RdvLevel.ALL:
        return True
    if by_self:
        return False
    return level == RdvLevel.OTHERS or (level == RdvLevel.SOON and soon)


def is_soon(starts: list[datetime], zone, now: datetime) -> bool:
    """One of these starts falls today or tomorrow in the espace's time zone."""
    today = timezone.localtime(now, zone).date()
    return any(timezone.localtime(start, zone).date() in (today, today + timedelta(days=1)) for start in starts)


def _old_start(entry) -> datetime | None:
    value = (entry.changes or {}).get("starts_at")
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        try:
            return datetime.fromisoformat(value[0])
        except ValueError:
            return None
    return None


def _current_agents(rdv: Rdv) -> list:
    return [link.agent for link in rdv.agent_links.select_related("agent").order_by("agent_id")]


def _rdv_kinds(entry, rdv: Rdv, related: dict, current: list) -> list[tuple[object, str]]:
    """(agent, kind of message) for each agent concerned by the change (`current`: the RDV's agents)."""
    action = entry.action
    added = {agent.pk for agent in related.get("agents_added") or []}
    removed = list(related.get("agents_removed") or [])
    if action == "rdv.moved":  # without a new start, only the agents or the lieu changed
        kind = "moved" if "starts_at" in (entry.changes or {}) else "updated"
    else:  # created, updated, cancelled, participant_added, participant_removed
        kind = action.removeprefix("rdv.")
    pairs = [(agent, "created" if agent.pk in added else kind) for agent in current]
    if action == "rdv.moved" and set(entry.changes or {}) <= {"agents", "override"} and not added and not removed:
        return []  # nothing the agents see changed
    return pairs + [(agent, "removed") for agent in removed]


def notify_rdv_agents(entry, rdv: Rdv, related: dict) -> int:
    """Write the e-mails of this RDV change to its agents; returns how many were written."""
    now = timezone.now()
    if rdv.starts_at <= now:
        return 0
    territory = rdv.organisation.territory
    context_shown = territory.rdv_field_enabled("context")
    if entry.action == "rdv.updated":
        visible = [name for name in entry.changes or {} if name in UPDATED_FIELDS]
        if not context_shown:
            visible = [name for name in visible if name != "context"]
        if not visible:
            return 0
    current = _current_agents(rdv)
    pairs = [
        (agent, kind) for agent, kind in _rdv_kinds(entry, rdv, related, current) if agent.is_active and agent.email
    ]
    if not pairs:
        return 0
    people = None  # the same for every agent's message: read once, when one is written
    preferences = preferences_by_agent(agent.pk for agent, _ in pairs)
    old_start = _old_start(entry)
    soon = is_soon([rdv.starts_at] + ([old_start] if old_start else []), territory.zone, now)
    written = 0
    for agent, kind in pairs:
        level = preferences.get(agent.pk, AgentPreferences.defaults_for(agent)).rdv_level
        if not wants(level, by_self=entry.actor_id is not None and entry.actor_id == agent.pk, soon=soon):
            continue
        people = people or rdv_people(rdv, current)
        email = rdv_agent_email(
            kind, rdv, entry, agent, people=people, old_start=old_start, context_shown=context_shown
        )
        enqueue_email(
            to=agent.email,
            subject=email.subject,
            text=email.text,
            html=email.html,
            purpose=Purpose.AGENT_NOTIFICATION,
            about=rdv,
            territory=territory,
            organisation=rdv.organisation,
            expires_at=rdv.starts_at,
        )
        written += 1
    return written


def notify_agenda_owner(entry, obj) -> bool:
    """A plage or an absence changed by someone else: tell its agent, if they want it."""
    agent = obj.agent
    if entry.actor_id is not None and entry.actor_id == agent.pk:
        return False
    if not (agent.is_active and agent.email):
        return False
    preferences = preferences_by_agent([agent.pk]).get(agent.pk, AgentPreferences.defaults_for(agent))
    if not preferences.plages_and_absences:
        return False
    email = agenda_agent_email(entry, obj, agent)
    enqueue_email(
        to=agent.email,
        subject=email.subject,
        text=email.text,
        html=email.html,
        purpose=Purpose.AGENT_NOTIFICATION,
        about=obj,
        territory=obj.organisation.territory,
        organisation=obj.organisation,
    )
    return True


# What the e-mails say ---------------------------------------------------------------------------


@dataclass
class AgentEmail:
    subject: str
    text: str
    html: str


def _who(entry) -> str:
    return entry.actor_repr or "Système"


@dataclass
class RdvPeople:
    """Who a RDV's messages to its agents name: its usagers, its agents, its motif's service."""

    usagers: str
    agents: str
    service: str


def rdv_people(rdv: Rdv, agents: list) -> RdvPeople:
    """`agents`: the RDV's agents, read already to decide who hears about the change."""
    participations = rdv.participations.select_related("usager").order_by("pk")
    return RdvPeople(
        usagers=", ".join(str(p.usager) for p in participations) or "aucun",
        agents=", ".join(str(agent) for agent in agents),
        service=rdv.motif.service.name,
    )


def rdv_agent_email(
    kind: str, rdv: Rdv, entry, agent, *, people: RdvPeople, old_start=None, context_shown: bool
) -> AgentEmail:
    """The message to `agent` about this change of `rdv` (`people`: rdv_people, read once for all
    the RDV's agents)."""
    zone = rdv.organisation.territory.zone
    local_end = timezone.localtime(rdv.ends_at, zone)
    moved_from = french_moment(old_start, zone) if kind == "moved" and old_start is not None else ""
    context = {
        "kind": kind,
        "greeting": f"Bonjour {agent.first_name},".replace(" ,", ","),
        "intro": INTROS[kind],
        "by": _who(entry),
        "when": when(rdv),
        "until": f"{local_end.hour} h {local_end:%M}",
        "moved_from": moved_from,
        "clock_name": rdv.organisation.territory.clock_name,
        "motif": rdv.motif.name,
        "service": people.service,
        "organisation": rdv.organisation.name,
        "where": agent_where(rdv),
        "usagers": people.usagers,
        "agents": people.agents,
        "participant": str((entry.changes or {}).get("usager", "")) if kind.startswith("participant_") else "",
        "cancel_reason": rdv.cancel_reason if kind == "cancelled" else "",
        "status": rdv.get_status_display() if kind == "cancelled" else "",
        "context_shown": context_shown,
        "rdv_context": rdv.context if context_shown else "",
        "rdv_url": rdv_page(rdv) if kind != "removed" else "",
        "preferences_url": settings.SITE_URL + reverse("agent_notifications"),
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }
    subject = SUBJECTS[kind].format(when=when(rdv))
    return AgentEmail(
        subject=f"{subject} : {rdv.motif.name}",
        text=render_to_string("notifications/agent_rdv_email.txt", context),
        html=render_to_string("notifications/agent_rdv_email.html", context),
    )


def agenda_agent_email(entry, obj, agent) -> AgentEmail:
    is_plage = isinstance(obj, PlageOuverture)
    zone = obj.organisation.territory.zone
    label = ACTION_LABELS.get(entry.action, entry.action)
    what = "plage d'ouverture" if is_plage else "absence"
    name = str(obj)
    with timezone.override(zone):  # the journal's wording shows times in the espace's zone
        details = describe_changes({k: v for k, v in (entry.changes or {}).items() if k != "agent"})
    page = "plage_list" if is_plage else "absence_list"
    deleted = entry.action.endswith(".deleted")
    context = {
        "greeting": f"Bonjour {agent.first_name},".replace(" ,", ","),
        "intro": f"{label} par {_who(entry)}.",
        "what": what,
        "name": name,
        "organisation": obj.organisation.name,
        "details": details,
        "clock_name": obj.organisation.territory.clock_name,
        "page_url": settings.SITE_URL + reverse(page, args=[obj.organisation_id, agent.pk]),
        "deleted": deleted,
        "preferences_url": settings.SITE_URL + reverse("agent_notifications"),
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }
    subject = f"{label} par {_who(entry)}" + (f" : {name}" if name else "")
    return AgentEmail(
        subject=subject,
        text=render_to_string("notifications/agent_agenda_email.txt", context),
        html=render_to_string("notifications/agent_agenda_email.html", context),
    )
