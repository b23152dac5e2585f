"""« Mes notifications » (issue 20): the logged-in agent's own choices and calendar link; nobody
else's, bad input refused in French, the calendar address shown once."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.notifications.models import AgentPreferences, CalendarFeed, RdvLevel
from tests import factories
from tests.helpers import log_in, page_text

URL = "/mon-compte/notifications/"


@pytest.fixture
def alice(db):
    agent = factories.AgentFactory(first_name="Alice", last_name="Martin")
    factories.AgentRoleFactory(agent=agent)
    return agent


@pytest.fixture
def bob(db):
    return factories.AgentFactory(first_name="Bob", last_name="Durand")


def test_the_page_has_its_address_and_a_header_link():
    assert reverse("agent_notifications") == URL


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    client = Client()
    for method, url in (
        ("get", URL),
        ("post", URL),
        ("post", reverse("calendar_feed_create")),
        ("post", reverse("calendar_feed_revoke")),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/"), url
    assert not CalendarFeed.objects.exists() and not AgentPreferences.objects.exists()


def test_the_page_shows_the_defaults_without_writing_anything(alice):
    response = log_in(Client(), alice).get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "<h1>Mes notifications</h1>" in text
    assert f'href="{URL}"' in text and "Mes notifications</a>" in text  # the header link
    for label in RdvLevel.labels:
        assert label in text
    assert re.search(r'<input[^>]*value="others"[^>]*checked', text)  # the default
    assert not re.search(r'<input[^>]*value="all"[^>]*checked', text)
    assert "Créer le lien" in text
    assert not AgentPreferences.objects.exists()


def test_saving_the_choices_writes_one_row_and_the_journal(alice):
    client = log_in(Client(), alice)
    response = client.post(URL, {"rdv_level": "soon"})  # unticked box: not posted
    assert response.status_code == 302
    preferences = AgentPreferences.objects.get(agent=alice)
    assert (preferences.rdv_level, preferences.plages_and_absences) == (RdvLevel.SOON, False)
    entry = AuditLog.objects.get(action="notification_preferences.updated")
    assert entry.actor_id == alice.pk
    assert entry.changes["rdv_level"] == [RdvLevel.OTHERS.label, RdvLevel.SOON.label]
    assert "Vos choix de notification sont enregistrés." in page_text(client.get(URL))
    client.post(URL, {"rdv_level": "soon"})
    assert AgentPreferences.objects.count() == 1
    assert AuditLog.objects.filter(action="notification_preferences.updated").count() == 1  # no change


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rdv_level": "tout"}, "Choisissez une des options proposées."),
        ({"rdv_level": ""}, "Choisissez les changements de rendez-vous dont vous voulez être prévenu(e)."),
        ({}, "Choisissez les changements de rendez-vous dont vous voulez être prévenu(e)."),
        ({"rdv_level": "all" * 5000}, "Choisissez une des options proposées."),
    ],
)
def test_bad_input_gets_a_french_error_and_changes_nothing(alice, data, message):
    response = log_in(Client(), alice).post(URL, data)
    assert response.status_code == 400
    text = page_text(response)
    assert "Vos choix n'ont pas été enregistrés" in text
    assert message in text
    assert not AgentPreferences.objects.exists()


def test_the_calendar_address_is_shown_once(alice):
    client = log_in(Client(), alice)
    assert client.get(reverse("calendar_feed_create")).status_code == 405
    response = client.post(reverse("calendar_feed_create"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    text = page_text(response)
    start = text.index("http://testserver/calendrier/")
    address = text[start : text.index('"', start)]
    assert address.endswith(".ics")
    assert Client().get(address.removeprefix("http://testserver")).status_code == 200
    again = page_text(client.get(URL))
    assert address not in again
    assert "Lien actif, créé le" in again and "Révoquer le lien" in again


def test_revoking_stops_the_feed_and_a_second_revocation_says_so(alice):
    client = log_in(Client(), alice)
    text = page_text(client.post(reverse("calendar_feed_create")))
    start = text.index("/calendrier/")
    path = text[start : text.index('"', start)]
    response = client.post(reverse("calendar_feed_revoke"), follow=True)
    assert "Le lien d'agenda est révoqué" in page_text(response)
    assert Client().get(path).status_code == 404
    response = client.post(reverse("calendar_feed_revoke"), follow=True)
    assert "Vous n'avez pas de lien d'agenda actif" in page_text(response)
    assert AuditLog.objects.filter(action="calendar_feed.revoked").count() == 1


def test_an_agent_acts_only_on_their_own_link(alice, bob):
    alice_client = log_in(Client(), alice)
    text = page_text(alice_client.post(reverse("calendar_feed_create")))
    start = text.index("/calendrier/")
    path = text[start : text.index('"', start)]
    bob_client = log_in(Client(), bob)
    bob_client.post(reverse("calendar_feed_revoke"))  # bob has none: nothing of alice's changes
    bob_client.post(URL, {"rdv_level": "none"})
    assert Client().get(path).status_code == 200
    assert not AgentPreferences.objects.filter(agent=alice).exists()
    assert AgentPreferences.objects.get(agent=bob).rdv_level == RdvLevel.NONE


def test_a_deactivated_agent_has_no_page(alice):
    client = log_in(Client(), alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.get(URL).status_code == 302
