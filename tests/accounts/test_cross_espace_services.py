"""An agent's services belong to one espace: what an admin of espace B sets never changes what
the agent may do in espace A (the hole found by an independent review)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.models import AccessLevel
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.territories.models import Service
from tests import factories
from tests.helpers import log_in

CONTEXT_MARKER = "CONTEXTE-CONFIDENTIEL-SOCIAL-91c2"
USAGER_NAME = "Confidentiel-Usager"


@pytest.fixture
def two_espaces(db):
    secretariat, _ = Service.objects.get_or_create(name="Secrétariat", defaults={"is_secretariat": True})
    pmi = factories.ServiceFactory(name="PMI")
    social = factories.ServiceFactory(name="Service social")
    espace_a = factories.TerritoryFactory(name="Espace A")
    espace_b = factories.TerritoryFactory(name="Espace B")
    for territory in (espace_a, espace_b):
        for service in (secretariat, pmi, social):
            factories.TerritoryServiceFactory(territory=territory, service=service)
    org_a = factories.OrganisationFactory(territory=espace_a, name="MDS A")
    org_b = factories.OrganisationFactory(territory=espace_b, name="MDS B")
    # The agent: basic agent of org A with PMI only; espace admin (and org admin) in espace B.
    agent = factories.AgentFactory(email="double@exemple.fr")
    factories.AgentRoleFactory(agent=agent, organisation=org_a, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=agent, service=pmi, territory=espace_a)
    factories.TerritoryRoleFactory(agent=agent, territory=espace_b)
    factories.AgentRoleFactory(agent=agent, organisation=org_b, access_level=AccessLevel.ADMIN)
    factories.AgentServiceFactory(agent=agent, service=pmi, territory=espace_b)
    # A "Service social" RDV of org A, with an usager and a Contexte.
    colleague = factories.AgentFactory()
    factories.AgentRoleFactory(agent=colleague, organisation=org_a)
    factories.AgentServiceFactory(agent=colleague, service=social, territory=espace_a)
    motif = factories.MotifFactory(organisation=org_a, service=social, name="Accompagnement social")
    usager = factories.UsagerFactory(territory=espace_a, last_name=USAGER_NAME, organisations=[org_a])
    start = timezone.now() + timedelta(days=2)
    rdv = Rdv.objects.create(
        organisation=org_a, motif=motif, starts_at=start, ends_at=start + timedelta(minutes=30), context=CONTEXT_MARKER
    )
    RdvAgent.objects.create(rdv=rdv, agent=colleague, starts_at=rdv.starts_at, ends_at=rdv.ends_at)
    Participation.objects.create(rdv=rdv, usager=usager)
    return {
        "agent": agent,
        "espace_b": espace_b,
        "org_a": org_a,
        "org_b": org_b,
        "rdv": rdv,
        "secretariat": secretariat,
        "social": social,
        "pmi": pmi,
    }


def _give_services_in_espace_b(client, setup, services):
    response = client.post(
        reverse("espace_agent_edit", args=[setup["espace_b"].pk, setup["agent"].pk]),
        {
            "services": [s.pk for s in services],
            f"org_{setup['org_b'].pk}": AccessLevel.ADMIN,
            "territory_admin": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.parametrize("service_name", ["secretariat", "social"])
def test_services_set_in_espace_b_give_no_right_in_espace_a(client, two_espaces, service_name):
    setup = two_espaces
    log_in(client, setup["agent"])
    rdv_page = reverse("rdv_detail", args=[setup["org_a"].pk, setup["rdv"].pk])
    assert client.get(rdv_page).status_code == 404  # PMI only in espace A: not this RDV

    _give_services_in_espace_b(client, setup, [setup["pmi"], setup[service_name]])

    assert client.get(rdv_page).status_code == 404
    listing = client.get(reverse("rdv_list", args=[setup["org_a"].pk])).content.decode()
    export = b"".join(
        client.get(reverse("rdv_list", args=[setup["org_a"].pk]), {"format": "csv"}).streaming_content
    ).decode()
    agenda = client.get(reverse("agenda", args=[setup["org_a"].pk])).content.decode()
    for page in (listing, export, agenda):
        assert USAGER_NAME not in page
        assert CONTEXT_MARKER not in page


def test_the_agent_page_of_espace_b_shows_and_changes_only_espace_b_services(client, two_espaces):
    setup = two_espaces
    log_in(client, setup["agent"])
    _give_services_in_espace_b(client, setup, [setup["secretariat"]])
    agent = setup["agent"]
    in_a = set(agent.service_links.filter(territory__name="Espace A").values_list("service__name", flat=True))
    in_b = set(agent.service_links.filter(territory=setup["espace_b"]).values_list("service__name", flat=True))
    assert in_a == {"PMI"}
    assert in_b == {"Secrétariat"}
