"""The « Réservation en ligne » page of the espace settings: shown with the current values, saved
with a message and a journal entry, bad input of every field answered in French with nothing
changed, closed to everyone but the espace's admins, a fixed number of queries."""

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.territories.models import Territory
from tests.helpers import log_in, page_text

GOOD = {
    "online_hold_minutes": "15",
    "online_max_upcoming_per_contact": "2",
    "online_max_bookings_per_ip_per_day": "30",
    "online_cancel_min_hours": "24",
    "online_move_min_hours": "72",
    "embedding_origins": "https://www.ladrome.fr/\r\nhttps://VALENCE.fr",
}
FIELDS = [
    "online_hold_minutes",
    "online_max_upcoming_per_contact",
    "online_max_bookings_per_ip_per_day",
    "online_cancel_min_hours",
    "online_move_min_hours",
    "embedding_origins",
]


def _url(world) -> str:
    return reverse("espace_settings_online_booking", args=[world.territory.pk])


def _state() -> list:
    return [list(Territory.objects.order_by("pk").values_list(*FIELDS)), AuditLog.objects.count()]


def test_the_page_shows_the_current_values_with_labels_and_help(alice):
    response = log_in(Client(), alice.territory_admin).get(_url(alice))
    text = page_text(response)

    assert response.status_code == 200
    for label in (
        "Durée de réservation provisoire d'un créneau (minutes)",
        "Rendez-vous à venir par e-mail ou téléphone et par motif",
        "Réservations en ligne par adresse IP et par jour",
        "Annulation par l'usager jusqu'à (heures avant le rendez-vous)",
        "Déplacement par l'usager jusqu'à (heures avant le rendez-vous)",
        "Sites autorisés à intégrer la prise de rendez-vous",
    ):
        assert label in text
    assert 'name="online_hold_minutes" value="10"' in text
    assert 'name="online_move_min_hours" value="48"' in text
    assert "sous la forme https://www.exemple.fr" in text
    for name in FIELDS:  # every field has its label element
        assert f'for="id_{name}"' in text


def test_saving_shows_a_message_normalises_the_sites_and_logs(alice):
    client = log_in(Client(), alice.territory_admin)
    response = client.post(_url(alice), GOOD, follow=True)

    assert "Paramètres de la réservation en ligne enregistrés." in page_text(response)
    territory = Territory.objects.get(pk=alice.territory.pk)
    assert (territory.online_hold_minutes, territory.online_max_upcoming_per_contact) == (15, 2)
    assert (territory.online_max_bookings_per_ip_per_day, territory.online_cancel_min_hours) == (30, 24)
    assert territory.online_move_min_hours == 72
    assert territory.embedding_origin_list == ["https://www.ladrome.fr", "https://valence.fr"]
    assert AuditLog.objects.filter(action="territory.online_booking_updated").count() == 1
    # The page shows the normalised sites, and the settings index summarises them.
    assert "https://www.ladrome.fr\nhttps://valence.fr</textarea>" in page_text(client.get(_url(alice)))
    index = page_text(client.get(reverse("espace_settings", args=[alice.territory.pk])))
    assert "Réservation en ligne" in index
    assert "Intégration autorisée sur 2 sites." in index


