"""Every page of the product, with garbage query strings and garbage POSTs, answers < 500.

The demo data (seed_demo) provides a real object for every id in the URLs, so the views run
past their permission checks with the demo espace admin, who is also admin of MDS Valence.
"""

import html

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rdv.accounts.context import personal_context, territory_context
from rdv.accounts.models import Agent, ApiToken
from rdv.accounts.services import create_api_token
from rdv.agendas.models import Absence, Lieu, PlageOuverture
from rdv.bookings.models import Rdv
from rdv.motifs.models import Motif
from rdv.online.models import ManageLink
from rdv.outbox.models import Delivery
from rdv.territories.models import Organisation, SectorCode
from rdv.usagers.models import CustomField, Usager
from rdv.webhooks import services as webhook_services
from rdv.webhooks.models import WebhookEndpoint, WebhookEvent
from tests.helpers import log_in

GARBAGE_QUERY = {
    "date": "2026-13-45",
    "debut": "pas-une-date",
    "page": "-3",
    "motif": "abc",
    "agent": "9999999999999999999999",
    "agents": ["x", "-1"],
    "lieu": "0",
    "vue": "mois",
    "statut": "nimporte",
    "format": "csv",
    "q": "%' OR 1=1 --",
    "du": "31/02/2026",
    "au": "zz",
    "usager": "<script>",
    "responsable": "²",
    "organisation": "ab",
    "service": "-1",
    "status": "???",
}
# Well-formed but extreme values: the year 9999 overflows date arithmetic, huge ids overflow SQLite.
EXTREME_QUERY = {"date": "9999-12-31", "du": "9999-12-31", "au": "9999-12-31", "debut": "9999-12-31T23:59"}
EXTREME_POST = {
    "date": "9999-12-31",
    "first_date": "9999-12-31",
    "end_date": "9999-12-31",
    "until": "9999-12-31",
    "heure": "23:59",
    "start_time": "23:00",
    "end_time": "23:30",
    "organisations": ["99999999999999999999"],
    "motifs": ["99999999999999999999"],
    "agents": ["99999999999999999999"],
    "usagers": ["99999999999999999999"],
    "birth_date": "0001-01-01",
    "responsable": "99999999999999999999",
}
GARBAGE_POST = {
    "name": "x" * 5000,
    "email": "a@b.fr, c@d.fr",
    "services": ["abc", "99999999999999999999999"],
    "starts_at": "demain",
    "date": "2026-02-30",
    "start_time": "25:61",
    "end_time": "aa",
    "first_date": "hier",
    "default_duration_minutes": "-5",
    "motifs": ["zz"],
    "usagers": ["-1"],
    "agents": ["abc"],
    "status": "inconnu",
    "recurrence": "yearly",
    "recurrence_weekdays": ["9"],
    "holiday_zone": "XX",
    "kind": "nope",
    "color": "rouge",
    "org_1": "superadmin",
    "phone": "12",
    "birth_date": "1990-02-31",
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = Agent.objects.get(email="admin@demo.rdv.fr")
    valence = Organisation.objects.get(name="MDS Valence")
    # A webhook with an event, so that garbage reaches the webhook pages too (issue 19).
    ctx = territory_context(admin, valence.territory)
    endpoint = webhook_services.create_endpoint(ctx, organisation=valence, target_url="https://si.exemple.fr/rdv")
    webhook_services.send_test_event(ctx, endpoint)
    create_api_token(personal_context(admin), name="SI")  # so that garbage reaches its revocation
    return admin, valence


def _ids(admin, valence) -> dict:
    def first(queryset):
        obj = queryset.first()
        return obj.pk if obj else 1

    return {
        "territory_id": valence.territory_id,
        "organisation_id": valence.pk,
        "agent_id": admin.pk,
        "motif_id": first(Motif.objects.filter(organisation=valence)),
        "lieu_id": first(Lieu.objects.filter(organisation=valence)),
        "plage_id": first(PlageOuverture.objects.filter(organisation=valence)),
        "absence_id": first(Absence.objects.filter(organisation=valence)),
        "rdv_id": first(Rdv.objects.filter(organisation=valence)),
        "link_id": first(ManageLink.objects.filter(rdv__organisation=valence)),
        "usager_id": first(Usager.objects.filter(organisations=valence)),
        "field_id": first(CustomField.objects.filter(territory_id=valence.territory_id)),
        "code_id": first(SectorCode.objects.filter(organisation=valence)),
        "invitation_id": 1,
        "delivery_id": first(Delivery.objects.filter(organisation=valence)),
        "endpoint_id": first(WebhookEndpoint.objects.filter(organisation=valence)),
        "event_id": first(WebhookEvent.objects.filter(endpoint__organisation=valence)),
        "service_id": 1,
        "token_id": first(ApiToken.objects.filter(agent=admin)),
        "token": "jeton-invente",
        "booking_id": "00000000-0000-4000-8000-000000000000",
        "uidb64": "MQ",
        "day": "2026-13-01",
        "direction": "haut",
        "operation": "activer",
    }


def _patterns(resolver=None, namespace=""):
    """(name with its namespace, pattern) of every named URL but the operators' admin site."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if "superadmin" in str(entry.pattern):
                continue
            yield from _patterns(entry, namespace + (f"{entry.namespace}:" if entry.namespace else ""))
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, entry


def _urls(ids):
    for name, pattern in _patterns():
        params = {key: ids[key] for key in pattern.pattern.regex.groupindex}
        if name in ("logout",):
            continue
        yield name, reverse(name, kwargs=params)


def test_no_page_answers_a_server_error_to_garbage(demo):
    admin, valence = demo
    client = log_in(Client(raise_request_exception=False), admin)
    ids = _ids(admin, valence)
    failures, reached = [], 0
    for name, url in _urls(ids):
        for method, data in (
            ("get", GARBAGE_QUERY),
            ("post", GARBAGE_POST),
            ("get", EXTREME_QUERY),
            ("post", EXTREME_POST),
        ):
            response = getattr(client, method)(url, data)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {name} {url} -> {response.status_code}")
            elif response.status_code != 404:
                reached += 1
    assert not failures, "\n".join(failures)
    # The garbage must reach the views, not stop at a 404 for want of permission or object.
    assert reached >= 300, reached


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("espace_organisation_create", "Le nom est obligatoire."),
        ("espace_invite", "Saisissez l'adresse e-mail de l'agent."),
        ("plage_create", "Choisissez le lieu de la plage."),
    ],
)
def test_an_empty_post_shows_the_form_errors(demo, name, message):
    admin, valence = demo
    ids = _ids(admin, valence)
    pattern = next(p for n, p in _patterns() if n == name)
    url = reverse(name, kwargs={key: ids[key] for key in pattern.pattern.regex.groupindex})
    response = log_in(Client(), admin).post(url, {})
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())


def test_pages_carry_a_strict_content_security_policy(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
