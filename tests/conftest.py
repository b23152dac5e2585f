"""Shared fixtures: two espaces side by side ("alice" administers one, "bob" the other)."""

from dataclasses import dataclass

import pytest
from django.db import connection

from rdv.accounts.models import AccessLevel
from tests import factories
from tests import replica_support as replica


@dataclass
class World:
    territory: object
    organisation: object
    other_organisation: object
    service: object
    inactive_service: object
    territory_admin: object  # espace admin (also admin of `organisation`)
    organisation_admin: object  # admin of `organisation` only
    agent: object  # basic agent of `organisation`


def build_world(prefix: str) -> World:
    territory = factories.TerritoryFactory(name=f"Espace {prefix}")
    organisation = factories.OrganisationFactory(territory=territory, name=f"{prefix} Centre")
    other = factories.OrganisationFactory(territory=territory, name=f"{prefix} Nord")
    service = factories.ServiceFactory(name="Service social")
    factories.TerritoryServiceFactory(territory=territory, service=service)
    inactive = factories.ServiceFactory(name="Insertion")
    admin = factories.AgentFactory(email=f"{prefix}-admin@exemple.fr")
    factories.TerritoryRoleFactory(agent=admin, territory=territory)
    factories.AgentRoleFactory(agent=admin, organisation=organisation, access_level=AccessLevel.ADMIN)
    factories.AgentServiceFactory(agent=admin, territory=territory, service=service)
    org_admin = factories.AgentFactory(email=f"{prefix}-orga@exemple.fr")
    factories.AgentRoleFactory(agent=org_admin, organisation=organisation, access_level=AccessLevel.ADMIN)
    factories.AgentServiceFactory(agent=org_admin, territory=territory, service=service)
    agent = factories.AgentFactory(email=f"{prefix}-agent@exemple.fr")
    factories.AgentRoleFactory(agent=agent, organisation=organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=agent, territory=territory, service=service)
    return World(territory, organisation, other, service, inactive, admin, org_admin, agent)


@pytest.fixture
def alice(db) -> World:
    return build_world("alice")


@pytest.fixture
def bob(db, alice) -> World:
    return build_world("bob")


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """The "replica" alias is a test mirror of the default database (config/settings/test.py).
    Django points this thread's mirror connection at the test database but not the settings other
    threads build theirs from (the live server's): point those at it too. With REPLICA_TEST_URL, the
    "replica" connection goes to a real streaming replica instead (tests/replica.py)."""
    replica.follow_test_database()
    if replica.REPLICA_TEST_URL:
        replica.use_real_replica(replica.REPLICA_TEST_URL)
    yield


def pytest_collection_modifyitems(config, items):
    """The tests marked `real_replica` (tests/replica/) need a streaming replica: without
    REPLICA_TEST_URL they are deselected, not skipped (`make test-replica` and its step of .ci/run
    set it; a run of tests/replica alone without it collects nothing and fails)."""
    if replica.REPLICA_TEST_URL:
        return
    dropped = [item for item in items if item.get_closest_marker("real_replica")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("real_replica")]


@pytest.fixture(autouse=True)
def _empty_slot_cache():
    """The slot cache lives in the process: each test starts empty (SQLite reuses the ids of a
    rolled-back test, so an entry of a previous test could match a new motif's versions)."""
    from rdv.online import slotcache

    slotcache.clear()
    yield
    slotcache.clear()
