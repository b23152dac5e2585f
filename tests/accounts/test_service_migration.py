"""Migration accounts.0003–0005: agent services become per espace, without losing any right."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rdv.accounts.models import Agent, AgentRole, TerritoryRole
from rdv.territories.models import Organisation, Service, Territory

BEFORE = [("accounts", "0002_agent_search_text")]
AFTER = [("accounts", "0005_agentservice_territory_required")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0002(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest schema


def test_services_are_copied_into_each_espace_of_the_agent_and_logged(at_0002):
    # Only AgentService changes: the other tables are written with today's models.
    AgentService = at_0002.get_model("accounts", "AgentService")

    drome = Territory.objects.create(name="Drôme")
    ardeche = Territory.objects.create(name="Ardèche")
    valence = Organisation.objects.create(territory=drome, name="MDS Valence")
    social = Service.objects.create(name="Service social test")
    pmi = Service.objects.create(name="PMI test")
    # In both espaces: a role in the Drôme, espace admin of the Ardèche.
    both = Agent.objects.create(email="both@exemple.fr", first_name="B", last_name="Oth")
    AgentRole.objects.create(agent=both, organisation=valence, access_level="basic")
    TerritoryRole.objects.create(agent=both, territory=ardeche)
    AgentService.objects.create(agent_id=both.pk, service_id=social.pk)
    AgentService.objects.create(agent_id=both.pk, service_id=pmi.pk)
    # In one espace.
    one = Agent.objects.create(email="one@exemple.fr", first_name="O", last_name="Ne")
    AgentRole.objects.create(agent=one, organisation=valence, access_level="admin")
    AgentService.objects.create(agent_id=one.pk, service_id=social.pk)
    # In none: the service cannot belong to any espace.
    nowhere = Agent.objects.create(email="nowhere@exemple.fr")
    AgentService.objects.create(agent_id=nowhere.pk, service_id=social.pk)

    apps = _migrate(AFTER)
    AgentService = apps.get_model("accounts", "AgentService")
    AuditLog = apps.get_model("core", "AuditLog")
    rows = set(AgentService.objects.values_list("agent__email", "territory__name", "service__name"))
    assert rows == {
        ("both@exemple.fr", "Drôme", "Service social test"),
        ("both@exemple.fr", "Drôme", "PMI test"),
        ("both@exemple.fr", "Ardèche", "Service social test"),
        ("both@exemple.fr", "Ardèche", "PMI test"),
        ("one@exemple.fr", "Drôme", "Service social test"),
    }
    logged = {
        (entry.object_id, entry.territory.name, entry.changes["services"])
        for entry in AuditLog.objects.filter(action="agent.services_per_espace")
    }
    assert logged == {
        (str(both.pk), "Drôme", "PMI test, Service social test"),
        (str(both.pk), "Ardèche", "PMI test, Service social test"),
        (str(one.pk), "Drôme", "Service social test"),
    }
    assert not AgentService.objects.filter(territory__isnull=True).exists()
