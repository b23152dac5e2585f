"""Serialise writes to agents' agendas (plages, absences, RDVs) until the transaction ends."""

from rdv.accounts.models import Agent


def lock_agendas(agents) -> None:
    """Serialise every write to these agents' agendas until the transaction ends.

    PostgreSQL: row locks on the agents, always taken in id order so that two operations on the
    same agents never deadlock; the re-check that follows sees what the previous holder committed.
    (The exclusion constraint alone refuses the overlap, but two inserts checking each other's
    uncommitted rows can deadlock.) SQLite ignores FOR UPDATE: its write transactions are already
    serialised (BEGIN IMMEDIATE)."""
    ids = sorted({getattr(agent, "pk", agent) for agent in agents})
    if ids:
        list(Agent.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
