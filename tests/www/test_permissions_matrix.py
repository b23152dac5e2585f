"""Who may open which page: every espace URL × every kind of visitor, and tenant isolation
(two espaces side by side: the other espace's ids answer 404, never 403)."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rdv.accounts import services as account_services
from rdv.accounts.models import AccessLevel
from rdv.www.urls import urlpatterns
from tests import factories
from tests.helpers import as_agent, db_state, log_in, page_text

ESPACE_PATTERNS = {p.name: p for p in urlpatterns if getattr(p, "name", None) and p.name.startswith("espace_")}
# The foundation's espace pages, tested below with real objects of both espaces. Pages added by
# later features (motifs, settings…) are covered by the generic isolation test at the end.
FOUNDATION_URL_NAMES = [
    "espace_agent_edit",
    "espace_agents",
    "espace_index",
    "espace_invitation_cancel",
    "espace_invitation_resend",
    "espace_invitations",
    "espace_invite",
    "espace_journal",
    "espace_organisation_create",
    "espace_organisation_edit",
    "espace_organisations",
    "espace_service_toggle",
    "espace_services",
]


@dataclass
class Objects:
    """Real ids of one espace's objects, used to build its URLs."""

    world: Any
    invitation: Any

    @property
    def territory(self):
        return self.world.territory


def objects_of(world) -> Objects:
    invitation = account_services.invite_agent(
        as_agent(world.territory_admin, world.territory),
        f"invite-{world.territory.name.split()[-1]}@exemple.fr",
        [world.service],
        {world.organisation: AccessLevel.BASIC},
    ).invitation
    return Objects(world, invitation)


@dataclass
class Case:
    name: str
    method: str = "get"
    args: Any = None  # (Objects for the territory, Objects for the object ids) -> url args
    data: Any = None  # (Objects for the territory, Objects for the object ids) -> POST data
    admin_status: int | None = None

    def url(self, tenant: Objects, target: Objects) -> str:
        args = self.args(tenant, target) if self.args else []
        return reverse(self.name, args=[tenant.territory.pk, *args])

    def post_data(self, tenant: Objects, target: Objects) -> dict:
        return self.data(tenant, target) if self.data else {}

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}" + (f" {self.args.__name__}" if self.args else "")

    @property
    def expected_for_admin(self) -> int:
        return self.admin_status or (302 if self.method == "post" else 200)


def _org(tenant, target):
    return [target.world.organisation.pk]


def _invitation(tenant, target):
    return [target.invitation.pk]


def _agent(tenant, target):
    return [target.world.agent.pk]


def activate(tenant, target):
    return [target.world.inactive_service.pk, "activer"]


def deactivate(tenant, target):
    return [target.world.service.pk, "desactiver"]


def _assignment(tenant, target):
    return {
        "services": [tenant.world.service.pk],
        f"org_{target.world.organisation.pk}": AccessLevel.ADMIN,
        f"org_{tenant.world.organisation.pk}": AccessLevel.ADMIN,
    }


def _invite(tenant, target):
    return {
        "email": "nouvelle@exemple.fr",
        "services": [tenant.world.service.pk],
        f"org_{tenant.world.organisation.pk}": AccessLevel.BASIC,
    }


PAGES = [
    Case("espace_index", admin_status=302),
    Case("espace_services"),
    Case("espace_organisations"),
    Case("espace_organisation_create"),
    Case("espace_organisation_edit", args=_org),
    Case("espace_invitations"),
    Case("espace_invite"),
    Case("espace_agents"),
    Case("espace_agent_edit", args=_agent),
    Case("espace_journal"),
]
ACTIONS = [
    Case("espace_service_toggle", "post", args=activate),
    Case("espace_service_toggle", "post", args=deactivate, data=lambda tenant, target: {"confirmer": "1"}),
    Case("espace_organisation_create", "post", data=lambda tenant, target: {"name": "Nouvelle MDS"}),
    Case("espace_organisation_edit", "post", args=_org, data=lambda tenant, target: {"name": "Renommée"}),
    Case("espace_invite", "post", data=_invite),
    Case("espace_invitation_resend", "post", args=_invitation),
    Case("espace_invitation_cancel", "post", args=_invitation, data=lambda tenant, target: {"confirmer": "1"}),
    Case("espace_agent_edit", "post", args=_agent, data=_assignment),
]
ALL_CASES = PAGES + ACTIONS
VISITORS = ["territory_admin", "organisation_admin", "agent", "other_espace_admin", "anonymous"]


def test_every_foundation_espace_url_is_in_the_matrix():
    assert sorted({case.name for case in ALL_CASES}) == FOUNDATION_URL_NAMES
    assert set(FOUNDATION_URL_NAMES) <= set(ESPACE_PATTERNS)


