"""/api/v1/organisations/{id}/plages_ouverture: an agent's own plages, everyone's for organisation
admins, with occurrence exceptions (rdv.agendas.services)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.agendas.models import PlageException, PlageOuverture
from rdv.core.models import AuditLog
from tests import factories
from tests.api.people import OUTSIDERS, person, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(alice):
    """An open lieu and a motif of alice's service in alice's organisation."""
    lieu = factories.LieuFactory(organisation=alice.organisation, name="Accueil")
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, name="Entretien")
    return lieu, motif


def new(place, **extra):
    lieu, motif = place
    return {
        "lieu_id": lieu.pk,
        "motif_ids": [motif.pk],
        "first_day": "2027-03-02",
        "start_time": "09:00",
        "end_time": "12:00",
        **extra,
    }


def url(world, plage_id=None, day=None):
    base = f"/api/v1/organisations/{world.organisation.pk}/plages_ouverture"
    if plage_id is not None:
        base += f"/{plage_id}"
    return base + (f"/occurrences/{day}" if day else "")


def plage_of(world, agent, place, **fields):
    lieu, motif = place
    return factories.PlageOuvertureFactory(
        organisation=world.organisation, agent=agent, lieu=lieu, motifs=[motif], **fields
    )


def test_a_basic_agent_manages_their_own_plages_and_occurrences(alice, api, place):
    client = api(alice.agent)
    weekly = new(place, title="Permanence", recurrence={"kind": "weekly", "weekdays": ["TU", "TH"]})
    created = client.post(url(alice), weekly)
    assert created.status_code == 201, created.json()
    record = created.json()["plage_ouverture"]
    assert record["title"] == "Permanence" and record["first_day"] == "2027-03-02"
    assert record["start_time"] == "09:00:00" and record["end_time"] == "12:00:00"
    assert record["agent"]["id"] == alice.agent.pk and record["lieu"]["name"] == "Accueil"
    assert [m["name"] for m in record["motifs"]] == ["Entretien"]
    assert record["rrule"] == "FREQ=WEEKLY;BYDAY=TU,TH"
    assert record["recurrence"]["weekdays"] == ["TU", "TH"] and record["exceptions"] == []
    assert record["ical_uid"].startswith("plage_ouverture_")
    plage_id = record["id"]

    changed = client.patch(url(alice, plage_id), {"end_time": "12:30"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["plage_ouverture"]["end_time"] == "12:30:00"
    assert changed.json()["plage_ouverture"]["rrule"] == "FREQ=WEEKLY;BYDAY=TU,TH"  # absent: unchanged

    cancelled = client.put(url(alice, plage_id, "2027-03-04"), {"cancelled": True})
    assert cancelled.status_code == 200, cancelled.json()
    moved = client.put(url(alice, plage_id, "2027-03-09"), {"start_time": "14:00", "end_time": "17:00"})
    assert moved.json()["plage_ouverture"]["exceptions"] == [
        {"date": "2027-03-04", "cancelled": True, "start_time": None, "end_time": None},
        {"date": "2027-03-09", "cancelled": False, "start_time": "14:00:00", "end_time": "17:00:00"},
    ]
    assert client.delete(url(alice, plage_id, "2027-03-04")).status_code == 204
    assert list(PlageException.objects.values_list("date", flat=True)) == [datetime.date(2027, 3, 9)]

    assert [p["id"] for p in client.get(url(alice)).json()["plages_ouverture"]] == [plage_id]
    assert client.delete(url(alice, plage_id)).status_code == 204
    assert not PlageOuverture.objects.exists()
    actions = list(
        AuditLog.objects.filter(object_type="agendas.PlageOuverture").order_by("pk").values_list("action", "actor")
    )
    assert actions == [
        (action, alice.agent.pk)
        for action in (
            "plage.created",
            "plage.updated",
            "plage.occurrence_cancelled",
            "plage.occurrence_moved",
            "plage.occurrence_restored",
            "plage.deleted",
        )
    ]


def test_a_basic_agent_neither_sees_nor_writes_a_colleague_s_plages(alice, api, place):
    theirs = plage_of(alice, alice.organisation_admin, place)
    client = api(alice.agent)
    with unchanged("agendas.PlageOuverture", "agendas.PlageException"):
        assert client.get(url(alice)).json()["plages_ouverture"] == []
        for response in (
            client.get(url(alice, theirs.pk)),
            client.patch(url(alice, theirs.pk), {"title": "X"}),
            client.delete(url(alice, theirs.pk)),
            client.put(url(alice, theirs.pk, "2027-03-02"), {"cancelled": True}),
        ):
            assert response.status_code == 404
        refused = client.post(url(alice), new(place, agent_id=alice.organisation_admin.pk))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


@pytest.mark.parametrize("who", ["organisation_admin", "territory_admin"])
def test_organisation_admins_manage_every_agent_s_plages_with_filters(alice, api, place, who):
    other_lieu = factories.LieuFactory(organisation=alice.organisation, name="Annexe")
    mine = plage_of(alice, alice.agent, place)
    client = api(person(who, alice, None))
    created = client.post(url(alice), new(place, agent_id=alice.organisation_admin.pk, lieu_id=other_lieu.pk))
    assert created.status_code == 201, created.json()
    created_id = created.json()["plage_ouverture"]["id"]

    def ids(**filters):
        return [p["id"] for p in client.get(url(alice), filters).json()["plages_ouverture"]]

    assert sorted(ids()) == sorted([mine.pk, created_id])
    assert ids(agent_id=alice.agent.pk) == [mine.pk]
    assert ids(lieu_id=other_lieu.pk) == [created_id]
    assert client.patch(url(alice, mine.pk), {"title": "Matin"}).status_code == 200
    assert client.delete(url(alice, mine.pk)).status_code == 204


@pytest.mark.parametrize("who", OUTSIDERS)
def test_agents_of_another_organisation_or_espace_get_404(alice, bob, api, place, who):
    plage = plage_of(alice, alice.agent, place)
    client = api(person(who, alice, bob))
    with unchanged("agendas.PlageOuverture", "agendas.PlageException"):
        for response in (
            client.get(url(alice)),
            client.get(url(alice, plage.pk)),
            client.post(url(alice), new(place)),
            client.patch(url(alice, plage.pk), {"title": "X"}),
            client.delete(url(alice, plage.pk)),
            client.put(url(alice, plage.pk, "2027-03-02"), {"cancelled": True}),
            client.delete(url(alice, plage.pk, "2027-03-02")),
        ):
            assert response.status_code == 404


def test_an_overlap_with_another_plage_of_the_agent_is_refused(alice, api, place):
    plage_of(alice, alice.agent, place)
    client = api(alice.agent)
    with unchanged("agendas.PlageOuverture"):
        refused = client.post(url(alice), new(place, start_time="11:00", end_time="13:00"))
    assert refused.status_code == 422 and refused.json()["code"] == "plage_overlap"
    assert "chevauche" in refused.json()["message"]


def test_lieux_and_motifs_follow_the_service_s_rules(alice, bob, api, place):
    _, motif = place
    closed = factories.LieuFactory(organisation=alice.organisation, is_open=False)
    elsewhere = factories.LieuFactory(organisation=alice.other_organisation)
    pmi = factories.ServiceFactory(name="PMI")
    other_service = factories.MotifFactory(organisation=alice.organisation, service=pmi)
    other_organisation = factories.MotifFactory(organisation=alice.other_organisation, service=alice.service)
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service)
    client = api(alice.agent)
    cases = [
        ({"lieu_id": closed.pk}, "lieu_closed", "lieu_id"),
        ({"lieu_id": elsewhere.pk}, "not_found", "lieu_id"),
        ({"lieu_id": 2**63 - 1}, "not_found", "lieu_id"),
        ({"lieu_id": None}, "lieu_required", "lieu_id"),
        ({"motif_ids": []}, "motifs_required", "motif_ids"),
        ({"motif_ids": [other_service.pk]}, "motif_service", "motif_ids"),
        ({"motif_ids": [motif.pk, other_organisation.pk]}, "not_found", "motif_ids"),
        ({"motif_ids": [bob_motif.pk]}, "not_found", "motif_ids"),
        ({"motif_ids": [2**70]}, "invalid", "motif_ids.0"),
    ]
    with unchanged("agendas.PlageOuverture"):
        for extra, code, field in cases:
            response = client.post(url(alice), new(place, **extra))
            assert response.status_code == (404 if code == "not_found" else 422), (extra, response.json())
            assert (response.json()["code"], response.json()["errors"][0]["field"]) == (code, field)


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"first_day": "02/03/2027"}, "first_day"),
        ({"first_day": None}, "first_day"),
        ({"start_time": "9h"}, "start_time"),
        ({"start_time": "09:00:00Z"}, "start_time"),
        ({"end_time": "08:00"}, "end_time"),
        ({"title": "x" * 100_000}, "title"),
        ({"title": ["liste"]}, "title"),
        ({"agent_id": 2**63}, "agent_id"),
        ({"recurrence": {"kind": "monthly", "interval": 13}}, "recurrence.interval"),
        ({"recurrence": {"kind": "weekly", "until": "2027-03-01"}}, "recurrence.until"),
        ({"recurrence": "weekly"}, "recurrence"),
        ({"motifs": [1]}, "motifs"),
        ({"first_day": "1899-12-31"}, "first_day"),  # dates from 1900 to 2200, as every face
        ({"recurrence": {"kind": "weekly", "until": "2201-01-01"}}, "recurrence.until"),
    ],
)
def test_bad_input_is_422_with_the_field_and_changes_nothing(alice, api, place, extra, field):
    client = api(alice.agent)
    with unchanged("agendas.PlageOuverture"):
        response = client.post(url(alice), new(place, **extra))
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == field


def test_bad_occurrences_and_ids_are_4xx_and_change_nothing(alice, api, place):
    plage = plage_of(alice, alice.agent, place)  # 2027-03-02 only
    client = api(alice.agent)
    with unchanged("agendas.PlageOuverture", "agendas.PlageException"):
        not_one = client.put(url(alice, plage.pk, "2027-03-03"), {"cancelled": True})
        assert not_one.status_code == 422 and not_one.json()["code"] == "not_an_occurrence"
        assert not_one.json()["errors"][0]["field"] == "day"
        assert client.put(url(alice, plage.pk, "2027-13-45"), {"cancelled": True}).status_code == 422
        both = client.put(url(alice, plage.pk, "2027-03-02"), {"cancelled": True, "start_time": "10:00"})
        assert both.status_code == 422
        backwards = client.put(url(alice, plage.pk, "2027-03-02"), {"start_time": "10:00", "end_time": "09:00"})
        assert backwards.json()["code"] == "end_before_start"
        assert client.delete(url(alice, plage.pk, "2027-03-02")).json()["code"] == "no_exception"
        for plage_id in (2**63, 2**70, 0, 999_999):
            assert client.get(url(alice, plage_id)).status_code == 404
            assert client.delete(url(alice, plage_id)).status_code == 404
        assert client.get(url(alice), {"lieu_id": "accueil"}).status_code == 422


def test_a_page_costs_the_same_queries_whatever_its_size(alice, api, place):
    client = api(alice.organisation_admin)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(alice)).status_code == 200
        return len(captured)

    plage_of(alice, alice.agent, place)
    queries()  # the token records its use at most once a minute
    few = queries()
    for day in range(1, 21):
        agent = factories.AgentRoleFactory(organisation=alice.organisation).agent
        plage = plage_of(alice, agent, place, first_date=datetime.date(2027, 4, day))
        factories.PlageExceptionFactory(plage=plage)
    assert queries() == few <= 8
