"""No double booking, guaranteed by PostgreSQL: an exclusion constraint on (agent, time range)
over the RDV agents that block the agenda and are exclusive. SQLite serialises write
transactions instead (see config/settings/base.py: transaction_mode IMMEDIATE) and the booking
functions re-check inside the transaction."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE bookings_rdvagent ADD CONSTRAINT rdvagent_no_overlap
    EXCLUDE USING gist (agent_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (blocks_agenda AND exclusive);
"""
DROP = "ALTER TABLE bookings_rdvagent DROP CONSTRAINT IF EXISTS rdvagent_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_rdv_address_rdv_arrived_at_rdv_arrived_marked_by_and_more")]
    operations = [migrations.RunPython(forwards, backwards)]
