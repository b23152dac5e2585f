"""What an usager changes from the link in their e-mails (how they want to be told), and what an
agent changes on « Mes notifications » (which changes they hear about, their calendar link)."""

from django.core import signing
from django.db import transaction
from django.utils import timezone

from rdv.accounts.models import Agent, new_token
from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.errors import DomainError
from rdv.notifications import policies
from rdv.notifications.messages import PREFERENCES_SALT
from rdv.notifications.models import AgentPreferences, CalendarFeed, RdvLevel
from rdv.usagers.models import Usager

PREFERENCES_MAX_AGE = 60 * 60 * 24 * 365  # a link from an e-mail of the last year


def usager_from_token(token: str) -> Usager | None:
    """The usager of a preferences link (signed, not older than a year), or None."""
    if not token or len(token) > 300:
        return None
    try:
        data = signing.loads(token, salt=PREFERENCES_SALT, max_age=PREFERENCES_MAX_AGE)
    except signing.BadSignature:
        return None
    usager_id = data.get("u") if isinstance(data, dict) else None
    if not isinstance(usager_id, int):
        return None
    return Usager.objects.select_related("territory").filter(pk=usager_id).first()


@transaction.atomic
def set_preferences(usager: Usager, *, by_email: bool, by_sms: bool) -> dict:
    usager = Usager.objects.select_for_update().get(pk=usager.pk)
    changes = {}
    if usager.notify_by_email != by_email:
        changes["notify_by_email"] = [usager.notify_by_email, by_email]
    if usager.notify_by_sms != by_sms:
        changes["notify_by_sms"] = [usager.notify_by_sms, by_sms]
    if changes:
        usager.notify_by_email, usager.notify_by_sms = by_email, by_sms
        usager.save(update_fields=["notify_by_email", "notify_by_sms", "updated_at"])
        log_action("L'usager (lien des e-mails)", "usager.updated", usager, changes)
    return changes


# Agents: their notification choices and their calendar link ----------------------------------

RDV_LEVEL_INVALID = "Choisissez les changements de rendez-vous dont vous voulez être prévenu(e) parmi les options."


@transaction.atomic
def set_agent_preferences(ctx: Context, *, rdv_level: str, plages_and_absences: bool) -> dict:
    """Save the context's agent's choices (the row is written the first time). Returns the changes
    (French labels), logged as « notification_preferences.updated »."""
    require(policies.can_manage_own_notifications(ctx))
    if rdv_level not in RdvLevel.values:
        raise DomainError("rdv_level_invalid", RDV_LEVEL_INVALID, field="rdv_level")
    if not isinstance(plages_and_absences, bool):
        raise DomainError("plages_and_absences_invalid", "Choix invalide.", field="plages_and_absences")
    preferences, _ = AgentPreferences.objects.select_for_update().get_or_create(agent=ctx.agent)
    changes = {}
    if preferences.rdv_level != rdv_level:
        changes["rdv_level"] = [RdvLevel(preferences.rdv_level).label, RdvLevel(rdv_level).label]
    if preferences.plages_and_absences != plages_and_absences:
        changes["plages_and_absences"] = [preferences.plages_and_absences, plages_and_absences]
    if changes:
        preferences.rdv_level, preferences.plages_and_absences = rdv_level, plages_and_absences
        preferences.save(update_fields=["rdv_level", "plages_and_absences", "updated_at"])
        log_action(ctx.actor, "notification_preferences.updated", preferences, changes)
    return changes


def _lock_agent(agent) -> None:
    """Serialise the calendar link operations of one agent (the unique constraint is the last word)."""
    Agent.objects.select_for_update().filter(pk=agent.pk).values_list("pk", flat=True).first()


@transaction.atomic
def create_calendar_feed(ctx: Context) -> str:
    """A new private calendar address for the context's agent; the link they had is revoked (one
    active link per agent). Returns the token, shown once: only its hash is kept."""
    require(policies.can_manage_own_notifications(ctx))
    _lock_agent(ctx.agent)
    replaced = CalendarFeed.objects.filter(agent=ctx.agent, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token, digest = new_token()
    feed = CalendarFeed.objects.create(agent=ctx.agent, token_hash=digest)
    log_action(ctx.actor, "calendar_feed.created", feed, {"replaced": bool(replaced)})
    return token


@transaction.atomic
def revoke_calendar_feed(ctx: Context) -> CalendarFeed:
    """Revoke the context's agent's active calendar link: calendars subscribed to it get nothing more."""
    require(policies.can_manage_own_notifications(ctx))
    _lock_agent(ctx.agent)
    feed = CalendarFeed.objects.filter(agent=ctx.agent, revoked_at__isnull=True).first()
    if feed is None:
        raise DomainError("no_calendar_feed", "Vous n'avez pas de lien d'agenda actif : il n'y a rien à révoquer.")
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    log_action(ctx.actor, "calendar_feed.revoked", feed, {})
    return feed
