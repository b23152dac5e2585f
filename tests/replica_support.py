"""The "replica" database alias in tests (docs/adr/0017-read-replica.md).

By default it is a test mirror of the default database (config/settings/test.py): same test
database, its own connection. With REPLICA_TEST_URL (e.g. postgres://postgres@127.0.0.1:5433/, a
streaming replica of the primary of DATABASE_URL set up by scripts/replica-setup), the "replica"
connection goes to that server instead, on the test database the primary created (the replica
receives it through the WAL); tests/replica/ then run against it, and so does any other test run
in that session.
"""

import os
import re
import time

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from rdv.core.db import REPLICA

BOTH = [DEFAULT_DB_ALIAS, REPLICA]
REPLICA_TEST_URL = os.environ.get("REPLICA_TEST_URL", "")
WAIT_STEPS = 1200  # × 50 ms: a minute (a loop count, not a clock: tests may freeze the clock)


def follow_test_database() -> None:
    """Point the settings of the mirror (which other threads build their connection from) at the
    test database Django created for the default alias."""
    settings.DATABASES[REPLICA]["NAME"] = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]


def _connect(database: dict):
    return psycopg.connect(
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
        autocommit=True,
        connect_timeout=5,
    )


def use_real_replica(url: str) -> None:
    """Send the "replica" alias to the server at `url`, once it has replayed the creation of the
    test database; fail (never skip) if it does not answer or is not a standby."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    if primary["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit("REPLICA_TEST_URL needs DATABASE_URL=postgres://… (the replica's primary)", returncode=2)
    parsed = dj_database_url.parse(url)
    database = {
        **primary,
        "HOST": parsed["HOST"],
        "PORT": parsed["PORT"],
        "USER": parsed["USER"] or primary["USER"],
        "PASSWORD": parsed["PASSWORD"] or primary["PASSWORD"],
        "TEST": {"MIRROR": DEFAULT_DB_ALIAS},
    }
    last_error = None
    for _ in range(WAIT_STEPS):
        try:
            with _connect(database) as replica:
                if not replica.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                    pytest.exit(f"REPLICA_TEST_URL={url} is not a standby (pg_is_in_recovery() is false)", returncode=2)
            break
        except psycopg.OperationalError as error:  # not there yet: the CREATE DATABASE is being replayed
            last_error = error
            time.sleep(0.05)
    else:
        pytest.exit(f"no streaming replica answers at REPLICA_TEST_URL={url}: {last_error}", returncode=2)
    connections[REPLICA].close()
    connections[REPLICA].settings_dict = database
    settings.DATABASES[REPLICA].clear()
    settings.DATABASES[REPLICA].update(database)
    wait_for_replica()


def wait_for_replica() -> None:
    """Return once the replica has replayed everything the primary has written so far."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    replica = settings.DATABASES[REPLICA]
    with _connect(primary) as connection:
        lsn = connection.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    with _connect(replica) as connection:
        for _ in range(WAIT_STEPS):
            if connection.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0]:
                return
            time.sleep(0.05)
    pytest.fail(f"the replica did not replay up to {lsn} within a minute")


def is_real_replica() -> bool:
    primary, replica = connections[DEFAULT_DB_ALIAS].settings_dict, settings.DATABASES[REPLICA]
    return (replica.get("HOST"), replica.get("PORT")) != (primary.get("HOST"), primary.get("PORT"))


def catch_up() -> None:
    """Before reading through the replica what a test has just written: wait for a real replica
    (a mirror reads the same database)."""
    if is_real_replica():
        wait_for_replica()


def set_replay_paused(paused: bool) -> None:
    """Pause (or resume) the replica's replay of the primary's WAL: the replica then stays behind,
    as a lagging replica does."""
    with _connect(settings.DATABASES[REPLICA]) as connection:
        connection.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
        for _ in range(WAIT_STEPS):
            state = connection.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
            if state == ("paused" if paused else "not paused"):
                return
            time.sleep(0.05)
    pytest.fail(f"the replica's replay did not reach the state paused={paused}")


class Captured:
    """The SQL each connection ran inside the block."""

    def __enter__(self):
        self.contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in BOTH}
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self.contexts.values():
            context.__exit__(*exc)

    def sql(self, alias) -> list[str]:
        return [query["sql"] for query in self.contexts[alias].captured_queries]

    def touching(self, alias, table) -> list[str]:
        return [sql for sql in self.sql(alias) if re.search(rf"\b{table}\b", sql)]
