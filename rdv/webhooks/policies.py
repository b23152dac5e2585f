"""Who may manage webhook endpoints: the espace admins, for the organisations of their espace (as on
the established platform); the system within its espace. The API (issue 21) reuses these."""

from rdv.core.context import Context
from rdv.webhooks.models import WebhookEndpoint, WebhookEvent


def can_manage(ctx: Context) -> bool:
    return ctx.is_territory_admin


def scope(ctx: Context):
    """The endpoints the context may see and change."""
    if not can_manage(ctx):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(organisation__territory=ctx.territory)


def can_manage_endpoint(ctx: Context, endpoint: WebhookEndpoint) -> bool:
    return can_manage(ctx) and endpoint.organisation.territory_id == ctx.territory.pk


def events_scope(ctx: Context):
    if not can_manage(ctx):
        return WebhookEvent.objects.none()
    return WebhookEvent.objects.filter(endpoint__organisation__territory=ctx.territory)
