"""« Trouver un créneau » and the booking form offer the same motifs: those the agent may book
(rdv.motifs.selectors.bookable_motifs), which the booking service checks again."""

import re

import pytest
from django.urls import reverse

from rdv.accounts.models import AccessLevel
from rdv.territories.models import Service
from tests import factories
from tests.helpers import log_in, page_text


@pytest.fixture
def motifs(alice):
    pmi = factories.ServiceFactory(name="PMI")
    secretariat, _ = Service.objects.get_or_create(name="Secrétariat", defaults={"is_secretariat": True})
    for service in (pmi, secretariat):
        factories.TerritoryServiceFactory(territory=alice.territory, service=service)
    social = factories.MotifFactory(organisation=alice.organisation, service=alice.service, name="Accueil social")
    other = factories.MotifFactory(organisation=alice.organisation, service=pmi, name="Consultation PMI")
    factories.MotifFactory(
        organisation=alice.organisation, service=alice.service, name="Ancien", archived_at="2026-01-01T00:00Z"
    )
    factories.MotifFactory(organisation=alice.other_organisation, service=alice.service, name="Motif du nord")
    agent_of_secretariat = factories.AgentFactory(email="secretariat@exemple.fr")
    factories.AgentRoleFactory(
        agent=agent_of_secretariat, organisation=alice.organisation, access_level=AccessLevel.BASIC
    )
    factories.AgentServiceFactory(agent=agent_of_secretariat, territory=alice.territory, service=secretariat)
    return social, other, agent_of_secretariat


def offered(client, name, organisation) -> set[str]:
    html = client.get(reverse(name, args=[organisation.pk])).content.decode()
    select = re.search(r'<select[^>]*name="motif"[^>]*>(.*?)</select>', html, re.S).group(1)
    return {
        re.sub(r"\s+", " ", label).strip().split(" (")[0]
        for label in re.findall(r'<option value="\d+"[^>]*>(.*?)</option>', select, re.S)
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("agent", {"Accueil social"}),
        ("organisation_admin", {"Accueil social", "Consultation PMI"}),
        ("secretariat", {"Accueil social", "Consultation PMI"}),
    ],
)
def test_the_search_and_the_booking_form_offer_the_same_motifs(client, alice, motifs, who, expected):
    agent = motifs[2] if who == "secretariat" else getattr(alice, who)
    log_in(client, agent)
    assert offered(client, "slot_search", alice.organisation) == expected
    assert offered(client, "rdv_create", alice.organisation) == expected


def test_a_motif_of_another_service_cannot_be_searched_by_a_basic_agent(client, alice, motifs):
    log_in(client, alice.agent)
    response = client.get(reverse("slot_search", args=[alice.organisation.pk]), {"motif": motifs[1].pk})
    assert response.status_code == 200
    assert "Ce motif n'est pas proposé" in page_text(response)
