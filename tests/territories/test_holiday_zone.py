from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from rdv.agendas.calendar import holiday_zone
from rdv.agendas.holidays import holiday_dates
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.territories import services
from rdv.territories.models import Territory
from tests.helpers import as_agent, log_in


def test_alsace_moselle_and_overseas_have_their_own_holidays():
    good_friday = date(2026, 4, 3)
    assert good_friday in holiday_dates("57", date(2026, 1, 1), date(2026, 12, 31))
    assert good_friday in holiday_dates("6AE", date(2026, 1, 1), date(2026, 12, 31))
    assert good_friday not in holiday_dates("", date(2026, 1, 1), date(2026, 12, 31))
    assert date(2026, 12, 20) in holiday_dates("974", date(2026, 12, 1), date(2026, 12, 31))  # abolition, La Réunion
    assert date(2026, 7, 14) in holiday_dates("", date(2026, 7, 1), date(2026, 7, 31))


@pytest.mark.django_db
def test_the_zone_follows_the_departement_unless_the_espace_chooses_one():
    moselle = Territory.objects.create(name="Moselle", departement_number="57")
    drome = Territory.objects.create(name="Drôme", departement_number="26")
    assert holiday_zone(moselle) == "57"
    assert holiday_zone(drome) == ""
    services.set_holiday_zone(as_agent(None, drome), "6AE")
    assert holiday_zone(drome) == "6AE"


def test_setting_the_zone_is_logged_and_bad_input_refused(alice):
    assert services.set_holiday_zone(as_agent(alice.territory_admin, alice.territory), "974") is True
    assert services.set_holiday_zone(as_agent(alice.territory_admin, alice.territory), "974") is False
    assert AuditLog.objects.filter(action="territory.holiday_zone_updated").count() == 1
    with pytest.raises(DomainError):
        services.set_holiday_zone(as_agent(alice.territory_admin, alice.territory), "XX")
    alice.territory.refresh_from_db()
    assert alice.territory.holiday_zone == "974"


def test_the_holidays_page_saves_the_zone_for_espace_admins_only(alice, bob):
    url = reverse("espace_settings_holidays", args=[alice.territory.pk])
    admin = log_in(Client(), alice.territory_admin)
    response = admin.get(url)
    assert response.status_code == 200
    assert "Prochains jours fériés" in response.content.decode()
    response = admin.post(url, {"holiday_zone": "57"}, follow=True)
    assert "Jours fériés enregistrés : Moselle." in response.content.decode()
    response = admin.post(url, {"holiday_zone": "nowhere"})
    assert response.status_code == 200
    assert "Choisissez une zone proposée." in response.content.decode()
    alice.territory.refresh_from_db()
    assert alice.territory.holiday_zone == "57"
    assert log_in(Client(), bob.territory_admin).post(url, {"holiday_zone": ""}).status_code == 404
    assert log_in(Client(), alice.organisation_admin).get(url).status_code == 404
