"""The « Rappels aux usagers » page of the espace settings: current values, saved with a message and
a journal entry, bad input answered in French with nothing changed, closed to everyone but the
espace's admins; the reminders then follow the setting."""

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.territories.models import Territory
from tests.helpers import log_in, page_text

FIELDS = ["reminder_first_hours", "reminder_second_hours"]


def _url(world) -> str:
    return reverse("espace_settings_reminders", args=[world.territory.pk])


def _state() -> list:
    return [list(Territory.objects.order_by("pk").values_list(*FIELDS)), AuditLog.objects.count()]


def test_the_page_shows_the_defaults_and_saving_logs_the_change(alice):
    client = log_in(Client(), alice.territory_admin)
    text = page_text(client.get(_url(alice)))
    assert "Premier rappel : combien d'heures avant le rendez-vous" in text
    assert 'name="reminder_first_hours" value="48"' in text
    response = client.post(_url(alice), {"reminder_first_hours": "72", "reminder_second_hours": "2"}, follow=True)
    assert "Rappels enregistrés : 72 h avant, puis 2 h avant." in page_text(response)
    territory = Territory.objects.get(pk=alice.territory.pk)
    assert (territory.reminder_first_hours, territory.reminder_second_hours) == (72, 2)
    entry = AuditLog.objects.get(action="territory.reminders_updated")
    assert entry.changes == {"reminder_first_hours": [48, 72], "reminder_second_hours": [None, 2]}
    assert "72 h avant le rendez-vous, puis 2 h avant" in page_text(
        client.get(reverse("espace_settings", args=[alice.territory.pk]))
    )
    client.post(_url(alice), {"reminder_first_hours": "72", "reminder_second_hours": ""})
    assert Territory.objects.get(pk=alice.territory.pk).reminder_second_hours is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reminder_first_hours": ""}, "Indiquez quand envoyer le premier rappel."),
        ({"reminder_first_hours": "deux"}, "Saisissez un nombre entier d'heures."),
        ({"reminder_first_hours": "0"}, "Le premier rappel doit être envoyé au moins 1 heure avant."),
        ({"reminder_first_hours": "400"}, "au plus 336 heures (14 jours) avant"),
        ({"reminder_first_hours": "48", "reminder_second_hours": "48"}, "plus proche du rendez-vous que le premier"),
        ({"reminder_first_hours": "48", "reminder_second_hours": "-2"}, "au moins 1 heure avant"),
        ({"reminder_first_hours": "9" * 30}, "au plus 336 heures"),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(alice, data, message):
    before = _state()
    response = log_in(Client(), alice.territory_admin).post(_url(alice), data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert _state() == before


@pytest.mark.parametrize("who", ["agent", "organisation_admin"])
def test_agents_and_organisation_admins_get_a_404(alice, who):
    before = _state()
    client = log_in(Client(), getattr(alice, who))
    assert client.get(_url(alice)).status_code == 404
    assert client.post(_url(alice), {"reminder_first_hours": "24"}).status_code == 404
    assert _state() == before


def test_another_espace_s_admin_gets_a_404_and_changes_nothing(alice, bob):
    before = _state()
    client = log_in(Client(), bob.territory_admin)
    assert client.post(_url(alice), {"reminder_first_hours": "24"}).status_code == 404
    assert _state() == before
