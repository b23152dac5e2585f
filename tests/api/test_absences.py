"""/api/v1/organisations/{id}/absences: an agent's own absences, everyone's for organisation admins."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.agendas.models import Absence
from rdv.core.models import AuditLog
from tests import factories
from tests.api.people import OUTSIDERS, person, unchanged

pytestmark = pytest.mark.django_db

NEW = {"title": "Formation", "first_day": "2027-03-09", "start_time": "09:00", "end_time": "12:30"}


def url(world, absence_id=None):
    base = f"/api/v1/organisations/{world.organisation.pk}/absences"
    return base if absence_id is None else f"{base}/{absence_id}"


def absence_of(world, agent, **fields):
    return factories.AbsenceFactory(organisation=world.organisation, agent=agent, **fields)


def test_a_basic_agent_manages_their_own_absences(alice, api):
    client = api(alice.agent)
    created = client.post(url(alice), NEW)
    assert created.status_code == 201, created.json()
    record = created.json()["absence"]
    assert (
        record
        | {
            "title": "Formation",
            "first_day": "2027-03-09",
            "end_day": "2027-03-09",
            "start_time": "09:00:00",
            "end_time": "12:30:00",
            "rrule": None,
            "recurrence": {"kind": "none", "interval": 1, "weekdays": [], "until": None, "last_of_month": False},
        }
        == record
    )
    assert record["agent"]["id"] == alice.agent.pk and record["organisation"]["id"] == alice.organisation.pk
    assert "BEGIN:VEVENT" in record["ical"] and record["ical_uid"].startswith("absence_")

    changed = client.patch(url(alice, record["id"]), {"end_time": "17:00", "title": "Formation SST"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["absence"]["end_time"] == "17:00:00"
    assert changed.json()["absence"]["first_day"] == "2027-03-09"  # absent: unchanged
    assert [a["id"] for a in client.get(url(alice)).json()["absences"]] == [record["id"]]
    deleted = client.delete(url(alice, record["id"]))
    assert deleted.status_code == 204 and deleted.content == b""
    assert not Absence.objects.exists()
    actions = list(AuditLog.objects.filter(object_type="agendas.Absence").order_by("pk").values_list("action", "actor"))
    assert actions == [
        ("absence.created", alice.agent.pk),
        ("absence.updated", alice.agent.pk),
        ("absence.deleted", alice.agent.pk),
    ]


def test_a_basic_agent_neither_sees_nor_writes_a_colleague_s_absences(alice, api):
    theirs = absence_of(alice, alice.organisation_admin)
    client = api(alice.agent)
    with unchanged("agendas.Absence"):
        assert client.get(url(alice)).json()["absences"] == []
        assert client.get(url(alice, theirs.pk)).status_code == 404
        assert client.patch(url(alice, theirs.pk), {"title": "X"}).status_code == 404
        assert client.delete(url(alice, theirs.pk)).status_code == 404
        refused = client.post(url(alice), {**NEW, "agent_id": alice.organisation_admin.pk})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


@pytest.mark.parametrize("who", ["organisation_admin", "territory_admin"])
def test_organisation_admins_manage_every_agent_s_absences_with_the_agent_filter(alice, api, who):
    mine = absence_of(alice, alice.agent, first_date=datetime.date(2027, 3, 1), end_date=datetime.date(2027, 3, 1))
    intervenant = factories.AgentRoleFactory(organisation=alice.organisation, access_level="intervenant").agent
    client = api(person(who, alice, None))
    created = client.post(url(alice), {**NEW, "agent_id": intervenant.pk, "whole_day": True})
    assert created.status_code == 201, created.json()
    assert created.json()["absence"]["start_time"] == "00:00:00"
    listed = client.get(url(alice)).json()["absences"]
    assert [a["id"] for a in listed] == [mine.pk, created.json()["absence"]["id"]]
    only = client.get(url(alice), {"agent_id": alice.agent.pk}).json()["absences"]
    assert [a["id"] for a in only] == [mine.pk]
    assert client.patch(url(alice, mine.pk), {"title": "Congés d’été"}).status_code == 200
    assert client.delete(url(alice, mine.pk)).status_code == 204


@pytest.mark.parametrize("who", OUTSIDERS)
def test_agents_of_another_organisation_or_espace_get_404(alice, bob, api, who):
    absence = absence_of(alice, alice.agent)
    client = api(person(who, alice, bob))
    with unchanged("agendas.Absence"):
        for response in (
            client.get(url(alice)),
            client.get(url(alice, absence.pk)),
            client.post(url(alice), NEW),
            client.patch(url(alice, absence.pk), {"title": "X"}),
            client.delete(url(alice, absence.pk)),
        ):
            assert response.status_code == 404


def test_an_agent_outside_the_organisation_is_404_as_agent_id(alice, bob, api):
    nord = person("nord_agent", alice, bob)
    client = api(alice.organisation_admin)
    with unchanged("agendas.Absence"):
        for agent_id in (nord.pk, bob.agent.pk, 999_999, 2**63 - 1):
            refused = client.post(url(alice), {**NEW, "agent_id": agent_id})
            assert refused.status_code == 404 and refused.json()["errors"][0]["field"] == "agent_id"


def test_a_recurring_absence_has_its_rrule_and_recurrence(alice, api):
    client = api(alice.agent)
    weekly = {**NEW, "recurrence": {"kind": "weekly", "interval": 2, "weekdays": ["TU", "TH"], "until": "2027-06-30"}}
    record = client.post(url(alice), weekly).json()["absence"]
    assert record["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270630T215959Z"
    assert record["recurrence"] == {
        "kind": "weekly",
        "interval": 2,
        "weekdays": ["TU", "TH"],
        "until": "2027-06-30",
        "last_of_month": False,
    }
    stored = Absence.objects.get()
    assert stored.recurrence_weekdays == [1, 3]
    once = client.patch(url(alice, record["id"]), {"recurrence": None}).json()["absence"]
    assert once["rrule"] is None and once["recurrence"]["kind"] == "none"


@pytest.mark.parametrize(
    "data, field",
    [
        ({**NEW, "title": ""}, "title"),
        ({**NEW, "title": "x" * 100_000}, "title"),
        ({**NEW, "first_day": "09/03/2027"}, "first_day"),
        ({**NEW, "first_day": "2027-03-09T09:00:00"}, "first_day"),
        ({**NEW, "start_time": "25:00"}, "start_time"),
        ({**NEW, "start_time": "09:00:00+01:00"}, "start_time"),
        ({**NEW, "end_time": "08:00"}, "end_time"),
        ({**NEW, "end_day": "2027-03-01"}, "end_day"),
        ({**NEW, "start_time": None}, "start_time"),
        ({**NEW, "agent_id": 2**70}, "agent_id"),
        ({**NEW, "agent_id": "moi"}, "agent_id"),
        ({**NEW, "recurrence": {"kind": "daily"}}, "recurrence.kind"),
        ({**NEW, "recurrence": {"kind": "weekly", "interval": 53}}, "recurrence.interval"),
        ({**NEW, "recurrence": {"kind": "weekly", "interval": 2**70}}, "recurrence.interval"),
        ({**NEW, "recurrence": {"kind": "weekly", "weekdays": ["XX"]}}, "recurrence.weekdays.0"),
        ({**NEW, "recurrence": {"kind": "weekly", "until": "2027-01-01"}}, "recurrence.until"),
        ({**NEW, "recurrence": {"kind": "weekly", "every": 2}}, "recurrence.every"),
        ({**NEW, "end_day": "2027-03-20", "recurrence": {"kind": "weekly"}}, "end_day"),
        ({**NEW, "rrule": "FREQ=DAILY"}, "rrule"),
        ({**NEW, "start_time": 32400}, "start_time"),
        ({**NEW, "first_day": 1_800_000_000}, "first_day"),
        ({**NEW, "whole_day": "yes"}, "whole_day"),
        ({**NEW, "recurrence": {"kind": "weekly", "last_of_month": 1}}, "recurrence.last_of_month"),
        # Dates from 1900 to 2200, as every face (an absence from year 1 to 9999 made the engine overflow).
        ({**NEW, "first_day": "0001-01-01", "end_day": "9999-12-31"}, "first_day"),
        ({**NEW, "end_day": "2201-01-01"}, "end_day"),
        ({**NEW, "recurrence": {"kind": "weekly", "until": "9999-12-31"}}, "recurrence.until"),
    ],
)
def test_bad_input_is_422_with_the_field_and_changes_nothing(alice, api, data, field):
    client = api(alice.agent)
    with unchanged("agendas.Absence"):
        response = client.post(url(alice), data)
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["message"]


def test_bad_ids_and_patches_are_4xx_and_change_nothing(alice, api):
    absence = absence_of(alice, alice.agent)
    client = api(alice.agent)
    with unchanged("agendas.Absence"):
        for absence_id in (2**63, 2**70, 0, 999_999):
            assert client.get(url(alice, absence_id)).status_code == 404
            assert client.delete(url(alice, absence_id)).status_code == 404
        assert client.patch(url(alice, absence.pk), {"first_day": "2027-03-05"}).json()["code"] == "end_before_start"
        assert client.patch(url(alice, absence.pk), {"title": None}).json()["code"] == "title_required"
        assert client.get(url(alice), {"agent_id": 2**64}).status_code == 422


def test_a_page_costs_the_same_queries_whatever_its_size(alice, api):
    client = api(alice.organisation_admin)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(alice)).status_code == 200
        return len(captured)

    absence_of(alice, alice.agent)
    queries()  # the token records its use at most once a minute
    few = queries()
    for day in range(1, 21):
        agent = factories.AgentRoleFactory(organisation=alice.organisation).agent
        absence_of(alice, agent, first_date=datetime.date(2027, 4, day), end_date=datetime.date(2027, 4, day))
    assert queries() == few <= 6
