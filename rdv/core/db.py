"""Database expressions shared by the apps, and the read-replica router."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import BigIntegerField, Func
from django.utils.functional import cached_property


class EpochSeconds(Func):
    """POSIX seconds (rounded down) of a datetime column, computed by the database: reading
    tens of thousands of integers costs far less than parsing as many timestamps into datetime
    objects (exports, slot loading)."""

    output_field = BigIntegerField()
    arity = 1

    @cached_property
    def convert_value(self):
        return self._convert_value_noop  # both databases already return integers (or None)

    def as_sql(self, compiler, connection, **extra_context):
        # '%%%%s': the template's formatting leaves '%%s', which the driver's wrapper turns into '%s'.
        return super().as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint")


# Read replica (docs/adr/0017-read-replica.md) ------------------------------------------------------

logger = logging.getLogger(__name__)

REPLICA = "replica"

# Reads that always go to the primary, even inside a replica scope: sessions and the login lockout
# (a session saved by the previous request must be found), agents, roles and API tokens (a role
# withdrawn or a token revoked a moment ago must not still open a page), rate counters and API
# calls (written by the same request), slot holds and online bookings (a visitor's own hold must be
# seen at once), the task queue and the outbox. A query is routed by its first model: the slot
# engine's one query of busy times (RDVs UNION holds) reads holds from the replica on a scoped page,
# a moment behind like the RDVs (ADR 0017).
PRIMARY_APPS = frozenset(
    {"sessions", "axes", "auth", "admin", "accounts", "api", "django_tasks_db", "outbox", "contenttypes"}
)
PRIMARY_MODELS = frozenset({"core.ratecounter", "core.heartbeat", "bookings.slothold", "online.onlinebooking"})

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads() -> Iterator[None]:
    """Let the reads of this block go to the replica (when one is configured). Only for reads that
    may be a moment behind the primary: a page of free slots, never a re-check before a write."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Read from the primary inside a replica scope (e.g. before writing what was read)."""
    token = _replica_reads.set(False)
    try:
        yield
    finally:
        _replica_reads.reset(token)


_replica_down_until = 0.0  # monotonic time before which this process does not try the replica again


def replica_available() -> bool:
    """Whether the replica answers (its connection is opened, or checked when reused): a replica
    that does not answer is left alone for REPLICA_RETRY_SECONDS and its reads go to the primary,
    so that a replica outage slows no page and breaks none."""
    global _replica_down_until
    if not replica_configured() or time.monotonic() < _replica_down_until:
        return False
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return False  # the router reads the primary in a transaction anyway
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError as error:
        _replica_down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        logger.warning("read replica unavailable, reading from the primary: %s", error)
        return False
    return True


def reads_from_replica(view):
    """Decorate a view: its GET and HEAD requests read from the replica (rules of ReplicaRouter)
    when it answers; any other method reads from the primary."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not replica_available():
            return view(request, *args, **kwargs)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapper


def _primary_only(model) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_APPS or meta.label_lower in PRIMARY_MODELS


class ReplicaRouter:
    """Writes go to the primary ("default"). Reads go to the replica only inside a replica scope
    (`replica_reads`, `@reads_from_replica`), when a replica is configured, when the primary's
    connection is in no transaction (what a transaction reads decides what it writes: a booking's
    re-check is always on the primary) and for models not in PRIMARY_APPS / PRIMARY_MODELS.
    Everything else reads from the primary, objects loaded from the replica included."""

    def db_for_read(self, model, **hints):
        if (
            _replica_reads.get()
            and replica_configured()
            and not _primary_only(model)
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None
