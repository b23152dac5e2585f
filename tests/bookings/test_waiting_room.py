"""Salle d'attente: "L'usager est arrivé" tells the agents of the RDV according to the espace
setting: a visual mark in their agenda (refreshed by htmx polling) and/or an e-mail at once."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from rdv.bookings import services
from rdv.territories.models import WaitingRoomNotification
from tests.bookings.conftest import TODAY, at
from tests.helpers import as_agent, deliver_emails, log_in, page_text

MODES = {
    WaitingRoomNotification.NONE: (False, False),
    WaitingRoomNotification.VISUAL: (True, False),
    WaitingRoomNotification.EMAIL: (False, True),
    WaitingRoomNotification.BOTH: (True, True),
}


def set_mode(setup, mode):
    territory = setup.world.territory
    territory.waiting_room_notification = mode
    territory.save()


@pytest.fixture
def two_agent_rdv(setup):
    """A RDV today at 10:00 with two agents (the social worker and the organisation admin); the
    usager's confirmation e-mail already sent and cleared."""
    rdv = setup.book(at(TODAY, 10), agents=[setup.agent, setup.admin])
    deliver_emails()
    mail.outbox.clear()
    return rdv


@pytest.mark.parametrize("mode", list(MODES))
def test_emails_are_sent_at_once_according_to_the_setting(setup, two_agent_rdv, mode):
    set_mode(setup, mode)
    mail.outbox.clear()

    services.mark_arrived(as_agent(setup.secretariat, two_agent_rdv), two_agent_rdv)
    deliver_emails()

    _, by_email = MODES[mode]
    if not by_email:
        assert mail.outbox == []
        return
    assert sorted(message.to[0] for message in mail.outbox) == sorted([setup.agent.email, setup.admin.email])
    message = mail.outbox[0]
    assert message.subject == "Salle d'attente : Jeanne DUPONT est arrivé(e) pour le RDV de 10:00"
    assert "Jeanne DUPONT est arrivé(e) en salle d'attente pour le rendez-vous « Premier accueil » de 10:00" in (
        message.body
    )


def test_undoing_an_arrival_sends_nothing(setup, two_agent_rdv):
    set_mode(setup, WaitingRoomNotification.BOTH)
    services.mark_arrived(as_agent(setup.agent, two_agent_rdv), two_agent_rdv)
    assert len(deliver_emails()) == 2
    mail.outbox.clear()
    services.mark_arrived(as_agent(setup.agent, two_agent_rdv), two_agent_rdv, arrived=False)
    assert deliver_emails() == []


def test_marking_twice_sends_one_email_per_agent(setup, two_agent_rdv):
    set_mode(setup, WaitingRoomNotification.EMAIL)
    services.mark_arrived(as_agent(setup.agent, two_agent_rdv), two_agent_rdv)
    services.mark_arrived(as_agent(setup.agent, two_agent_rdv), two_agent_rdv)
    assert len(deliver_emails()) == 2


def agenda_of(client, setup, viewer, agent, view="liste"):
    log_in(client, viewer)
    text = page_text(
        client.get(reverse("agenda", args=[setup.organisation.pk]), {"agents": agent.pk, "affichage": view})
    )
    return " ".join(text.split())


@pytest.mark.parametrize("mode", list(MODES))
def test_the_live_notification_follows_the_setting_and_the_badge_always_shows(client, setup, two_agent_rdv, mode):
    set_mode(setup, mode)
    services.mark_arrived(as_agent(setup.secretariat, two_agent_rdv), two_agent_rdv)

    text = agenda_of(client, setup, setup.admin, setup.agent)  # a second agent of the RDV
    grid = agenda_of(client, setup, setup.admin, setup.agent, view="grille")

    visual, _ = MODES[mode]
    # The « arrivé(e) » badge is a fact about the RDV: it stays in every mode, list and grid.
    assert "Arrivé(e) à 08:00" in text
    assert "Arrivé(e) à 08:00" in grid
    assert ("Salle d'attente : Jeanne DUPONT (RDV de 10:00)" in text) is visual
    assert ('hx-trigger="every 15s"' in text) is visual


def test_the_agenda_polls_a_small_fragment(client, setup, two_agent_rdv):
    set_mode(setup, WaitingRoomNotification.VISUAL)
    text = agenda_of(client, setup, setup.admin, setup.agent)

    poll = re.search(r'hx-get="([^"]+)" hx-trigger="every 15s" hx-swap="none"', text)
    assert poll, "the agenda polls every 15 seconds"
    fragment_url = poll.group(1).replace("&amp;", "&")
    assert fragment_url.startswith(reverse("agenda_arrivals", args=[setup.organisation.pk]))
    assert f'class="arrivee-{two_agent_rdv.pk}"' in text
    assert "Arrivé(e)" not in text

    # Another agent marks the arrival: the next poll brings the mark, without reloading the page.
    services.mark_arrived(as_agent(setup.secretariat, two_agent_rdv), two_agent_rdv)
    fragment = " ".join(page_text(client.get(fragment_url)).split())
    assert "<html" not in fragment
    assert f'hx-swap-oob="innerHTML:.arrivee-{two_agent_rdv.pk}"' in fragment
    assert "Arrivé(e) à 08:00" in fragment
    assert 'id="salle-d-attente"' in fragment and "Jeanne DUPONT (RDV de 10:00)" in fragment

    # Undone: the next poll clears it.
    services.mark_arrived(as_agent(setup.secretariat, two_agent_rdv), two_agent_rdv, arrived=False)
    fragment = page_text(client.get(fragment_url))
    assert f'hx-swap-oob="innerHTML:.arrivee-{two_agent_rdv.pk}"' in fragment
    assert "Arrivé(e)" not in fragment


def test_the_fragment_says_nothing_about_rdvs_the_agent_cannot_see(client, setup, two_agent_rdv):
    set_mode(setup, WaitingRoomNotification.VISUAL)
    services.mark_arrived(as_agent(setup.agent, two_agent_rdv), two_agent_rdv)
    log_in(client, setup.other_agent)
    fragment = page_text(
        client.get(reverse("agenda_arrivals", args=[setup.organisation.pk]), {"rdvs": f"{two_agent_rdv.pk},abc"})
    )
    assert "Arrivé(e)" not in fragment
    assert f"arrivee-{two_agent_rdv.pk}" not in fragment


def test_the_fragment_is_empty_when_the_setting_is_not_visual(client, setup, two_agent_rdv):
    set_mode(setup, WaitingRoomNotification.EMAIL)
    services.mark_arrived(as_agent(setup.agent, two_agent_rdv), two_agent_rdv)
    log_in(client, setup.agent)
    fragment = page_text(
        client.get(reverse("agenda_arrivals", args=[setup.organisation.pk]), {"rdvs": two_agent_rdv.pk})
    )
    assert "Arrivé(e)" not in fragment


def test_the_list_and_the_rdv_page_show_the_arrival(client, setup, two_agent_rdv):
    services.mark_arrived(as_agent(setup.agent, two_agent_rdv), two_agent_rdv)
    log_in(client, setup.admin)
    assert "Arrivé(e) à 08:00" in page_text(client.get(reverse("rdv_list", args=[setup.organisation.pk])))
    detail = page_text(client.get(reverse("rdv_detail", args=[setup.organisation.pk, two_agent_rdv.pk])))
    assert "L'usager est arrivé à 08:00." in detail
