"""Who may open which agenda page: every page × every kind of visitor, and tenant isolation.

Organisation admins manage lieux and every agent's agenda; basic agents their own agenda (and read the
lieux); anybody else gets a 404 (never a 403), anonymous visitors the login page."""

from dataclasses import dataclass
from datetime import date, time

import pytest
from django.urls import reverse

from rdv.accounts.models import AccessLevel
from rdv.agendas import services
from tests import factories
from tests.agendas.conftest import NOW, TUESDAY, agenda_state
from tests.helpers import as_agent, log_in

ADMIN_ONLY = {"lieu_create", "lieu_edit", "lieu_archive", "lieu_restore"}
MEMBER_PAGES = {"lieu_list", "agenda_agents", "slot_search"}


@dataclass
class Objects:
    agenda: object
    owner: object  # whose agenda the URLs point at
    plage: object
    absence: object
    lieu: object  # unused by plages: it can be archived
    archived_lieu: object


def objects_for(agenda, owner) -> Objects:
    plage = agenda.create_plage(agent=owner, **agenda.weekly(title=f"Plage de {owner.email}"))
    services.cancel_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, date(2027, 3, 16))
    absence = services.create_absence(as_agent(owner, agenda.organisation), owner, agenda.absence_data())
    lieu = factories.LieuFactory(organisation=agenda.organisation, name=f"Libre {owner.pk}")
    archived = factories.LieuFactory(organisation=agenda.organisation, name=f"Archivé {owner.pk}", archived_at=NOW)
    return Objects(agenda, owner, plage, absence, lieu, archived)


# name, method, url arguments after the organisation id
CASES = [
    ("lieu_list", "get", lambda o: []),
    ("lieu_create", "get", lambda o: []),
    ("lieu_edit", "get", lambda o: [o.lieu.pk]),
    ("lieu_archive", "post", lambda o: [o.lieu.pk]),
    ("lieu_restore", "post", lambda o: [o.archived_lieu.pk]),
    ("agenda_agents", "get", lambda o: []),
    ("slot_search", "get", lambda o: []),
    ("agenda_week", "get", lambda o: [o.owner.pk]),
    ("plage_list", "get", lambda o: [o.owner.pk]),
    ("plage_create", "get", lambda o: [o.owner.pk]),
    ("plage_edit", "get", lambda o: [o.owner.pk, o.plage.pk]),
    ("plage_delete", "get", lambda o: [o.owner.pk, o.plage.pk]),
    ("plage_delete", "post", lambda o: [o.owner.pk, o.plage.pk]),
    ("plage_occurrence", "get", lambda o: [o.owner.pk, o.plage.pk, "2027-03-09"]),
    ("plage_occurrence", "post", lambda o: [o.owner.pk, o.plage.pk, "2027-03-09"]),
    ("plage_occurrence_cancel", "post", lambda o: [o.owner.pk, o.plage.pk, "2027-03-09"]),
    ("plage_occurrence_restore", "post", lambda o: [o.owner.pk, o.plage.pk, "2027-03-16"]),
    ("plage_edit_following", "get", lambda o: [o.owner.pk, o.plage.pk, "2027-03-09"]),
    ("plage_edit_following", "post", lambda o: [o.owner.pk, o.plage.pk, "2027-03-09"]),
    ("absence_list", "get", lambda o: [o.owner.pk]),
    ("absence_create", "get", lambda o: [o.owner.pk]),
    ("absence_create", "post", lambda o: [o.owner.pk]),
    ("absence_edit", "get", lambda o: [o.owner.pk, o.absence.pk]),
    ("absence_delete", "get", lambda o: [o.owner.pk, o.absence.pk]),
    ("absence_delete", "post", lambda o: [o.owner.pk, o.absence.pk]),
]
CASE_IDS = [f"{method.upper()} {name}" for name, method, _ in CASES]

# Who visits, and whose agenda the URLs point at ("self", "agent": the basic agent, "admin": the
# organisation admin).
VISITORS = {
    "organisation admin on an agent's agenda": ("organisation_admin", "agent"),
    "organisation admin on their own agenda": ("organisation_admin", "admin"),
    "basic agent on their own agenda": ("agent", "agent"),
    "basic agent on a colleague's agenda": ("agent", "admin"),
    "agent of another organisation": ("other_organisation_agent", "agent"),
    "espace admin who is not a member": ("espace_admin_not_member", "agent"),
    "intervenant of the organisation (never logged in)": ("intervenant", "agent"),
    "admin of another espace": ("bob_admin", "agent"),
    "anonymous": (None, "agent"),
}


