"""The initial service catalogue: the usual public services. Operators extend it in /superadmin/."""

from django.db import migrations

SERVICES = [
    ("Service social", "Social", False),
    ("PMI (Protection Maternelle et Infantile)", "PMI", False),
    ("Secrétariat", "Secrétariat", True),
    ("Insertion", "Insertion", False),
    ("Aide sociale à l'enfance", "ASE", False),
    ("Autonomie (personnes âgées et handicapées)", "Autonomie", False),
    ("Prévention spécialisée", "Prévention", False),
    ("Conseiller numérique", "Numérique", False),
    ("Accompagnement à l'emploi", "Emploi", False),
    ("Logement", "Logement", False),
    ("Accès aux droits", "Accès aux droits", False),
    ("Médiation", "Médiation", False),
]


def add_services(apps, schema_editor):
    Service = apps.get_model("territories", "Service")
    for name, short_name, is_secretariat in SERVICES:
        Service.objects.get_or_create(
            name=name, defaults={"short_name": short_name, "is_secretariat": is_secretariat}
        )


class Migration(migrations.Migration):
    dependencies = [("territories", "0001_initial")]
    operations = [migrations.RunPython(add_services, migrations.RunPython.noop)]
