"""PostgreSQL only: a trigram GIN index so that `search_text LIKE '%word%'` stays indexed.

SQLite has no trigram index; there the search scans the organisation's usagers (see ADR 0002).
"""

from django.db import migrations


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS usager_search_trgm_idx "
        "ON usagers_usager USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS usager_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("usagers", "0001_initial")]

    operations = [migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False)]
