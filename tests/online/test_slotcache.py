"""The slot cache of the public week page (rdv.online.slotcache, docs/adr/0016-slot-cache.md).

The oracle: random changes (bookings, cancellations, moves, plage exceptions, absences, slot holds
and their releases, time passing) interleaved with week reads; every cached read equals the
uncached one at that instant. Then the cost of a warm read, what a change invalidates, and that
the booking re-check never trusts the cache."""

import random
from datetime import date, time, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from rdv.agendas import services as agenda_services
from rdv.agendas.calendar import holiday_zone
from rdv.bookings import services as booking_services
from rdv.bookings.models import Rdv, RdvAgent, SlotHold
from rdv.core import metrics
from rdv.core.errors import DomainError
from rdv.online import selectors, slotcache
from rdv.online.models import SlotCacheVersion
from rdv.online.services import OnlineError
from tests import factories
from tests.helpers import as_agent
from tests.online.fixtures import NOW, THURSDAY, TUESDAY, at, build_online

MONDAY = NOW.date()  # Monday 8 March 2027


@pytest.fixture
def traveller():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def online(db, traveller):
    return build_online()


def week(online, monday, *, holder_key="", motif=None, lieu="default"):
    """(times, next free time) of the public week page at the current instant."""
    result = selectors.week_of_free_times(
        motif or online.motif,
        monday,
        lieu=online.lieu if lieu == "default" else lieu,
        now=timezone.now(),
        holder_key=holder_key,
    )
    return [t.start for day in result.days for t in day.times], result.next_slot


def uncached(online, monday, **kwargs):
    with override_settings(SLOT_CACHE_ENABLED=False):
        return week(online, monday, **kwargs)


def book(online, start, agents):
    """An agent books `agents` at `start` for a new usager (the services: journaled, versions bumped)."""
    return booking_services.book_rdv(
        as_agent(None, online.organisation),
        booking_services.BookingRequest(
            motif=online.motif,
            starts_at=start,
            agents=agents,
            usagers=[factories.UsagerFactory(territory=online.territory, organisations=[online.organisation])],
            lieu=online.lieu,
        ),
    )


def counts():
    return slotcache.counts()


def delta(before):
    after = counts()
    return {key: after[key] - before[key] for key in after}


# The oracle ---------------------------------------------------------------------------------------


def _random_change(rng, online, traveller, usager, log):
    system = as_agent(None, online.organisation)
    agents = [online.agent, online.agent2]
    monday = MONDAY + timedelta(days=7 * rng.randrange(4))
    kind = rng.choice(["book", "book", "cancel", "move", "exception", "absence", "hold", "hold", "time", "time"])
    try:
        if kind in ("book", "move"):
            times, _ = uncached(online, monday)
            if not times:
                return monday
            start = rng.choice(times)
            if kind == "book":
                request = booking_services.BookingRequest(
                    motif=online.motif, starts_at=start, agents=[rng.choice(agents)], usagers=[usager], lieu=online.lieu
                )
                booking_services.book_rdv(system, request)
            else:
                rdvs = [r for r in Rdv.objects.all() if not r.is_cancelled]
                if rdvs:
                    booking_services.move_rdv(system, rng.choice(rdvs), start)
        elif kind == "cancel":
            rdvs = [r for r in Rdv.objects.all() if not r.is_cancelled]
            if rdvs:
                booking_services.cancel_rdv(system, rng.choice(rdvs))
        elif kind == "exception":
            plage = rng.choice(list(online.agent.plages.all()) + list(online.agent2.plages.all()))
            day = monday + timedelta(days=rng.randrange(5))
            agenda_services.cancel_plage_occurrence(system, plage, day)
        elif kind == "absence":
            day = monday + timedelta(days=rng.randrange(5))
            hour = rng.choice([9, 10, 11])
            agenda_services.create_absence(
                system,
                rng.choice(agents),
                {
                    "title": "Formation",
                    "first_date": day,
                    "start_time": time(hour),
                    "end_date": day,
                    "end_time": time(hour, 45),
                },
            )
        elif kind == "hold":
            times, _ = uncached(online, monday)
            if times:
                online.hold(rng.choice(times), holder_key=f"visiteur-{rng.randrange(3)}")
        else:
            traveller.shift(timedelta(minutes=rng.choice([1, 7, 13, 29, 61, 200])))
    except DomainError:
        return monday
    log.append(kind)
    return monday


