"""The slot cache of the public week page (issue 22; docs/adr/0016-slot-cache.md).

What is cached: per (motif, lieu or any, local week), the free ranges of the week — every opening
occurrence of the plages offering the motif minus its agent's busy intervals (RDVs, live slot
holds, absences, public holidays), deduplicated — computed by the one loader,
`rdv.bookings.availability.load_inputs`. What is not: the cut into slot starts and the online
window (minimum and maximum delays, « not before now »), which depend on `now` (a free range that
has begun is cut from the next 5-minute step after now: rdv.availability.slots). They are applied
at each read, by the engine's own `compute_slot_seconds`, to the cached ranges: the starts equal
those of `find_slots` at that instant, whatever the entry's age.

When an entry may be used (all of these; otherwise it is a miss, recomputed and stored again):
- its versions are the current ones: the rows of `SlotCacheVersion` (the motif's espace, and each
  agent with a plage offering the motif: that week and every week) are read FIRST, in one query,
  then the ranges are computed and stored with them. Every change of that data replaces its rows
  in the change's transaction (`on_action`, an audit listener, and `bump_hold`/`release_holds` for
  slot holds, which are not audited). A change committed while an entry is computed leaves it
  under the old versions: a later reader sees new versions and misses; it is never served stale.
- time has not passed a slot hold it counts as busy: the entry is valid from the instant it was
  computed until the earliest expiry of those holds (an expired hold no longer hides its slot).
- the visitor holds no live slot: the one who holds sees their held slot, so their reads bypass
  the cache (the uncached path, with their `holder_key`).

The booking re-check (`is_slot_free`, the booking services) never reads the cache. The values live
in Django's cache `slots` (memory of each process by default); correctness never depends on it.
Counters: `rdv_slot_cache_requests_total{result="hit|miss|bypass"}` in /metrics.
"""

import hashlib
import secrets
from array import array
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import router
from django.db.models import CharField, DateField, Min, Q, Value
from prometheus_client import Counter

from rdv.agendas.models import Absence, PlageOuverture
from rdv.availability import booking_window
from rdv.availability.recurrence import local_day_interval
from rdv.availability.slots import compute_slot_seconds, merge_seconds, subtract_seconds, window_seconds
from rdv.bookings.availability import load_inputs, motif_rule
from rdv.bookings.models import Rdv, RdvAgent, SlotHold
from rdv.online.models import SlotCacheVersion

ALL_WEEKS = date(1, 1, 1)  # the `week` of a version row valid for every week
AGENT, TERRITORY = SlotCacheVersion.Scope.AGENT, SlotCacheVersion.Scope.TERRITORY
# Seconds a value stays in the cache backend. Validity is checked against the version rows anyway;
# this bound only limits how long a change written outside the services (a shell, a bulk import, SQL)
# can go unseen by the public pages.
ENTRY_TIMEOUT = settings.SLOT_CACHE_MAX_AGE
VERSIONS_KEPT = timedelta(days=14)  # agent-week rows of weeks ended longer ago are purged

REQUESTS = Counter(
    "rdv_slot_cache_requests",
    "Week reads of the public pages from the slot cache, by result: hit, miss (computed and stored), "
    "bypass (the visitor holds a slot: uncached).",
    ["result"],
)
RESULTS = ("hit", "miss", "bypass")
for _result in RESULTS:
    REQUESTS.labels(result=_result)  # exposed at 0 from the start


def enabled() -> bool:
    return bool(getattr(settings, "SLOT_CACHE_ENABLED", True))


def _cache():
    return caches["slots"]


def clear() -> None:
    """Empty this process' cache (tests: SQLite reuses ids after a rollback)."""
    _cache().clear()


# Versions -----------------------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def mondays(start: datetime, end: datetime) -> list[date]:
    """The Mondays of every local week that [start, end) may touch, in any time zone (UTC ± 1 day)."""
    first = _monday(start.astimezone(UTC).date() - timedelta(days=1))
    last = end.astimezone(UTC).date() + timedelta(days=1)
    result = []
    while first <= last:
        result.append(first)
        first += timedelta(days=7)
    return result


