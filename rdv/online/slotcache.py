"""The slot cache of the public week page (issue 22; docs/adr/0016-slot-cache.md).

What is cached: per (motif, lieu or any, local week), the free ranges of the week, agent by agent —
every opening occurrence of the plages offering the motif minus its agent's busy intervals (RDVs,
live slot holds, absences, public holidays) — and their union, deduplicated, computed by the one loader,
`rdv.bookings.availability.load_inputs`. What is not: the cut into slot starts and the online
window (minimum and maximum delays, « not before now »), which depend on `now` (a free range that
has begun is cut from the next 5-minute step after now: rdv.availability.slots). They are applied
at each read, by the engine's own `compute_slot_seconds`, to the cached ranges: the starts equal
those of `find_slots` at that instant, whatever the entry's age.

When an entry may be used (all of these; otherwise the agents concerned, or all, are computed again):
- its versions are the current ones: the rows of `SlotCacheVersion` (the motif's espace, and each
  agent with a plage offering the motif: that week and every week) are read FIRST, in one query,
  then the ranges are computed and stored with them: the espace's with the entry (a change there
  recomputes every agent: a miss), each agent's with their ranges (a RDV, hold or absence of one
  agent recomputes that agent alone: a partial read; a booking rush then costs one agent per booking,
  not the whole week). Every change of that data replaces its rows
  in the change's transaction (`on_action`, an audit listener, and `bump_hold`/`release_holds` for
  slot holds, which are not audited). A change committed while an entry is computed leaves it
  under the old versions: a later reader sees new versions and misses; it is never served stale.
- time has not passed a slot hold it counts as busy: each agent's ranges are valid from the instant
  they were computed until the earliest expiry of that agent's holds (an expired hold no longer
  hides its slot).
- the visitor holds no live slot: the one who holds sees their held slot, so their reads bypass
  the cache (the uncached path, with their `holder_key`).

The booking re-check (`is_slot_free`, the booking services) never reads the cache. The values live
in Django's cache `slots` (memory of each process by default); correctness never depends on it.
Counters: `rdv_slot_cache_requests_total{result="hit|partial|miss|bypass"}` in /metrics.
"""

import hashlib
import secrets
from array import array
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import connections, router
from django.db.models import Min
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
    "Week reads of the public pages from the slot cache, by result: hit, partial (the agents whose "
    "data changed computed again), miss (every agent computed), bypass (the visitor holds a slot: uncached).",
    ["result"],
)
RESULTS = ("hit", "partial", "miss", "bypass")
for _result in RESULTS:
    REQUESTS.labels(result=_result)  # exposed at 0 from the start


def enabled() -> bool:
    return bool(getattr(settings, "SLOT_CACHE_ENABLED", True))


def _cache():
    return caches["slots"]


def clear() -> None:
    """Empty this process' cache (tests: SQLite reuses ids after a rollback)."""
    _cache().clear()
    _TERRITORY_OF.clear()


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
    if any(row.scope == TERRITORY for row in rows):
        forget_request_versions()
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


@dataclass(frozen=True)
class Tokens:
    """The current versions of what a motif's week depends on, as digests: the espace's (plages,
    lieux, motifs, settings: every agent's openings) and each agent's (their RDVs and holds of that
    week, their absences). An agent without rows has the digest of nothing."""

    territory: str
    agents: dict = field(default_factory=dict)

    def agent(self, agent_id: int) -> str:
        return self.agents.get(agent_id, NOTHING)


NOTHING = hashlib.blake2b(b"", digest_size=16).hexdigest()


def _digest(rows) -> str:
    text = ";".join(f"{s}{o}:{w.toordinal()}:{v}" for s, o, w, v in rows)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _versions_connection():
    """The connection the version rows are read from (the replica on a scoped page, rdv.core.db)."""
    return connections[router.db_for_read(SlotCacheVersion)]


