"""Agent services per espace, second step: the espace becomes required and unique with the agent
and service. A separate migration: on PostgreSQL, the rows copied by 0004 must be committed before
the table is altered."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_agentservice_per_espace")]

    operations = [
        migrations.AlterField(
            model_name="agentservice",
            name="territory",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="agent_services",
                to="territories.territory",
            ),
        ),
        migrations.AddConstraint(
            model_name="agentservice",
            constraint=models.UniqueConstraint(
                fields=("agent", "territory", "service"), name="agent_service_unique_per_espace"
            ),
        ),
    ]
