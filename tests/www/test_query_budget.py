"""The main pages run a bounded, fixed number of SQL queries (the request context is built once).

Budgets are the counts measured with the demo data; a page that needs more fails here. Lower the
budget when a page gets cheaper."""

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.accounts.models import Agent
from rdv.agendas.models import Lieu
from rdv.bookings.models import Rdv
from rdv.motifs.models import Motif
from rdv.territories.models import Organisation
from rdv.usagers.models import Usager
from rdv.www.urls import urlpatterns
from tests.helpers import log_in

# (user, url name, queries before the request context was built once, budget now): measured on the
# demo data. Every page is cheaper: one query builds the context (tenant, role, espace admin right,
# services) where two to four ran before.
BUDGETS = [
    ("admin", "espace_agents", 14, 13),
    ("admin", "espace_invitations", 8, 7),
    ("admin", "espace_services", 10, 9),
    ("admin", "espace_organisations", 8, 7),
    ("admin", "espace_journal", 9, 8),
    ("admin", "espace_motifs", 11, 10),
    ("admin", "espace_motif", 13, 12),
    ("admin", "espace_custom_fields", 8, 7),
    ("admin", "espace_agent_edit", 14, 13),
    ("admin", "organisation_home", 8, 7),
    ("admin", "organisation_motifs", 11, 9),
    ("admin", "organisation_motif", 14, 12),
    ("admin", "lieu_list", 9, 7),
    ("admin", "agenda_agents", 9, 7),
    ("agent", "agenda_week", 14, 12),
    ("agent", "plage_list", 13, 11),
    ("agent", "absence_list", 11, 9),
    ("agent", "slot_search", 11, 10),
    ("agent", "usager_list", 10, 9),
    ("agent", "usager_detail", 15, 14),
    ("agent", "usager_create", 9, 8),
    ("agent", "agenda", 16, 13),
    ("agent", "rdv_list", 17, 14),
    ("agent", "rdv_create", 13, 10),
    ("secretariat", "agenda", 14, 11),
    ("secretariat", "rdv_list", 17, 14),
    ("secretariat", "rdv_detail", 15, 13),
    ("secretariat", "rdv_create", 13, 10),
]
# Queries that features added since then cost, on top of the budget (constant: they do not grow
# with the data).
ADDED_SINCE = {
    "rdv_create": 1,  # issue 17: the espace's required custom fields, shown for the inline usager
    "usager_detail": 3,  # issue 17: the usager's RDVs (upcoming, past, their agents)
    # issue 18: the RDV's active manage links (with their usager), for « Révoquer le lien »; issue 20:
    # its « Notifications » section (the messages about it, the right checked in the same query).
    "rdv_detail": 2,
}
USERS = {
    "admin": "admin@demo.rdv.fr",
    "agent": "agent@demo.rdv.fr",
    "secretariat": "secretariat@demo.rdv.fr",
}


def _kwargs(name: str, agent, valence) -> dict:
    values = {
        "territory_id": valence.territory_id,
        "organisation_id": valence.pk,
        "agent_id": agent.pk,
        "motif_id": Motif.objects.filter(organisation=valence).order_by("pk").first().pk,
        "lieu_id": Lieu.objects.filter(organisation=valence).order_by("pk").first().pk,
        "rdv_id": Rdv.objects.filter(organisation=valence).order_by("pk").first().pk,
        "usager_id": Usager.objects.filter(organisations=valence).order_by("pk").first().pk,
    }
    pattern = next(p for p in urlpatterns if getattr(p, "name", None) == name)
    return {key: values[key] for key in pattern.pattern.regex.groupindex}


def test_main_pages_stay_within_their_query_budget(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    valence = Organisation.objects.get(name="MDS Valence")
    over = []
    for user, name, before, budget in BUDGETS:
        assert budget <= before, (user, name)
        agent = Agent.objects.get(email=USERS[user])
        client = log_in(Client(), agent)
        url = reverse(name, kwargs=_kwargs(name, agent, valence))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        allowed = budget + ADDED_SINCE.get(name, 0)
        if len(queries.captured_queries) > allowed:
            over.append(f"{user} {name}: {len(queries.captured_queries)} queries > {allowed}")
    assert not over, "\n".join(over)


# Issue 19: the webhook pages of the espace (measured with an endpoint whose log holds 60 events, each
# with two attempts: the log prefetches the attempts, the list reads the last delivery in a subquery).
WEBHOOK_BUDGETS = {"webhook_list": 7, "webhook_new": 7, "webhook_docs": 6, "webhook_edit": 7, "webhook_log": 9}


def test_webhook_pages_stay_within_their_query_budget(db):
    from django.utils import timezone

    from rdv.outbox.models import DeliveryAttempt
    from rdv.webhooks import events, services
    from tests.helpers import as_agent

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    valence = Organisation.objects.get(name="MDS Valence")
    admin = Agent.objects.get(email=USERS["admin"])
    endpoint = services.create_endpoint(
        as_agent(admin, valence.territory), organisation=valence, target_url="https://si.exemple.fr/rdv"
    )
    lieu = Lieu.objects.filter(organisation=valence).first()
    for _ in range(60):
        event = events.write_events([endpoint], "Lieu", "updated", lieu.pk, reason=None)[0]
        for number in (1, 2):
            DeliveryAttempt.objects.create(
                delivery_id=event.delivery_id, number=number, started_at=timezone.now(), duration_ms=5, outcome="sent"
            )
    client = log_in(Client(), admin)
    over = []
    for name, budget in WEBHOOK_BUDGETS.items():
        args = [valence.territory_id] + ([endpoint.pk] if name in ("webhook_edit", "webhook_log") else [])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        if len(queries.captured_queries) > budget:
            over.append(f"{name}: {len(queries.captured_queries)} queries > {budget}")
    assert not over, "\n".join(over)
