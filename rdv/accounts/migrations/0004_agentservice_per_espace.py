"""Agent services become per espace.

Each existing (agent, service) row is copied into every espace the agent belongs to (a role in one
of its organisations, or espace admin); the global row is then removed. Every copy, and every row
dropped because its agent belongs to no espace, is written to the journal of the espace concerned
(or, for dropped rows, to the migration's output)."""

from django.db import migrations

MIGRATION_ACTOR = "Système (migration des services par espace)"


def split_services_per_espace(apps, schema_editor):
    AgentService = apps.get_model("accounts", "AgentService")
    AgentRole = apps.get_model("accounts", "AgentRole")
    TerritoryRole = apps.get_model("accounts", "TerritoryRole")
    Territory = apps.get_model("territories", "Territory")
    AuditLog = apps.get_model("core", "AuditLog")

    espaces_of = {}
    for agent_id, territory_id in AgentRole.objects.values_list("agent_id", "organisation__territory_id"):
        espaces_of.setdefault(agent_id, set()).add(territory_id)
    for agent_id, territory_id in TerritoryRole.objects.values_list("agent_id", "territory_id"):
        espaces_of.setdefault(agent_id, set()).add(territory_id)

    global_rows = list(AgentService.objects.filter(territory__isnull=True).select_related("agent", "service"))
    copies = {}  # (agent, territory) -> service names
    dropped = []
    for row in global_rows:
        territories = espaces_of.get(row.agent_id, set())
        if not territories:
            dropped.append(f"{row.agent.email}: {row.service.name}")
        for territory_id in sorted(territories):
            AgentService.objects.create(agent_id=row.agent_id, service_id=row.service_id, territory_id=territory_id)
            copies.setdefault((row.agent, territory_id), []).append(row.service.name)
    AgentService.objects.filter(pk__in=[row.pk for row in global_rows]).delete()

    names = dict(Territory.objects.values_list("pk", "name"))
    for (agent, territory_id), services in sorted(copies.items(), key=lambda item: (item[0][0].pk, item[0][1])):
        AuditLog.objects.create(
            actor=None,
            actor_repr=MIGRATION_ACTOR,
            action="agent.services_per_espace",
            object_type="accounts.Agent",
            object_id=str(agent.pk),
            object_repr=(f"{agent.first_name} {agent.last_name}".strip() or agent.email)[:300],
            changes={"services": ", ".join(sorted(services)), "espace": names.get(territory_id, "")},
            territory_id=territory_id,
        )
    if dropped:
        print(f"\n  Services of agents who belong to no espace, dropped: {'; '.join(dropped)}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_agentservice_territory"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(split_services_per_espace, migrations.RunPython.noop),
    ]
