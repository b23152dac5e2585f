"""Helpers of the resource tests of the API: the rights table's people and « nothing changed »."""

from contextlib import contextmanager

from django.apps import apps

from rdv.accounts.models import AccessLevel
from rdv.core.models import AuditLog
from tests import factories

# The rights table of the policies through HTTP: who asks, about alice's organisation.
MEMBERS = ("agent", "organisation_admin", "territory_admin")
OUTSIDERS = ("nord_agent", "bob_agent", "bob_admin")


def nord_agent(world):
    """A basic agent of the world's *other* organisation (same espace), with its service."""
    agent = factories.AgentFactory()
    factories.AgentRoleFactory(agent=agent, organisation=world.other_organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=agent, territory=world.territory, service=world.service)
    return agent


def person(name: str, alice, bob):
    """The agent named in MEMBERS / OUTSIDERS."""
    if name == "nord_agent":
        return nord_agent(alice)
    if name == "bob_agent":
        return bob.agent
    if name == "bob_admin":
        return bob.territory_admin
    return getattr(alice, name)


@contextmanager
def unchanged(*models: str):
    """Asserts that no row of the journal nor of `models` ("app.Model") was added, changed or removed."""

    def snapshot():
        rows = {"journal": list(AuditLog.objects.order_by("pk").values())}
        for label in models:
            rows[label] = list(apps.get_model(label).objects.order_by("pk").values())
        return rows

    before = snapshot()
    yield
    after = snapshot()
    for key, rows in before.items():
        assert after[key] == rows, f"{key} changed"
