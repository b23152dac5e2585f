"""The usager file lists the usager's RDVs (issue 17, point 3): upcoming first (soonest first), then
past ones (most recent first), with date and time, motif, lieu, agents, the usager's status and a
link to the RDV; only the RDVs the agent may see, in a constant number of queries; and a « Prendre
rendez-vous » button opens the booking form with the usager chosen."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.bookings import selectors as rdv_selectors
from rdv.bookings import services
from rdv.bookings.models import RdvStatus
from tests.bookings.conftest import TODAY, at, next_weekday
from tests.helpers import as_agent, log_in, page_text

TOMORROW = next_weekday(TODAY)
YESTERDAY = TODAY.replace(day=TODAY.day - 1)  # Monday 8 March 2027


@pytest.fixture
def agent_client(client, setup):
    return log_in(client, setup.agent)


def file_url(setup, usager=None) -> str:
    return reverse("usager_detail", args=[setup.organisation.pk, (usager or setup.usager).pk])


def section(page: str, caption: str) -> str:
    """The table of the file whose caption starts with `caption`."""
    return page.split(f"<caption>{caption}", 1)[1].split("</table>", 1)[0]


def test_the_file_lists_upcoming_then_past_rdvs_with_their_details(agent_client, setup):
    later = setup.book(at(TOMORROW, 11))
    sooner = setup.book(at(TODAY, 10))
    old = setup.book(at(YESTERDAY, 9), override=True)
    older = setup.book(at(YESTERDAY, 11, 30), override=True)
    services.set_status(as_agent(setup.agent, setup.organisation), older, RdvStatus.NOSHOW)
    older_past, recent_past = old, older  # 09:00 then 11:30 the same day

    page = page_text(agent_client.get(file_url(setup)))

    upcoming = section(page, "Rendez-vous à venir")
    assert upcoming.index(f"/rdvs/{sooner.pk}/") < upcoming.index(f"/rdvs/{later.pk}/")
    assert "Mardi 9 mars 2027 à 10:00" in upcoming
    assert "Premier accueil" in upcoming and setup.lieu.name in upcoming
    assert str(setup.agent) in upcoming
    assert "À venir" in upcoming
    past = section(page, "Rendez-vous passés")
    assert past.index(f"/rdvs/{recent_past.pk}/") < past.index(f"/rdvs/{older_past.pk}/")
    assert "Lundi 8 mars 2027 à 11:30" in past
    assert "Absent" in past
    assert "À renseigner" in past and "À venir" not in past  # a past RDV whose status is not set
    assert f'href="/organisations/{setup.organisation.pk}/rdvs/{sooner.pk}/"' in upcoming


def test_the_file_says_when_the_usager_has_no_rdv(agent_client, setup):
    page = page_text(agent_client.get(file_url(setup)))

    assert "Aucun rendez-vous à venir." in page
    assert "Aucun rendez-vous passé." in page


def test_the_file_shows_only_the_rdvs_the_agent_may_see(agent_client, setup):
    mine = setup.book(at(TODAY, 10))
    # A PMI RDV of the same usager, taken by a PMI agent: not visible to a Service social agent.
    hidden = setup.book(
        at(TOMORROW, 10), motif=setup.other_motif, agents=[setup.other_agent], actor=setup.other_agent, override=True
    )

    page = page_text(agent_client.get(file_url(setup)))

    assert f"/rdvs/{mine.pk}/" in page
    assert f"/rdvs/{hidden.pk}/" not in page
    assert "Consultation nourrisson" not in page
    # The PMI agent sees theirs, not the Service social one.
    other = as_agent(setup.other_agent, setup.organisation)
    shown = rdv_selectors.usager_rdvs(other, setup.usager)
    assert [rdv.pk for rdv in shown.upcoming] == [hidden.pk]


def test_an_agent_of_another_organisation_sees_none_of_its_rdvs(setup):
    setup.book(at(TODAY, 10))

    outsider = as_agent(setup.outsider, setup.world.other_organisation)
    shown = rdv_selectors.usager_rdvs(outsider, setup.usager)

    assert (shown.upcoming, shown.past) == ([], [])


def test_a_collective_rdv_shows_the_usagers_own_status(agent_client, setup):
    rdv = setup.book(
        at(YESTERDAY, 10), motif=setup.collective_motif, usagers=[setup.usager, setup.usager2], override=True
    )
    rdv.participations.filter(usager=setup.usager).update(status=RdvStatus.SEEN)
    rdv.participations.filter(usager=setup.usager2).update(status=RdvStatus.NOSHOW)

    first = section(page_text(agent_client.get(file_url(setup))), "Rendez-vous passés")
    second = section(page_text(agent_client.get(file_url(setup, setup.usager2))), "Rendez-vous passés")

    assert ">Vu<" in first and "Absent" not in first
    assert "Absent" in second


def test_the_rdvs_of_the_file_take_a_constant_number_of_queries(setup):
    ctx = as_agent(setup.agent, setup.organisation)
    setup.book(at(TODAY, 10))

    with CaptureQueriesContext(connection) as one:
        rdv_selectors.usager_rdvs(ctx, setup.usager)
    for hour in (9, 11):
        setup.book(at(TOMORROW, hour))
        setup.book(at(YESTERDAY, hour), override=True)
    setup.book(at(TOMORROW, 10), agents=[setup.agent, setup.admin])
    with CaptureQueriesContext(connection) as many:
        shown = rdv_selectors.usager_rdvs(ctx, setup.usager)

    assert len(shown.upcoming) == 4 and len(shown.past) == 2
    assert len(many.captured_queries) == len(one.captured_queries) == 3


def test_long_lists_are_cut_and_say_so(agent_client, setup, monkeypatch):
    monkeypatch.setattr(rdv_selectors, "USAGER_PAST_SIZE", 1)
    setup.book(at(YESTERDAY, 9), override=True)
    setup.book(at(YESTERDAY, 10), override=True)

    page = page_text(agent_client.get(file_url(setup)))

    assert "Seuls les rendez-vous passés les plus récents sont affichés." in page
    assert "Lundi 8 mars 2027 à 10:00" in page and "Lundi 8 mars 2027 à 09:00" not in page


def test_the_book_button_opens_the_booking_form_with_the_usager_chosen(agent_client, setup):
    page = page_text(agent_client.get(file_url(setup)))
    link = f"/organisations/{setup.organisation.pk}/rdvs/nouveau/?usager={setup.usager.pk}"
    assert f'href="{link}">Prendre rendez-vous' in page

    form = page_text(agent_client.get(link))

    pk = setup.usager.pk
    assert re.search(rf'name="usagers"\s+value="{pk}"\s+id="usager-{pk}"\s+checked>', form), "the usager is chosen"
