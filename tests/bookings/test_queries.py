"""The agenda, the list, the CSV export and the polling fragment run a constant number of SQL
queries, whatever the number of RDVs (2 or 40), plages, participants and days."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.agendas.models import Absence
from rdv.bookings import selectors, services
from rdv.bookings.models import Rdv
from tests import factories
from tests.bookings.conftest import TODAY, at
from tests.helpers import as_agent, log_in

# Measured. Every page: session, agent, the backend's two login checks, and the request context
# (organisation, espace, role, espace admin right and services: one query) = 5; pages add the header
# menus (2) and the espace (1). The agenda: agents, the RDVs' ids, RDVs (with visibility),
# participants, plages, their motifs, their exceptions, absences = 8. The list: count, filter choices
# (agents, motifs, lieux), RDVs, participants, agents = 7. The polling fragment: RDVs and participants = 2.
# (Before the request context: 17, 17 and 10; the role was read twice and the secretariat once.)
AGENDA_QUERIES = 15
LIST_QUERIES = 14
FRAGMENT_QUERIES = 7
# The CSV export: session, agent, login checks (2), request context (5), then the RDVs, their agents
# and their usagers, each read by one streamed cursor (3). (Before: a RDV query and two prefetch
# queries per chunk of rows.)
CSV_QUERIES = 8


def add_rdvs(setup, count: int, offset: int = 0) -> list:
    """`count` RDVs spread over the week, alternately for two agents, with one or two usagers."""
    monday = TODAY - timedelta(days=TODAY.weekday())
    rdvs = []
    for index in range(offset, offset + count):
        agent = setup.agent if index % 2 == 0 else setup.admin
        day = monday + timedelta(days=(index // 2 + 1) % 6)  # the first ones today
        start = at(day, 8) + timedelta(minutes=30 * ((index // 12) % 20))
        usager = factories.UsagerFactory(territory=setup.world.territory, organisations=[setup.organisation])
        if index % 5 == 0:
            rdv = services.book_rdv(
                as_agent(agent, setup.organisation),
                setup.request(start, motif=setup.collective_motif, agents=[agent], usagers=[usager, setup.usager]),
                override=True,
            )
        else:
            rdv = services.book_rdv(
                as_agent(agent, setup.organisation),
                setup.request(start, agents=[agent], usagers=[usager]),
                override=True,
            )
        if index % 7 == 0 and day == TODAY:
            services.mark_arrived(as_agent(agent, rdv), rdv)
        elif index % 7 == 0:
            services.cancel_rdv(as_agent(agent, rdv), rdv)
        rdvs.append(rdv)
    return rdvs


def count_queries(client, path, params) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path, params)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.fixture
def two_then_forty(client, setup):
    log_in(client, setup.secretariat)
    add_rdvs(setup, 2)
    Absence.objects.create(
        organisation=setup.organisation,
        agent=setup.agent,
        title="Réunion",
        first_date=TODAY,
        end_date=TODAY,
        start_time=at(TODAY, 13).time(),
        end_time=at(TODAY, 14).time(),
    )

    def grow():
        add_rdvs(setup, 38, offset=2)

    return client, grow


@pytest.mark.parametrize("display", ["grille", "liste"])
@pytest.mark.parametrize("view", ["semaine", "jour"])
def test_the_agenda_runs_a_constant_number_of_queries(two_then_forty, setup, view, display, django_assert_num_queries):
    client, grow = two_then_forty
    path = reverse("agenda", args=[setup.organisation.pk])
    params = {"vue": view, "agents": f"{setup.agent.pk},{setup.admin.pk}", "annules": "1"}
    client.get(path, {**params, "affichage": display})  # the display is kept in the session

    with django_assert_num_queries(AGENDA_QUERIES):
        client.get(path, params)
    grow()
    with django_assert_num_queries(AGENDA_QUERIES):
        response = client.get(path, params)
    if view == "semaine":
        block = b'class="agenda-grid__rdv' if display == "grille" else b'class="rdv-card'
        assert response.content.count(block) >= 40


def test_the_list_runs_a_constant_number_of_queries(two_then_forty, setup, django_assert_num_queries):
    client, grow = two_then_forty
    path = reverse("rdv_list", args=[setup.organisation.pk])
    params = {"du": (TODAY - timedelta(days=7)).isoformat()}
    with django_assert_num_queries(LIST_QUERIES):
        client.get(path, params)
    grow()
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(path, params)
    assert b"40 rendez-vous" in response.content


def test_the_csv_export_runs_a_constant_number_of_queries(two_then_forty, setup, monkeypatch):
    # Cursors fetch 2 rows at a time: a query per chunk (the prefetch of an iterator) would show.
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 2)
    client, grow = two_then_forty
    path = reverse("rdv_list", args=[setup.organisation.pk])
    params = {"format": "csv", "du": (TODAY - timedelta(days=7)).isoformat()}
    assert count_queries(client, path, params) == CSV_QUERIES
    grow()
    assert count_queries(client, path, params) == CSV_QUERIES
    response = client.get(path, params)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:]), delimiter=";"))
    expected = {
        rdv.pk: (
            ", ".join(str(link.agent) for link in rdv.agent_links.order_by("agent__last_name", "agent__first_name")),
            ", ".join(
                str(p.usager) for p in rdv.participations.order_by("usager__last_name_key", "usager__first_name_key")
            ),
        )
        for rdv in Rdv.objects.order_by("starts_at", "pk")
    }
    assert len(rows) == 41
    assert [(row[8], row[9]) for row in rows[1:]] == list(expected.values())


def test_the_export_merge_skips_people_of_rdvs_changed_between_its_queries():
    # (start, id) keys in the RDVs' order; a RDV moved between the queries appears elsewhere.
    merge = selectors._Merge([((100, 1), "Alice"), ((100, 7), "moved away"), ((200, 3), "Bob"), ((300, 4), "Chloé")])
    assert merge.take((100, 1)) == "Alice"
    assert merge.take((200, 3)) == "Bob"  # skips what the RDVs no longer have
    assert merge.take((250, 9)) == ""  # a RDV without anyone (or moved in): no name, nothing skipped
    assert merge.take((300, 4)) == "Chloé"
    assert merge.take((400, 5)) == ""


def test_the_polling_fragment_runs_a_constant_number_of_queries(two_then_forty, setup, django_assert_num_queries):
    client, grow = two_then_forty
    path = reverse("agenda_arrivals", args=[setup.organisation.pk])

    def ids() -> dict:
        return {"rdvs": ",".join(str(pk) for pk in Rdv.objects.values_list("pk", flat=True))}

    params = ids()
    with django_assert_num_queries(FRAGMENT_QUERIES):
        client.get(path, params)
    grow()
    params = ids()
    with django_assert_num_queries(FRAGMENT_QUERIES):
        response = client.get(path, params)
    assert response.content.count(b"hx-swap-oob=") == 41  # 40 marks + the waiting-room summary
