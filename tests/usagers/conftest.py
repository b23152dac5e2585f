"""Fixtures of the usager tests: the alice/bob worlds plus an agent of alice's second organisation."""

import pytest
from django.test import Client

from rdv.accounts.models import AccessLevel
from rdv.usagers import services as usager_services
from tests import factories
from tests.helpers import as_agent, log_in


@pytest.fixture
def nord_agent(alice):
    """A basic agent of alice's *other* organisation (same espace)."""
    agent = factories.AgentFactory(email="alice-nord@exemple.fr")
    factories.AgentRoleFactory(agent=agent, organisation=alice.other_organisation, access_level=AccessLevel.BASIC)
    return agent


@pytest.fixture
def client_of():
    def make(agent) -> Client:
        return log_in(Client(), agent)

    return make


@pytest.fixture
def make_usager():
    """Create an usager through the service (search columns, audit log), as `actor` in `organisation`."""

    def make(organisation, actor=None, custom_values=None, **data):
        data.setdefault("first_name", "Camille")
        data.setdefault("last_name", "Martin")
        return usager_services.create_usager(as_agent(actor, organisation), data, custom_values)

    return make
