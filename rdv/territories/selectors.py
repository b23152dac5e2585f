"""Reads of the espace administration pages, scoped by the context (rdv.territories.policies)."""

from django.db.models import Count

from rdv.core.context import Context
from rdv.territories.models import Service
from rdv.territories.policies import can_administer, journal_scope, organisations_scope


def organisations(ctx: Context):
    """The espace's organisations with their number of agents, by name."""
    return organisations_scope(ctx).annotate(agent_count=Count("agent_roles", distinct=True)).order_by("name")


def active_service_ids(ctx: Context) -> set[int]:
    return set(Service.objects.active_in(ctx.territory).values_list("pk", flat=True))


JOURNAL_ORDER = ("-created_at", "-id")  # newest first, served by the index auditlog_territory_idx


def journal(ctx: Context):
    """The espace journal, newest first, with each entry's organisation (the page names it: motifs
    created together in several organisations share a name)."""
    return journal_scope(ctx).select_related("organisation").order_by(*JOURNAL_ORDER)


def services_overview(ctx: Context, agent_counts: dict[int, int]) -> list[dict]:
    """Every service of the catalogue: active in the espace or not, and how many of the espace's
    agents work for it (`agent_counts`, from rdv.accounts.selectors)."""
    if not can_administer(ctx):
        return []
    active = active_service_ids(ctx)
    return [
        {"service": service, "active": service.pk in active, "agents": agent_counts.get(service.pk, 0)}
        for service in Service.objects.order_by("name")
    ]


def organisation_choices(ctx: Context):
    """The espace's organisations, by name (forms of the espace pages)."""
    return organisations_scope(ctx).order_by("name")


def active_services(ctx: Context):
    """The services active in the espace, by name: those agents may be given."""
    if not can_administer(ctx):
        return Service.objects.none()
    return Service.objects.active_in(ctx.territory).order_by("name")
