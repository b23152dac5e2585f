"""Who may open which agenda/RDV page: every page × every kind of visitor.

The RDV used is of a "Service social" motif, taken by a basic agent of that service:
- the organisation admin, the agent of the service and the secretariat see it;
- an agent of another service (PMI) opens the organisation's pages but not this RDV (404);
- an agent of another organisation of the espace, an agent of another espace, an intervenant: 404;
- anonymous visitors are sent to the login page.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from rdv.accounts.models import AccessLevel
from rdv.bookings import policies
from tests import factories
from tests.bookings.conftest import TODAY, at
from tests.bookings.test_services import state
from tests.helpers import as_agent, log_in, page_text


@dataclass
class Page:
    name: str
    method: str = "get"
    rdv: bool = True  # the URL names the RDV
    query: str = ""
    data: Any = None  # setup -> POST data

    def url(self, organisation, rdv, setup) -> str:
        args = [organisation.pk, rdv.pk] if self.rdv else [organisation.pk]
        if self.name == "rdv_participant_remove":
            args.append(setup.usager2.pk)
        query = self.query.format(rdv=rdv.pk, agent=setup.agent.pk)
        return reverse(self.name, args=args) + (f"?{query}" if query else "")

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}{'?' + self.query if self.query else ''}"


PAGES = [
    Page("agenda", rdv=False),
    Page("agenda", rdv=False, query="vue=jour&agents=0"),
    Page("agenda", rdv=False, query="affichage=liste"),
    Page("agenda_grid", rdv=False, query="vue=jour"),
    Page("agenda_move", query="debut=2027-03-09T11:00&agent={agent}"),
    Page("agenda_arrivals", rdv=False, query="rdvs={rdv}"),
    Page("rdv_list", rdv=False),
    Page("rdv_list", rdv=False, query="format=csv"),
    Page("rdv_create", rdv=False),
    Page("rdv_usager_search", rdv=False, query="recherche_usager=dupont"),
    Page("rdv_detail"),
    Page("rdv_edit"),
    Page("rdv_move"),
    Page("rdv_create", method="post", rdv=False, data=lambda s: {"motif": s.motif.pk}),
    Page("rdv_edit", method="post", data=lambda s: {"context": "Nouveau contexte"}),
    Page("rdv_move", method="post", data=lambda s: {"date": "2027-03-09", "heure": "11:00", "agents": [s.agent.pk]}),
    Page("rdv_status", method="post", data=lambda s: {"status": "noshow"}),
    Page("rdv_cancel", method="post", data=lambda s: {"by": "service", "reason": "Test"}),
    Page("rdv_arrival", method="post", data=lambda s: {"arrive": "1"}),
    Page("rdv_participant_add", method="post", data=lambda s: {"usager": s.usager3.pk}),
    Page("rdv_participant_remove", method="post"),
    Page("agenda_move", method="post", data=lambda s: {"debut": "2027-03-09T11:00", "agent": s.agent.pk}),
]
ORGANISATION_PAGES = {"agenda", "agenda_arrivals", "agenda_grid", "rdv_list", "rdv_create", "rdv_usager_search"}
VISITORS = ["admin", "agent", "secretariat", "other_service", "other_organisation", "other_espace", "intervenant"]


@pytest.fixture
def collective_rdv(setup):
    """A collective RDV (so that participants can be added and removed by anyone who sees it)."""
    return setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager, setup.usager2])


def visitor(setup, bob, kind):
    if kind == "other_espace":
        return bob.territory_admin
    if kind == "intervenant":
        intervenant = factories.AgentFactory(email="intervenant@exemple.fr")
        factories.AgentRoleFactory(
            agent=intervenant, organisation=setup.organisation, access_level=AccessLevel.INTERVENANT
        )
        factories.AgentServiceFactory(agent=intervenant, territory=setup.world.territory, service=setup.world.service)
        return intervenant
    return {
        "admin": setup.admin,
        "agent": setup.agent,
        "secretariat": setup.secretariat,
        "other_service": setup.other_agent,
        "other_organisation": setup.outsider,
    }[kind]


def expected(page: Page, kind: str) -> set[int]:
    if kind == "intervenant":  # intervenants never log in: their session is refused
        return {302}
    if kind in ("other_organisation", "other_espace"):
        return {404}
    if kind == "other_service" and page.name not in ORGANISATION_PAGES:
        return {404}
    return {200, 302}


@pytest.mark.parametrize("kind", VISITORS)
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.id)
def test_permissions_matrix(client, setup, bob, collective_rdv, page, kind):
    log_in(client, visitor(setup, bob, kind))
    url = page.url(setup.organisation, collective_rdv, setup)
    before = state()

    data = page.data(setup) if page.data else {}
    response = client.get(url) if page.method == "get" else client.post(url, data)

    assert response.status_code in expected(page, kind), (url, response.status_code)
    if kind == "intervenant":
        assert response["Location"].startswith(reverse("login"))
    if response.status_code == 404 or kind == "intervenant":
        assert state() == before
        assert "Dupont" not in page_text(response)
    else:  # allowed: the page itself, or the redirect after the action, never the login page
        assert not response.get("Location", "").startswith(reverse("login")), url


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.id)
def test_anonymous_visitors_are_sent_to_the_login_page(client, setup, collective_rdv, page):
    url = page.url(setup.organisation, collective_rdv, setup)
    before = state()
    response = getattr(client, page.method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert state() == before


def test_ids_of_another_espace_answer_404_even_for_its_own_admin(client, setup, bob):
    """Alice's RDV under bob's organisation id: 404 (RDVs are scoped by organisation)."""
    rdv = setup.book(at(TODAY, 10))
    log_in(client, bob.territory_admin)
    assert client.get(reverse("rdv_detail", args=[bob.organisation.pk, rdv.pk])).status_code == 404
    log_in(client, setup.agent)
    assert client.get(reverse("rdv_detail", args=[setup.world.other_organisation.pk, rdv.pk])).status_code == 404


def test_visibility_scope(setup):
    social = setup.book(at(TODAY, 10))
    # A PMI motif taken by the social worker (booked by the admin: not a motif of the worker's services).
    pmi = setup.book(at(TODAY, 11), motif=setup.other_motif, actor=setup.admin)
    pmi_by_other = setup.book(
        at(TODAY, 9), motif=setup.other_motif, agents=[setup.admin], override=True, actor=setup.admin
    )

    def visible(agent):
        return set(policies.scope(as_agent(agent, setup.organisation)).values_list("pk", flat=True))

    everything = {social.pk, pmi.pk, pmi_by_other.pk}
    assert visible(setup.admin) == everything
    assert visible(setup.secretariat) == everything
    assert visible(setup.agent) == {social.pk, pmi.pk}  # own service + taking part
    assert visible(setup.other_agent) == {pmi.pk, pmi_by_other.pk}
    assert visible(setup.outsider) == set()
    assert policies.can_see(as_agent(setup.agent, social), social)
    assert policies.can_change(as_agent(setup.agent, social), social)
    assert not policies.can_see(as_agent(setup.other_agent, social), social)
    assert not policies.can_change(as_agent(setup.outsider, social), social)


@pytest.mark.parametrize("display", ["grille", "liste"])
def test_an_agent_of_another_service_sees_the_time_as_busy_without_details(client, setup, display):
    rdv = setup.book(at(TODAY, 10))
    log_in(client, setup.other_agent)

    response = client.get(
        reverse("agenda", args=[setup.organisation.pk]), {"agents": setup.agent.pk, "affichage": display}
    )

    text = page_text(response)
    assert "10:00–10:30" in text
    assert "Occupé" in text
    assert "DUPONT" not in text.upper()
    assert reverse("rdv_detail", args=[setup.organisation.pk, rdv.pk]) not in text


def test_the_list_shows_only_visible_rdvs(client, setup):
    setup.book(at(TODAY, 10))
    setup.book(at(TODAY, 11), motif=setup.other_motif, usagers=[setup.usager2], actor=setup.admin)
    log_in(client, setup.other_agent)

    text = page_text(client.get(reverse("rdv_list", args=[setup.organisation.pk])))

    assert "Karim BENALI" in text
    assert "Jeanne DUPONT" not in text
    assert "1 rendez-vous" in text
