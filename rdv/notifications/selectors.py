"""Reads of the notifications: an agent's choices and calendar link, the RDVs of their calendar feed,
and the messages sent about a RDV (its page's « Notifications » section)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from rdv.accounts.models import AgentRole, hash_token
from rdv.bookings import policies as rdv_policies
from rdv.bookings.models import Participation, Rdv
from rdv.core.context import MEMBER_LEVELS, Context
from rdv.notifications.models import AgentPreferences, CalendarFeed
from rdv.outbox.models import Channel, Delivery

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)
TOKEN_MAX_LENGTH = 100
RDV_LOG_SIZE = 50


def agent_preferences(agent) -> AgentPreferences:
    """The agent's choices, or the defaults when they never saved any (nothing written)."""
    return AgentPreferences.objects.filter(agent=agent).first() or AgentPreferences.defaults_for(agent)


def preferences_by_agent(agent_ids) -> dict[int, AgentPreferences]:
    """The saved choices of these agents (one query); the missing ones have the defaults."""
    return {p.agent_id: p for p in AgentPreferences.objects.filter(agent_id__in=list(agent_ids))}


def active_calendar_feed(agent) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(agent=agent, revoked_at__isnull=True).first()


def calendar_feed(token: str) -> CalendarFeed | None:
    """The active link of this token, with its (active) agent; None for an unknown, revoked or
    malformed token (one answer for every reason). One query."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return (
        CalendarFeed.objects.select_related("agent")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True, agent__is_active=True)
        .first()
    )


def feed_rdvs(agent, now: datetime | None = None) -> list[Rdv]:
    """The RDVs `agent` takes part in, in the organisations where they are an agent or an admin
    today, from 30 days ago to 180 days ahead (cancelled ones included), with what the feed shows.
    Two queries, whatever the number of RDVs."""
    now = now or timezone.now()
    organisations = AgentRole.objects.filter(agent=agent, access_level__in=MEMBER_LEVELS).values("organisation_id")
    participations = Participation.objects.select_related("usager").order_by(
        "usager__last_name_key", "usager__first_name_key", "pk"
    )
    return list(
        Rdv.objects.filter(
            agent_links__agent=agent,
            organisation_id__in=organisations,
            starts_at__gte=now - FEED_PAST,
            starts_at__lt=now + FEED_AHEAD,
        )
        .select_related("motif__service", "lieu", "organisation__territory")
        .prefetch_related(Prefetch("participations", queryset=participations))
        .order_by("starts_at", "pk")
    )


@dataclass
class LogRow:
    delivery: Delivery
    segments: int | None  # SMS: how many segments it costs


def rdv_log(ctx: Context, rdv: Rdv) -> list[LogRow]:
    """The e-mails and SMS written about this RDV (most recent first), for whoever may see the RDV:
    the right is checked in the same query (no row otherwise). Webhook events are not listed here
    (the espace's webhook pages show them)."""
    deliveries = (
        Delivery.objects.filter(
            content_type__app_label=Rdv._meta.app_label,
            content_type__model=Rdv._meta.model_name,
            object_id__in=rdv_policies.scope(ctx).filter(pk=rdv.pk).values("pk"),
        )
        .exclude(channel=Channel.WEBHOOK)
        .only(
            "channel",
            "purpose",
            "recipient",
            "status",
            "attempts",
            "provider_id",
            "last_error",
            "headers",
            "created_at",
            "sent_at",
            "next_attempt_at",
        )
        .order_by("-created_at", "-id")[:RDV_LOG_SIZE]
    )
    rows = []
    for delivery in deliveries:
        segments = (delivery.headers or {}).get("segments") if delivery.channel == Channel.SMS else None
        rows.append(LogRow(delivery, segments if isinstance(segments, int) else None))
    return rows
