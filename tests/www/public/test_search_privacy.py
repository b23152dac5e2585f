"""What the public search pages never show (agents, the Contexte), their rate limit, and their
constant number of SQL queries."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.agendas.models import PlageException, PlageOuverture
from rdv.bookings.models import Rdv, RdvAgent
from rdv.online import slotcache
from tests import factories
from tests.www.public.search_world import MARKER, NOW, at, build_journey, weekly_plage


@pytest.fixture
def journey(alice):
    with time_machine.travel(NOW, tick=False):
        yield build_journey(alice)


def public_pages(journey) -> list[tuple[str, dict]]:
    return [
        (reverse("public:start"), {}),
        (reverse("public:start"), {"q": "26500", "liste": "1"}),
        (reverse("public:start"), {"q": "valence"}),
        (reverse("public:start"), {"espace": journey.territory.pk}),
        (reverse("public:services"), {"organisation": journey.organisation.pk}),
        (reverse("public:motifs"), {"organisation": journey.organisation.pk, "service": journey.motif.service_id}),
        (
            reverse("public:motifs"),
            {"organisation": journey.organisation.pk, "service": journey.pmi_motif.service_id, "liste": "1"},
        ),
        (reverse("public:instructions"), {"motif": journey.instructions_motif.pk}),
        (reverse("public:instructions"), {"motif": journey.instructions_motif.pk, "envoyer": "1"}),
        (reverse("public:lieux"), {"motif": journey.motif.pk}),
        (reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk}),
        (reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk, "semaine": "2027-03-08"}),
        (reverse("public:week"), {"motif": journey.phone_motif.pk}),
        (reverse("public:week"), {"motif": "abc"}),
        (reverse("public:week"), {"motif": 987654}),
    ]


def test_no_public_page_names_an_agent_or_shows_the_contexte(client, journey):
    agents = [journey.agent, journey.other_agent]
    rendered = 0
    for kind in ("usager", "prescripteur"):
        if kind == "prescripteur":
            client.get(reverse("public:prescripteur"))
        for path, params in public_pages(journey):
            response = client.get(path, params, follow=True)
            content = response.content.decode()
            assert response.status_code in (200, 400, 404), (path, params)
            assert MARKER not in content
            for agent in agents:
                for value in (agent.last_name, agent.email, agent.get_full_name()):
                    assert value not in content, (path, params, value)
            rendered += 1
    assert rendered == 2 * len(public_pages(journey))


def test_public_pages_are_rate_limited_with_a_french_429(client, journey, settings):
    settings.PUBLIC_RATE_LIMITS = {"pages": (3, 60)}
    url = reverse("public:week")
    params = {"motif": journey.motif.pk, "lieu": journey.lieu.pk}
    for _ in range(3):
        assert client.get(url, params).status_code == 200
    refused = client.get(url, params)
    assert refused.status_code == 429
    assert "Trop de demandes" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    for name, args in (("public:short_motif", [journey.motif.pk]), ("public:prescripteur", [])):
        assert client.get(reverse(name, args=args)).status_code == 429


def _add_agents_and_rdvs(journey, count: int):
    """`count` more agents with plages carrying the motif at the lieu, each with RDVs."""
    for index in range(count):
        agent = factories.AgentFactory()
        weekly_plage(journey.organisation, agent, journey.lieu, [journey.motif], weekday=1, first=date(2027, 3, 2))
        for week in range(3):
            start = at(date(2027, 3, 2) + timedelta(weeks=week), 9 + index % 3)
            rdv = Rdv.objects.create(
                organisation=journey.organisation,
                motif=journey.motif,
                lieu=journey.lieu,
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                context=MARKER,
            )
            RdvAgent.objects.create(rdv=rdv, agent=agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at)


def _count(client, path, params) -> int:
    slotcache.clear()  # cold: the week pages compute their free times (rdv.online.slotcache)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize(
    "page",
    ["week", "empty_week", "lieux", "motifs", "services"],
)
def test_search_pages_run_a_constant_number_of_queries_whatever_the_agents_and_rdvs(client, journey, page):
    def close_the_week():  # an empty week: the next availability is searched after it
        if page == "empty_week":
            for plage in PlageOuverture.objects.exclude(exceptions__date=date(2027, 3, 9)):
                PlageException.objects.create(plage=plage, date=date(2027, 3, 9), cancelled=True)

    close_the_week()
    path, params = {
        "week": (reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk}),
        "empty_week": (
            reverse("public:week"),
            {"motif": journey.motif.pk, "lieu": journey.lieu.pk, "semaine": "2027-03-08"},
        ),
        "lieux": (reverse("public:lieux"), {"motif": journey.motif.pk}),
        "motifs": (
            reverse("public:motifs"),
            {"organisation": journey.organisation.pk, "service": journey.motif.service_id},
        ),
        "services": (reverse("public:services"), {"organisation": journey.organisation.pk}),
    }[page]
    client.get(path, params)  # the session exists from now on, as for a visitor
    small = _count(client, path, params)
    _add_agents_and_rdvs(journey, 12)
    close_the_week()
    large = _count(client, path, params)
    assert small == large
    # session, rate limit, the choices, DSFR's settings, then the slot function's four queries per
    # call; the week pages read through the slot cache, week by week after an empty week: cold, per
    # week its versions, the holds' expiry and the four queries; warm, one query per week.
    budget = {"week": 12, "empty_week": 18, "lieux": 8, "motifs": 9, "services": 9}[page]
    assert large <= budget, large
    with CaptureQueriesContext(connection) as warm:
        client.get(path, params)
    warm_budget = {"week": 7, "empty_week": 8}.get(page, budget)
    assert len(warm.captured_queries) <= warm_budget, len(warm.captured_queries)