def _client_for(visitor, alice, bob) -> Client:
    client = Client()
    if visitor == "anonymous":
        return client
    agent = bob.territory_admin if visitor == "other_espace_admin" else getattr(alice, visitor)
    return log_in(client, agent)


def _request(client, case, url, data=None):
    if case.method == "post":
        return client.post(url, data or {})
    return client.get(url)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_espace_permission_matrix(alice, bob, case, visitor):
    mine = objects_of(alice)
    objects_of(bob)
    client = _client_for(visitor, alice, bob)
    url = case.url(mine, mine)
    before = db_state()

    response = _request(client, case, url, case.post_data(mine, mine))

    if visitor == "territory_admin":
        assert response.status_code == case.expected_for_admin, page_text(response)
        if case.method == "post":
            assert db_state() != before
    elif visitor == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
        assert db_state() == before
    else:
        assert response.status_code == 404
        assert "Page introuvable" in page_text(response)
        assert db_state() == before


# Destructive actions whose GET shows their confirmation step (issue 17): the others are POST only.
CONFIRMED_ACTIONS = {"POST espace_service_toggle deactivate", "POST espace_invitation_cancel _invitation"}
POST_ONLY = [case for case in ACTIONS if case.name not in {page.name for page in PAGES}]


@pytest.mark.parametrize("case", POST_ONLY, ids=lambda case: case.id)
def test_espace_actions_refuse_get_and_change_nothing(alice, case):
    mine = objects_of(alice)
    client = log_in(Client(), alice.territory_admin)
    before = db_state()
    response = client.get(case.url(mine, mine))
    if case.id in CONFIRMED_ACTIONS:
        assert response.status_code == 200
        assert 'name="confirmer" value="1"' in response.content.decode()
    else:
        assert response.status_code == 405
    assert db_state() == before


# Tenant isolation -------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_other_espace_urls_answer_404_to_an_espace_admin(alice, bob, case):
    objects_of(alice)
    theirs = objects_of(bob)
    client = log_in(Client(), alice.territory_admin)
    before = db_state()

    response = _request(client, case, case.url(theirs, theirs), case.post_data(theirs, theirs))

    assert response.status_code == 404
    assert db_state() == before


OBJECT_CASES = [case for case in ALL_CASES if case.args in (_org, _invitation, _agent)]


@pytest.mark.parametrize("case", OBJECT_CASES, ids=lambda case: case.id)
def test_own_espace_with_other_espace_object_ids_answers_404(alice, bob, case):
    mine = objects_of(alice)
    theirs = objects_of(bob)
    client = log_in(Client(), alice.territory_admin)
    before = db_state()

    response = _request(client, case, case.url(mine, theirs), case.post_data(mine, theirs))

    assert response.status_code == 404
    assert db_state() == before


def test_agent_of_the_other_espace_cannot_be_added_to_own_organisation_via_the_edit_form(alice, bob):
    client = log_in(Client(), alice.territory_admin)
    url = reverse("espace_agent_edit", args=[alice.territory.pk, bob.agent.pk])
    before = db_state()
    response = client.post(url, {"services": [alice.service.pk], f"org_{alice.organisation.pk}": "admin"})
    assert response.status_code == 404
    assert db_state() == before


@pytest.mark.parametrize(
    "url_args",
    [
        pytest.param(lambda w: [w.service.pk + 1000, "activer"], id="unknown-service"),
        pytest.param(lambda w: [w.service.pk, "supprimer"], id="unknown-operation"),
    ],
)
def test_service_toggle_with_an_unknown_service_or_operation_answers_404(alice, url_args):
    client = log_in(Client(), alice.territory_admin)
    before = db_state()
    response = client.post(reverse("espace_service_toggle", args=[alice.territory.pk, *url_args(alice)]))
    assert response.status_code == 404
    assert db_state() == before


def test_unknown_espace_answers_404_like_a_foreign_one(alice):
    client = log_in(Client(), alice.territory_admin)
    assert client.get(reverse("espace_agents", args=[alice.territory.pk + 1000])).status_code == 404


BOB_MARKERS = ["bob-admin@exemple.fr", "bob-orga@exemple.fr", "bob-agent@exemple.fr", "bob Centre", "bob Nord"]


@pytest.mark.parametrize(
    "name",
    [
        "espace_agents",
        "espace_invitations",
        "espace_organisations",
        "espace_journal",
        "espace_invite",
        "espace_services",
        "espace_stats",
    ],
)
def test_other_espace_data_never_appears_in_own_lists(alice, bob, name):
    objects_of(alice)
    objects_of(bob)
    bob_client = log_in(Client(), bob.territory_admin)
    bob_client.post(reverse("espace_organisation_create", args=[bob.territory.pk]), {"name": "bob Sud"})
    bob_client.post(
        reverse("espace_agent_edit", args=[bob.territory.pk, bob.agent.pk]),
        {"services": [bob.service.pk], f"org_{bob.organisation.pk}": "admin"},
    )
    client = log_in(Client(), alice.territory_admin)

    response = client.get(reverse(name, args=[alice.territory.pk]))

    assert response.status_code == 200
    text = page_text(response)
    for marker in [*BOB_MARKERS, "invite-bob@exemple.fr", "bob Sud", "Espace bob"]:
        assert marker not in text
    assert "alice" in text


