"""The agenda as a time grid: its selector (columns, visibility, constant queries), the page and the
« Grille / Liste » choice, the polled fragment (204 when nothing changed), and the move made on the
grid (agenda_move): the same re-check and override as the move form, French errors, 404 outside.

"Now" is Tuesday 9 March 2027, 08:00 in Paris; the agent and the admin have plages 09:00–12:00
every weekday at « MDS Centre » (tests/bookings/conftest.py).
"""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.agendas.models import Absence, Lieu, PlageOuverture
from rdv.bookings import selectors, services
from rdv.bookings.models import Rdv, RdvAgent
from rdv.core.models import AuditLog
from tests.bookings.conftest import NOW, TODAY, at
from tests.bookings.test_queries import add_rdvs
from tests.bookings.test_services import state
from tests.helpers import as_agent, log_in, page_text

MONDAY = TODAY - timedelta(days=TODAY.weekday())
SUNDAY = MONDAY + timedelta(days=6)
# The grid reads what the list reads (the RDVs' ids, then the RDVs with visibility, participants, plages,
# their motifs, their exceptions, absences): the same 7 queries, whatever the number of RDVs.
GRID_SELECTOR_QUERIES = 7
# The page runs 15 queries, as the list (tests/bookings/test_queries.py); the polled fragment 12: session,
# agent, the backend's two login checks, the request context, the organisation's agents, then the
# selector's 7 (no header menus, no flash messages).
FRAGMENT_QUERIES = 13


CELL = re.compile(r'class="agenda-grid__cell[ "]')