def expected_status(visitor: str, name: str, method: str) -> int:
    actor, owner = VISITORS[visitor]
    ok = 302 if method == "post" else 200
    if actor in (None, "intervenant"):
        return 302  # to the login page: intervenants have no session (rdv.accounts.backends)
    if actor == "organisation_admin":
        return ok
    if actor == "agent":
        if name in ADMIN_ONLY:
            return 404
        if name in MEMBER_PAGES:
            return ok
        return ok if owner == "agent" else 404
    return 404


def actor_of(agenda, bob, kind: str):
    world = agenda.world
    if kind in ("organisation_admin", "agent"):
        return getattr(world, kind)
    if kind == "other_organisation_agent":
        agent = factories.AgentFactory(email="voisin@exemple.fr")
        factories.AgentRoleFactory(agent=agent, organisation=world.other_organisation, access_level=AccessLevel.ADMIN)
        return agent
    if kind == "espace_admin_not_member":
        agent = factories.AgentFactory(email="espace@exemple.fr")
        factories.TerritoryRoleFactory(agent=agent, territory=world.territory)
        return agent
    if kind == "intervenant":
        agent = factories.AgentFactory(email="intervenant@exemple.fr")
        factories.AgentRoleFactory(agent=agent, organisation=world.organisation, access_level=AccessLevel.INTERVENANT)
        return agent
    if kind == "bob_admin":
        return bob.territory_admin
    return None


def post_data(name: str, objects: Objects) -> dict:
    if name == "plage_delete":
        return {"action": "supprimer"}
    if name == "plage_occurrence":
        return {"start_time": "10:00", "end_time": "11:00"}
    if name == "plage_edit_following":
        return {
            "lieu": objects.agenda.lieu.pk,
            "motifs": [objects.agenda.motif.pk],
            "start_time": "13:00",
            "end_time": "14:00",
            "recurrence": "weekly",
            "recurrence_interval": "1",
            "recurrence_weekdays": ["1"],
        }
    if name == "absence_create":
        return {"title": "Formation", "whole_day": "on", "first_date": "2027-04-01", "recurrence": "none"}
    return {}


@pytest.mark.django_db
@pytest.mark.parametrize("visitor", list(VISITORS))
@pytest.mark.parametrize(("name", "method", "args"), CASES, ids=CASE_IDS)
def test_agenda_page_permissions(client, agenda, bob, visitor, name, method, args):
    actor_kind, owner_kind = VISITORS[visitor]
    owner = agenda.world.agent if owner_kind == "agent" else agenda.world.organisation_admin
    objects = objects_for(agenda, owner)
    actor = actor_of(agenda, bob, actor_kind) if actor_kind else None
    if actor is not None:
        log_in(client, actor)
    path = reverse(name, args=[agenda.organisation.pk, *args(objects)])
    before = agenda_state()

    response = client.post(path, post_data(name, objects)) if method == "post" else client.get(path)

    expected = expected_status(visitor, name, method)
    assert response.status_code == expected, f"{visitor}: {method.upper()} {path}"
    refused = expected == 404 or actor_kind in (None, "intervenant")
    if actor_kind in (None, "intervenant"):
        assert response.url.startswith(reverse("login"))
    if refused:
        assert agenda_state() == before  # a refused request changes nothing
    elif method == "post":
        assert agenda_state() != before  # the allowed operation did something