def _plain_sql(sql: str, params: list) -> list[tuple]:
    """The rows of a read of the version rows in plain SQL: the public pages read them at each
    request, and the ORM's compilation of these queries cost more than running them."""
    with _versions_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _version_rows(
    territory_id: int, motif_id: int, mondays: list[date], holder_key: str, now: datetime | None
) -> list[tuple[str, int, date, int]]:
    """(scope, object id, week, version) of the espace's row and of the rows of every agent with a
    plage offering the motif, for every week and for `mondays`; with `holder_key`, a (HELD, agent id,
    ALL_WEEKS, hold id) row per live slot hold of that visitor. One query, in plain SQL."""
    ops = _versions_connection().ops
    weeks = [ops.adapt_datefield_value(week) for week in (ALL_WEEKS, *mondays)]
    through = PlageOuverture.motifs.through._meta
    plage_id, motif_column = through.get_field("plageouverture").column, through.get_field("motif").column
    sql = (
        f"SELECT scope, object_id, week, version FROM {SlotCacheVersion._meta.db_table}"  # noqa: S608 - table names
        " WHERE (scope = %s AND object_id = %s AND week = %s)"
        f" OR (scope = %s AND week IN ({', '.join(['%s'] * len(weeks))}) AND object_id IN ("
        f"SELECT plage.{PlageOuverture._meta.get_field('agent').column} FROM {through.db_table} offer"
        f" INNER JOIN {PlageOuverture._meta.db_table} plage ON plage.id = offer.{plage_id}"
        f" WHERE offer.{motif_column} = %s))"
    )
    params = [TERRITORY, territory_id, weeks[0], AGENT, *weeks, motif_id]
    if holder_key:
        sql += (
            f" UNION ALL SELECT %s, agent_id, %s, id FROM {SlotHold._meta.db_table}"  # noqa: S608 - a table name
            " WHERE holder_key = %s AND expires_at > %s"
        )
        params += [HELD, weeks[0], holder_key, ops.adapt_datetimefield_value(now)]
    return [
        (scope, object_id, week if isinstance(week, date) else date.fromisoformat(week), version)
        for scope, object_id, week, version in _plain_sql(sql, params)
    ]


def versions_of_weeks(
    motif, mondays: Iterable[date], *, holder_key: str = "", now: datetime | None = None
) -> tuple[dict[date, Tokens], bool]:
    """({Monday: the current versions of what the motif's week depends on}, whether `holder_key`
    holds a live slot at `now`), in one query whatever the number of weeks."""
    mondays = list(mondays)
    rows = _version_rows(motif.organisation.territory_id, motif.pk, mondays, holder_key, now)
    rows = sorted(rows)
    territory = _digest(row for row in rows if row[0] == TERRITORY)
    digests = {}
    for monday in mondays:
        by_agent: dict[int, list] = {}
        for row in rows:
            if row[0] == AGENT and row[2] in (ALL_WEEKS, monday):
                by_agent.setdefault(row[1], []).append(row)
        digests[monday] = Tokens(territory, {agent_id: _digest(own) for agent_id, own in by_agent.items()})
    return digests, any(row[0] == HELD for row in rows)


def versions(motif, monday: date, *, holder_key: str = "", now: datetime | None = None) -> tuple[Tokens, bool]:
    """(the current versions of the motif's week, whether `holder_key` holds a live slot)."""
    digests, held = versions_of_weeks(motif, [monday], holder_key=holder_key, now=now)
    return digests[monday], held


# The public pages' motif and lieu, under the espace's version ------------------------------------

# (model label, pk) -> the espace of a motif or a lieu, which never changes (a motif, a lieu and an
# organisation stay where they were created). Only a hint for the key: the value read is checked.
_TERRITORY_OF: dict[tuple[str, int], int] = {}
TERRITORY_OF_MAX = 10_000


# The espace versions read during the current HTTP request (None outside one): a public page reads
# its motif and its lieu under the same version, read once. Reusing it within the request keeps the
# rule « version first »: an entry stored later is newer than its version, never older. A change of
# the espace made during the request forgets them (bump).
_REQUEST_VERSIONS: ContextVar[dict[int, int] | None] = ContextVar("espace_versions", default=None)


def start_request_versions(**kwargs) -> None:
    _REQUEST_VERSIONS.set({})


def end_request_versions(**kwargs) -> None:
    _REQUEST_VERSIONS.set(None)


def forget_request_versions() -> None:
    if _REQUEST_VERSIONS.get() is not None:
        _REQUEST_VERSIONS.set({})


def espace_version(territory_id: int) -> int:
    """The espace's version row (0 before its first change), in plain SQL; once per request."""
    known = _REQUEST_VERSIONS.get()
    if known is not None and territory_id in known:
        return known[territory_id]
    sql = f"SELECT version FROM {SlotCacheVersion._meta.db_table} WHERE scope = %s AND object_id = %s AND week = %s"  # noqa: S608 - a table name
    rows = _plain_sql(sql, [TERRITORY, territory_id, _versions_connection().ops.adapt_datefield_value(ALL_WEEKS)])
    version = rows[0][0] if rows else 0
    if known is not None:
        known[territory_id] = version
    return version


