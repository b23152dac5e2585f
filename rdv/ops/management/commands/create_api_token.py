"""Platform operators and CI: create a personal API token for an agent and print its secret (the
agents create theirs in « Mon compte »). `--json` also prints ids the API fuzzing run starts from:
the agent's first organisation, its espace and a motif of it."""

import json

from django.core.management.base import BaseCommand, CommandError

from rdv.accounts.context import personal_context
from rdv.accounts.models import AccessLevel, Agent, AgentRole
from rdv.accounts.services import create_api_token
from rdv.core.errors import DomainError
from rdv.motifs.models import Motif


class Command(BaseCommand):
    help = "Crée un jeton d’API pour un agent et affiche son secret (une seule fois)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="E-mail de l’agent")
        parser.add_argument("--name", default="Jeton créé en ligne de commande", help="Nom du jeton")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Sortie JSON avec des identifiants utiles"
        )

    def handle(self, *args, email, name, as_json: bool = False, **options):
        agent = Agent.objects.filter(email=email.strip().lower(), is_active=True).first()
        if agent is None:
            raise CommandError(f"Aucun agent actif avec l’e-mail {email}.")
        try:
            _, secret = create_api_token(personal_context(agent), name=name)
        except DomainError as error:
            raise CommandError(error.message) from error
        if not as_json:
            self.stdout.write(secret)
            return
        role = (
            AgentRole.objects.filter(agent=agent, access_level=AccessLevel.ADMIN)
            .select_related("organisation")
            .order_by("organisation_id")
            .first()
        )
        organisation = role.organisation if role else None
        motif = Motif.objects.filter(organisation=organisation).order_by("pk").first() if organisation else None
        self.stdout.write(
            json.dumps(
                {
                    "token": secret,
                    "organisation_id": organisation.pk if organisation else None,
                    "territory_id": organisation.territory_id if organisation else None,
                    "motif_id": motif.pk if motif else None,
                }
            )
        )
