"""The next free slot per lieu across the espace, from the same loader and engine."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import islice, pairwise

from rdv.availability.recurrence import to_utc
from rdv.bookings.availability import _chunks, next_availability_by_lieu
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


def test_the_search_takes_a_week_first_then_doubles_up_to_eight_weeks_without_gap_or_overlap():
    first, last = date(2027, 7, 12), date(2028, 1, 31)
    chunks = list(islice(_chunks(first, last, 7), 20))
    assert [(end - start).days + 1 for start, end in chunks] == [7, 14, 28, 56, 56, 43]
    assert chunks[0][0] == first
    assert chunks[-1][1] == last
    assert all(start == end + timedelta(days=1) for (_, end), (start, _) in pairwise(chunks))


def test_a_search_chunk_is_at_least_one_day():
    first = date(2027, 7, 12)
    chunks = list(islice(_chunks(first, first + timedelta(days=2), 0), 5))
    assert chunks == [(first, first), (first + timedelta(days=1), first + timedelta(days=2))]


def test_agents_look_92_days_ahead_for_the_next_availability(alice):
    day_92, day_93 = NOW.date() + timedelta(days=92), NOW.date() + timedelta(days=93)
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, bookable_online=True)
    last_day = factories.LieuFactory(organisation=alice.organisation, name="Dernier jour")
    too_far = factories.LieuFactory(organisation=alice.organisation, name="Trop loin")
    _plage(alice, alice.organisation, last_day, motif, day_92)
    _plage(alice, alice.organisation, too_far, motif, day_93)
    found = next_availability_by_lieu([motif], now=NOW, online=False)
    assert found[last_day.pk].start == to_utc(day_92, time(9))
    assert too_far.pk not in found


def test_the_search_stops_once_every_open_lieu_of_the_motifs_has_a_slot(alice, django_assert_max_num_queries):
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, bookable_online=True)
    other_motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, name="Autre")
    lieu = factories.LieuFactory(organisation=alice.organisation, name="Ouvert")
    _plage(alice, alice.organisation, lieu, motif, date(2027, 7, 13))
    # lieux that must not keep the search going: another motif's, archived, closed
    for name, motif_there, changes in [
        ("Autre motif", other_motif, {}),
        ("Archivé", motif, {"archived_at": NOW}),
        ("Fermé", motif, {"is_open": False}),
    ]:
        there = factories.LieuFactory(organisation=alice.organisation, name=name)
        _plage(alice, alice.organisation, there, motif_there, date(2027, 7, 14) + timedelta(weeks=3))
        type(there).objects.filter(pk=there.pk).update(**changes)
    with django_assert_max_num_queries(3 + 4):  # one week searched
        found = next_availability_by_lieu([motif], now=NOW)
    assert set(found) == {lieu.pk}
