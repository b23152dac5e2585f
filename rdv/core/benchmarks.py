"""What the benchmark commands share: a throwaway database, so that a benchmark never touches the
data of the instance it runs on."""

from contextlib import contextmanager

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