def test_saving_the_same_values_says_nothing_changed(alice):
    client = log_in(Client(), alice.territory_admin)
    client.post(_url(alice), GOOD)
    response = client.post(_url(alice), GOOD, follow=True)
    assert "Aucune modification" in page_text(response)
    assert AuditLog.objects.filter(action="territory.online_booking_updated").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("online_hold_minutes", "1", "entre 2 et 60 minutes"),
        ("online_hold_minutes", "61", "entre 2 et 60 minutes"),
        ("online_hold_minutes", "", "entre 2 et 60 minutes"),
        ("online_hold_minutes", "dix", "entre 2 et 60 minutes"),
        ("online_hold_minutes", "99999999999999999999999", "entre 2 et 60 minutes"),
        ("online_max_upcoming_per_contact", "0", "entre 1 et 50 rendez-vous"),
        ("online_max_upcoming_per_contact", "51", "entre 1 et 50 rendez-vous"),
        ("online_max_bookings_per_ip_per_day", "0", "entre 1 et 1000 réservations"),
        ("online_max_bookings_per_ip_per_day", "1001", "entre 1 et 1000 réservations"),
        ("online_max_bookings_per_ip_per_day", "-5", "entre 1 et 1000 réservations"),
        ("online_cancel_min_hours", "-1", "entre 0 et 168 heures"),
        ("online_cancel_min_hours", "169", "entre 0 et 168 heures"),
        ("online_cancel_min_hours", "4,5", "entre 0 et 168 heures"),
        ("online_move_min_hours", "721", "entre 0 et 720 heures"),
        ("online_move_min_hours", "", "entre 0 et 720 heures"),
        ("embedding_origins", "http://exemple.fr", "Ligne 1 (« http://exemple.fr ») : seules les adresses en https://"),
        ("embedding_origins", "https://ok.fr\nhttps://exemple.fr/page", "Ligne 2 (« https://exemple.fr/page »)"),
        ("embedding_origins", "exemple.fr", "l'adresse doit commencer par https://"),
        ("embedding_origins", "https://*.exemple.fr", "les caractères génériques (*) ne sont pas acceptés"),
        ("embedding_origins", "\n".join(f"https://s{n}.fr" for n in range(21)), "Indiquez au plus 20 sites"),
        ("embedding_origins", "https://a.fr\n" * 3000, "Indiquez au plus 20 sites, un par ligne."),
    ],
)
def test_bad_input_in_every_field_is_refused_in_french_and_changes_nothing(alice, field, value, message):
    before = _state()
    response = log_in(Client(), alice.territory_admin).post(_url(alice), {**GOOD, field: value})

    assert response.status_code == 200
    text = page_text(response)
    assert message in text
    assert "Les paramètres n'ont pas été enregistrés" in text
    assert _state() == before


@pytest.mark.parametrize("field", FIELDS[:5])
def test_the_bounds_themselves_are_accepted(alice, field):
    low = {"online_hold_minutes": "2", "online_cancel_min_hours": "0", "online_move_min_hours": "0"}.get(field, "1")
    client = log_in(Client(), alice.territory_admin)
    assert client.post(_url(alice), {**GOOD, field: low}).status_code == 302
    assert str(getattr(Territory.objects.get(pk=alice.territory.pk), field)) == low


@pytest.mark.parametrize("who", ["agent", "organisation_admin"])
def test_agents_and_organisation_admins_get_a_404(alice, who):
    before = _state()
    client = log_in(Client(), getattr(alice, who))
    assert client.get(_url(alice)).status_code == 404
    assert client.post(_url(alice), GOOD).status_code == 404
    assert _state() == before


def test_another_espace_s_admin_gets_a_404_and_changes_nothing(alice, bob):
    before = _state()
    client = log_in(Client(), bob.territory_admin)
    assert client.get(_url(alice)).status_code == 404
    assert client.post(_url(alice), GOOD).status_code == 404
    assert _state() == before
    assert client.get(_url(bob)).status_code == 200


def test_the_page_runs_a_fixed_number_of_queries(alice, django_assert_num_queries):
    """Session, agent, context, menus: the espace's settings come with the context."""
    client = log_in(Client(), alice.territory_admin)
    client.get(_url(alice))  # warm the session
    with django_assert_num_queries(6):
        assert client.get(_url(alice)).status_code == 200


def test_the_page_links_the_espace_open_availability_feed(alice, client):
    response = log_in(client, alice.territory_admin).get(_url(alice))
    text = response.content.decode()
    assert f'href="/donnees/espaces/{alice.territory.pk}/prochaines-disponibilites.json"' in text
    assert f'href="/donnees/espaces/{alice.territory.pk}/prochaines-disponibilites.csv"' in text
    assert "Données ouvertes" in page_text(response)
