"""The rules of the agents' « Trouver un créneau » search that its pages do not reach: the next
availability after an empty week (`rdv.bookings.search.first_slot_after`) looks from the very next
day, one week, then four, then the horizon, without a gap between the steps."""

from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

import pytest

from rdv.availability.recurrence import to_utc
from rdv.bookings import availability, search
from rdv.bookings.availability import find_slots
from tests import factories

NOW = datetime(2027, 8, 30, 6, 0, tzinfo=UTC)  # Monday 30 August 2027, 08:00 in Paris (no holiday until December)
SUNDAY = date(2027, 9, 5)  # the last day of the week searched


@pytest.fixture
def motif(alice):
    return factories.MotifFactory(organisation=alice.organisation, service=alice.service, name="Accueil")


def _plage_on(world, motif, day: date, lieu=None):
    plage = factories.PlageOuvertureFactory(
        organisation=world.organisation,
        agent=world.agent,
        lieu=lieu or factories.LieuFactory(organisation=world.organisation),
        first_date=day,
        start_time=time(9),
        end_time=time(10),
        recurrence="none",
        recurrence_weekdays=[],
    )
    plage.motifs.add(motif)
    return plage


@pytest.mark.parametrize(
    "days_after",
    [1, 7, 8, 28, 29, 92],
    ids=[
        "next day",
        "end of the first step",
        "start of the second",
        "end of the second",
        "start of the last",
        "horizon",
    ],
)
def test_the_next_availability_finds_a_slot_on_any_day_of_the_steps(alice, motif, days_after):
    day = SUNDAY + timedelta(days=days_after)
    _plage_on(alice, motif, day)
    slot = search.first_slot_after(motif, SUNDAY, now=NOW)
    assert slot is not None and slot.start == to_utc(day, time(9))


def test_the_next_availability_is_after_the_day_and_within_the_horizon(alice, motif):
    _plage_on(alice, motif, SUNDAY)  # the day itself: already searched by the week
    _plage_on(alice, motif, SUNDAY + timedelta(days=93))
    assert search.first_slot_after(motif, SUNDAY, now=NOW) is None


@pytest.mark.parametrize(("days_after", "calls"), [(7, 1), (8, 2), (28, 2), (29, 3)])
def test_the_next_availability_looks_one_week_ahead_then_four_then_the_horizon(alice, motif, days_after, calls):
    _plage_on(alice, motif, SUNDAY + timedelta(days=days_after))
    with mock.patch.object(search, "find_slots", wraps=find_slots) as spy:
        assert search.first_slot_after(motif, SUNDAY, now=NOW) is not None
    steps = [(call.args[1], call.args[2]) for call in spy.call_args_list]
    expected = [
        (SUNDAY + timedelta(days=1), SUNDAY + timedelta(days=7)),
        (SUNDAY + timedelta(days=8), SUNDAY + timedelta(days=28)),
        (SUNDAY + timedelta(days=29), SUNDAY + timedelta(days=92)),
    ]
    assert steps == expected[:calls]


# rdv.bookings.availability.next_availability_by: the first slot per key (the open data feed, the
# public pages), a week first, then longer chunks, stopping once every expected key has its slot.


def test_the_first_search_chunk_is_a_week_and_the_search_stops_once_the_expected_keys_have_a_slot(alice):
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, bookable_online=True)
    wanted, other = _plage_on(alice, motif, date(2027, 8, 31)), _plage_on(alice, motif, date(2027, 9, 1))
    with mock.patch.object(availability, "find_slots", wraps=find_slots) as spy:
        found = availability.next_availability_by(
            [motif], lambda motif_id, slot: slot.lieu_id, [wanted.lieu_id], now=NOW
        )
    # One call, one week (Monday to Sunday): the key found outside the expected ones does not matter.
    assert [(call.args[1], call.args[2]) for call in spy.call_args_list] == [(date(2027, 8, 30), SUNDAY)]
    assert found[wanted.lieu_id].start == to_utc(date(2027, 8, 31), time(9))
    assert found[other.lieu_id].start == to_utc(date(2027, 9, 1), time(9))


def test_the_first_slot_of_a_key_is_the_earliest_of_all_the_motifs(alice):
    first_motif = factories.MotifFactory(
        organisation=alice.organisation, service=alice.service, bookable_online=True, name="Premier"
    )
    second_motif = factories.MotifFactory(
        organisation=alice.organisation, service=alice.service, bookable_online=True, name="Second"
    )
    later = _plage_on(alice, first_motif, date(2027, 9, 2))  # Thursday
    _plage_on(alice, second_motif, date(2027, 8, 31), lieu=later.lieu)  # Tuesday, same lieu, the other motif
    found = availability.next_availability_by_lieu([first_motif, second_motif], now=NOW)
    assert found == {later.lieu_id: found[later.lieu_id]}
    assert found[later.lieu_id].start == to_utc(date(2027, 8, 31), time(9))
