"""The agents' calendar feed (issue 20): a private address `/calendrier/<token>.ics` their calendar
subscribes to, with the RDVs they take part in (30 days back, 180 days ahead, their organisations),
the Contexte only when the espace shows it; revocable, rate-limited, a constant number of queries."""

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from rdv.accounts.context import personal_context
from rdv.accounts.models import AgentRole, hash_token
from rdv.bookings.models import Participation, Rdv, RdvAgent, RdvStatus
from rdv.core.errors import DomainError
from rdv.notifications import services
from rdv.notifications.models import CalendarFeed
from rdv.www.views import agent_notifications
from tests import factories
from tests.online.fixtures import MARKER, NOW, THURSDAY, TUESDAY, at, build_online


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def make_rdv(world, start, *, agent=None, organisation=None, status=RdvStatus.UNKNOWN, names=("Jeanne", "Dupont")):
    organisation = organisation or world.organisation
    rdv = Rdv.objects.create(
        organisation=organisation,
        motif=world.motif,
        lieu=world.lieu,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status=status,
        context=MARKER,
    )
    RdvAgent.objects.create(
        rdv=rdv,
        agent=agent or world.agent,
        starts_at=rdv.starts_at,
        ends_at=rdv.ends_at,
        blocks_agenda=status not in (RdvStatus.EXCUSED, RdvStatus.REVOKED),
    )
    person = factories.UsagerFactory(
        territory=world.territory, organisations=[organisation], first_name=names[0], last_name=names[1]
    )
    Participation.objects.create(rdv=rdv, usager=person)
    return rdv


def subscribe(agent) -> str:
    return services.create_calendar_feed(personal_context(agent))


def read(token: str):
    return Client().get(reverse("calendar_feed", args=[token]))


def events(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_lists_the_agent_rdvs_with_what_their_calendar_shows(world):
    rdv = make_rdv(world, at(TUESDAY, 10), names=("Léa", "Bernard"))
    cancelled = make_rdv(world, at(THURSDAY, 11), status=RdvStatus.REVOKED)
    make_rdv(world, at(TUESDAY, 11), agent=world.agent2)  # not theirs
    found = events(read(subscribe(world.agent)))
    assert set(found) == {f"rdv-{rdv.pk}@testserver", f"rdv-{cancelled.pk}@testserver"}
    event = found[f"rdv-{rdv.pk}@testserver"]
    assert str(event["SUMMARY"]) == "Accueil en ligne : Léa Bernard"
    assert str(event["LOCATION"]) == "MDS Centre, 1 place de la Mairie 26000 Valence"
    assert event.decoded("DTSTART") == rdv.starts_at
    assert str(event["STATUS"]) == "CONFIRMED"
    assert MARKER in str(event["DESCRIPTION"])
    assert f"/organisations/{world.organisation.pk}/rdvs/{rdv.pk}/" in str(event["DESCRIPTION"])
    assert str(found[f"rdv-{cancelled.pk}@testserver"]["STATUS"]) == "CANCELLED"


def test_the_feed_keeps_to_thirty_days_back_and_180_days_ahead(world):
    inside = [make_rdv(world, NOW - timedelta(days=29)), make_rdv(world, NOW + timedelta(days=179))]
    make_rdv(world, NOW - timedelta(days=31))
    make_rdv(world, NOW + timedelta(days=181))
    assert set(events(read(subscribe(world.agent)))) == {f"rdv-{r.pk}@testserver" for r in inside}


def test_the_feed_leaves_out_organisations_the_agent_has_left(world):
    kept = make_rdv(world, at(TUESDAY, 10))
    other = world.other_organisation
    role = factories.AgentRoleFactory(agent=world.agent, organisation=other)
    gone = make_rdv(world, at(TUESDAY, 11), organisation=other)
    token = subscribe(world.agent)
    assert set(events(read(token))) == {f"rdv-{kept.pk}@testserver", f"rdv-{gone.pk}@testserver"}
    AgentRole.objects.filter(pk=role.pk).delete()
    assert set(events(read(token))) == {f"rdv-{kept.pk}@testserver"}


def test_the_context_is_left_out_while_the_espace_hides_it(world):
    make_rdv(world, at(TUESDAY, 10))
    world.territory.rdv_context_enabled = False
    world.territory.save(update_fields=["rdv_context_enabled"])
    response = read(subscribe(world.agent))
    assert MARKER.encode() not in response.content
    (event,) = events(response).values()
    assert "Contexte" not in str(event["DESCRIPTION"])


def test_only_the_hash_of_the_token_is_kept_and_the_link_is_shown_once(world):
    token = subscribe(world.agent)
    feed = CalendarFeed.objects.get()
    assert feed.token_hash == hash_token(token) and token not in feed.token_hash
    assert len(token) >= 40


def test_a_revoked_or_replaced_link_answers_404_in_french(world):
    first = subscribe(world.agent)
    second = subscribe(world.agent)  # replaces the first one
    assert read(first).status_code == 404
    assert read(second).status_code == 200
    services.revoke_calendar_feed(personal_context(world.agent))
    response = read(second)
    assert response.status_code == 404
    assert "Lien d'agenda inconnu ou révoqué" in response.content.decode()
    with pytest.raises(DomainError) as refused:
        services.revoke_calendar_feed(personal_context(world.agent))
    assert refused.value.code == "no_calendar_feed"


@pytest.mark.parametrize("token", ["inconnu", "x" * 101, "a.b", "%00"])
def test_unknown_or_malformed_tokens_answer_404(world, token):
    subscribe(world.agent)
    response = read(token)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")


def test_a_deactivated_agent_feed_answers_404(world):
    token = subscribe(world.agent)
    world.agent.is_active = False
    world.agent.save(update_fields=["is_active"])
    assert read(token).status_code == 404


def test_one_active_link_per_agent_is_a_database_rule(world):
    subscribe(world.agent)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFeed.objects.create(agent=world.agent, token_hash="f" * 64)


def test_the_feed_is_rate_limited_per_link_and_unknown_links_per_address(world, monkeypatch):
    monkeypatch.setattr(agent_notifications, "FEED_LIMIT", (2, 600))
    monkeypatch.setattr(agent_notifications, "FEED_MISSES_LIMIT", (2, 600))
    token = subscribe(world.agent)
    assert [read(token).status_code for _ in range(3)] == [200, 200, 429]
    assert [read(f"inconnu{n}").status_code for n in range(3)] == [404, 404, 429]
    refused = read("inconnu9")
    assert "Retry-After" in refused and "Trop de demandes" in refused.content.decode()


def test_the_feed_costs_the_same_queries_whatever_the_number_of_rdvs(world, django_assert_max_num_queries):
    token = subscribe(world.agent)
    make_rdv(world, at(TUESDAY, 10))
    with CaptureQueriesContext(connection) as few:
        assert read(token).status_code == 200
    for hour in range(24):
        make_rdv(world, NOW + timedelta(days=2, hours=hour), names=(f"Prénom{hour}", f"Nom{hour}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = read(token)
    assert len(events(response)) == 25
