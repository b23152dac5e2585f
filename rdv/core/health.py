"""Health of the deployment, as /healthz reports it: the database answers, the delivery queue keeps
up, the scheduler is alive, and the read replica (when one is configured) answers and keeps up.

Core imports no other app of the project: the queue check is registered by rdv.outbox
(`register_check` in its AppConfig.ready), the way `rdv.core.audit.on_action` listeners are.
Every check is a few indexed queries, reads no personal data and returns numbers only.
"""

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from rdv.core.models import Heartbeat

logger = logging.getLogger(__name__)

OK, DEGRADED, DOWN = "ok", "degraded", "down"
SCHEDULER = "scheduler"


@dataclass
class CheckResult:
    details: dict = field(default_factory=dict)
    degraded: bool = False


Check = Callable[[datetime], CheckResult | None]  # None: nothing to report here (not configured)
_CHECKS: dict[str, Check] = {}


def register_check(name: str, check: Check) -> Check:
    """Add (or replace) a named check, run after the database one, in registration order."""
    _CHECKS[name] = check
    return check


def seconds_since(moment: datetime | None, now: datetime) -> float | None:
    if moment is None:
        return None
    return round(max(0.0, (now - moment).total_seconds()), 1)


# Heartbeats --------------------------------------------------------------------------------


def process_holder() -> str:
    return f"{socket.gethostname()[:150]}:{os.getpid()}"


def beat(name: str, *, holder: str = "", now: datetime | None = None) -> None:
    """Record that the process `name` is alive (one row per name, updated in place)."""
    Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": now or timezone.now(), "holder": (holder or process_holder())[:200]}
    )


def last_beat(name: str) -> datetime | None:
    return Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()


def scheduler_check(now: datetime) -> CheckResult:
    age = seconds_since(last_beat(SCHEDULER), now)
    degraded = age is None or age > settings.HEALTH_SCHEDULER_MAX_SILENCE_SECONDS
    return CheckResult({"ok": not degraded, "last_beat_seconds": age}, degraded)


register_check(SCHEDULER, scheduler_check)


# The read replica (ADR 0017) ---------------------------------------------------------------

# Lag: 0 when the replica has replayed all it received (an idle primary sends nothing, and the time
# of the last replayed transaction then only says how idle it is), else the age of the last replayed
# transaction. NULL when the server is not a standby.
REPLICA_LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) END
"""


def replica_state() -> dict | None:
    """{"ok", "lag_seconds", "standby"} of the read replica, or None when none is configured
    (DATABASE_REPLICA_URL, which sets HEALTH_REPLICA). Not
    ok when it does not answer; then, like the pages, the check leaves it alone for
    REPLICA_RETRY_SECONDS (a health check every few seconds must not wait for its timeout each time)."""
    from rdv.core.db import REPLICA, replica_available, replica_configured

    if not (settings.HEALTH_REPLICA and replica_configured()):
        return None
    if not replica_available():
        return {"ok": False, "lag_seconds": None, "standby": None}
    connection = connections[REPLICA]
    if connection.vendor != "postgresql":
        return {"ok": True, "lag_seconds": None, "standby": None}
    try:
        with connection.cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL)
            standby, lag = cursor.fetchone()
    except DatabaseError as error:
        logger.error("Health: the read replica does not answer (%s).", type(error).__name__)
        return {"ok": False, "lag_seconds": None, "standby": None}
    return {"ok": True, "lag_seconds": None if lag is None else round(float(lag), 1), "standby": standby}


def replica_check(now: datetime) -> CheckResult | None:
    """Degraded (not down: pages then read the primary) when the replica does not answer or lags
    more than HEALTH_REPLICA_MAX_LAG_SECONDS. A replica URL that reaches a server which is no standby
    (`"standby": false`, e.g. the primary itself) is reported, not degraded: its reads are current."""
    state = replica_state()
    if state is None:
        return None
    lag = state["lag_seconds"]
    degraded = not state["ok"] or (lag is not None and lag > settings.HEALTH_REPLICA_MAX_LAG_SECONDS)
    return CheckResult({**state, "ok": not degraded}, degraded)


register_check("replica", replica_check)


# The report --------------------------------------------------------------------------------


def database_check(alias: str = "default") -> dict:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:  # OperationalError, InterfaceError…: unreachable or broken
        logger.error("Health: the database does not answer (%s).", type(error).__name__)
        return {"ok": False}
    return {"ok": True}


def report(now: datetime | None = None) -> dict:
    """{"status": "ok" | "degraded" | "down", "checks": {...}}. Down when the database does not
    answer (the other checks are not run); degraded when any other check is over its threshold
    or fails."""
    now = now or timezone.now()
    checks: dict[str, dict] = {"database": database_check()}
    if not checks["database"]["ok"]:
        return {"status": DOWN, "checks": checks}
    status = OK
    for name, check in _CHECKS.items():
        try:
            result = check(now)
        except DatabaseError as error:
            logger.error("Health: check %s failed (%s).", name, type(error).__name__)
            result = CheckResult({"ok": False}, degraded=True)
        if result is None:
            continue
        checks[name] = result.details
        if result.degraded:
            status = DEGRADED
    # The scheduler's check is registered first (core is loaded first); queue before scheduler reads
    # better, so the report lists the checks by name after the database.
    ordered = {"database": checks.pop("database")} | dict(sorted(checks.items()))
    return {"status": status, "checks": ordered}