def under_espace_version(label: str, pk: int, variant: str, compute):
    """`compute()` (a motif or a lieu with its organisation and espace, or None), cached under its
    espace's version: every audited change of the espace's plages, lieux, motifs, organisations,
    settings and agents gives that row a new value (`on_action`), so an entry is never used after
    such a change. The version is read FIRST, as for the weeks: a change committed meanwhile leaves
    an entry newer than its version, never older. Changes made outside the services are seen after
    SLOT_CACHE_MAX_AGE at most. Values are pickled by the cache: each request gets its own objects."""
    territory_id = _TERRITORY_OF.get((label, pk))
    if territory_id is None or not enabled():
        found = compute()
        if found is not None and len(_TERRITORY_OF) < TERRITORY_OF_MAX:
            _TERRITORY_OF[(label, pk)] = found.organisation.territory_id
        return found
    key = f"{label}:{pk}:{variant}:{territory_id}:{espace_version(territory_id)}"
    found = _cache().get(key)
    if found is not None:
        return found
    found = compute()
    if found is None:
        _TERRITORY_OF.pop((label, pk), None)
    elif found.organisation.territory_id != territory_id:  # the id now names another object (tests)
        _TERRITORY_OF[(label, pk)] = found.organisation.territory_id
    else:
        _cache().set(key, found, ENTRY_TIMEOUT)
    return found


# Values -------------------------------------------------------------------------------------------


