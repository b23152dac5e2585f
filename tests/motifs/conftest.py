"""Fixtures for the motif tests: the alice/bob espaces of tests/conftest.py plus a few motifs."""

import pytest

from rdv.motifs import services
from rdv.motifs.models import BookableBy, LocationType
from tests.helpers import as_agent

AGENT_BACKEND = "rdv.accounts.backends.AgentBackend"


def log_in(client, agent):
    client.force_login(agent, backend=AGENT_BACKEND)
    return client


def configuration(world, **overrides) -> dict:
    """Valid configuration data (service function or form POST, see `as_post`)."""
    data = {
        "name": "Premier accueil",
        "color": "#1f8d49",
        "default_duration_minutes": 30,
        "location_type": LocationType.PUBLIC_OFFICE,
        "service": world.service,
        "collective": False,
        "max_participants": None,
        "follow_up": False,
        "for_secretariat": False,
        "bookable_by": BookableBy.EVERYONE,
    }
    data.update(overrides)
    return data


def as_post(data: dict) -> dict:
    """Form POST data from service-style data: objects become ids, False/None are left out."""
    post = {}
    for key, value in data.items():
        if value is None or value is False:
            continue
        if hasattr(value, "pk"):
            value = value.pk
        elif isinstance(value, list | tuple):
            value = [getattr(v, "pk", v) for v in value]
        elif value is True:
            value = "on"
        post[key] = value
    return post


def online(**overrides) -> dict:
    """Valid POST data of the online booking tab."""
    data = {
        "bookable_online": "on",
        "min_delay_value": 2,
        "min_delay_unit": "hours",
        "max_delay_value": 2,
        "max_delay_unit": "months",
        "usager_can_move": "on",
        "usager_can_cancel": "on",
        "visibility": "visible_and_notified",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def motif(alice):
    """A motif of alice's first organisation, created by the espace admin."""
    return services.create_motif(as_agent(alice.territory_admin, alice.organisation), configuration(alice))


@pytest.fixture
def batch(alice):
    """The same motif created in both organisations of alice's espace."""
    return services.create_territory_motifs(
        as_agent(alice.territory_admin, alice.territory),
        [alice.organisation, alice.other_organisation],
        configuration(alice, name="Entretien budget"),
    )
