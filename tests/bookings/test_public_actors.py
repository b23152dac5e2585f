"""Usagers and prescripteurs are actors the booking services understand (the online booking of a later
issue calls these same functions): online window, no override, their own RDVs only."""

from datetime import timedelta

import pytest

from rdv.agendas.models import PlageOuverture
from rdv.bookings import services
from rdv.bookings.models import CreatedBy, RdvStatus
from rdv.core.context import ActorKind, Context
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.motifs.models import BookableBy
from tests import factories
from tests.bookings.conftest import TODAY, at, next_weekday
from tests.bookings.test_services import state


@pytest.fixture
def online(setup):
    """A motif open online to everyone (2 hours to 30 days ahead), in the agent's plages."""
    motif = factories.MotifFactory(
        organisation=setup.organisation,
        service=setup.world.service,
        name="Accueil en ligne",
        bookable_online=True,
        bookable_by=BookableBy.EVERYONE,
        min_booking_delay_minutes=120,
        max_booking_delay_minutes=30 * 24 * 60,
        usager_can_cancel=True,
        usager_can_move=True,
    )
    for plage in PlageOuverture.objects.filter(agent=setup.agent):
        plage.motifs.add(motif)
    return motif


def refused(code, operation, *args, **kwargs):
    before = state()
    with pytest.raises(DomainError) as caught:
        operation(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert state() == before
    return caught.value


def _request(setup, motif, start, usager=None):
    return services.BookingRequest(
        motif=motif, starts_at=start, agents=[setup.agent], usagers=[usager or setup.usager], lieu=setup.lieu
    )


def test_an_usager_online_books_a_motif_open_online_for_themselves(setup, online):
    ctx = Context.public(setup.organisation, usager=setup.usager)
    rdv = services.book_rdv(ctx, _request(setup, online, at(next_weekday(TODAY), 10)))
    assert rdv.created_by == CreatedBy.USAGER
    assert rdv.created_by_agent is None
    entry = AuditLog.objects.get(action="rdv.created", object_id=str(rdv.pk))
    assert entry.actor is None and entry.actor_repr == str(setup.usager)


def test_the_online_window_applies_to_usagers_not_to_agents(setup, online):
    soon = at(TODAY, 9, 30)  # 1 h 30 from now: before the motif's 2-hour minimum delay
    ctx = Context.public(setup.organisation, usager=setup.usager)
    refused("slot_taken", services.book_rdv, ctx, _request(setup, online, soon))
    agent = services.book_rdv(
        Context.system(setup.organisation.territory, setup.organisation), _request(setup, online, soon)
    )
    assert agent.created_by == CreatedBy.AGENT


def test_public_actors_never_override_and_book_only_motifs_open_to_them(setup, online):
    ctx = Context.public(setup.organisation, usager=setup.usager)
    refused("forbidden", services.book_rdv, ctx, _request(setup, online, at(next_weekday(TODAY), 10)), override=True)
    refused("forbidden", services.book_rdv, ctx, _request(setup, setup.motif, at(next_weekday(TODAY), 10)))
    # An usager books for themselves or a relative, not for somebody else's file.
    refused("forbidden", services.book_rdv, ctx, _request(setup, online, at(next_weekday(TODAY), 10), setup.usager2))


def test_a_prescripteur_books_a_motif_open_to_prescripteurs(setup, online):
    online.bookable_online, online.bookable_by = False, BookableBy.AGENTS_AND_PRESCRIPTEURS
    online.save()
    prescripteur = Context.public(setup.organisation, kind=ActorKind.PRESCRIPTEUR)
    usager = Context.public(setup.organisation, usager=setup.usager)
    refused("forbidden", services.book_rdv, usager, _request(setup, online, at(next_weekday(TODAY), 10)))
    rdv, created = services.book_rdv_for_new_usager(
        prescripteur,
        {"first_name": "Inès", "last_name": "Prescrite"},
        services.BookingRequest(
            motif=online, starts_at=at(next_weekday(TODAY), 10), agents=[setup.agent], lieu=setup.lieu
        ),
    )
    assert rdv.created_by == CreatedBy.PRESCRIPTEUR
    assert list(created.organisations.all()) == [setup.organisation]


def test_an_usager_cancels_and_moves_their_own_rdv_within_the_deadlines(setup, online):
    ctx = Context.public(setup.organisation, usager=setup.usager)
    day = next_weekday(TODAY, 3)
    rdv = services.book_rdv(ctx, _request(setup, online, at(day, 10)))
    stranger = Context.public(setup.organisation, usager=setup.usager3)
    refused("forbidden", services.cancel_rdv, stranger, rdv)
    refused("forbidden", services.move_rdv, ctx, rdv, at(day, 11), agents=[setup.admin])  # only the time
    services.move_rdv(ctx, rdv, at(day, 11))
    rdv.refresh_from_db()
    assert rdv.starts_at == at(day, 11)
    services.cancel_rdv(ctx, rdv)
    rdv.refresh_from_db()
    assert rdv.status == RdvStatus.EXCUSED  # always "annulé par l'usager"


def test_an_usager_cannot_change_a_rdv_in_other_ways(setup, online):
    ctx = Context.public(setup.organisation, usager=setup.usager)
    rdv = services.book_rdv(ctx, _request(setup, online, at(next_weekday(TODAY), 10)))
    refused("forbidden", services.update_rdv, ctx, rdv, context="Je serai en retard")
    refused("forbidden", services.set_status, ctx, rdv, RdvStatus.REVOKED)
    refused("forbidden", services.mark_arrived, ctx, rdv)
    refused("forbidden", services.add_participant, ctx, rdv, setup.usager2)


def test_a_move_late_is_refused_to_the_usager(setup, online):
    ctx = Context.public(setup.organisation, usager=setup.usager)
    rdv = services.book_rdv(ctx, _request(setup, online, at(next_weekday(TODAY), 10)))  # within 48 hours
    refused("forbidden", services.move_rdv, ctx, rdv, at(next_weekday(TODAY), 11))
    assert rdv.starts_at - timedelta(hours=48) < at(TODAY, 8)
