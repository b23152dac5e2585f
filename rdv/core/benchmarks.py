"""What the benchmark commands share: a throwaway database, so that a benchmark never touches the
data of the instance it runs on."""

import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.db import connection


@contextmanager
def throwaway_database():
    """Creates a fresh migrated database (Django's test database: `test_<name>`, or the TEST name
    the caller set), yields, then destroys it and reconnects to the original database."""
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


@contextmanager
def throwaway_database_for_workers(label: str):
    """A throwaway database that worker processes can open too: a file for SQLite (not memory),
    `bench_<label>_<name>` on PostgreSQL (never the test suite's database)."""
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = str(Path(tempfile.gettempdir()) / f"rdv-bench-{label}.sqlite3")
    else:
        test_settings["NAME"] = f"bench_{label}_{connection.settings_dict['NAME']}"
    with throwaway_database():
        yield