def bump(keys: Iterable[tuple[str, int, date]]) -> None:
    """Give new versions to these (scope, object id, week) rows, creating them when missing: one
    statement, rows in a fixed order (two writers never deadlock). Call it inside the change's
    transaction, or after the change: never before it."""
    rows = [
        SlotCacheVersion(scope=scope, object_id=object_id, week=week, version=secrets.randbits(62))
        for scope, object_id, week in sorted(set(keys))
    ]
    if rows:
        SlotCacheVersion.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["scope", "object_id", "week"], update_fields=["version"]
        )


def _agent_weeks(agent_ids: Iterable[int], start: datetime, end: datetime) -> list[tuple[str, int, date]]:
    weeks = mondays(start, end)
    return [(AGENT, agent_id, week) for agent_id in agent_ids for week in weeks]


def bump_hold(hold: SlotHold) -> None:
    """A slot hold was created: it is busy for everyone else from now on."""
    bump(_agent_weeks([hold.agent_id], hold.starts_at, hold.ends_at))


def bump_released(holds: Iterable[tuple[int, datetime, datetime]]) -> None:
    """Slot holds (agent id, start, end) were deleted: their slots are free again for everyone."""
    bump(key for agent_id, start, end in holds for key in _agent_weeks([agent_id], start, end))


# Audit actions that change no free time.
IGNORED_ACTIONS = {"rdv.manage_link_revoked", "rdv.arrived", "rdv.arrival_undone"}
# Actions whose object changes the openings or settings of its espace (plages, lieux, motifs,
# organisations, services, agents, espace settings such as holidays): every week of the espace.
TERRITORY_PREFIXES = {"plage", "lieu", "motif", "organisation", "territory", "service", "agent"}


def on_action(entry, obj, related=None) -> None:
    """rdv.core.audit listener, in the change's transaction: new versions for what it may change.

    A RDV (created, cancelled, status, participants, deleted…): its agents' weeks at its times; a
    move (times, agents) changes every week of its agents before and after. An absence: every
    week of its agent. Plages, lieux, motifs, settings: every week of the espace."""
    action = entry.action
    if action in IGNORED_ACTIONS:
        return
    if isinstance(obj, Rdv):
        agent_ids = set(RdvAgent.objects.filter(rdv_id=obj.pk).values_list("agent_id", flat=True))
        agent_ids |= {agent.pk for agent in (related or {}).get("agents_removed", ())}
        if action == "rdv.moved":
            bump((AGENT, agent_id, ALL_WEEKS) for agent_id in agent_ids)
        else:
            bump(_agent_weeks(agent_ids, obj.starts_at, obj.ends_at))
    elif isinstance(obj, Absence):
        bump([(AGENT, obj.agent_id, ALL_WEEKS)])
    elif action.partition(".")[0] in TERRITORY_PREFIXES and entry.territory_id is not None:
        bump([(TERRITORY, entry.territory_id, ALL_WEEKS)])


def purge_versions(now: datetime) -> int:
    """Delete the agent-week rows of weeks ended more than VERSIONS_KEPT ago. Safe: a missing row
    only changes the versions read (a miss), and those weeks have no slot in any window."""
    deleted, _ = SlotCacheVersion.objects.filter(
        week__gt=ALL_WEEKS, week__lt=_monday(now.astimezone(UTC).date()) - VERSIONS_KEPT
    ).delete()
    return deleted


def _agents_offering(motif_id: int):
    """Every agent with a plage offering the motif (any lieu, any date): a subquery."""
    return PlageOuverture.motifs.through.objects.filter(motif_id=motif_id).values("plageouverture__agent_id")


HELD = "h"  # the scope of the pseudo-row that says the visitor holds a live slot