def _micros(instant: datetime) -> int:
    return (instant.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def free_ranges(
    motif, monday: date, *, lieu_id: int | None, now: datetime, tz, zone: str, agent_ids: list[int] | None = None
) -> tuple[dict[int, list[tuple[int, int]]], dict[int, datetime]]:
    """({agent id: the agent's distinct free ranges [start, end) in POSIX seconds}, {agent id: the
    earliest expiry of the live slot holds counted as busy}) of the motif's week (Monday to Sunday in
    `tz`) at `now`, for every agent with an opening of the motif (at the lieu) that week, or for
    `agent_ids` only. The holds are read before the slots, so none counted is missed."""
    sunday = monday + timedelta(days=6)
    week_start, _ = local_day_interval(monday, tz)
    _, week_end = local_day_interval(sunday, tz)
    # On the connection the loader reads holds from (with the RDVs: the replica on a scoped page,
    # rdv.core.db), so that the expiries and the busy times come from one history, read in order.
    database = router.db_for_read(RdvAgent)
    holds = SlotHold.objects.using(database).filter(
        agent_id__in=_agents_offering(motif.pk) if agent_ids is None else agent_ids,
        expires_at__gt=now,
        starts_at__lt=week_end,
        ends_at__gt=week_start,
    )
    valid_until = dict(holds.values("agent_id").annotate(first=Min("expires_at")).values_list("agent_id", "first"))
    inputs = load_inputs(
        [motif],
        monday,
        sunday,
        now=now,
        agent_ids=agent_ids,
        lieu_ids=None if lieu_id is None else [lieu_id],
        holiday_zone=zone,
        tz=tz,
    )
    prepared: dict[int, tuple[list, list]] = {}
    ranges: dict[int, set[tuple[int, int]]] = {}
    for agent_id, _lieu_id, start, end in inputs.openings.get(motif.pk, ()):
        entry = prepared.get(agent_id)
        if entry is None:
            busy = merge_seconds(inputs.busy.get(agent_id, ()))
            entry = prepared[agent_id] = (busy, [e for _, e in busy])
        ranges.setdefault(agent_id, set()).update(subtract_seconds(start, end, *entry))
    return {agent_id: sorted(own) for agent_id, own in ranges.items()}, valid_until


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


def _pieces(tokens: Tokens, ranges: dict[int, list], valid_until: dict[int, datetime]) -> dict[int, tuple]:
    """{agent id: (the agent's versions, the earliest expiry of their holds counted as busy in µs or
    None, their packed free ranges)}."""
    return {
        agent_id: (
            tokens.agent(agent_id),
            _micros(valid_until[agent_id]) if agent_id in valid_until else None,
            _pack(own),
        )
        for agent_id, own in ranges.items()
    }


def _merged(pieces: dict[int, tuple]) -> list[tuple[int, int]]:
    return sorted({pair for _, _, packed in pieces.values() for pair in _unpack(packed)})


def _read(motif, monday, tokens: Tokens, value, *, lieu_id, now, tz, zone) -> tuple[dict[int, tuple], list]:
    """(each agent's piece: (versions, hold expiry, packed free ranges), the week's free ranges:
    every agent's, deduplicated). An entry holds each agent's ranges with the versions they were
    computed under:
    - hit: the espace's versions are the entry's and no agent's versions changed nor hold expired;
    - partial: the espace's versions are the entry's; the agents whose versions changed (a RDV, a
      hold, an absence of theirs) or whose counted hold expired are computed again, alone, and the
      others' ranges kept: a booking rush invalidates one agent at a time, not the whole week;
    - miss: no entry, or the espace's versions changed (plages, lieux, motifs, settings: anyone's
      openings may have), or the entry comes from a later instant: every agent is computed.
    Agents without an opening of the week at the lieu have no ranges and are not kept: only a change
    of the espace's versions can give them openings."""
    now_us = _micros(now)
    key = _key(motif, monday, lieu_id, tz, zone)
    if value is not None:
        territory, computed_us, pieces, merged = value
        if territory == tokens.territory and computed_us <= now_us:
            stale = [
                agent_id
                for agent_id, (token, valid_until_us, _) in pieces.items()
                if token != tokens.agent(agent_id) or (valid_until_us is not None and now_us >= valid_until_us)
            ]
            if not stale:
                REQUESTS.labels(result="hit").inc()
                return pieces, _unpack(merged)
            REQUESTS.labels(result="partial").inc()
            ranges, valid_until = free_ranges(
                motif, monday, lieu_id=lieu_id, now=now, tz=tz, zone=zone, agent_ids=sorted(stale)
            )
            pieces = {agent_id: piece for agent_id, piece in pieces.items() if agent_id not in stale}
            pieces.update(_pieces(tokens, ranges, valid_until))
            merged = _merged(pieces)
            _cache().set(key, (territory, computed_us, pieces, _pack(merged)), ENTRY_TIMEOUT)
            return pieces, merged
    REQUESTS.labels(result="miss").inc()
    ranges, valid_until = free_ranges(motif, monday, lieu_id=lieu_id, now=now, tz=tz, zone=zone)
    pieces = _pieces(tokens, ranges, valid_until)
    merged = _merged(pieces)
    _cache().set(key, (tokens.territory, now_us, pieces, _pack(merged)), ENTRY_TIMEOUT)
    return pieces, merged


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
    tokens, held = versions(motif, monday, holder_key=holder_key, now=now)
    if held:  # the holder sees their held slot: the uncached path, with their key
        REQUESTS.labels(result="bypass").inc()
        return None
    value = _cache().get(_key(motif, monday, lieu_id, tz, zone))
    _, ranges = _read(motif, monday, tokens, value, lieu_id=lieu_id, now=now, tz=tz, zone=zone)
    return starts_in(ranges, motif, first_day, last_day, now=now, tz=tz)


def agents_at(motif, start: datetime, *, lieu_id: int | None, now: datetime, window_now: datetime, tz, zone: str):
    """The agents (ids, sorted) the engine offers online at `start` for the motif (at the lieu),
    through the cache: those whose own free ranges of the week give that start, cut as
    `find_slots(online=True)` cuts them with the online window of `window_now` (the instant the
    visitor's page was displayed), the ranges being those of `now`. None when the cache is off.
    Used to choose the agent of a slot hold, whose own re-check (`is_slot_free`) reads no cache."""
    if not enabled():
        return None
    day = start.astimezone(tz).date()
    monday = _monday(day)
    tokens, _ = versions(motif, monday, now=now)  # FIRST, as in week_starts
    value = _cache().get(_key(motif, monday, lieu_id, tz, zone))
    pieces, _ = _read(motif, monday, tokens, value, lieu_id=lieu_id, now=now, tz=tz, zone=zone)
    wanted = round(start.timestamp())
    end = wanted + int(motif_rule(motif).duration.total_seconds())
    agents = []
    for agent_id, (_, _, packed) in pieces.items():
        ranges = _unpack(packed)
        # a slot lies inside one free range: the others' agents are not cut at all
        if any(low <= wanted and end <= high for low, high in ranges) and wanted in starts_in(
            ranges, motif, day, day, now=window_now, tz=tz
        ):
            agents.append(agent_id)
    return sorted(agents)


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
        _, ranges = _read(motif, monday, tokens[monday], value, lieu_id=lieu_id, now=now, tz=tz, zone=zone)
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