def _check_slot_agents(online, monday, rng, where):
    """The agents a slot hold chooses from (slotcache.agents_at) equal the engine's (the uncached
    `_slot_agents`) at some free times of the week and at times that are not free; with a page
    displayed a few minutes ago, the cache (the ranges of now) offers at least the engine's agents."""
    from rdv.online.services import _slot_agents

    now = timezone.now()
    zone = holiday_zone(online.territory)
    times, _ = uncached(online, monday)
    tried = [*rng.sample(times, min(4, len(times))), at(MONDAY + timedelta(days=1), 7, 10), at(TUESDAY, 9, 5)]
    offered = 0
    for start in tried:
        for displayed in (now, now - timedelta(minutes=7)):
            cached = slotcache.agents_at(
                online.motif,
                start,
                lieu_id=online.lieu.pk,
                now=now,
                window_now=displayed,
                tz=online.territory.zone,
                zone=zone,
            )
            engine = _slot_agents(online.motif, online.lieu, start, holder_key="", now=displayed)
            if displayed == now:
                assert cached == engine, (*where, start)
                offered += bool(engine)
            else:
                assert set(engine) <= set(cached), (*where, start)
    return offered


def test_cached_weeks_always_equal_the_uncached_ones(online, traveller):
    rng = random.Random(22)
    usager = factories.UsagerFactory(territory=online.territory, organisations=[online.organisation])
    log: list[str] = []
    before = counts()
    offered = 0
    for step in range(70):
        changed = _random_change(rng, online, traveller, usager, log)
        for monday in [changed] + [MONDAY + timedelta(days=7 * rng.randrange(5)) for _ in range(2)]:
            holder_key = rng.choice(["", "visiteur-0", "visiteur-1", "visiteur-9"])
            if not selectors.week_in_window(online.motif, monday, timezone.now()):
                continue
            expected = uncached(online, monday, holder_key=holder_key)
            assert week(online, monday, holder_key=holder_key) == expected, (step, log[-3:], monday, holder_key)
        offered += _check_slot_agents(online, changed, rng, (step, log[-3:]))
    seen = delta(before)
    assert offered > 100, offered  # the hold's candidates were compared where there are some
    assert seen["hit"] > 20 and seen["miss"] > 10 and seen["bypass"] > 0, seen
    assert {"book", "cancel", "hold", "time", "absence", "exception"} <= set(log), log


# Cost and invalidation ------------------------------------------------------------------------------


def test_a_warm_read_costs_two_queries_and_a_cold_one_stores(online, django_assert_num_queries):
    motif = selectors.motif_by_id(online.motif.pk)
    lieu = selectors.lieu_by_id(online.lieu.pk)
    before = counts()
    with django_assert_num_queries(6):  # versions and the visitor's hold, holds' expiry, the loader's four
        cold = selectors.week_of_free_times(motif, MONDAY, lieu=lieu, holder_key="visiteur")
    with django_assert_num_queries(1):  # versions and the visitor's hold
        warm = selectors.week_of_free_times(motif, MONDAY, lieu=lieu, holder_key="visiteur")
    assert [d.times for d in warm.days] == [d.times for d in cold.days] and cold.count > 0
    assert delta(before) == {"hit": 1, "partial": 0, "miss": 1, "bypass": 0}


def test_a_booking_invalidates_its_week_only_and_not_another_espace(online):
    other = build_online("autre")
    week(online, MONDAY)
    week(online, MONDAY + timedelta(days=7))
    week(other, MONDAY)
    before = counts()
    book(online, at(TUESDAY, 10), [online.agent, online.agent2])
    times, _ = week(online, MONDAY)
    assert at(TUESDAY, 10) not in times
    assert delta(before) == {"hit": 0, "partial": 1, "miss": 0, "bypass": 0}  # its two agents computed again
    week(online, MONDAY + timedelta(days=7))
    week(other, MONDAY)
    assert delta(before) == {"hit": 2, "partial": 1, "miss": 0, "bypass": 0}


def test_an_absence_invalidates_every_week_of_its_agent(online):
    week(online, MONDAY + timedelta(days=14))
    agenda_services.create_absence(
        as_agent(None, online.organisation),
        online.agent,
        {"title": "Congés", "first_date": THURSDAY, "start_time": time(9), "end_date": THURSDAY, "end_time": time(12)},
    )
    before = counts()
    assert week(online, MONDAY + timedelta(days=14)) == uncached(online, MONDAY + timedelta(days=14))
    assert delta(before)["partial"] == 1  # that agent's ranges, computed again


