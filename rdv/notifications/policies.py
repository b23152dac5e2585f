"""Who may change an agent's notification choices and calendar link (see rdv.territories.policies
for the style): the agent themselves, on their own pages, and nobody else (not even an espace
admin: these are personal choices, and the calendar link gives read access to their RDVs)."""

from rdv.core.context import ActorKind, Context


def can_manage_own_notifications(ctx: Context) -> bool:
    return ctx.kind == ActorKind.AGENT and ctx.agent is not None and ctx.agent.is_active