def words(response) -> str:
    """What a reader sees: the text without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def url(name, setup, *args):
    return reverse(name, args=[setup.organisation.pk, *args])


@pytest.fixture
def agent_client(client, setup):
    return log_in(client, setup.agent)


def grid_of(client, setup, **params) -> str:
    """The agenda page in grid display, spaces collapsed."""
    params.setdefault("affichage", "grille")
    return " ".join(page_text(client.get(url("agenda", setup), params)).split())


# The selector -----------------------------------------------------------------------------------


def test_the_grid_has_one_column_per_day_and_agent_with_what_each_one_holds(setup):
    rdv = setup.book(at(TODAY, 10))
    hidden = setup.book(
        at(TODAY, 11),
        motif=setup.other_motif,
        agents=[setup.admin],
        usagers=[setup.usager2],
        actor=setup.admin,
        override=True,
    )
    Absence.objects.create(
        organisation=setup.organisation,
        agent=setup.admin,
        title="Formation",
        first_date=TODAY,
        end_date=TODAY,
        start_time=at(TODAY, 0).time(),
        end_time=at(TODAY, 23, 59).time(),
    )
    ctx = as_agent(setup.agent, setup.organisation)

    grid = selectors.build_agenda_grid(ctx, [setup.agent, setup.admin], MONDAY, SUNDAY, holiday_zone="")

    assert [(c.day, c.agent) for c in grid.columns[:3]] == [
        (MONDAY, setup.agent),
        (MONDAY, setup.admin),
        (MONDAY + timedelta(days=1), setup.agent),
    ]
    assert len(grid.columns) == 14
    today = {column.agent: column for column in grid.columns if column.day == TODAY}
    assert all(column.is_today for column in today.values())
    assert [(item.start, item.end) for item in today[setup.agent].plages] == [(at(TODAY, 9), at(TODAY, 12))]
    # The plage's motifs, read as values, are named as the model names them, by name.
    (plage,) = today[setup.agent].plages
    offered = sorted(plage.plage.motifs.all(), key=lambda motif: motif.name)
    assert [(m.pk, str(m)) for m in plage.motifs] == [(m.pk, str(m)) for m in offered] and offered
    assert [(item.rdv.pk, item.visible, item.movable, item.names) for item in today[setup.agent].rdvs] == [
        (rdv.pk, True, True, "Jeanne DUPONT"),
    ]
    shown = today[setup.agent].rdvs[0].rdv  # read as values: what the agenda shows of it
    assert (shown.starts_at, shown.ends_at, shown.status, shown.motif.name, shown.lieu.name) == (
        rdv.starts_at,
        rdv.ends_at,
        rdv.status,
        rdv.motif.name,
        rdv.lieu.name,
    )
    assert (shown.duration_minutes, shown.get_status_display(), shown.is_cancelled) == (
        rdv.duration_minutes,
        rdv.get_status_display(),
        False,
    )
    # A PMI motif of the admin: « Occupé » for a Service social agent, without its usager.
    assert [(item.rdv.pk, item.visible, item.movable, item.names) for item in today[setup.admin].rdvs] == [
        (hidden.pk, False, False, ""),
    ]
    assert [(a.title, a.whole_day) for a in today[setup.admin].absences] == [("Formation", True)]
    assert grid.rdv_ids == [rdv.pk]


def test_the_grid_selector_runs_a_constant_number_of_queries(setup):
    ctx = as_agent(setup.secretariat, setup.organisation)
    agents = [setup.agent, setup.admin]
    add_rdvs(setup, 2)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            grid = selectors.build_agenda_grid(ctx, agents, MONDAY, SUNDAY, show_cancelled=True)
        return len(queries.captured_queries), sum(len(column.rdvs) for column in grid.columns)

    few = count()
    add_rdvs(setup, 38, offset=2)
    many = count()
    assert few[0] == many[0] == GRID_SELECTOR_QUERIES
    assert (few[1], many[1]) == (2, 40)


def test_a_drop_takes_the_lieu_of_the_plage_that_holds_the_rdv(setup):
    other_lieu = Lieu.objects.create(organisation=setup.organisation, name="Antenne Nord", address="2 rue du Nord")
    plage = PlageOuverture.objects.create(
        organisation=setup.organisation,
        agent=setup.admin,
        lieu=other_lieu,
        first_date=TODAY,
        start_time=at(TODAY, 14).time(),
        end_time=at(TODAY, 17).time(),
    )
    plage.motifs.set([setup.motif])
    rdv = setup.book(at(TODAY, 10))
    phone = setup.book(at(TODAY, 11), motif=setup.phone_motif)
    ctx = as_agent(setup.agent, setup.organisation)

    assert selectors.move_lieu(ctx, rdv, setup.admin, at(TODAY, 14)) == other_lieu
    assert selectors.move_lieu(ctx, rdv, setup.admin, at(TODAY, 10)) == setup.lieu
    assert selectors.move_lieu(ctx, rdv, setup.admin, at(TODAY, 16, 45)) is None  # would end after 17:00
    assert selectors.move_lieu(ctx, rdv, setup.admin, at(TODAY, 13)) is None  # no plage
    assert selectors.move_lieu(ctx, phone, setup.admin, at(TODAY, 14)) is None  # no lieu for a phone RDV


# The page -------------------------------------------------------------------------------------


def test_the_agenda_shows_the_grid_by_default_and_keeps_the_choice_of_the_list(agent_client, setup):
    setup.book(at(TODAY, 10))
    text = page_text(agent_client.get(url("agenda", setup)))
    assert 'id="agenda-grille"' in text and "<table" not in text
    assert re.search(r'href="[^"]*affichage=grille"\s+aria-current="page">Grille', text)
    assert "/static/www/agenda-grid.js" in text

    text = page_text(agent_client.get(url("agenda", setup), {"affichage": "liste"}))
    assert "<table" in text and 'id="agenda-grille"' not in text
    assert re.search(r'href="[^"]*affichage=liste"\s+aria-current="page">Liste', text)
    assert "agenda-grid.js" not in text
    # Kept in the session: the next agenda is a list too, until « Grille » is chosen.
    assert "<table" in page_text(agent_client.get(url("agenda", setup), {"vue": "jour"}))
    assert "<table" in page_text(agent_client.get(url("agenda", setup), {"affichage": "n'importe quoi"}))
    assert 'id="agenda-grille"' in grid_of(agent_client, setup)


def test_the_grid_places_rdvs_plages_and_the_now_line_and_links_every_half_hour(agent_client, setup):
    setup.book(at(TODAY, 10), context="Dossier RSA")
    text = grid_of(agent_client, setup, vue="jour", date=TODAY.isoformat())

    # 08:00–18:00 by default: 20 half-hours, each a link to the booking form, prefilled.
    assert len(CELL.findall(text)) == 20
    create = url("rdv_create", setup)
    assert f'href="{create}?debut=2027-03-09T08%3A00&agent={setup.agent.pk}"' in text
    in_plage = f'{create}?debut=2027-03-09T10%3A30&agent={setup.agent.pk}&lieu={setup.lieu.pk}"'
    assert in_plage in text  # inside the plage: its lieu (it offers several motifs: no motif)
    assert f"Réserver à 10:30, mardi 9 mars, {setup.agent}, plage à MDS Centre" in text
    assert f"Réserver à 08:00, mardi 9 mars, {setup.agent}<" in text
    # The plage from 09:00 (60 minutes from the top) for 3 hours; the RDV at 10:00 for 30 minutes.
    assert re.search(r'class="agenda-grid__plage"\s+style="--top: 60; --span: 180"', text)
    assert "Plage 09:00–12:00 · MDS Centre" in text
    rdv = Rdv.objects.get()
    block = re.search(rf'<li id="agenda-rdv-{rdv.pk}-{setup.agent.pk}"[^>]*>', text).group(0)
    assert "--top: 120; --span: 30; --lane: 0; --lanes: 1; --motif: #b34000" in block
    assert f'data-move-url="{url("agenda_move", setup, rdv.pk)}"' in block
    assert "Jeanne DUPONT" in text and "Premier accueil" in text
    assert "Dossier RSA" not in text  # the Contexte stays on the RDV page
    assert "Déplacer le rendez-vous de 10:00–10:30 (Jeanne DUPONT)" in text
    assert f'href="{url("rdv_move", setup, rdv.pk)}"' in text  # the move form, without JavaScript
    # "Now" is 08:00: the red line at the top of today's column.
    assert re.search(r'class="agenda-grid__now" style="--top: 0"', text)


def test_the_grid_stretches_to_early_and_late_rdvs(agent_client, setup):
    setup.book(at(TODAY, 7, 30), override=True)
    setup.book(at(TODAY, 19, 45), usagers=[setup.usager2], override=True)
    text = grid_of(agent_client, setup, vue="jour", date=TODAY.isoformat())
    assert 'data-first-minute="420"' in text and 'data-last-minute="1260"' in text  # 07:00–21:00
    assert len(CELL.findall(text)) == 28


def test_overlapping_rdvs_stand_side_by_side(agent_client, setup):
    first = setup.book(at(TODAY, 10))
    second = setup.book(at(TODAY, 10, 15), usagers=[setup.usager2], override=True)
    text = grid_of(agent_client, setup, vue="jour", date=TODAY.isoformat())
    for rdv, lane in ((first, 0), (second, 1)):
        block = re.search(rf'<li id="agenda-rdv-{rdv.pk}-{setup.agent.pk}"[^>]*>', text).group(0)
        assert f"--lane: {lane}; --lanes: 2" in block


def test_absences_holidays_and_cancelled_rdvs_in_the_grid(agent_client, setup):
    tomorrow = TODAY + timedelta(days=1)
    Absence.objects.create(
        organisation=setup.organisation,
        agent=setup.agent,
        title="Formation",
        first_date=tomorrow,
        end_date=tomorrow,
        start_time=at(tomorrow, 14).time(),
        end_time=at(tomorrow, 17).time(),
    )
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)

    text = grid_of(agent_client, setup)
    assert "<strong>Absence</strong> : Formation · 14:00–17:00" in text
    assert re.search(r'class="agenda-grid__absence"\s+style="--top: 360; --span: 180"', text)
    assert "Jeanne DUPONT" not in text
    cancelled = grid_of(agent_client, setup, annules="1")
    assert "Jeanne DUPONT" in cancelled and "agenda-grid__rdv--cancelled" in cancelled
    assert "Annulé par le service" in cancelled
    assert f'data-move-url="{url("agenda_move", setup, rdv.pk)}"' not in cancelled  # not movable

    holiday = grid_of(agent_client, setup, date="2027-05-06")
    assert "Jour férié : Ascension" in holiday and "agenda-grid__col--holiday" in holiday


@pytest.mark.parametrize("display", ["grille", "liste"])
def test_a_whole_day_absence_reads_toute_la_journee(agent_client, setup, display):
    Absence.objects.create(  # « Journée entière » is stored as 00:00–23:59
        organisation=setup.organisation,
        agent=setup.agent,
        title="Congés",
        first_date=TODAY,
        end_date=TODAY,
        start_time=at(TODAY, 0).time(),
        end_time=at(TODAY, 23, 59).time(),
    )
    text = grid_of(agent_client, setup, affichage=display)
    plain = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    shown = {"grille": "Absence : Congés · toute la journée", "liste": "Absence : Congés toute la journée"}
    assert shown[display] in plain
    assert "00:00–23:59" not in plain
    if display == "grille":
        assert "agenda-grid__col--absent" in text


def test_an_agent_of_another_service_sees_occupe_and_cannot_drag_it(client, setup):
    rdv = setup.book(at(TODAY, 10))
    log_in(client, setup.other_agent)
    text = grid_of(client, setup, agents=setup.agent.pk)
    assert "10:00–10:30" in text and "Occupé" in text
    assert "DUPONT" not in text.upper()
    assert url("rdv_detail", setup, rdv.pk) not in text and "data-move-url" not in text


# The polled fragment --------------------------------------------------------------------------


def test_the_fragment_answers_204_until_something_changes(agent_client, setup, django_assert_num_queries):
    setup.world.territory.waiting_room_notification = "visual"
    setup.world.territory.save()
    path = url("agenda_grid", setup)
    params = {"vue": "jour", "date": TODAY.isoformat(), "agents": setup.agent.pk}
    setup.book(at(TODAY, 11, 30), usagers=[setup.usager3])
    page = page_text(agent_client.get(url("agenda", setup), {**params, "affichage": "grille"}))
    version = re.search(r'data-version="([0-9a-f]+)"', page).group(1)
    poll = re.search(r'hx-get="([^"]+)"\s+hx-trigger="every 15s, agenda-rafraichir"', page).group(1)
    assert poll.replace("&amp;", "&").startswith(f"{path}?vue=jour&date=2027-03-09&agents={setup.agent.pk}")

    with django_assert_num_queries(FRAGMENT_QUERIES):
        unchanged = agent_client.get(path, {**params, "version": version})
    assert unchanged.status_code == 204 and unchanged.content == b""
    assert unchanged["X-Agenda-Version"] == version
    with time_machine.travel(NOW + timedelta(minutes=7), tick=False):  # the « now » line moved: no change
        assert agent_client.get(path, {**params, "version": version}).status_code == 204

    # A colleague books; then the usager arrives: the next polls bring them.
    rdv = setup.book(at(TODAY, 10), actor=setup.admin)
    with django_assert_num_queries(FRAGMENT_QUERIES):
        changed = agent_client.get(path, {**params, "version": version})
    fragment = page_text(changed)
    assert changed.status_code == 200 and "<html" not in fragment
    assert "Jeanne DUPONT" in fragment and changed["X-Agenda-Version"] != version
    services.mark_arrived(as_agent(setup.admin, rdv), rdv)
    arrived = agent_client.get(path, {**params, "version": changed["X-Agenda-Version"]})
    text = " ".join(page_text(arrived).split())
    assert "Arrivé(e) à 08:00" in text
    assert 'id="salle-d-attente" class="fr-mb-3w" hx-swap-oob="true"' in text
    assert "Salle d'attente : Jeanne DUPONT (RDV de 10:00)" in text


def test_cached_columns_give_the_page_a_cold_render_gives_and_an_unchanged_poll_renders_none(
    agent_client, setup, monkeypatch
):
    from django.core.cache import caches

    from rdv.www import agenda_grid

    path = url("agenda_grid", setup)
    params = {"vue": "semaine", "date": TODAY.isoformat(), "agents": [setup.agent.pk, setup.admin.pk]}
    setup.book(at(TODAY, 11, 30), usagers=[setup.usager3])
    caches["fragments"].clear()
    cold = agent_client.get(path, params)
    warm = agent_client.get(path, params)  # every column from the cache
    assert cold.status_code == warm.status_code == 200
    assert warm.content == cold.content and cold.content.count(b"<!--now-->") == 14
    version = warm["X-Agenda-Version"]

    def no_rendering(*args, **kwargs):
        raise AssertionError("a column was rendered")

    monkeypatch.setattr(agenda_grid.Placer, "column", no_rendering)
    caches["fragments"].clear()
    assert agent_client.get(path, {**params, "version": version}).status_code == 204  # nothing rendered
    monkeypatch.undo()

    # What the columns show but no journaled change of the agenda touches: an usager's name.
    setup.usager3.last_name = "Renommée"
    setup.usager3.save()
    renamed = agent_client.get(path, {**params, "version": version})
    assert renamed.status_code == 200 and renamed["X-Agenda-Version"] != version
    assert "RENOMMÉE" in page_text(renamed)


def test_the_fragment_reads_garbage_parameters_as_the_page_does(agent_client, setup):
    response = agent_client.get(url("agenda_grid", setup), {"date": "2027-99-99", "agents": "x,-1", "vue": "an"})
    assert response.status_code == 200
    assert "agenda-grid__inner" in page_text(response)


# Moving from the grid ---------------------------------------------------------------------------


def move(client, setup, rdv, method="post", **data):
    data.setdefault("agent", setup.agent.pk)
    path = url("agenda_move", setup, rdv.pk)
    return client.post(path, data) if method == "post" else client.get(path, data)


def test_the_confirmation_describes_the_move_and_changes_nothing(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    before = state()
    response = move(agent_client, setup, rdv, "get", debut="2027-03-09T11:00", depuis=setup.agent.pk)
    text = " ".join(page_text(response).split())
    assert response.status_code == 200
    assert "Premier accueil — Jeanne DUPONT" in words(response)
    assert f"Actuellement mardi 9 mars 2027 à 10:00 avec {setup.agent} (MDS Centre)" in words(response)
    assert f"Nouvel horaire mardi 9 mars 2027 à 11:00 avec {setup.agent} (MDS Centre)" in words(response)
    assert 'name="debut" value="2027-03-09T11:00"' in text
    assert "csrfmiddlewaretoken" in text
    assert "Déplacer le rendez-vous" in text and "Déplacer quand même" not in text
    assert url("rdv_move", setup, rdv.pk) + "?debut=2027-03-09T11%3A00%3A00%2B01%3A00" in text
    assert state() == before


def test_a_move_inside_the_plages_is_made_by_the_service(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    response = move(agent_client, setup, rdv, debut="2027-03-09T11:00", depuis=setup.agent.pk)
    assert response.status_code == 200
    assert response["X-Agenda-Deplace"] == str(rdv.pk)
    assert "Rendez-vous déplacé au mardi 9 mars 2027 à 11:00." in page_text(response)
    rdv.refresh_from_db()
    assert (rdv.starts_at, rdv.ends_at) == (at(TODAY, 11), at(TODAY, 11, 30))
    entry = AuditLog.objects.filter(action="rdv.moved").get()
    assert "override" not in entry.changes


def test_a_refused_move_says_why_offers_the_override_and_changes_nothing(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    before = state()
    response = move(agent_client, setup, rdv, debut="2027-03-09T14:00", depuis=setup.agent.pk)
    text = " ".join(page_text(response).split())
    assert response.status_code == 409
    assert "X-Agenda-Deplace" not in response
    assert "Le rendez-vous n'est pas déplacé" in text
    assert "Cet horaire est en dehors des disponibilités d" in text
    assert "Déplacer quand même" in text and 'name="override" value="1"' in text
    assert state() == before

    response = move(agent_client, setup, rdv, debut="2027-03-09T14:00", depuis=setup.agent.pk, override="1")
    assert response.status_code == 200 and response["X-Agenda-Deplace"] == str(rdv.pk)
    rdv.refresh_from_db()
    assert rdv.starts_at == at(TODAY, 14)
    entry = AuditLog.objects.filter(action="rdv.moved").get()
    assert entry.changes["override"].startswith("déplacé hors disponibilité, confirmé par l'agent")


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2027-03-09T10:30", "Ce créneau n'est plus disponible"),  # another RDV is there
        ("2027-03-08T10:00", "Cet horaire est déjà passé."),
    ],
)
def test_moves_onto_a_taken_or_past_time_are_refused_with_the_override(agent_client, setup, start, message):
    rdv = setup.book(at(TODAY, 10))
    setup.book(at(TODAY, 10, 30), usagers=[setup.usager2])
    before = state()
    response = move(agent_client, setup, rdv, debut=start, depuis=setup.agent.pk)
    assert response.status_code == 409
    assert message in page_text(response) and "Déplacer quand même" in page_text(response)
    assert state() == before


def test_a_drop_in_a_colleagues_column_gives_the_rdv_to_the_colleague(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    response = move(agent_client, setup, rdv, debut="2027-03-09T11:00", agent=setup.admin.pk, depuis=setup.agent.pk)
    assert response.status_code == 200
    assert list(RdvAgent.objects.filter(rdv=rdv).values_list("agent_id", flat=True)) == [setup.admin.pk]


def test_a_rdv_of_two_agents_changes_only_the_agent_it_was_dragged_from(agent_client, setup):
    rdv = setup.book(at(TODAY, 10), agents=[setup.agent, setup.secretariat], override=True)
    response = move(
        agent_client,
        setup,
        rdv,
        debut="2027-03-09T10:00",
        agent=setup.admin.pk,
        depuis=setup.secretariat.pk,
        override="1",
    )
    assert response.status_code == 200
    agents = set(RdvAgent.objects.filter(rdv=rdv).values_list("agent_id", flat=True))
    assert agents == {setup.agent.pk, setup.admin.pk}
    # Without saying which column it left, a RDV of several agents is not guessed at.
    before = state()
    response = move(agent_client, setup, rdv, debut="2027-03-09T11:00", agent=setup.other_agent.pk)
    assert response.status_code == 400
    assert "Indiquez l'agenda d'où le rendez-vous est déplacé." in page_text(response)
    assert state() == before


def test_a_drop_into_a_plage_of_another_lieu_takes_that_lieu(agent_client, setup):
    other_lieu = Lieu.objects.create(organisation=setup.organisation, name="Antenne Nord", address="2 rue du Nord")
    plage = PlageOuverture.objects.create(
        organisation=setup.organisation,
        agent=setup.agent,
        lieu=other_lieu,
        first_date=TODAY,
        start_time=at(TODAY, 14).time(),
        end_time=at(TODAY, 17).time(),
    )
    plage.motifs.set([setup.motif])
    rdv = setup.book(at(TODAY, 10))
    confirmation = words(move(agent_client, setup, rdv, "get", debut="2027-03-09T15:00"))
    assert f"à 15:00 avec {setup.agent} (Antenne Nord) Lieu de la plage" in confirmation
    response = move(agent_client, setup, rdv, debut="2027-03-09T15:00")
    assert response.status_code == 200
    rdv.refresh_from_db()
    assert (rdv.starts_at, rdv.lieu) == (at(TODAY, 15), other_lieu)


@pytest.mark.parametrize("debut", ["", "demain", "2027-02-30T10:00", "9999-12-31T23:59", "2027-03-09T25:00", "x" * 80])
@pytest.mark.parametrize("method", ["get", "post"])
def test_garbage_times_get_a_french_error_and_change_nothing(agent_client, setup, debut, method):
    rdv = setup.book(at(TODAY, 10))
    before = state()
    response = move(agent_client, setup, rdv, method, debut=debut)
    assert response.status_code == 400
    assert "L'horaire demandé est invalide : choisissez le nouvel horaire dans la grille." in page_text(response)
    assert state() == before


@pytest.mark.parametrize("agent", ["", "abc", "-1", "99999999999999999999", "outsider", "bob"])
def test_agents_outside_the_organisation_answer_404(agent_client, setup, bob, agent):
    rdv = setup.book(at(TODAY, 10))
    agent = {"outsider": setup.outsider.pk, "bob": bob.agent.pk}.get(agent, agent)
    before = state()
    assert move(agent_client, setup, rdv, debut="2027-03-09T11:00", agent=agent).status_code == 404
    assert move(agent_client, setup, rdv, debut="2027-03-09T11:00", depuis=agent or "0").status_code == 404
    assert state() == before


def test_rdvs_of_other_organisations_and_espaces_answer_404(client, setup, bob):
    rdv = setup.book(at(TODAY, 10))
    other = setup.world.other_organisation
    before = state()
    log_in(client, setup.outsider)  # a member of the other organisation of the espace
    path = reverse("agenda_move", args=[other.pk, rdv.pk])
    assert client.post(path, {"debut": "2027-03-09T11:00", "agent": setup.outsider.pk}).status_code == 404
    log_in(client, bob.territory_admin)  # admin of an organisation of another espace
    path = reverse("agenda_move", args=[bob.organisation.pk, rdv.pk])
    assert client.post(path, {"debut": "2027-03-09T11:00", "agent": bob.territory_admin.pk}).status_code == 404
    log_in(client, setup.agent)  # this RDV under another organisation's id
    assert client.get(reverse("agenda_move", args=[other.pk, rdv.pk])).status_code == 404
    assert state() == before


def test_a_cancelled_rdv_is_not_moved(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    before = state()
    response = move(agent_client, setup, rdv, debut="2027-03-09T11:00")
    assert response.status_code == 409
    assert "Ce rendez-vous est annulé : il ne peut plus être déplacé." in page_text(response)
    assert state() == before


def test_the_move_is_protected_against_cross_site_requests(setup):
    rdv = setup.book(at(TODAY, 10))
    client = log_in(Client(enforce_csrf_checks=True), setup.agent)
    before = state()
    data = {"debut": "2027-03-09T11:00", "agent": setup.agent.pk}
    assert client.post(url("agenda_move", setup, rdv.pk), data).status_code == 403
    assert state() == before
    confirmation = page_text(client.get(url("agenda_move", setup, rdv.pk), data))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', confirmation).group(1)
    response = client.post(url("agenda_move", setup, rdv.pk), {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert log_in(Client(), setup.agent).put(url("agenda_move", setup, rdv.pk)).status_code == 405


def test_the_move_endpoint_runs_a_bounded_number_of_queries_whatever_the_agenda(agent_client, setup):
    add_rdvs(setup, 20)
    rdv = setup.book(at(date(2027, 3, 10), 10), usagers=[setup.usager3])

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = move(agent_client, setup, rdv, "get", debut="2027-03-10T11:00")
        assert response.status_code == 200
        return len(queries.captured_queries)

    few = count()
    add_rdvs(setup, 20, offset=20)
    assert count() == few
