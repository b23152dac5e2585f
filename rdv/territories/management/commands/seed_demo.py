"""Demo data for a fresh database. Idempotent: running it twice changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction

from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, TerritoryRole
from rdv.territories.models import Organisation, Service, Territory, TerritoryService

DEMO_PASSWORD = "rdv-demo-2026"

TERRITORIES = {
    "Drôme (démo)": {
        "departement": "26",
        "organisations": ["MDS Valence", "MDS Romans-sur-Isère"],
        "services": ["Service social", "PMI (Protection Maternelle et Infantile)", "Secrétariat", "Insertion"],
        "agents": [
            # email, first, last, services, {organisation: level}, espace admin
            ("admin@demo.rdv.fr", "Alice", "Martin", ["Service social"], {"MDS Valence": AccessLevel.ADMIN}, True),
            (
                "orga@demo.rdv.fr",
                "Olivier",
                "Durand",
                ["Insertion"],
                {"MDS Romans-sur-Isère": AccessLevel.ADMIN},
                False,
            ),
            (
                "agent@demo.rdv.fr",
                "Bruno",
                "Petit",
                ["PMI (Protection Maternelle et Infantile)"],
                {"MDS Valence": AccessLevel.BASIC},
                False,
            ),
            (
                "secretariat@demo.rdv.fr",
                "Sophie",
                "Bernard",
                ["Secrétariat"],
                {"MDS Valence": AccessLevel.BASIC, "MDS Romans-sur-Isère": AccessLevel.BASIC},
                False,
            ),
        ],
    },
    "Ardèche (démo)": {
        "departement": "07",
        "organisations": ["MDS Privas"],
        "services": ["Service social", "Secrétariat"],
        "agents": [
            ("admin07@demo.rdv.fr", "Bob", "Leroy", ["Service social"], {"MDS Privas": AccessLevel.ADMIN}, True),
        ],
    },
}


class Command(BaseCommand):
    help = "Charge les données de démonstration (sans effet si elles existent déjà)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for territory_name, spec in TERRITORIES.items():
            territory, _ = Territory.objects.get_or_create(
                name=territory_name, defaults={"departement_number": spec["departement"]}
            )
            organisations = {
                name: Organisation.objects.get_or_create(territory=territory, name=name)[0]
                for name in spec["organisations"]
            }
            for service_name in spec["services"]:
                TerritoryService.objects.get_or_create(
                    territory=territory, service=Service.objects.get(name=service_name)
                )
            for email, first, last, services, levels, is_admin in spec["agents"]:
                agent = Agent.objects.filter(email__iexact=email).first()
                if agent is None:
                    agent = Agent.objects.create_user(email, DEMO_PASSWORD, first_name=first, last_name=last)
                    created += 1
                for service_name in services:
                    AgentService.objects.get_or_create(agent=agent, service=Service.objects.get(name=service_name))
                for organisation_name, level in levels.items():
                    AgentRole.objects.get_or_create(
                        agent=agent, organisation=organisations[organisation_name], defaults={"access_level": level}
                    )
                if is_admin:
                    TerritoryRole.objects.get_or_create(agent=agent, territory=territory)
        self.stdout.write(self.style.SUCCESS(f"Données de démonstration prêtes ({created} agent(s) créé(s))."))
        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for spec in TERRITORIES.values():
            for email, first, last, _, levels, is_admin in spec["agents"]:
                role = "administrateur d'espace" if is_admin else ", ".join(f"{o} ({lvl})" for o, lvl in levels.items())
                self.stdout.write(f"  {email:28} {first} {last} — {role}")
