"""/api/v1/organisations/{id}/lieux: members read, organisation admins manage (rdv.agendas.services)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.agendas.models import Lieu
from rdv.core.models import AuditLog
from tests import factories
from tests.api.people import MEMBERS, OUTSIDERS, person, unchanged

pytestmark = pytest.mark.django_db

NEW = {"name": "Maison des services", "address": "2 place de la Mairie 26000 Valence", "phone_number": "04 75 00 00 00"}


def url(world, lieu_id=None, action=None):
    base = f"/api/v1/organisations/{world.organisation.pk}/lieux"
    if lieu_id is not None:
        base += f"/{lieu_id}"
    return base + (f"/{action}" if action else "")


@pytest.mark.parametrize("who", MEMBERS)
def test_members_read_the_organisation_s_lieux(alice, api, who):
    lieu = factories.LieuFactory(organisation=alice.organisation, name="Accueil", phone="+33475000000")
    factories.LieuFactory(organisation=alice.other_organisation)
    client = api(person(who, alice, None))
    listed = client.get(url(alice)).json()
    assert listed["lieux"] == [
        {
            "id": lieu.pk,
            "name": "Accueil",
            "address": lieu.address,
            "phone_number": "+33475000000",
            "organisation_id": alice.organisation.pk,
            "single_use": False,
            "is_open": True,
            "archived_at": None,
        }
    ]
    assert client.get(url(alice, lieu.pk)).json()["lieu"]["id"] == lieu.pk


@pytest.mark.parametrize("who", ["organisation_admin", "territory_admin"])
def test_organisation_admins_create_change_archive_and_restore(alice, api, who):
    client = api(person(who, alice, None))
    created = client.post(url(alice), NEW)
    assert created.status_code == 201, created.json()
    lieu = created.json()["lieu"]
    assert lieu["phone_number"] == "+33475000000" and lieu["is_open"] is True
    changed = client.patch(url(alice, lieu["id"]), {"is_open": False, "name": "MDS"})
    assert changed.status_code == 200
    assert changed.json()["lieu"] | {"name": "MDS", "is_open": False} == changed.json()["lieu"]
    assert changed.json()["lieu"]["address"] == NEW["address"]  # absent: unchanged
    archived = client.post(url(alice, lieu["id"], "archive"))
    assert archived.status_code == 200 and archived.json()["lieu"]["archived_at"] is not None
    assert client.get(url(alice), {"active": "true"}).json()["lieux"] == []
    assert [x["id"] for x in client.get(url(alice), {"active": "false"}).json()["lieux"]] == [lieu["id"]]
    restored = client.post(url(alice, lieu["id"], "restore"))
    assert restored.status_code == 200 and restored.json()["lieu"]["archived_at"] is None
    actions = list(
        AuditLog.objects.filter(object_type="agendas.Lieu", object_id=str(lieu["id"]))
        .order_by("pk")
        .values_list("action", "actor_id")
    )
    actor = person(who, alice, None).pk
    assert actions == [
        ("lieu.created", actor),
        ("lieu.updated", actor),
        ("lieu.archived", actor),
        ("lieu.restored", actor),
    ]


def test_a_basic_agent_reads_but_may_not_change_lieux(alice, api):
    lieu = factories.LieuFactory(organisation=alice.organisation)
    client = api(alice.agent)
    with unchanged("agendas.Lieu"):
        for response in (
            client.post(url(alice), NEW),
            client.patch(url(alice, lieu.pk), {"name": "Autre"}),
            client.post(url(alice, lieu.pk, "archive")),
        ):
            assert response.status_code == 403 and response.json()["code"] == "forbidden"


@pytest.mark.parametrize("who", OUTSIDERS)
def test_agents_of_another_organisation_or_espace_get_404(alice, bob, api, who):
    lieu = factories.LieuFactory(organisation=alice.organisation)
    client = api(person(who, alice, bob))
    with unchanged("agendas.Lieu"):
        for response in (
            client.get(url(alice)),
            client.get(url(alice, lieu.pk)),
            client.post(url(alice), NEW),
            client.patch(url(alice, lieu.pk), {"name": "Pirate"}),
            client.post(url(alice, lieu.pk, "archive")),
        ):
            assert response.status_code == 404


def test_an_admin_cannot_reach_another_organisation_s_lieu_through_its_own(alice, api):
    other = factories.LieuFactory(organisation=alice.other_organisation)
    client = api(alice.territory_admin)
    with unchanged("agendas.Lieu"):
        assert client.patch(url(alice, other.pk), {"name": "X"}).status_code == 404
        assert client.post(url(alice, other.pk, "archive")).status_code == 404


def test_a_lieu_used_by_running_plages_is_not_archived(alice, api):
    lieu = factories.LieuFactory(organisation=alice.organisation)
    factories.PlageOuvertureFactory(
        organisation=alice.organisation, agent=alice.agent, lieu=lieu, first_date=datetime.date(2099, 1, 5)
    )
    client = api(alice.organisation_admin)
    with unchanged("agendas.Lieu"):
        refused = client.post(url(alice, lieu.pk, "archive"))
    assert refused.status_code == 422 and refused.json()["code"] == "lieu_in_use"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"address": "1 rue"}, "name"),
        ({"name": "", "address": "1 rue"}, "name"),
        ({"name": "x" * 100_000, "address": "1 rue"}, "name"),
        ({"name": "A", "address": "x" * 301}, "address"),
        ({"name": "A", "address": "1 rue", "phone_number": "12"}, "phone_number"),
        ({"name": "A", "address": "1 rue", "phone_number": "0" * 50_000}, "phone_number"),
        ({"name": 3, "address": "1 rue"}, "name"),
        ({"name": "A", "address": "1 rue", "is_open": "bof"}, "is_open"),
        ({"name": "A", "address": "1 rue", "is_open": 1}, "is_open"),
        ({"name": "A", "address": "1 rue", "availability": "enabled"}, "availability"),
        ({"name": "Accueil", "address": "1 rue"}, "name"),  # taken (case ignored)
    ],
)
def test_bad_input_is_422_with_the_field_and_changes_nothing(alice, api, data, field):
    factories.LieuFactory(organisation=alice.organisation, name="ACCUEIL")
    client = api(alice.organisation_admin)
    with unchanged("agendas.Lieu"):
        response = client.post(url(alice), data)
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == field


def test_bad_ids_and_bodies_are_4xx_json(alice, api):
    lieu = factories.LieuFactory(organisation=alice.organisation)
    client = api(alice.organisation_admin)
    with unchanged("agendas.Lieu"):
        for lieu_id in (2**63, 2**70, 0, 999_999):
            assert client.get(url(alice, lieu_id)).status_code == 404
            assert client.patch(url(alice, lieu_id), {"name": "X"}).status_code == 404
        assert client.patch(url(alice, lieu.pk), {"name": None}).json()["code"] == "name_required"
        assert client.patch(url(alice, lieu.pk), "[").status_code == 400
        assert client.get(url(alice), {"active": "peut-être"}).status_code == 422


def test_a_page_costs_the_same_queries_whatever_its_size(alice, api):
    client = api(alice.agent)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(alice)).status_code == 200
        return len(captured)

    factories.LieuFactory(organisation=alice.organisation)
    queries()  # the token records its use at most once a minute
    few = queries()
    factories.LieuFactory.create_batch(20, organisation=alice.organisation)
    assert queries() == few <= 6
    assert Lieu.objects.count() == 21
