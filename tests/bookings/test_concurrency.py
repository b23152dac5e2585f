"""No double booking under real concurrency: threads with their own database connections."""

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings import services
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.core.errors import DomainError
from rdv.motifs.models import Motif
from rdv.territories.models import Organisation, Service, Territory, TerritoryService
from rdv.usagers.models import Usager, UsagerOrganisation
from tests.helpers import as_agent


def _setting_up(collective=False, capacity=None):
    territory = Territory.objects.create(name="Espace concurrence")
    organisation = Organisation.objects.create(territory=territory, name="MDS")
    service = Service.objects.get_or_create(name="Service social")[0]
    TerritoryService.objects.create(territory=territory, service=service)
    agent = Agent.objects.create_user("agent-concurrence@exemple.fr", "x" * 12, first_name="A", last_name="B")
    AgentRole.objects.create(agent=agent, organisation=organisation, access_level=AccessLevel.BASIC)
    AgentService.objects.create(agent=agent, territory=territory, service=service)
    motif = Motif.objects.create(
        organisation=organisation,
        service=service,
        name="Atelier" if collective else "Premier accueil",
        default_duration_minutes=30,
        collective=collective,
        max_participants=capacity,
    )
    lieu = Lieu.objects.create(organisation=organisation, name="Centre", address="1 rue de la Paix")
    day = timezone.localdate() + timedelta(days=7)
    plage = PlageOuverture.objects.create(
        organisation=organisation,
        agent=agent,
        lieu=lieu,
        first_date=day,
        start_time=time(9),
        end_time=time(12),
    )
    plage.motifs.add(motif)
    start = datetime.combine(day, time(10), tzinfo=timezone.get_default_timezone())
    return organisation, motif, lieu, agent, start


def _usagers(organisation, count):
    usagers = [
        Usager.objects.create(territory=organisation.territory, first_name=f"U{i}", last_name="Test")
        for i in range(count)
    ]
    UsagerOrganisation.objects.bulk_create(UsagerOrganisation(usager=u, organisation=organisation) for u in usagers)
    return usagers


def _run_in_threads(count, work):
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=30)
            work(index)
            outcomes[index] = "ok"
        except DomainError as error:
            outcomes[index] = error.code
        except Exception as error:  # anything else is a failure of the guarantee
            outcomes[index] = f"crash: {error!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_bookings_of_one_slot_exactly_one_wins():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: its exclusion constraint (SQLite serialises writers, tested below)")
    organisation, motif, lieu, agent, start = _setting_up()
    usagers = _usagers(organisation, 20)

    # Three rounds on three slots: a race that can deadlock (as unlocked inserts checking each
    # other's rows on the exclusion constraint did) shows up in one of them.
    for round_number in range(3):
        slot = start + timedelta(minutes=30 * round_number)

        def book(index, slot=slot):
            services.book_rdv(
                as_agent(agent, organisation),
                services.BookingRequest(
                    motif=motif, starts_at=slot, agents=[agent], usagers=[usagers[index]], lieu=lieu
                ),
            )

        outcomes = _run_in_threads(20, book)

        assert outcomes.count("ok") == 1, outcomes
        assert outcomes.count("slot_taken") == 19, outcomes
    assert Rdv.objects.count() == 3
    assert RdvAgent.objects.count() == 3
    assert Participation.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_on_sqlite_are_serialised():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only: PostgreSQL is covered by the exclusion-constraint test")
    organisation, motif, lieu, agent, start = _setting_up()
    usagers = _usagers(organisation, 8)

    def book(index):
        services.book_rdv(
            as_agent(agent, organisation),
            services.BookingRequest(motif=motif, starts_at=start, agents=[agent], usagers=[usagers[index]], lieu=lieu),
        )

    outcomes = _run_in_threads(8, book)

    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("slot_taken") == 7, outcomes
    assert Rdv.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_of_a_collective_rdv_never_exceed_capacity():
    organisation, motif, lieu, agent, start = _setting_up(collective=True, capacity=3)
    usagers = _usagers(organisation, 6)
    rdv = services.book_rdv(
        as_agent(agent, organisation),
        services.BookingRequest(motif=motif, starts_at=start, agents=[agent], usagers=[], lieu=lieu),
    )

    outcomes = _run_in_threads(6, lambda index: services.add_participant(as_agent(agent, rdv), rdv, usagers[index]))

    assert outcomes.count("ok") == 3, outcomes
    assert outcomes.count("full") == 3, outcomes
    assert Participation.objects.filter(rdv=rdv).count() == 3


def test_the_exclusion_constraint_refuses_overlapping_rows_even_without_the_recheck(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: exclusion constraint")
    organisation, motif, lieu, agent, start = _setting_up()
    rdv1 = Rdv.objects.create(
        organisation=organisation, motif=motif, lieu=lieu, starts_at=start, ends_at=start + timedelta(minutes=30)
    )
    rdv2 = Rdv.objects.create(
        organisation=organisation, motif=motif, lieu=lieu, starts_at=start, ends_at=start + timedelta(minutes=30)
    )
    RdvAgent.objects.create(rdv=rdv1, agent=agent, starts_at=rdv1.starts_at, ends_at=rdv1.ends_at)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RdvAgent.objects.create(
            rdv=rdv2, agent=agent, starts_at=start + timedelta(minutes=15), ends_at=start + timedelta(minutes=45)
        )
    # touching intervals are fine ([10:00, 10:30) then [10:30, 11:00))
    RdvAgent.objects.create(rdv=rdv2, agent=agent, starts_at=rdv1.ends_at, ends_at=rdv1.ends_at + timedelta(minutes=30))
    assert RdvAgent.objects.count() == 2