# Tenant isolation --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ids_of_another_espace_answer_404_inside_ones_own_organisation(client, agenda, bob):
    bob_lieu = factories.LieuFactory(organisation=bob.organisation)
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service)
    bob_plage = services.create_plage(
        as_agent(bob.organisation_admin, bob.organisation),
        bob.agent,
        {"lieu": bob_lieu, "motifs": [bob_motif], "first_date": TUESDAY, "start_time": time(9), "end_time": time(12)},
    )
    bob_absence = factories.AbsenceFactory(organisation=bob.organisation, agent=bob.agent)
    organisation = agenda.organisation.pk
    mine = agenda.world.agent.pk
    log_in(client, agenda.world.organisation_admin)
    before = agenda_state()
    for path in [
        reverse("lieu_edit", args=[organisation, bob_lieu.pk]),
        reverse("agenda_week", args=[organisation, bob.agent.pk]),
        reverse("plage_list", args=[organisation, bob.agent.pk]),
        reverse("plage_edit", args=[organisation, mine, bob_plage.pk]),
        reverse("plage_occurrence", args=[organisation, mine, bob_plage.pk, "2027-03-02"]),
        reverse("absence_edit", args=[organisation, mine, bob_absence.pk]),
        reverse("lieu_list", args=[bob.organisation.pk]),
        reverse("agenda_week", args=[bob.organisation.pk, bob.agent.pk]),
        reverse("slot_search", args=[bob.organisation.pk]),
    ]:
        assert client.get(path).status_code == 404, path
    for path in [
        reverse("lieu_archive", args=[organisation, bob_lieu.pk]),
        reverse("plage_delete", args=[organisation, mine, bob_plage.pk]),
        reverse("plage_occurrence_cancel", args=[organisation, mine, bob_plage.pk, "2027-03-02"]),
        reverse("absence_delete", args=[organisation, mine, bob_absence.pk]),
    ]:
        assert client.post(path, {"action": "supprimer"}).status_code == 404, path
    assert agenda_state() == before


@pytest.mark.django_db
def test_an_agent_in_two_organisations_has_separate_agendas_per_organisation(client, agenda):
    world = agenda.world
    factories.AgentRoleFactory(agent=world.agent, organisation=world.other_organisation)
    other_lieu = factories.LieuFactory(organisation=world.other_organisation, name="Antenne Sud")
    other_motif = factories.MotifFactory(organisation=world.other_organisation, service=world.service)
    elsewhere = agenda.create_plage(
        organisation=world.other_organisation, lieu=other_lieu, motifs=[other_motif], title="Ailleurs"
    )
    agenda.create_plage(title="Ici", start_time=time(14), end_time=time(16))
    log_in(client, world.organisation_admin)  # admin of the first organisation only
    page = client.get(reverse("plage_list", args=[world.organisation.pk, world.agent.pk])).content.decode()
    assert "Ici" in page and "Ailleurs" not in page
    assert (
        client.get(reverse("plage_edit", args=[world.organisation.pk, world.agent.pk, elsewhere.pk])).status_code == 404
    )
    assert client.get(reverse("plage_list", args=[world.other_organisation.pk, world.agent.pk])).status_code == 404


@pytest.mark.django_db
def test_the_agendas_page_lists_what_each_visitor_manages(client, agenda):
    world = agenda.world
    log_in(client, world.agent)
    page = client.get(reverse("agenda_agents", args=[world.organisation.pk])).content.decode()
    assert str(world.agent) in page and str(world.organisation_admin) not in page
    log_in(client, world.organisation_admin)
    page = client.get(reverse("agenda_agents", args=[world.organisation.pk])).content.decode()
    assert str(world.agent) in page and str(world.territory_admin) in page


@pytest.mark.django_db
def test_organisation_admins_manage_the_agenda_of_an_intervenant(client, agenda):
    world = agenda.world
    intervenant = factories.AgentFactory(email="intervenant@exemple.fr", first_name="Inès", last_name="Tervenant")
    factories.AgentRoleFactory(agent=intervenant, organisation=world.organisation, access_level=AccessLevel.INTERVENANT)
    factories.AgentServiceFactory(agent=intervenant, territory=world.territory, service=world.service)
    log_in(client, world.organisation_admin)
    assert "Inès Tervenant" in client.get(reverse("agenda_agents", args=[world.organisation.pk])).content.decode()
    response = client.post(
        reverse("plage_create", args=[world.organisation.pk, intervenant.pk]),
        {
            "lieu": agenda.lieu.pk,
            "motifs": [agenda.motif.pk],
            "first_date": "2027-03-02",
            "start_time": "09:00",
            "end_time": "12:00",
            "recurrence": "none",
        },
    )
    assert response.status_code == 302
    assert intervenant.plages.get().organisation == world.organisation
    log_in(client, world.agent)  # a basic agent does not
    assert client.get(reverse("plage_list", args=[world.organisation.pk, intervenant.pk])).status_code == 404