def test_a_hold_hides_its_slot_from_others_at_once_and_shows_it_again_when_it_expires(online, traveller):
    start = at(THURSDAY, 10)
    week(online, MONDAY)
    book(online, start, [online.agent])
    assert start in week(online, MONDAY)[0]
    online.hold(start, holder_key="visiteur-1")
    assert start not in week(online, MONDAY)[0]  # everyone else
    assert start in week(online, MONDAY, holder_key="visiteur-1")[0]  # the holder (bypass)
    before = counts()
    assert start not in week(online, MONDAY)[0]
    assert delta(before)["hit"] == 1
    traveller.shift(timedelta(minutes=online.territory.online_hold_minutes, seconds=1))
    assert start in week(online, MONDAY)[0]  # expired: time passing invalidates the entry
    assert delta(before)["miss"] == 1  # the hold lasts longer than SLOT_CACHE_MAX_AGE: the entry is gone


def test_an_expired_hold_gets_its_agent_computed_again_alone(online, traveller):
    start = at(THURSDAY, 10)
    book(online, start, [online.agent])
    online.hold(start, holder_key="visiteur-1")
    SlotHold.objects.update(expires_at=timezone.now() + timedelta(seconds=30))  # shorter than the entry's life
    assert start not in week(online, MONDAY)[0]
    traveller.shift(timedelta(seconds=31))
    before = counts()
    # The entry holds the hold's expiry with its agent's ranges: those alone are computed again.
    assert start in week(online, MONDAY)[0]
    assert delta(before) == {"hit": 0, "partial": 1, "miss": 0, "bypass": 0}
    assert week(online, MONDAY) == uncached(online, MONDAY)


def test_a_change_committed_during_a_computation_never_leaves_a_stale_hit(online, monkeypatch):
    """The versions are read before the slots: a booking committed between the two makes the stored
    entry carry old versions, so the next reader misses."""
    real = slotcache.free_ranges
    start = at(TUESDAY, 10)

    def racing(*args, **kwargs):
        result = real(*args, **kwargs)  # computed before the booking below
        for agent in (online.agent, online.agent2):
            book(online, start, [agent])
        return result

    monkeypatch.setattr(slotcache, "free_ranges", racing)
    assert start in week(online, MONDAY)[0]  # what the reader computed before the booking
    monkeypatch.setattr(slotcache, "free_ranges", real)
    assert start not in week(online, MONDAY)[0]
    assert week(online, MONDAY) == uncached(online, MONDAY)


def test_the_booking_recheck_ignores_a_stale_cache_entry(online, monkeypatch):
    """Even with an entry forced to show a taken slot as free, two visitors never hold one slot."""
    start = at(TUESDAY, 10)
    book(online, start, [online.agent])
    forced = slotcache.Tokens("forced")
    monkeypatch.setattr(slotcache, "versions", lambda motif, monday, **kwargs: (forced, False))
    seconds = int(start.timestamp())
    monkeypatch.setattr(slotcache, "free_ranges", lambda *a, **k: ({online.agent.pk: [(seconds, seconds + 1800)]}, {}))
    week(online, MONDAY)  # stores the forced entry
    monkeypatch.undo()
    monkeypatch.setattr(slotcache, "versions", lambda motif, monday, **kwargs: (forced, False))
    assert start in week(online, MONDAY)[0]  # the stale entry is served
    online.hold(start, holder_key="visiteur-1")  # agent2 is free: held
    with pytest.raises(OnlineError) as refused:
        online.hold(start, holder_key="visiteur-2")
    assert refused.value.code == "slot_taken"
    assert RdvAgent.objects.filter(starts_at=start).count() == 1


