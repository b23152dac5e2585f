"""Free slots and next availability through the API: the agents' engine path, or the public rules
with online=true. "Now" is Tuesday 9 March 2027, 08:00 in Paris (tests/bookings/conftest.py):
agent and admin both open 09:00–12:00 every weekday for the 30-minute motif."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.bookings.conftest import NOW, TODAY, at, build_setup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def setup(alice):
    return build_setup(alice)


def url(setup, motif=None, what="slots"):
    return f"/api/v1/organisations/{setup.organisation.pk}/motifs/{(motif or setup.motif).pk}/{what}"


def test_a_day_of_slots_lists_every_start_with_its_free_agents(setup, api):
    response = api(setup.agent).get(url(setup), {"start_date": TODAY, "end_date": TODAY})
    assert response.status_code == 200
    data = response.json()
    starts = [slot["starts_at"] for slot in data["slots"]]
    assert starts == [f"2027-03-09T{h:02d}:{m:02d}:00+01:00" for h in (9, 10, 11) for m in (0, 30)]
    first = data["slots"][0]
    assert first["ends_at"] == "2027-03-09T09:30:00+01:00" and first["duration_in_min"] == 30
    assert first["lieu_id"] == setup.lieu.pk
    assert sorted(first["agent_ids"]) == sorted([setup.agent.pk, setup.admin.pk])


def test_a_booked_rdv_takes_its_agent_out_of_the_slot(setup, api):
    setup.book(at(TODAY, 10))
    data = api(setup.agent).get(url(setup), {"start_date": TODAY, "end_date": TODAY}).json()
    by_start = {slot["starts_at"]: slot["agent_ids"] for slot in data["slots"]}
    assert by_start["2027-03-09T10:00:00+01:00"] == [setup.admin.pk]
    assert sorted(by_start["2027-03-09T10:30:00+01:00"]) == sorted([setup.agent.pk, setup.admin.pk])
    only_agent = (
        api(setup.agent).get(url(setup), {"start_date": TODAY, "end_date": TODAY, "agent_ids": [setup.agent.pk]}).json()
    )
    assert "2027-03-09T10:00:00+01:00" not in [slot["starts_at"] for slot in only_agent["slots"]]
    assert len(only_agent["slots"]) == 5


def test_a_weekend_has_no_slot_and_the_next_availability_is_monday_morning(setup, api):
    saturday = TODAY + timedelta(days=4)
    client = api(setup.agent)
    weekend = client.get(url(setup), {"start_date": saturday, "end_date": saturday + timedelta(days=1)}).json()
    assert weekend["slots"] == []
    found = client.get(url(setup, what="next_availability"), {"after": saturday}).json()
    assert found["next_slot"]["starts_at"] == "2027-03-15T09:00:00+01:00"
    assert found["online"] is False


def test_31_days_at_most_and_dates_in_order(setup, api):
    client = api(setup.agent)
    ok = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY + timedelta(days=30)})
    assert ok.status_code == 200
    too_long = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY + timedelta(days=31)})
    assert too_long.status_code == 422 and too_long.json()["code"] == "range_too_long"
    backwards = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY - timedelta(days=1)})
    assert backwards.status_code == 422
    for bad in ({"start_date": "mardi", "end_date": TODAY}, {"end_date": TODAY}, {"start_date": "2027-02-30"}):
        response = client.get(url(setup), bad)
        assert response.status_code == 422, bad
        assert response.json()["errors"]


def test_the_query_count_does_not_grow_with_the_range(setup, api):
    client = api(setup.agent)
    client.get("/api/v1/organisations")  # the token's first use writes last_used_at
    counts = []
    for days in (0, 30):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY + timedelta(days=days)})
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 16


def test_motifs_the_agent_may_not_book_and_other_espaces_are_404(setup, bob, api):
    assert (
        api(setup.agent).get(url(setup, setup.other_motif), {"start_date": TODAY, "end_date": TODAY}).status_code == 404
    )
    assert api(bob.agent).get(url(setup), {"start_date": TODAY, "end_date": TODAY}).status_code == 404
    outsider = api(setup.outsider).get(url(setup), {"start_date": TODAY, "end_date": TODAY})
    assert outsider.status_code == 404
    unknown = f"/api/v1/organisations/{setup.organisation.pk}/motifs/{2**64}/slots"
    assert api(setup.agent).get(unknown, {"start_date": TODAY, "end_date": TODAY}).status_code == 404


def test_online_slots_follow_the_public_rules(setup, api):
    client = api(setup.agent)
    refused = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY, "online": "true"})
    assert refused.status_code == 422 and refused.json()["code"] == "not_online"
    setup.motif.bookable_online = True
    setup.motif.bookable_by = "everyone"
    setup.motif.min_booking_delay_minutes = 24 * 60
    setup.motif.save()
    online = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY + timedelta(days=1), "online": "true"})
    starts = [slot["starts_at"] for slot in online.json()["slots"]]
    # 24 hours ahead at least: nothing today, tomorrow from 09:00 (now + 24 h = 08:00 tomorrow).
    assert starts and all(start.startswith("2027-03-10") for start in starts)
    agents = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY, "online": "true", "agent_ids": [1]})
    assert agents.status_code == 422
    found = client.get(url(setup, what="next_availability"), {"online": "true"}).json()
    assert found["next_slot"]["starts_at"] == "2027-03-10T09:00:00+01:00"
    last_day = (NOW + timedelta(minutes=setup.motif.max_booking_delay_minutes)).date()
    assert found["searched_until"] == last_day.isoformat()


def test_no_token_is_401(setup, api):
    assert api(None).get(url(setup), {"start_date": TODAY, "end_date": TODAY}).status_code == 401


def test_an_absence_from_year_1_to_9999_makes_no_slot_and_no_500(setup, api):
    """The API accepts any date for an absence; the engine then never overflows the calendar
    (found by the API fuzzing: next_availability answered 500)."""
    from datetime import date, time

    from rdv.agendas.models import Absence

    for agent in (setup.agent, setup.admin):
        Absence.objects.create(
            agent=agent,
            organisation=setup.organisation,
            title="Toujours",
            first_date=date.min,
            start_time=time(0),
            end_date=date.max,
            end_time=time(23, 59),
        )
    setup.motif.bookable_online = True
    setup.motif.save()
    client = api(setup.agent)
    for online in ("false", "true"):
        found = client.get(url(setup, what="next_availability"), {"online": online})
        assert found.status_code == 200 and found.json()["next_slot"] is None
    day = client.get(url(setup), {"start_date": TODAY, "end_date": TODAY})
    assert day.status_code == 200 and day.json()["slots"] == []
