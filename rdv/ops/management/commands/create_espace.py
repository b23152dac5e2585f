"""Platform operators: create an espace, its first organisation, and invite its first admin."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rdv.accounts.models import AccessLevel
from rdv.accounts.services import invite_agent
from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.territories import services as territory_services
from rdv.territories.models import Service


class Command(BaseCommand):
    help = "Crée un espace, sa première organisation, et invite son premier administrateur."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Nom de l'espace, ex. « Drôme »")
        parser.add_argument("--admin-email", required=True, help="E-mail du premier administrateur de l'espace")
        parser.add_argument("--organisation", default="Organisation principale", help="Première organisation")
        parser.add_argument("--departement", default="", help="Numéro de département")
        parser.add_argument(
            "--fuseau",
            default="",
            dest="time_zone",
            help="Fuseau horaire, ex. Indian/Reunion (par défaut : celui du département, sinon Europe/Paris)",
        )
        parser.add_argument(
            "--service",
            action="append",
            dest="services",
            help="Service à activer (nom exact du catalogue) ; répétable. Par défaut : Secrétariat.",
        )

    @transaction.atomic
    def handle(self, *args, name, admin_email, organisation, departement, time_zone, services, **options):
        try:
            territory = territory_services.create_territory(Context.operator(), name, departement, time_zone)
            ctx = Context.system(territory, label="Opérateur de la plateforme")
            first_organisation = territory_services.create_organisation(ctx, organisation)
        except DomainError as error:
            raise CommandError(error.message) from error
        chosen = []
        for service_name in services or ["Secrétariat"]:
            service = Service.objects.filter(name__iexact=service_name).first()
            if service is None:
                raise CommandError(f"Service inconnu : « {service_name} ». Ajoutez-le au catalogue dans /superadmin/.")
            territory_services.activate_service(ctx, service)
            chosen.append(service)
        try:
            result = invite_agent(
                ctx,
                admin_email,
                chosen,
                {first_organisation: AccessLevel.ADMIN},
                make_territory_admin=True,
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Espace « {territory.name} » créé (id {territory.pk}). Invitation envoyée à {admin_email}, "
                f"valable jusqu'au {result.invitation.expires_at:%d/%m/%Y %H:%M} UTC."
            )
        )