def test_a_hold_takes_its_agents_from_the_cache_at_its_lieu_and_in_the_window_of_the_page(
    online, traveller, monkeypatch
):
    """The candidates of a hold come from the cached week at the hold's lieu, cut with the online
    window of the instant the page was displayed, as the engine cuts them (the re-check then applies
    the window of now); the engine is not asked when the cache has them."""
    from rdv.agendas.models import PlageOuverture
    from rdv.online import services

    plage = PlageOuverture.objects.create(
        organisation=online.organisation,
        agent=online.agent2,
        lieu=online.other_lieu,
        first_date=TUESDAY,
        start_time=time(14),
        end_time=time(16),
    )
    plage.motifs.set([online.motif])
    zone, tz = holiday_zone(online.territory), online.territory.zone
    traveller.move_to(at(TUESDAY, 8, 40))  # 09:00 is 20 minutes away: inside the 30-minute delay
    now = timezone.now()

    def agents(start, lieu, displayed=None):
        return slotcache.agents_at(
            online.motif, start, lieu_id=lieu.pk, now=now, window_now=displayed or now, tz=tz, zone=zone
        )

    pair = sorted([online.agent.pk, online.agent2.pk])
    assert agents(at(TUESDAY, 10), online.lieu) == pair
    assert agents(at(TUESDAY, 10), online.other_lieu) == []
    assert agents(at(TUESDAY, 14), online.lieu) == []
    assert agents(at(TUESDAY, 14), online.other_lieu) == [online.agent2.pk]
    assert agents(at(TUESDAY, 9), online.lieu) == []  # too soon for a page displayed now
    shown = at(TUESDAY, 8, 25)
    assert agents(at(TUESDAY, 9), online.lieu, shown) == pair  # but in time for a page displayed at 08:25
    assert agents(at(TUESDAY, 9), online.other_lieu, shown) == []

    def engine(*args, **kwargs):
        raise AssertionError("the engine was asked for the hold's agents")

    monkeypatch.setattr(services, "_slot_agents", engine)
    assert online.hold(at(TUESDAY, 14), lieu=online.other_lieu).agent_id == online.agent2.pk
    booking = online.hold(at(TUESDAY, 10), holder_key="visiteur-2", displayed_at=shown)
    assert booking.agent_id in pair


def test_a_hold_asks_the_engine_when_the_cached_agents_are_all_taken(online, monkeypatch):
    """A cached candidate that the uncached re-check refuses is not the end: the engine's agents are
    tried next (the stale entry here is forced; versions make it impossible otherwise)."""
    start = at(TUESDAY, 10)
    book(online, start, [online.agent])
    monkeypatch.setattr(slotcache, "agents_at", lambda *args, **kwargs: [online.agent.pk])
    assert online.hold(start, holder_key="visiteur-1").agent_id == online.agent2.pk
    with pytest.raises(OnlineError) as refused:
        online.hold(start, holder_key="visiteur-2")
    assert refused.value.code == "slot_taken"


def test_the_version_rows_in_plain_sql_equal_the_orm_query_they_replace(online):
    """The version rows (and the visitor's live holds) read in plain SQL equal what the ORM query
    read: the espace's row, the rows of the agents with a plage offering the motif for every week
    and the weeks asked, and the visitor's holds alive now."""
    from django.db.models import CharField, DateField, Q, Value

    from rdv.online.models import SlotCacheVersion

    def reference(motif, mondays, holder_key, now):
        rows = SlotCacheVersion.objects.filter(
            Q(scope=slotcache.TERRITORY, object_id=motif.organisation.territory_id, week=slotcache.ALL_WEEKS)
            | Q(
                scope=slotcache.AGENT,
                week__in=[slotcache.ALL_WEEKS, *mondays],
                object_id__in=slotcache._agents_offering(motif.pk),
            )
        ).values_list("scope", "object_id", "week", "version")
        if holder_key:
            held = SlotHold.objects.filter(holder_key=holder_key, expires_at__gt=now).values_list(
                Value(slotcache.HELD, output_field=CharField()),
                "agent_id",
                Value(slotcache.ALL_WEEKS, output_field=DateField()),
                "pk",
            )
            rows = rows.union(held, all=True)
        return sorted(rows)

    other = build_online("autre")  # another espace's rows must not come
    book(online, at(TUESDAY, 9), [online.agent])
    book(online, at(TUESDAY + timedelta(days=7), 10), [online.agent2])
    book(other, at(TUESDAY, 9), [other.agent])
    online.hold(at(THURSDAY, 10), holder_key="visiteur-1")
    SlotHold.objects.create(
        motif=online.motif,
        agent=online.agent2,
        starts_at=at(THURSDAY, 11),
        ends_at=at(THURSDAY, 11, 30),
        holder_key="visiteur-1",
        expires_at=timezone.now() - timedelta(minutes=1),  # expired: not a live hold
    )
    slotcache.bump([(slotcache.TERRITORY, online.territory.pk, slotcache.ALL_WEEKS)])
    now = timezone.now()
    seen = set()
    for mondays in ([MONDAY], [MONDAY, MONDAY + timedelta(days=7)], [MONDAY + timedelta(days=28)]):
        for holder_key in ("", "visiteur-1", "visiteur-2"):
            rows = sorted(slotcache._version_rows(online.territory.pk, online.motif.pk, mondays, holder_key, now))
            assert rows == reference(online.motif, mondays, holder_key, now), (mondays, holder_key)
            seen |= {row[0] for row in rows}
    assert seen == {slotcache.TERRITORY, slotcache.AGENT, slotcache.HELD}


