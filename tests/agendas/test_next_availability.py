"""The next free slot per lieu across the espace, from the same loader and engine."""

from datetime import UTC, date, datetime, time

from rdv.availability.recurrence import to_utc
from rdv.bookings.availability import next_availability_by_lieu
from tests import factories

NOW = datetime(2027, 7, 12, 6, 0, tzinfo=UTC)  # Monday 12 July 2027, 08:00 in Paris


def _plage(world, organisation, lieu, motif, day, weekly=False):
    plage = factories.PlageOuvertureFactory(
        organisation=organisation,
        agent=world.agent,
        lieu=lieu,
        first_date=day,
        start_time=time(9),
        end_time=time(12),
        recurrence="weekly" if weekly else "none",
        recurrence_weekdays=[day.weekday()] if weekly else [],
    )
    plage.motifs.add(motif)
    return plage


def test_each_lieu_gets_its_first_free_slot_skipping_holidays_and_delays(alice):
    centre = factories.LieuFactory(organisation=alice.organisation, name="Centre")
    nord = factories.LieuFactory(organisation=alice.organisation, name="Nord")
    motif = factories.MotifFactory(
        organisation=alice.organisation, service=alice.service, bookable_online=True, min_booking_delay_minutes=60 * 24
    )
    # Centre: Monday 12 (too soon: minimum delay of one day) and Wednesday 14 July (a holiday).
    _plage(alice, alice.organisation, centre, motif, date(2027, 7, 12))
    _plage(alice, alice.organisation, centre, motif, date(2027, 7, 14))
    _plage(alice, alice.organisation, centre, motif, date(2027, 7, 15))
    # Nord: only in three weeks.
    _plage(alice, alice.organisation, nord, motif, date(2027, 8, 2))

    found = next_availability_by_lieu([motif], now=NOW)

    assert found[centre.pk].start == to_utc(date(2027, 7, 15), time(9))
    assert found[nord.pk].start == to_utc(date(2027, 8, 2), time(9))
    assert found[nord.pk].agent_ids == (alice.agent.pk,)


def test_a_lieu_without_any_slot_in_the_horizon_is_absent(alice):
    lieu = factories.LieuFactory(organisation=alice.organisation)
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, bookable_online=True)
    _plage(alice, alice.organisation, lieu, motif, date(2028, 1, 3))  # beyond 92 days
    assert next_availability_by_lieu([motif], now=NOW) == {}


def test_queries_per_week_searched_stay_constant(alice, django_assert_max_num_queries):
    lieu = factories.LieuFactory(organisation=alice.organisation)
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, bookable_online=True)
    _plage(alice, alice.organisation, lieu, motif, date(2027, 9, 6))  # found in the 9th week searched
    with django_assert_max_num_queries(3 + 4 * 9):
        found = next_availability_by_lieu([motif], now=NOW)
    assert found[lieu.pk].start == to_utc(date(2027, 9, 6), time(9))
