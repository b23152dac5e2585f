"""A leader lock: among several processes of one kind (schedulers), one holds it at a time, and a
crashed holder releases it at once (no expiry to wait for).

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
opened outside Django's connection handling so no request cycle closes it; the server drops the
lock when that session ends, for whatever reason. SQLite (one machine by nature): an exclusive
`flock` on a file next to the database, dropped by the kernel when the process dies.
"""

import fcntl
import hashlib
import logging
from pathlib import Path

from django.db import connections

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_advisory_lock`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresAdvisoryLock:
    def __init__(self, name: str, alias: str = "default"):
        self.name = name
        self.key = lock_key(name)
        self.alias = alias
        self.connection = None

    def acquire(self) -> bool:
        if self.connection is None:
            self.connection = connections.create_connection(self.alias)
            self.connection.inc_thread_sharing()  # the scheduler checks the lock from its job thread
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
                return bool(cursor.fetchone()[0])
        except Exception:
            logger.exception("Leader lock %s: the database did not answer", self.name)
            self._close()
            return False

    def held(self) -> bool:
        """True while our session is alive and holds the lock."""
        if self.connection is None:
            return False
        try:
            with self.connection.cursor() as cursor:
                # A bigint key shows in pg_locks as classid (high 32 bits), objid (low), objsubid 1.
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid = %s::bigint::oid AND objid = %s::bigint::oid "
                    "AND objsubid = 1",
                    [(self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF],
                )
                return cursor.fetchone()[0] > 0
        except Exception:
            logger.exception("Leader lock %s: lost the database session", self.name)
            self._close()
            return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                with self.connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])
            except Exception:
                logger.warning("Leader lock %s: could not unlock (the session is gone, so is the lock)", self.name)
            self._close()

    def _close(self) -> None:
        try:
            if self.connection is not None:
                self.connection.close()
        finally:
            self.connection = None


class FileLock:
    def __init__(self, name: str, path: Path):
        self.name = name
        self.path = path
        self.handle = None

    def acquire(self) -> bool:
        handle = open(self.path, "a+")  # noqa: SIM115 - kept open while the lock is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.handle = handle
        return True

    def held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def leader_lock(name: str, alias: str = "default") -> PostgresAdvisoryLock | FileLock:
    connection = connections[alias]
    if connection.vendor == "postgresql":
        return PostgresAdvisoryLock(name, alias)
    if connection.vendor == "sqlite":
        database = str(connection.settings_dict["NAME"])
        return FileLock(name, Path(f"{database}.{name}.lock"))
    raise NotImplementedError(f"No leader lock for {connection.vendor}")
