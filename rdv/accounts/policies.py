"""Who may manage agents, their invitations and their rights: the espace admins (see
rdv.territories.policies for the style)."""

from rdv.accounts.models import Agent, Invitation
from rdv.core.context import AccessLevel, Context
from rdv.territories.policies import can_administer


def can_manage_agents(ctx: Context) -> bool:
    """Invite agents, re-send and cancel invitations, change assignments."""
    return can_administer(ctx)


def agents_scope(ctx: Context):
    """Agents with a role in an organisation of the espace, or administering it."""
    if not can_manage_agents(ctx):
        return Agent.objects.none()
    return Agent.objects.in_territory(ctx.territory)


def invitations_scope(ctx: Context):
    if not can_manage_agents(ctx):
        return Invitation.objects.none()
    return Invitation.objects.filter(territory=ctx.territory)


def can_manage_invitation(ctx: Context, invitation: Invitation) -> bool:
    return can_manage_agents(ctx) and ctx.in_territory(invitation)


def can_edit_agent(ctx: Context, agent: Agent) -> bool:
    return can_manage_agents(ctx) and agents_scope(ctx).filter(pk=agent.pk).exists()


def can_log_in(agent: Agent) -> bool:
    """An agent whose only roles are "intervenant" has no login (espace admins always log in)."""
    if not agent.is_active:
        return False
    if agent.is_superuser or agent.territory_roles.exists():
        return True
    return set(agent.roles.values_list("access_level", flat=True)) != {AccessLevel.INTERVENANT}


def delivery_subject():
    """How the undelivered-messages pages (rdv.outbox) treat messages about an invitation: details
    for the admins of its espace."""
    from rdv.outbox.policies import Subject

    return Subject(
        queryset=lambda: Invitation.objects.select_related("territory"),
        visible=lambda ctx, invitations: {i.pk for i in invitations if can_manage_invitation(ctx, i)},
        describe=lambda invitation, shown: f"Invitation de {invitation.email}" if shown else "Invitation d'un agent",
    )
