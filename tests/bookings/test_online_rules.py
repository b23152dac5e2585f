"""The online slot rules, exact (issue 18), at their edges.

Free ranges are cut from their own start (or, once begun, from the next 5-minute step after now),
THEN online keeps now + minimum delay <= start <= now + maximum delay, both ends inclusive; the
booking re-check checks the same agent, lieu and rules; « prochaine disponibilité » looks as far as
the maximum delay. Each edge is checked in Europe/Paris on an ordinary day, across both DST
changes (the delay spans the change: it counts real hours), in La Réunion and in Guyane.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
import time_machine

from rdv.accounts.models import AccessLevel
from rdv.agendas.calendar import holiday_zone
from rdv.bookings import services
from rdv.bookings.availability import (
    find_slots,
    is_slot_free,
    next_availability_by_lieu,
    next_available_slot,
)
from rdv.bookings.models import Rdv, SlotHold
from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.motifs.models import BookableBy
from tests import factories

DAY = 24 * 60  # minutes


@dataclass
class World:
    zone: ZoneInfo
    territory: object
    organisation: object
    agent: object
    lieu: object  # « lieu A »: the agent's plages for the motif
    other_lieu: object  # « lieu B »: same organisation
    motif: object
    usager: object

    def at(self, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
        """A wall-clock time of the espace, as a UTC instant."""
        return datetime.combine(day, time(hour, minute, second), tzinfo=self.zone).astimezone(UTC)

    def plage(self, day: date, start: time, end: time, lieu=None):
        plage = factories.PlageOuvertureFactory(
            organisation=self.organisation,
            agent=self.agent,
            lieu=lieu or self.lieu,
            first_date=day,
            start_time=start,
            end_time=end,
            recurrence="none",
        )
        plage.motifs.add(self.motif)
        return plage

    def set_delays(self, min_minutes: int = 30, max_minutes: int = 90 * DAY, duration: int = 30):
        self.motif.min_booking_delay_minutes = min_minutes
        self.motif.max_booking_delay_minutes = max_minutes
        self.motif.default_duration_minutes = duration
        self.motif.save()

    def offered(self, day: date, now: datetime, *, online: bool = True, **options) -> list[str]:
        """Start times of `day` (wall clock of the espace) found at `now`."""
        slots = find_slots(
            [self.motif],
            day,
            day,
            now=now,
            online=online,
            holiday_zone=holiday_zone(self.territory),
            tz=self.zone,
            **options,
        )[self.motif.pk]
        return [slot.start.astimezone(self.zone).strftime("%H:%M") for slot in slots]

    def book(self, start: datetime, *, lieu="default", **extra) -> Rdv:
        """The usager books online, at the current (travelled) time."""
        request = services.BookingRequest(
            motif=self.motif,
            starts_at=start,
            agents=[self.agent],
            usagers=[self.usager],
            lieu=self.lieu if lieu == "default" else lieu,
            **extra,
        )
        return services.book_rdv(Context.public(self.organisation, usager=self.usager), request)

    def refused(self, start: datetime, **options) -> None:
        count = Rdv.objects.count()
        with pytest.raises(DomainError) as caught:
            self.book(start, **options)
        assert caught.value.code == "slot_taken"
        assert Rdv.objects.count() == count

    def free(self, start: datetime, now: datetime, **options) -> bool:
        return is_slot_free(
            self.motif,
            self.agent.pk,
            start,
            now=now,
            online=True,
            tz=self.zone,
            holiday_zone=holiday_zone(self.territory),
            **options,
        )


def build_world(time_zone: str, departement: str) -> World:
    territory = factories.TerritoryFactory(time_zone=time_zone, departement_number=departement)
    organisation = factories.OrganisationFactory(territory=territory)
    service = factories.ServiceFactory(name="Service social")
    factories.TerritoryServiceFactory(territory=territory, service=service)
    agent = factories.AgentFactory(email=f"agent-{departement}@exemple.fr")
    factories.AgentRoleFactory(agent=agent, organisation=organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=agent, territory=territory, service=service)
    motif = factories.MotifFactory(
        organisation=organisation,
        service=service,
        name="Accueil en ligne",
        bookable_online=True,
        bookable_by=BookableBy.EVERYONE,
    )
    usager = factories.UsagerFactory(
        territory=territory, last_name="Dupont", email="jeanne@usager.fr", organisations=[organisation]
    )
    return World(
        zone=ZoneInfo(time_zone),
        territory=territory,
        organisation=organisation,
        agent=agent,
        lieu=factories.LieuFactory(organisation=organisation, name="Lieu A"),
        other_lieu=factories.LieuFactory(organisation=organisation, name="Lieu B"),
        motif=motif,
        usager=usager,
    )


@pytest.fixture
def paris(db) -> World:
    return build_world("Europe/Paris", "26")


ORDINARY_DAY = date(2027, 6, 16)  # a Wednesday, no holiday anywhere


# --------------------------------------------------------------------------- delays at their edges

# (time zone, département, day of the slot at 10:00 local, delay in days, local wall clock of
# "now" = slot − delay). Across a DST change the delay counts real hours, so "now" is not 10:00.
EDGES = [
    pytest.param("Europe/Paris", "26", ORDINARY_DAY, 2, "2027-06-14 10:00+02:00", id="paris"),
    # Monday 30 March 2026, 10:00 CEST − 72 h = Friday 27 March, 09:00 CET
    pytest.param("Europe/Paris", "26", date(2026, 3, 30), 3, "2026-03-27 09:00+01:00", id="paris-march-dst"),
    # Monday 26 October 2026, 10:00 CET − 72 h = Friday 23 October, 11:00 CEST
    pytest.param("Europe/Paris", "26", date(2026, 10, 26), 3, "2026-10-23 11:00+02:00", id="paris-october-dst"),
    pytest.param("Indian/Reunion", "974", ORDINARY_DAY, 2, "2027-06-14 10:00+04:00", id="reunion"),
    pytest.param("America/Cayenne", "973", ORDINARY_DAY, 2, "2027-06-14 10:00-03:00", id="cayenne"),
]


def _edge_world(time_zone, departement, day):
    world = build_world(time_zone, departement)
    world.plage(day, time(9), time(12))
    return world, world.at(day, 10)


def _local(world: World, instant: datetime) -> str:
    return instant.astimezone(world.zone).isoformat(" ", "minutes")


@pytest.mark.parametrize(("time_zone", "departement", "day", "delay_days", "now_local"), EDGES)
def test_a_slot_exactly_at_now_plus_the_minimum_delay_is_offered_and_bookable(
    db, time_zone, departement, day, delay_days, now_local
):
    world, slot = _edge_world(time_zone, departement, day)
    world.set_delays(min_minutes=delay_days * DAY)
    now = slot - timedelta(days=delay_days)
    assert _local(world, now) == now_local
    # `now` given in the espace's wall clock: the delay is still added to the instant
    assert world.offered(day, now.astimezone(world.zone)) == ["10:00", "10:30", "11:00", "11:30"]
    assert world.free(slot, now)
    with time_machine.travel(now, tick=False):
        rdv = world.book(slot)
    assert rdv.starts_at == slot


@pytest.mark.parametrize(("time_zone", "departement", "day", "delay_days", "now_local"), EDGES)
def test_a_slot_one_second_short_of_the_minimum_delay_is_neither_offered_nor_bookable(
    db, time_zone, departement, day, delay_days, now_local
):
    world, slot = _edge_world(time_zone, departement, day)
    world.set_delays(min_minutes=delay_days * DAY)
    now = slot - timedelta(days=delay_days) + timedelta(seconds=1)
    assert world.offered(day, now.astimezone(world.zone)) == ["10:30", "11:00", "11:30"]
    assert not world.free(slot, now)
    with time_machine.travel(now, tick=False):
        world.refused(slot)
        assert world.book(slot + timedelta(minutes=30)).starts_at == slot + timedelta(minutes=30)


@pytest.mark.parametrize(("time_zone", "departement", "day", "delay_days", "now_local"), EDGES)
def test_a_slot_exactly_at_now_plus_the_maximum_delay_is_offered_and_bookable(
    db, time_zone, departement, day, delay_days, now_local
):
    world, slot = _edge_world(time_zone, departement, day)
    world.set_delays(max_minutes=delay_days * DAY)
    now = slot - timedelta(days=delay_days)
    assert _local(world, now) == now_local
    assert world.offered(day, now.astimezone(world.zone)) == ["09:00", "09:30", "10:00"]
    assert world.free(slot, now)
    # with microseconds: now + max delay is a little after the slot, still offered
    assert world.offered(day, now + timedelta(microseconds=1)) == ["09:00", "09:30", "10:00"]
    with time_machine.travel(now, tick=False):
        assert world.book(slot).starts_at == slot


@pytest.mark.parametrize(("time_zone", "departement", "day", "delay_days", "now_local"), EDGES)
def test_a_slot_one_second_beyond_the_maximum_delay_is_neither_offered_nor_bookable(
    db, time_zone, departement, day, delay_days, now_local
):
    world, slot = _edge_world(time_zone, departement, day)
    world.set_delays(max_minutes=delay_days * DAY)
    now = slot - timedelta(days=delay_days) - timedelta(seconds=1)
    assert world.offered(day, now.astimezone(world.zone)) == ["09:00", "09:30"]
    # a microsecond short is short too
    assert world.offered(day, now + timedelta(seconds=1) - timedelta(microseconds=1)) == ["09:00", "09:30"]
    assert not world.free(slot, now)
    with time_machine.travel(now, tick=False):
        world.refused(slot)


@pytest.mark.parametrize(("time_zone", "departement", "day", "delay_days", "now_local"), EDGES)
def test_next_availability_reaches_exactly_the_maximum_delay(db, time_zone, departement, day, delay_days, now_local):
    world = build_world(time_zone, departement)
    world.plage(day, time(10), time(12))
    slot = world.at(day, 10)
    world.set_delays(max_minutes=delay_days * DAY)
    now = slot - timedelta(days=delay_days)
    found = next_available_slot(world.motif, now=now.astimezone(world.zone))
    assert found is not None and found.start == slot
    assert next_availability_by_lieu([world.motif], now=now)[world.lieu.pk].start == slot
    assert next_available_slot(world.motif, now=now - timedelta(seconds=1)) is None
    assert next_availability_by_lieu([world.motif], now=now - timedelta(seconds=1)) == {}


def test_agents_keep_every_start_from_now_on_without_maximum_delay(paris):
    paris.plage(ORDINARY_DAY, time(9), time(12))
    paris.set_delays(min_minutes=2 * DAY, max_minutes=3 * DAY)
    now = paris.at(ORDINARY_DAY, 9, 40)
    assert paris.offered(ORDINARY_DAY, now, online=False) == ["09:40", "10:10", "10:40", "11:10"]
    assert paris.offered(ORDINARY_DAY, now) == []
    far = paris.at(ORDINARY_DAY, 9) - timedelta(days=200)
    assert paris.offered(ORDINARY_DAY, far, online=False) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert paris.offered(ORDINARY_DAY, far) == []


def test_the_agents_recheck_takes_any_start_from_now_on_inside_a_plage_not_only_the_grid(paris):
    paris.plage(ORDINARY_DAY, time(9), time(12))
    zone = holiday_zone(paris.territory)

    def free(start, now, **options):  # the default re-check: an agent's
        return is_slot_free(paris.motif, paris.agent.pk, start, now=now, tz=paris.zone, holiday_zone=zone, **options)

    now = paris.at(ORDINARY_DAY, 8)
    assert free(paris.at(ORDINARY_DAY, 10, 7), now)  # off the online grid
    assert free(paris.at(ORDINARY_DAY, 11, 30), now)  # ends with the plage
    assert not free(paris.at(ORDINARY_DAY, 11, 31), now)  # would end after it
    assert not free(paris.at(ORDINARY_DAY, 8, 30), now)  # before it
    assert not free(paris.at(ORDINARY_DAY, 9, 30), paris.at(ORDINARY_DAY, 9, 31))  # already begun
    assert free(paris.at(ORDINARY_DAY, 9, 31), paris.at(ORDINARY_DAY, 9, 31))  # starting right now
    assert not free(paris.at(ORDINARY_DAY, 10), paris.at(ORDINARY_DAY + timedelta(days=1), 8))  # a past day
    # at the lieu asked only
    next_day = ORDINARY_DAY + timedelta(days=1)
    paris.plage(next_day, time(9), time(12), lieu=paris.other_lieu)
    assert free(paris.at(ORDINARY_DAY, 10), now, lieu_id=paris.lieu.pk)
    assert free(paris.at(next_day, 10), now, lieu_id=paris.other_lieu.pk)
    assert not free(paris.at(next_day, 10), now, lieu_id=paris.lieu.pk)


# --------------------------------------------------------------------------- cutting from now


def test_a_slot_shown_at_10_07_is_still_there_at_10_12_and_bookable(paris):
    """Cutting never starts from now + minimum delay: the range starts at 10:30, so its slots are
    10:30, 11:00, 11:30 whatever the time; the minimum delay (30 min) only hides 10:30."""
    paris.plage(ORDINARY_DAY, time(10, 30), time(12))
    paris.set_delays(min_minutes=30)
    shown_at, submitted_at = paris.at(ORDINARY_DAY, 10, 7), paris.at(ORDINARY_DAY, 10, 12)
    assert paris.offered(ORDINARY_DAY, shown_at) == ["11:00", "11:30"]
    assert paris.offered(ORDINARY_DAY, submitted_at) == ["11:00", "11:30"]
    with time_machine.travel(submitted_at, tick=False):
        assert paris.book(paris.at(ORDINARY_DAY, 11)).starts_at == paris.at(ORDINARY_DAY, 11)


def test_a_range_that_began_before_now_is_cut_in_5_minute_steps_from_its_start(paris):
    paris.plage(ORDINARY_DAY, time(9), time(12))
    paris.set_delays(min_minutes=60, duration=45)
    now = paris.at(ORDINARY_DAY, 9, 7)
    # cut from 09:10 (the next step after now, from 09:00): 09:10, 09:55, 10:40 (11:25 would end at 12:10)
    assert paris.offered(ORDINARY_DAY, now, online=False) == ["09:10", "09:55", "10:40"]
    # then online keeps the starts from 10:07 on: not 10:10 and 10:55 (cut from now + delay)
    assert paris.offered(ORDINARY_DAY, now) == ["10:40"]
    # exactly on a step: that step; one second after: the next one
    assert paris.offered(ORDINARY_DAY, paris.at(ORDINARY_DAY, 9, 5), online=False) == ["09:05", "09:50", "10:35"]
    assert paris.offered(ORDINARY_DAY, paris.at(ORDINARY_DAY, 9, 5, 1), online=False) == ["09:10", "09:55", "10:40"]
    # a range that has not begun yet keeps its own grid (09:00, 09:45, then from 09:59 on)
    assert paris.offered(ORDINARY_DAY, paris.at(ORDINARY_DAY, 8, 59)) == ["10:30", "11:15"]


def test_a_range_cut_by_an_earlier_rdv_is_stepped_from_the_end_of_that_rdv(paris):
    paris.plage(ORDINARY_DAY, time(9), time(12))
    paris.set_delays(min_minutes=30)
    with time_machine.travel(paris.at(ORDINARY_DAY, 8), tick=False):
        services.book_rdv(
            Context.system(paris.territory, paris.organisation),
            services.BookingRequest(
                motif=paris.motif,
                starts_at=paris.at(ORDINARY_DAY, 9),
                agents=[paris.agent],
                usagers=[paris.usager],
                lieu=paris.lieu,
                duration_minutes=12,
            ),
        )
    # the free range starts at 09:12; at 09:20 it has begun: 09:22, 09:52, …; online from 09:50
    now = paris.at(ORDINARY_DAY, 9, 20)
    assert paris.offered(ORDINARY_DAY, now, online=False) == ["09:22", "09:52", "10:22", "10:52", "11:22"]
    assert paris.offered(ORDINARY_DAY, now) == ["09:52", "10:22", "10:52", "11:22"]


# --------------------------------------------------------------------------- the booking re-check


def test_a_slot_of_lieu_a_can_never_be_booked_at_lieu_b(paris):
    paris.plage(ORDINARY_DAY, time(9), time(12))  # lieu A
    paris.plage(ORDINARY_DAY + timedelta(days=1), time(9), time(12), lieu=paris.other_lieu)  # B, the next day
    slot = paris.at(ORDINARY_DAY, 10)
    now = paris.at(ORDINARY_DAY - timedelta(days=1), 8)
    assert paris.free(slot, now, lieu_id=paris.lieu.pk)
    assert not paris.free(slot, now, lieu_id=paris.other_lieu.pk)
    with time_machine.travel(now, tick=False):
        paris.refused(slot, lieu=paris.other_lieu)
        rdv = paris.book(slot)
    assert rdv.lieu == paris.lieu


DISPLAYED_AT = (9, 7)  # the week page was shown at 09:07 (45-minute slots, 30-minute minimum delay)


@pytest.fixture
def begun_range(paris) -> World:
    """At 09:07 the range 09:00–12:00 is cut 09:10, 09:55, 10:40 and 09:55, 10:40 are shown; at 09:12
    it is cut 09:15, 10:00, 10:45."""
    paris.plage(ORDINARY_DAY, time(9), time(12))
    paris.set_delays(min_minutes=30, duration=45)
    assert paris.offered(ORDINARY_DAY, paris.at(ORDINARY_DAY, *DISPLAYED_AT)) == ["09:55", "10:40"]
    assert paris.offered(ORDINARY_DAY, paris.at(ORDINARY_DAY, 9, 12)) == ["10:00", "10:45"]
    return paris


def test_a_slot_displayed_a_few_minutes_ago_in_a_begun_range_is_still_accepted(begun_range):
    world = begun_range
    shown, slot = world.at(ORDINARY_DAY, *DISPLAYED_AT), world.at(ORDINARY_DAY, 10, 40)
    with time_machine.travel(world.at(ORDINARY_DAY, 9, 12), tick=False):
        world.refused(slot)  # not on today's grid any more, and the caller did not say when it was shown
        world.refused(slot, displayed_at=shown - timedelta(minutes=3))  # not displayed at 09:04 (09:05, 09:50…)
        assert world.book(slot, displayed_at=shown).starts_at == slot


def test_displayed_at_accepts_what_is_displayed_now_too(begun_range):
    world = begun_range
    with time_machine.travel(world.at(ORDINARY_DAY, 9, 12), tick=False):
        rdv = world.book(world.at(ORDINARY_DAY, 10, 45), displayed_at=world.at(ORDINARY_DAY, *DISPLAYED_AT))
    assert rdv.starts_at == world.at(ORDINARY_DAY, 10, 45)


def test_displayed_at_counts_for_30_minutes(begun_range):
    world = begun_range
    shown, slot = world.at(ORDINARY_DAY, *DISPLAYED_AT), world.at(ORDINARY_DAY, 10, 40)
    assert world.free(slot, shown + timedelta(minutes=30), displayed_at=shown)
    assert not world.free(slot, shown + timedelta(minutes=30, seconds=1), displayed_at=shown)
    # a time in the future is not when anything was displayed: 10:00 is on the grid of 09:12 only
    later = world.at(ORDINARY_DAY, 9, 12)
    assert world.free(world.at(ORDINARY_DAY, 10), later, displayed_at=later)
    assert not world.free(world.at(ORDINARY_DAY, 10), shown, displayed_at=later)


def test_displayed_at_never_widens_the_window_of_the_real_now(begun_range):
    world = begun_range
    shown = world.at(ORDINARY_DAY, *DISPLAYED_AT)
    # 09:55 was shown at 09:07; at 09:30 it is less than 30 minutes away
    assert not world.free(world.at(ORDINARY_DAY, 9, 55), world.at(ORDINARY_DAY, 9, 30), displayed_at=shown)
    assert world.free(world.at(ORDINARY_DAY, 10, 40), world.at(ORDINARY_DAY, 9, 30), displayed_at=shown)


def test_a_held_slot_is_hidden_from_others_and_kept_for_its_holder_until_it_expires(paris):
    paris.plage(ORDINARY_DAY, time(9), time(10))
    now = paris.at(ORDINARY_DAY - timedelta(days=1), 8)
    slot = paris.at(ORDINARY_DAY, 9)
    SlotHold.objects.create(
        motif=paris.motif,
        lieu=paris.lieu,
        agent=paris.agent,
        starts_at=slot,
        ends_at=slot + timedelta(minutes=30),
        holder_key="mine",
        expires_at=now + timedelta(minutes=10),
    )
    assert paris.offered(ORDINARY_DAY, now) == ["09:30"]
    assert paris.offered(ORDINARY_DAY, now, holder_key="mine") == ["09:00", "09:30"]
    assert next_available_slot(paris.motif, now=now).start == slot + timedelta(minutes=30)
    assert next_available_slot(paris.motif, now=now, holder_key="mine").start == slot
    with time_machine.travel(now, tick=False):
        paris.refused(slot, holder_key="someone else")
        assert paris.book(slot, holder_key="mine").starts_at == slot
    assert paris.offered(ORDINARY_DAY, now + timedelta(minutes=10), holder_key="mine") == ["09:30"]


def test_an_expired_hold_blocks_nobody(paris):
    paris.plage(ORDINARY_DAY, time(9), time(10))
    now = paris.at(ORDINARY_DAY - timedelta(days=1), 8)
    slot = paris.at(ORDINARY_DAY, 9)
    SlotHold.objects.create(
        motif=paris.motif,
        lieu=paris.lieu,
        agent=paris.agent,
        starts_at=slot,
        ends_at=slot + timedelta(minutes=30),
        holder_key="mine",
        expires_at=now,
    )
    assert paris.offered(ORDINARY_DAY, now) == ["09:00", "09:30"]


# --------------------------------------------------------------------------- « prochaine disponibilité »

NOW = datetime(2027, 3, 9, 7, 0, tzinfo=UTC)  # Tuesday 9 March 2027, 08:00 in Paris (tests/bookings/conftest.py)


@pytest.mark.parametrize(("time_zone", "departement"), [("Europe/Paris", "26"), ("Indian/Reunion", "974")])
def test_next_availability_looks_beyond_92_days_when_the_maximum_delay_is_six_months(
    db, time_zone, departement, django_assert_max_num_queries
):
    world = build_world(time_zone, departement)
    world.set_delays(max_minutes=183 * DAY)
    day = date(2027, 8, 6)  # a Friday, 150 days after NOW (and after the summer time change in Paris)
    world.plage(day, time(9), time(12))
    # a week, then 2, 4 and 8 weeks at a time: 5 chunks of 4 queries, plus the espace's
    with django_assert_max_num_queries(2 + 4 * 5):
        found = next_available_slot(world.motif, now=NOW)
    assert found is not None and found.start == world.at(day, 9)
    assert found.lieu_id == world.lieu.pk and found.agent_ids == (world.agent.pk,)
    with django_assert_max_num_queries(3 + 4 * 5):
        by_lieu = next_availability_by_lieu([world.motif], now=NOW)
    assert by_lieu == {world.lieu.pk: found}


def test_next_availability_stops_at_the_maximum_delay(paris):
    paris.set_delays(max_minutes=183 * DAY)
    paris.plage(date(2027, 9, 10), time(9), time(12))  # 185 days after NOW
    assert next_available_slot(paris.motif, now=NOW) is None
    assert next_availability_by_lieu([paris.motif], now=NOW) == {}


def test_next_available_slot_after_an_instant_and_at_a_lieu(paris):
    first, second = date(2027, 3, 17), date(2027, 4, 21)
    paris.plage(first, time(9), time(10), lieu=paris.other_lieu)
    paris.plage(second, time(9), time(10))
    paris.plage(second + timedelta(days=1), time(9), time(10), lieu=paris.other_lieu)
    assert next_available_slot(paris.motif, now=NOW).start == paris.at(first, 9)
    assert next_available_slot(paris.motif, now=NOW, lieu_id=paris.lieu.pk).start == paris.at(second, 9)
    # after the first slot's start: the next one of the same day
    assert next_available_slot(paris.motif, now=NOW, after=paris.at(first, 9, 1)).start == paris.at(first, 9, 30)
    # after the first week shown (« prochaine disponibilité » of an empty week)
    after = paris.at(date(2027, 4, 1), 0)
    assert next_available_slot(paris.motif, now=NOW, after=after).start == paris.at(second, 9)
    assert next_available_slot(paris.motif, now=NOW, after=after, lieu_id=paris.other_lieu.pk).start == paris.at(
        second + timedelta(days=1), 9
    )
    assert next_available_slot(paris.motif, now=NOW, after=paris.at(date(2027, 12, 1), 0)) is None


def test_next_available_slot_includes_a_slot_starting_exactly_at_the_instant_asked(paris):
    day = date(2027, 3, 17)
    paris.plage(day, time(9), time(10))
    assert next_available_slot(paris.motif, now=NOW, after=paris.at(day, 9, 30)).start == paris.at(day, 9, 30)


def test_next_availability_by_lieu_answers_for_the_lieux_asked_only(paris):
    day = date(2027, 3, 17)
    paris.plage(day, time(9), time(10))
    paris.plage(day + timedelta(days=1), time(9), time(10), lieu=paris.other_lieu)
    found = next_availability_by_lieu([paris.motif], now=NOW, lieu_ids=[paris.other_lieu.pk])
    assert set(found) == {paris.other_lieu.pk}


def test_next_available_slot_skips_a_holiday_and_the_minimum_delay(paris):
    paris.set_delays(min_minutes=2 * DAY)
    paris.plage(date(2027, 3, 10), time(9), time(12))  # tomorrow: within the minimum delay
    paris.plage(date(2027, 5, 8), time(9), time(12))  # Victoire 1945 (a Saturday, but a holiday)
    paris.plage(date(2027, 5, 10), time(9), time(12))
    assert next_available_slot(paris.motif, now=NOW).start == paris.at(date(2027, 5, 10), 9)


def test_a_motif_out_of_its_window_does_not_hide_the_slots_of_the_next_motifs(paris):
    """find_slots over several motifs: one whose online window misses the dates gives no slot, and
    the motifs after it are still computed (mutation survivor: `continue` → `break`)."""
    near = factories.MotifFactory(
        organisation=paris.organisation,
        service=paris.motif.service,
        name="Proche",
        bookable_online=True,
        bookable_by=BookableBy.EVERYONE,
        min_booking_delay_minutes=30,
        max_booking_delay_minutes=DAY,  # one day ahead at most
    )
    paris.set_delays(max_minutes=90 * DAY)
    plage = paris.plage(ORDINARY_DAY, time(9), time(12))
    plage.motifs.add(near)
    now = paris.at(ORDINARY_DAY, 10) - timedelta(days=10)
    for motifs in ([near, paris.motif], [paris.motif, near]):
        slots = find_slots(motifs, ORDINARY_DAY, ORDINARY_DAY, now=now, online=True, tz=paris.zone)
        assert slots[near.pk] == []  # ten days ahead: beyond its one-day window
        assert len(slots[paris.motif.pk]) == 6  # 9:00 to 11:30, every 30 minutes


def test_the_re_check_reads_the_motifs_time_zone_when_none_is_given(db):
    """is_slot_free without `tz` takes the espace's zone (mutation survivor: `tz or` → `tz and`):
    00:30 in La Réunion is still the day before in Paris."""
    reunion = build_world("Indian/Reunion", "974")
    reunion.set_delays(min_minutes=30)
    reunion.plage(ORDINARY_DAY, time(0), time(2))
    now = reunion.at(ORDINARY_DAY - timedelta(days=1), 20)
    free = partial(is_slot_free, reunion.motif, reunion.agent.pk, now=now, online=True, lieu_id=reunion.lieu.pk)
    assert free(reunion.at(ORDINARY_DAY, 0, 30))
    assert not free(reunion.at(ORDINARY_DAY, 2))


def test_a_rdv_being_moved_does_not_block_its_own_new_time(paris):
    """is_slot_free(exclude_rdv_ids=…): the RDV being moved is ignored, and only it (mutation
    survivor: the condition negated)."""
    paris.set_delays(min_minutes=30)
    paris.plage(ORDINARY_DAY, time(9), time(12))
    now = paris.at(ORDINARY_DAY, 7)
    with time_machine.travel(now, tick=False):
        rdv = paris.book(paris.at(ORDINARY_DAY, 10))
    overlapping = paris.at(ORDINARY_DAY, 10, 15)
    free = partial(is_slot_free, paris.motif, paris.agent.pk, overlapping, now=now, lieu_id=paris.lieu.pk)
    assert not free()
    assert free(exclude_rdv_ids=[rdv.pk])
    assert not free(exclude_rdv_ids=[rdv.pk + 1000])


def test_the_chunks_cover_every_day_including_a_last_single_one():
    """_chunks (the next-availability search): a one-day range, and a last chunk of one day."""
    from rdv.bookings.availability import _chunks

    day = ORDINARY_DAY
    assert list(_chunks(day, day, 7)) == [(day, day)]
    chunks = list(_chunks(day, day + timedelta(days=7), 7))
    assert chunks == [(day, day + timedelta(days=6)), (day + timedelta(days=7), day + timedelta(days=7))]