def test_the_cache_can_be_turned_off(online):
    before = counts()
    with override_settings(SLOT_CACHE_ENABLED=False):
        week(online, MONDAY)
        week(online, MONDAY)
    assert delta(before) == {"hit": 0, "partial": 0, "miss": 0, "bypass": 0}


def test_the_counters_are_in_metrics(online):
    week(online, MONDAY)
    week(online, MONDAY)
    body, _ = metrics.render()
    assert b'rdv_slot_cache_requests_total{result="hit"}' in body
    assert b'rdv_slot_cache_requests_total{result="miss"}' in body


def test_old_agent_week_versions_are_purged(online):
    slotcache.bump([("a", online.agent.pk, date(2027, 1, 4)), ("a", online.agent.pk, slotcache.ALL_WEEKS)])
    slotcache.bump([("a", online.agent.pk, MONDAY)])
    assert slotcache.purge_versions(NOW) == 1
    assert set(SlotCacheVersion.objects.values_list("week", flat=True)) == {slotcache.ALL_WEEKS, MONDAY}


def test_clear_slot_cache_invalidates_every_entry(online):
    from io import StringIO

    from django.core.management import call_command

    week(online, MONDAY)
    call_command("clear_slot_cache", stdout=StringIO())
    before = counts()
    week(online, MONDAY)
    assert delta(before)["miss"] == 1


def test_an_empty_week_finds_the_next_free_time_in_one_query_when_warm(online, django_assert_num_queries):
    from rdv.agendas.models import PlageException, PlageOuverture

    for plage in PlageOuverture.objects.all():  # three weeks without a plage, before any read
        for offset in range(21):
            PlageException.objects.create(plage=plage, date=MONDAY + timedelta(days=offset), cancelled=True)
    motif = selectors.motif_by_id(online.motif.pk)
    lieu = selectors.lieu_by_id(online.lieu.pk)
    expected = uncached(online, MONDAY)
    assert expected[0] == [] and expected[1] == at(MONDAY + timedelta(days=22), 9)  # Easter Monday is off
    assert week(online, MONDAY) == expected  # cold: stores the four weeks
    with django_assert_num_queries(2):  # the week's versions, then every later week's at once
        warm = selectors.week_of_free_times(motif, MONDAY, lieu=lieu, now=timezone.now(), holder_key="visiteur")
    assert warm.next_slot == expected[1]


def test_slot_cache_url_chooses_memory_a_shared_folder_or_redis():
    from django.core.exceptions import ImproperlyConfigured

    from config.settings.base import slot_cache_config

    assert slot_cache_config("", 10)["BACKEND"].endswith("LocMemCache")
    shared = slot_cache_config("file:///var/cache/rdv-slots", 10)
    assert shared["BACKEND"].endswith("FileBasedCache") and shared["LOCATION"] == "/var/cache/rdv-slots"
    assert slot_cache_config("redis://127.0.0.1:6379/3", 10)["BACKEND"].endswith("RedisCache")
    with pytest.raises(ImproperlyConfigured):
        slot_cache_config("memcached://x", 10)


def test_a_folder_cache_is_shared_by_the_processes_of_a_host(online, settings, tmp_path):
    """Two web processes with SLOT_CACHE_URL=file://…: what one computed, the other reads (a second
    cache object on the same folder stands for the other process), and a booking still invalidates."""
    from django.core.cache.backends.filebased import FileBasedCache

    from config.settings.base import slot_cache_config

    settings.CACHES = {**settings.CACHES, "slots": slot_cache_config(f"file://{tmp_path}", 100)}
    assert isinstance(slotcache._cache(), FileBasedCache)
    first = week(online, MONDAY)
    other_process = FileBasedCache(str(tmp_path), {})
    assert len(other_process._list_cache_files()) == 1
    before = counts()
    assert week(online, MONDAY) == first == uncached(online, MONDAY)
    assert delta(before)["hit"] == 1
    book(online, at(TUESDAY, 10), [online.agent, online.agent2])
    before = counts()
    assert week(online, MONDAY) == uncached(online, MONDAY) != first
    assert delta(before)["partial"] == 1
