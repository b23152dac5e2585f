"""Fixtures of the data retention tests: alice's espace (tests/conftest.py) with a lieu, motifs and
an agent, RDVs written as rows at any date, usager files aged at will, at a frozen "now".

"Now" is Tuesday 9 March 2027, 08:00 in Paris, held in UTC: the retention periods are durations
(days of 24 hours, instants), and "now + 30 days" must not be wall-clock arithmetic across the
change to summer time. The periods are the defaults: two years (730 days), review 30 days.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connections, transaction
from django.utils import timezone

from rdv.accounts.models import AccessLevel
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.core.context import Context
from rdv.usagers.models import Usager, UsagerOrganisation
from rdv.webhooks import services as webhook_services
from tests import factories

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 9, 8, 0, tzinfo=PARIS).astimezone(UTC)
TWO_YEARS = timedelta(days=730)
DAY = timedelta(days=1)
MARKER = "CONTEXTE-RGPD-5e1b"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class Place:
    world: object
    territory: object
    organisation: object
    lieu: object
    motif: object
    collective_motif: object
    agent: object

    def usager(self, *, organisations=None, **kwargs) -> Usager:
        return factories.UsagerFactory(
            territory=self.territory, organisations=organisations or [self.organisation], **kwargs
        )

    def rdv(self, start: datetime, usagers, *, collective: bool = False, context: str = MARKER, minutes: int = 30):
        """A RDV row as the booking writes it (agent link with the RDV's times, participations)."""
        rdv = Rdv.objects.create(
            organisation=self.organisation,
            motif=self.collective_motif if collective else self.motif,
            lieu=self.lieu,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            collective=collective,
            max_participants=5 if collective else None,
            context=context,
        )
        RdvAgent.objects.create(rdv=rdv, agent=self.agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at)
        for usager in usagers:
            Participation.objects.create(rdv=rdv, usager=usager)
        return rdv

    def endpoint(self, subscriptions=("rdv", "user"), url="https://si.exemple.fr/hooks"):
        return webhook_services.create_endpoint(
            Context.system(self.territory, self.organisation),
            organisation=self.organisation,
            target_url=url,
            subscriptions=list(subscriptions),
            secret="une-cle-secrete-de-test-assez-longue",
        )


def aged(usager: Usager, when: datetime) -> Usager:
    """The file as if created and last changed at `when` (attachments to organisations too)."""
    Usager.objects.filter(pk=usager.pk).update(created_at=when, updated_at=when)
    UsagerOrganisation.objects.filter(usager=usager).update(created_at=when)
    Participation.objects.filter(usager=usager).update(created_at=when)
    usager.refresh_from_db()
    return usager


def build_place(world) -> Place:
    service = world.service
    lieu = factories.LieuFactory(organisation=world.organisation, name="MDS Centre")
    motif = factories.MotifFactory(organisation=world.organisation, service=service, name="Premier accueil")
    collective = factories.MotifFactory(
        organisation=world.organisation, service=service, name="Atelier", collective=True, max_participants=5
    )
    agent = factories.AgentFactory(email=f"agenda-{world.territory.pk}@exemple.fr", last_name="Agenda")
    factories.AgentRoleFactory(agent=agent, organisation=world.organisation, access_level=AccessLevel.BASIC)
    return Place(world, world.territory, world.organisation, lieu, motif, collective, agent)


@pytest.fixture
def place(alice) -> Place:
    return build_place(alice)


@pytest.fixture
def other_place(bob) -> Place:
    return build_place(bob)


@contextmanager
def rows_locked_elsewhere(queryset):
    """Hold FOR UPDATE locks on the rows of `queryset` in another transaction (another thread and
    connection) for the duration of the block, as a concurrent retention run would."""
    locked, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with transaction.atomic():
                list(queryset.select_for_update())
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_run)
    thread.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()
