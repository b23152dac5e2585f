"""Load the 200-agent benchmark espace (bench_pages.build_espace) into the configured database for the
load test (scripts/loadtest) and the fault drill (scripts/fault-drill), and write what the locust
clients need as JSON: motif and lieux ids, agent logins, API tokens.

    DATABASE_URL=postgres://…/loadtest_x python manage.py seed_loadtest --out /tmp/loadtest.json

Idempotent: on a database that already holds the load-test espace it builds nothing more, resets the
agents' password and replaces the load-test API tokens (their secrets are shown once). It refuses a
database holding any other espace unless `--allow-other-data` (never point it at real data: the
agents it creates get a known password).

Besides the benchmark data (RDVs of next month), the opening hours start this week, so the motif open
online has free times in the coming weeks for the public bookings.
"""

import json
import random
from datetime import timedelta
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from rdv.accounts.context import personal_context
from rdv.accounts.models import Agent, ApiToken
from rdv.accounts.services import create_api_token
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.motifs.models import Motif
from rdv.ops.management.commands.bench_pages import build_espace
from rdv.territories.models import Organisation, Territory

ESPACE_NAME = "Espace de mesure"
FIRST_AGENT = "bench0@exemple.fr"
TOKEN_NAME = "Test de charge"
DEFAULT_PASSWORD = "charge-Locust-2026"


class Command(BaseCommand):
    help = "Charge l’espace de mesure (200 agents) pour le test de charge et écrit ce dont locust a besoin (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="JSON file written for the locust clients")
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--rdvs", type=int, default=18_000)
        parser.add_argument("--usagers", type=int, default=50_000)
        parser.add_argument("--journal", type=int, default=50_000)
        parser.add_argument("--logins", type=int, default=30, help="agents given a password")
        parser.add_argument("--tokens", type=int, default=20, help="API tokens (one per agent)")
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--allow-other-data", action="store_true", help="seed even if other espaces exist")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, **options):
        data = seed(options)
        Path(options["out"]).write_text(json.dumps(data, indent=2))
        self.stdout.write(
            json.dumps({k: data[k] for k in ("created", "organisation_id", "motif_id", "agents", "tokens_count")})
        )


def _existing() -> Organisation | None:
    agent = Agent.objects.filter(email=FIRST_AGENT).first()
    if agent is None:
        return None
    return Organisation.objects.filter(territory__name=ESPACE_NAME, agent_roles__agent=agent).first()


def agent_session(agent: Agent) -> str:
    """A session of this agent, as after logging in (agents log in once a day: the load test does not
    spend its web processes on password hashing). Signed with this SECRET_KEY: seed with the server's."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(agent.pk)
    store[BACKEND_SESSION_KEY] = "rdv.accounts.backends.AgentBackend"
    store[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    store.set_expiry(settings.SESSION_COOKIE_AGE)
    store.create()
    return store.session_key


def seed(options: dict) -> dict:
    organisation = _existing()
    created = organisation is None
    if created:
        if Territory.objects.exists() and not options["allow_other_data"]:
            raise CommandError(
                "Cette base contient déjà d’autres espaces : utilisez une base vide (ou --allow-other-data)."
            )
        rng = random.Random(options["seed"])  # noqa: S311 - synthetic data
        with transaction.atomic():
            built = build_espace(rng, options["agents"], options["rdvs"], options["usagers"], options["journal"])
        organisation = built["organisation"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    motif = Motif.objects.filter(organisation=organisation, bookable_online=True).order_by("pk").first()
    if motif is None:
        raise CommandError("L’espace de mesure n’a pas de motif ouvert en ligne.")
    # Opening hours from this week on: free times in the coming weeks for the public bookings.
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    PlageOuverture.objects.filter(organisation=organisation).update(first_date=monday)

    agents = list(Agent.objects.filter(roles__organisation=organisation, email__startswith="bench").order_by("pk"))
    logins = agents[: options["logins"]]
    Agent.objects.filter(pk__in=[a.pk for a in logins]).update(password=make_password(options["password"]))
    sessions = [agent_session(agent) for agent in Agent.objects.filter(pk__in=[a.pk for a in logins]).order_by("pk")]
    ApiToken.objects.filter(agent__in=agents, name=TOKEN_NAME).delete()
    tokens = [create_api_token(personal_context(agent), name=TOKEN_NAME)[1] for agent in agents[: options["tokens"]]]
    lieux = list(Lieu.objects.filter(organisation=organisation).order_by("pk").values_list("pk", flat=True))
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return {
        "created": created,
        "territory_id": organisation.territory_id,
        "organisation_id": organisation.pk,
        "motif_id": motif.pk,
        "lieu_ids": lieux,
        "agent_ids": [a.pk for a in agents],
        "agents": len(agents),
        "logins": [
            {"email": a.email, "password": options["password"], "session": key}
            for a, key in zip(logins, sessions, strict=True)
        ],
        "tokens": tokens,
        "tokens_count": len(tokens),
        "this_monday": monday.isoformat(),
        "busy_month": next_month.isoformat(),  # the benchmark's 18,000 RDVs are in this month
    }