def versions_of_weeks(
    motif, mondays: Iterable[date], *, holder_key: str = "", now: datetime | None = None
) -> tuple[dict[date, str], bool]:
    """({Monday: digest of the current versions of what the motif's week depends on}, whether
    `holder_key` holds a live slot at `now`), in one query whatever the number of weeks."""
    mondays = list(mondays)
    rows = SlotCacheVersion.objects.filter(
        Q(scope=TERRITORY, object_id=motif.organisation.territory_id, week=ALL_WEEKS)
        | Q(scope=AGENT, week__in=[ALL_WEEKS, *mondays], object_id__in=_agents_offering(motif.pk))
    ).values_list("scope", "object_id", "week", "version")
    if holder_key:
        held = SlotHold.objects.filter(holder_key=holder_key, expires_at__gt=now).values_list(
            Value(HELD, output_field=CharField()),
            "agent_id",
            Value(ALL_WEEKS, output_field=DateField()),
            "pk",
        )
        rows = rows.union(held, all=True)
    rows = sorted(rows)
    digests = {}
    for monday in mondays:
        text = ";".join(
            f"{s}{o}:{w.toordinal()}:{v}" for s, o, w, v in rows if s != HELD and (w in (ALL_WEEKS, monday))
        )
        digests[monday] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return digests, any(row[0] == HELD for row in rows)


def versions(motif, monday: date, *, holder_key: str = "", now: datetime | None = None) -> tuple[str, bool]:
    """(digest of the current versions of the motif's week, whether `holder_key` holds a live slot)."""
    digests, held = versions_of_weeks(motif, [monday], holder_key=holder_key, now=now)
    return digests[monday], held


# Values -------------------------------------------------------------------------------------------