def test_agents_list_filtered_by_an_organisation_of_the_other_espace_shows_nothing_of_it(alice, bob):
    client = log_in(Client(), alice.territory_admin)
    response = client.get(reverse("espace_agents", args=[alice.territory.pk]), {"organisation": bob.organisation.pk})
    assert response.status_code == 200
    emails = {row["agent"].email for row in response.context["rows"]}
    assert emails == {"alice-admin@exemple.fr", "alice-orga@exemple.fr", "alice-agent@exemple.fr"}
    assert "Sélectionnez un choix valide" in page_text(response)


def test_services_page_counts_only_own_agents(alice, bob):
    extra = factories.AgentFactory()
    factories.AgentRoleFactory(agent=extra, organisation=bob.organisation)
    factories.AgentServiceFactory(agent=extra, territory=bob.territory, service=bob.service)
    client = log_in(Client(), alice.territory_admin)
    rows = client.get(reverse("espace_services", args=[alice.territory.pk])).context["rows"]
    counts = {row["service"].name: row["agents"] for row in rows}
    assert counts["Service social"] == 3


# Organisation pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visitor", "expected"),
    [
        ("territory_admin", 200),
        ("organisation_admin", 200),
        ("agent", 200),
        ("other_espace_admin", 404),
        ("anonymous", 302),
    ],
)
def test_organisation_home_matrix(alice, bob, visitor, expected):
    client = _client_for(visitor, alice, bob)
    response = client.get(reverse("organisation_home", args=[alice.organisation.pk]))
    assert response.status_code == expected
    if expected == 200:
        assert alice.organisation.name in page_text(response)
    if expected == 302:
        assert response.url.startswith(reverse("login") + "?next=")


def test_organisation_home_of_a_sibling_organisation_answers_404(alice):
    client = log_in(Client(), alice.agent)
    assert client.get(reverse("organisation_home", args=[alice.other_organisation.pk])).status_code == 404


def test_espace_admin_without_a_role_in_an_organisation_cannot_open_its_page(alice):
    # espace administration and organisation membership are separate rights
    client = log_in(Client(), alice.territory_admin)
    assert client.get(reverse("organisation_home", args=[alice.other_organisation.pk])).status_code == 404


def test_intervenant_session_cannot_open_the_organisation_page(alice):
    intervenant = factories.AgentFactory(email="intervenant@exemple.fr")
    factories.AgentRoleFactory(agent=intervenant, organisation=alice.organisation, access_level="intervenant")
    client = log_in(Client(), intervenant)
    response = client.get(reverse("organisation_home", args=[alice.organisation.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_home_lists_only_the_agents_own_organisations_and_espaces(alice, bob):
    text = page_text(log_in(Client(), alice.territory_admin).get(reverse("home")))
    assert "alice Centre" in text
    assert "Espace alice" in text
    assert "bob Centre" not in text
    assert "Espace bob" not in text


# Every espace URL, including those of later features ----------------------------------------


def _any_espace_url(name, territory_id) -> str:
    """The URL `name` for this espace, other parameters filled with plausible values."""
    kwargs = {}
    for param, converter in ESPACE_PATTERNS[name].pattern.converters.items():
        if param == "territory_id":
            kwargs[param] = territory_id
        elif converter.regex == "[0-9]+":
            kwargs[param] = 1
        else:
            kwargs[param] = "x"
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", sorted(ESPACE_PATTERNS))
def test_every_espace_url_is_closed_to_other_espaces_agents_and_anonymous(alice, bob, name, method):
    objects_of(alice)
    objects_of(bob)
    before = db_state()
    foreign = getattr(log_in(Client(), alice.territory_admin), method)(_any_espace_url(name, bob.territory.pk))
    agent = getattr(log_in(Client(), alice.agent), method)(_any_espace_url(name, alice.territory.pk))
    org_admin = getattr(log_in(Client(), alice.organisation_admin), method)(_any_espace_url(name, alice.territory.pk))
    anonymous = getattr(Client(), method)(_any_espace_url(name, alice.territory.pk))

    allowed = {404} if method == "post" else {404, 405}  # GET on a POST-only action: 405 for everyone
    assert foreign.status_code in allowed
    assert agent.status_code in allowed
    assert org_admin.status_code in allowed
    if anonymous.status_code != 405 or method == "post":
        assert anonymous.status_code == 302
        assert anonymous.url.startswith(reverse("login") + "?next=")
    assert db_state() == before
