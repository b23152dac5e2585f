"""Fixtures of the booking tests: alice's espace (tests/conftest.py) with a lieu, motifs, plages,
usagers, a secretariat agent and an agent of another service, at a frozen "now".

"Now" is Tuesday 9 March 2027, 08:00 in Paris (no holiday that week): the plages open today and
every weekday at 09:00–12:00, so a RDV at 10:00 today is both "today" and "in the future".
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from rdv.accounts.models import AccessLevel
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings import services
from rdv.territories.models import Service
from tests import factories
from tests.helpers import as_agent

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 9, 8, 0, tzinfo=PARIS)
TODAY = NOW.date()
MARKER = "MARQUEUR-CONTEXTE-7f3a"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@dataclass
class Setup:
    world: object
    organisation: object
    lieu: object
    motif: object  # Service social, 30 min, sur place
    collective_motif: object  # Service social, capacity 3
    phone_motif: object  # Service social, par téléphone
    other_motif: object  # PMI
    agent: object  # basic, Service social (plage)
    admin: object  # organisation admin, Service social (plage)
    secretariat: object  # basic, Secrétariat
    other_agent: object  # basic, PMI
    outsider: object  # basic agent of the other organisation of the espace
    usager: object
    usager2: object
    usager3: object

    def request(self, start=None, *, motif=None, agents=None, usagers=None, lieu="default", **extra):
        motif = motif or self.motif
        if lieu == "default":
            lieu = self.lieu if motif.location_type == "public_office" else None
        return services.BookingRequest(
            motif=motif,
            starts_at=start or at(TODAY, 10),
            agents=agents if agents is not None else [self.agent],
            usagers=usagers if usagers is not None else ([] if motif.collective else [self.usager]),
            lieu=lieu,
            **extra,
        )

    def book(self, start=None, *, actor=None, override=False, **kwargs):
        return services.book_rdv(
            as_agent(actor or self.agent, self.organisation), self.request(start, **kwargs), override=override
        )


def _plage(organisation, agent, lieu, motifs, start=time(9), end=time(12)):
    plage = PlageOuverture.objects.create(
        organisation=organisation,
        agent=agent,
        lieu=lieu,
        first_date=TODAY,
        start_time=start,
        end_time=end,
        recurrence="weekly",
        recurrence_weekdays=[0, 1, 2, 3, 4],
    )
    plage.motifs.set(motifs)
    return plage


@pytest.fixture
def setup(alice) -> Setup:
    return build_setup(alice)


def build_setup(alice) -> Setup:
    """The bookings' world in alice's espace (also used by the API tests)."""
    organisation = alice.organisation
    social = alice.service
    pmi = factories.ServiceFactory(name="PMI")
    secretariat_service = Service.objects.get_or_create(name="Secrétariat")[0]
    secretariat_service.is_secretariat = True
    secretariat_service.save()
    for service in (pmi, secretariat_service):
        factories.TerritoryServiceFactory(territory=alice.territory, service=service)
    lieu = Lieu.objects.create(organisation=organisation, name="MDS Centre", address="1 place de la Mairie")
    motif = factories.MotifFactory(organisation=organisation, service=social, name="Premier accueil", color="#b34000")
    collective = factories.MotifFactory(
        organisation=organisation, service=social, name="Atelier budget", collective=True, max_participants=3
    )
    phone = factories.MotifFactory(
        organisation=organisation, service=social, name="Entretien", location_type="phone", color="#6a6af4"
    )
    other_motif = factories.MotifFactory(organisation=organisation, service=pmi, name="Consultation nourrisson")
    agent, admin = alice.agent, alice.organisation_admin
    _plage(organisation, agent, lieu, [motif, collective, phone, other_motif])
    _plage(organisation, admin, lieu, [motif, collective, phone])
    secretariat = factories.AgentFactory(email="secretariat@exemple.fr", first_name="Sophie", last_name="Secrétaire")
    factories.AgentRoleFactory(agent=secretariat, organisation=organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=secretariat, territory=alice.territory, service=secretariat_service)
    other_agent = factories.AgentFactory(email="pmi@exemple.fr", first_name="Paul", last_name="Pmi")
    factories.AgentRoleFactory(agent=other_agent, organisation=organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=other_agent, territory=alice.territory, service=pmi)
    outsider = factories.AgentFactory(email="nord@exemple.fr", first_name="Nina", last_name="Nord")
    factories.AgentRoleFactory(agent=outsider, organisation=alice.other_organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=outsider, territory=alice.territory, service=social)
    usagers = [
        factories.UsagerFactory(
            territory=alice.territory,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@usager.fr",
            organisations=[organisation],
        )
        for first, last in (("Jeanne", "Dupont"), ("Karim", "Benali"), ("Lucie", "Martin"))
    ]
    return Setup(
        alice,
        organisation,
        lieu,
        motif,
        collective,
        phone,
        other_motif,
        agent,
        admin,
        secretariat,
        other_agent,
        outsider,
        *usagers,
    )


def next_weekday(day: date, offset: int = 1) -> date:
    """The weekday `offset` working days after `day`."""
    while offset:
        day += timedelta(days=1)
        if day.weekday() < 5:
            offset -= 1
    return day


def home_motif(setup: Setup, location_type: str = "home"):
    """A motif « à domicile » (or `location_type`) of the Service social, without plage: book it with
    `override=True`."""
    return factories.MotifFactory(
        organisation=setup.organisation,
        service=setup.world.service,
        name="Visite à domicile" if location_type == "home" else "Entretien en visio",
        location_type=location_type,
    )
