"""Agent services per espace, first step: the espace column (empty for now), without the old
uniqueness on (agent, service). 0004 fills it, 0005 makes it required: separate migrations, so that
on PostgreSQL no table is altered in the transaction that changes its rows."""

import django.db.models.deletion
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_agent_search_text"),
        ("territories", "0004_holiday_zone"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="agentservice", name="agent_service_unique"),
        migrations.AddField(
            model_name="agentservice",
            name="territory",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="agent_services",
                to="territories.territory",
            ),
        ),
    ]
