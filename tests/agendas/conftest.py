"""Fixtures for the agenda tests: alice's espace (tests/conftest.py) with lieux and motifs.

Dates are in 2027 (the future of the machines' clocks) unless a test sets `now` itself:
2027-03-02 is a Tuesday, 2027-07-14 (Fête nationale) a Wednesday.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest

from rdv.agendas import services
from rdv.agendas.models import Absence, PlageException, PlageOuverture
from rdv.core.models import AuditLog
from tests import factories
from tests.helpers import as_agent

TUESDAY = date(2027, 3, 2)
NOW = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)  # before every date of these tests


@dataclass
class Agenda:
    world: object
    lieu: object
    other_lieu: object
    motif: object  # 30 minutes, service of the world's agents
    long_motif: object  # 60 minutes, same service

    @property
    def organisation(self):
        return self.world.organisation

    @property
    def agent(self):
        return self.world.agent

    def plage_data(self, **overrides) -> dict:
        data = {
            "title": "Permanence",
            "lieu": self.lieu,
            "motifs": [self.motif],
            "first_date": TUESDAY,
            "start_time": time(9, 0),
            "end_time": time(12, 0),
            "recurrence": "none",
            "recurrence_interval": 1,
            "recurrence_weekdays": [],
            "until": None,
        }
        data.update(overrides)
        return data

    def weekly(self, weekdays=(1,), **overrides) -> dict:
        return self.plage_data(recurrence="weekly", recurrence_weekdays=list(weekdays), **overrides)

    def create_plage(self, agent=None, organisation=None, **overrides):
        return services.create_plage(
            # The organisation admin in their organisation; the system elsewhere.
            as_agent(
                self.world.organisation_admin if organisation is None else None, organisation or self.organisation
            ),
            agent or self.agent,
            self.plage_data(**overrides),
        )

    def absence_data(self, **overrides) -> dict:
        data = {
            "title": "Congés",
            "whole_day": False,
            "first_date": TUESDAY,
            "start_time": time(10, 0),
            "end_date": None,
            "end_time": time(11, 0),
            "recurrence": "none",
            "recurrence_interval": 1,
            "recurrence_weekdays": [],
            "until": None,
        }
        data.update(overrides)
        return data


@pytest.fixture
def agenda(alice) -> Agenda:
    organisation = alice.organisation
    return Agenda(
        world=alice,
        lieu=factories.LieuFactory(organisation=organisation, name="Maison des solidarités"),
        other_lieu=factories.LieuFactory(organisation=organisation, name="Antenne Nord"),
        motif=factories.MotifFactory(organisation=organisation, service=alice.service, name="Premier accueil"),
        long_motif=factories.MotifFactory(
            organisation=organisation, service=alice.service, name="Entretien budget", default_duration_minutes=60
        ),
    )


def agenda_state() -> dict:
    """Every agenda row and the audit count, to assert that a refused operation changed nothing."""

    def rows(queryset, *fields):
        return sorted(queryset.values_list(*fields))

    return {
        "plages": rows(
            PlageOuverture.objects,
            "pk",
            "agent",
            "lieu",
            "first_date",
            "start_time",
            "end_time",
            "recurrence",
            "recurrence_interval",
            "until",
            "title",
        ),
        "plage_motifs": rows(PlageOuverture.motifs.through.objects, "plageouverture", "motif"),
        "exceptions": rows(PlageException.objects, "plage", "date", "cancelled", "start_time", "end_time"),
        "absences": rows(
            Absence.objects, "pk", "agent", "first_date", "start_time", "end_date", "end_time", "recurrence", "until"
        ),
        "lieux": rows(
            factories.LieuFactory._meta.get_model_class().objects, "pk", "name", "address", "phone", "is_open"
        ),
        "audit": AuditLog.objects.count(),
    }
