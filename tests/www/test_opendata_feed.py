"""The public open-data feed (rdv.www.public.opendata): JSON and CSV, no login, cached for 60 s,
readable from any site's scripts, rate-limited per IP, 404 for an unknown espace."""

import csv
import io
import json
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from rdv.bookings import services as booking_services
from rdv.online import opendata
from tests import factories
from tests.helpers import as_agent
from tests.www.public.search_world import MARKER, NOW, at, build_journey

TUESDAY = date(2027, 3, 2)


@pytest.fixture
def journey(alice):
    with time_machine.travel(NOW, tick=False):
        yield build_journey(alice)


def json_url(territory_id) -> str:
    return reverse("public:availability_feed_json", args=[territory_id])


def csv_url(territory_id) -> str:
    return reverse("public:availability_feed_csv", args=[territory_id])


def test_the_urls_are_the_documented_ones():
    assert json_url(7) == "/donnees/espaces/7/prochaines-disponibilites.json"
    assert csv_url(7) == "/donnees/espaces/7/prochaines-disponibilites.csv"


def test_the_json_feed_needs_no_login_and_may_be_cached_and_read_by_any_site(client, journey):
    response = client.get(json_url(journey.territory.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert body["territory_id"] == journey.territory.pk
    assert body["territory_name"] == "Espace alice"
    assert body["generated_at"] == "2027-03-01T08:00:00+01:00"
    assert body["count"] == len(body["rows"]) == 5
    assert body["rows"] == opendata.compute_rows(journey.territory)
    assert "solidarités" in response.content.decode("utf-8")  # UTF-8, not \\u escapes
    assert "sessionid" not in response.cookies


def test_the_csv_feed_has_a_header_and_the_same_rows(client, journey):
    rows = client.get(json_url(journey.territory.pk)).json()["rows"]
    response = client.get(csv_url(journey.territory.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=60"
    text = response.content.decode("utf-8")
    assert text.splitlines()[0] == ",".join(opendata.FIELDS)
    parsed = list(csv.DictReader(io.StringIO(text)))
    as_text = [{key: "" if value is None else str(value) for key, value in row.items()} for row in rows]
    assert parsed == as_text
    assert len(parsed) == 5


def test_a_field_with_a_comma_or_quotes_stays_one_field(client, journey):
    journey.lieu.address = '1 place de la Mairie, bâtiment "B", 26000 Valence'
    journey.lieu.save()
    text = client.get(csv_url(journey.territory.pk)).content.decode("utf-8")
    addresses = {row["lieu_address"] for row in csv.DictReader(io.StringIO(text))}
    assert '1 place de la Mairie, bâtiment "B", 26000 Valence' in addresses


def test_a_new_rdv_changes_the_next_slot_on_the_next_request(client, journey):
    def maison(response) -> str:
        rows = response.json()["rows"]
        return next(
            row["next_slot_starts_at"]
            for row in rows
            if row["motif_name"] == "Premier accueil" and row["lieu_name"] == "Maison des solidarités"
        )

    assert maison(client.get(json_url(journey.territory.pk))) == "2027-03-02T09:30:00+01:00"
    usager = factories.UsagerFactory(territory=journey.territory, organisations=[journey.organisation])
    booking_services.book_rdv(
        as_agent(journey.world.territory_admin, journey.organisation),
        booking_services.BookingRequest(
            motif=journey.motif,
            starts_at=at(TUESDAY, 9, 30),
            agents=[journey.agent],
            usagers=[usager],
            lieu=journey.lieu,
        ),
    )
    assert maison(client.get(json_url(journey.territory.pk))) == "2027-03-02T10:00:00+01:00"


def test_the_feed_shows_no_agent_and_no_rdv_detail(client, journey):
    for url in (json_url(journey.territory.pk), csv_url(journey.territory.pk)):
        text = client.get(url).content.decode("utf-8")
        assert "Premier accueil" in text
        for personal in (journey.agent.last_name, journey.agent.email, journey.other_agent.last_name, MARKER):
            assert personal not in text


def test_an_unknown_espace_is_a_404_in_json_or_plain_text(client, db):
    response = client.get(json_url(999_999))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "not_found", "message": "Cet espace n'existe pas."}
    assert response["Access-Control-Allow-Origin"] == "*"
    response = client.get(csv_url(999_999))
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode("utf-8") == "Cet espace n'existe pas.\n"
    assert client.get(json_url(2**63)).status_code == 404  # beyond the database's integers: no 500


def test_beyond_the_limit_an_ip_gets_a_429_with_retry_after(client, journey, settings):
    settings.PUBLIC_RATE_LIMITS = {"opendata": (3, 60)}
    for url in (json_url(journey.territory.pk), csv_url(journey.territory.pk), json_url(999_999)):
        assert client.get(url).status_code in (200, 404)
    response = client.get(json_url(journey.territory.pk))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["Cache-Control"] == "no-store"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["error"] == "too_many_requests"
    assert response.json()["message"].startswith("Trop de demandes : réessayez dans ")
    response = client.get(csv_url(journey.territory.pk))
    assert response.status_code == 429
    assert response.content.decode("utf-8").startswith("Trop de demandes")
    # another IP is not refused
    assert client.get(json_url(journey.territory.pk), REMOTE_ADDR="203.0.113.9").status_code == 200


def test_the_default_limit_is_60_requests_a_minute(client, journey):
    url = json_url(journey.territory.pk)
    statuses = [client.get(url).status_code for _ in range(61)]
    assert statuses == [200] * 60 + [429]


def test_a_fresh_snapshot_costs_a_constant_number_of_queries(client, journey, django_assert_num_queries):
    url = json_url(journey.territory.pk)
    client.get(url)  # computes the snapshot
    with django_assert_num_queries(2):  # the rate limit's upsert, the snapshot with its espace
        assert client.get(url).status_code == 200
    with django_assert_num_queries(2):
        assert client.get(csv_url(journey.territory.pk)).status_code == 200


def test_only_reading_methods_are_allowed(client, journey):
    assert client.head(json_url(journey.territory.pk)).status_code == 200
    assert client.post(json_url(journey.territory.pk)).status_code == 405


def test_a_body_is_valid_json_for_an_espace_with_quotes_in_its_name(client, journey):
    journey.territory.name = 'Espace "Drôme", nord'
    journey.territory.save()
    body = json.loads(client.get(json_url(journey.territory.pk)).content)
    assert body["territory_name"] == 'Espace "Drôme", nord'