def _micros(instant: datetime) -> int:
    return (instant.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def free_ranges(motif, monday: date, *, lieu_id: int | None, now: datetime, tz, zone: str):
    """(ranges, valid_until): the distinct free ranges [start, end) in POSIX seconds of the motif's
    week (Monday to Sunday in `tz`) at `now`, and the earliest expiry of the live slot holds they
    count as busy (None: none). The holds are read before the slots, so none counted is missed."""
    sunday = monday + timedelta(days=6)
    week_start, _ = local_day_interval(monday, tz)
    _, week_end = local_day_interval(sunday, tz)
    # On the connection the loader reads holds from (with the RDVs: the replica on a scoped page,
    # rdv.core.db), so that the expiries and the busy times come from one history, read in order.
    database = router.db_for_read(RdvAgent)
    valid_until = (
        SlotHold.objects.using(database)
        .filter(
            agent_id__in=_agents_offering(motif.pk),
            expires_at__gt=now,
            starts_at__lt=week_end,
            ends_at__gt=week_start,
        )
        .aggregate(first=Min("expires_at"))["first"]
    )
    inputs = load_inputs(
        [motif],
        monday,
        sunday,
        now=now,
        lieu_ids=None if lieu_id is None else [lieu_id],
        holiday_zone=zone,
        tz=tz,
    )
    prepared: dict[int, tuple[list, list]] = {}
    ranges: set[tuple[int, int]] = set()
    for agent_id, _lieu_id, start, end in inputs.openings.get(motif.pk, ()):
        entry = prepared.get(agent_id)
        if entry is None:
            busy = merge_seconds(inputs.busy.get(agent_id, ()))
            entry = prepared[agent_id] = (busy, [e for _, e in busy])
        ranges.update(subtract_seconds(start, end, *entry))
    return sorted(ranges), valid_until


def starts_in(ranges: Iterable[tuple[int, int]], motif, first_day: date, last_day: date, *, now: datetime, tz):
    """The distinct slot starts (POSIX seconds, sorted) the engine gives online at `now` between two
    local days, from free ranges: the same cut and window as `find_slots(online=True)`."""
    rule = motif_rule(motif)
    window_start, _ = local_day_interval(first_day, tz)
    _, window_end = local_day_interval(last_day, tz)
    window = booking_window(now, window_start, window_end, min_delay=rule.min_delay, max_delay=rule.max_delay)
    if window is None:
        return []
    duration = int(rule.duration.total_seconds())
    grouped = compute_slot_seconds(((0, None, s, e) for s, e in ranges), {}, duration, *window_seconds(window))
    return sorted(start for start, _ in grouped)


def _pack(ranges: list[tuple[int, int]]) -> bytes:
    return array("q", (value for pair in ranges for value in pair)).tobytes()


def _unpack(data: bytes) -> list[tuple[int, int]]:
    values = array("q")
    values.frombytes(data)
    return list(zip(values[::2], values[1::2], strict=True))


def _key(motif, monday: date, lieu_id: int | None, tz, zone: str) -> str:
    return f"week:{motif.pk}:{lieu_id or 0}:{monday.isoformat()}:{tz.key}:{zone}"


def _ranges(value, token: str, now_us: int):
    """The cached ranges of a value if it may be used at `now_us` under the versions `token`."""
    if value is None:
        return None
    stored_token, computed_us, valid_until_us, packed = value
    if stored_token == token and computed_us <= now_us and (valid_until_us is None or now_us < valid_until_us):
        return _unpack(packed)
    return None


def _read(motif, monday, token, value, *, lieu_id, now, tz, zone) -> list[tuple[int, int]]:
    """The week's free ranges: the cached value when valid (hit), else computed and stored (miss)."""
    now_us = _micros(now)
    ranges = _ranges(value, token, now_us)
    if ranges is not None:
        REQUESTS.labels(result="hit").inc()
        return ranges
    REQUESTS.labels(result="miss").inc()
    ranges, valid_until = free_ranges(motif, monday, lieu_id=lieu_id, now=now, tz=tz, zone=zone)
    value = (token, now_us, None if valid_until is None else _micros(valid_until), _pack(ranges))
    _cache().set(_key(motif, monday, lieu_id, tz, zone), value, ENTRY_TIMEOUT)
    return ranges


def week_starts(
    motif,
    monday: date,
    first_day: date,
    last_day: date,
    *,
    lieu_id: int | None,
    now: datetime,
    holder_key: str,
    tz,
    zone: str,
) -> list[int] | None:
    """The distinct online slot starts of the motif (at the lieu) between `first_day` and
    `last_day` of the week of `monday`, at `now`, through the cache; None when the cache is off or
    the visitor holds a live slot (the caller takes the uncached path)."""
    if not enabled():
        return None
    # FIRST: a change committed after this read makes a later miss, never a stale hit
    token, held = versions(motif, monday, holder_key=holder_key, now=now)
    if held:  # the holder sees their held slot: the uncached path, with their key
        REQUESTS.labels(result="bypass").inc()
        return None
    value = _cache().get(_key(motif, monday, lieu_id, tz, zone))
    ranges = _read(motif, monday, token, value, lieu_id=lieu_id, now=now, tz=tz, zone=zone)
    return starts_in(ranges, motif, first_day, last_day, now=now, tz=tz)


def first_start(
    motif,
    weeks: list[tuple[date, date, date]],
    *,
    lieu_id: int | None,
    now: datetime,
    holder_key: str,
    tz,
    zone: str,
) -> int | bool | None:
    """The first online slot start of the motif (at the lieu) in `weeks` ((Monday, first day, last
    day), in order), through the cache: the versions of every week in one query, the values in one
    cache read, the weeks computed only when missing. None: no free start; False: the cache is off
    or the visitor holds a live slot (the caller takes the uncached path)."""
    if not enabled():
        return False
    tokens, held = versions_of_weeks(motif, [monday for monday, _, _ in weeks], holder_key=holder_key, now=now)
    if held:
        REQUESTS.labels(result="bypass").inc()
        return False
    keys = {monday: _key(motif, monday, lieu_id, tz, zone) for monday, _, _ in weeks}
    values = _cache().get_many(list(keys.values()))
    for monday, first_day, last_day in weeks:
        value = values.get(keys[monday])
        ranges = _read(motif, monday, tokens[monday], value, lieu_id=lieu_id, now=now, tz=tz, zone=zone)
        starts = starts_in(ranges, motif, first_day, last_day, now=now, tz=tz)
        if starts:
            return starts[0]
    return None


def counts() -> dict[str, float]:
    """This process' counters (the benchmark's hit rate)."""
    from prometheus_client import REGISTRY

    return {
        result: REGISTRY.get_sample_value("rdv_slot_cache_requests_total", {"result": result}) or 0.0
        for result in RESULTS
    }
