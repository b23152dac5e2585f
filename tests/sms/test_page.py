"""The « SMS » page of the espace settings: this month's counter, the settings saved with a message
and a journal entry, bad input answered in French with nothing changed, espace admins only."""

import pytest
from django.test import Client
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.outbox.models import Purpose
from rdv.outbox.services import run_due_deliveries
from rdv.sms.models import SmsSettings
from rdv.sms.services import enqueue_sms
from tests.helpers import as_agent, log_in, page_text

GOOD = {"monthly_segment_budget": "5000", "warning_percent": "75", "provider": "brevo", "fallback_provider": "backup"}


@pytest.fixture
def providers(sms_providers, fake_brevo):
    sms_providers.add_brevo(fake_brevo)
    return sms_providers


def _url(world) -> str:
    return reverse("espace_settings_sms", args=[world.territory.pk])


def _state() -> list:
    rows = SmsSettings.objects.order_by("pk").values_list(
        "territory", "monthly_segment_budget", "warning_percent", "provider", "fallback_provider"
    )
    return [list(rows), AuditLog.objects.count()]


def test_the_page_shows_the_defaults_and_the_providers_to_choose_from(alice, providers):
    response = log_in(Client(), alice.territory_admin).get(_url(alice))
    text = page_text(response)

    assert response.status_code == 200
    for label in ("Budget mensuel (segments SMS)", "Seuil d'alerte (% du budget)", "Fournisseur de secours"):
        assert label in text
    assert 'name="monthly_segment_budget" value="0"' in text
    assert 'name="warning_percent" value="80"' in text
    assert "Celui de la plateforme (Fichier)" in text
    assert '<option value="brevo">Brevo</option>' in text
    assert "Aucun SMS envoyé en" in text
    assert not SmsSettings.objects.exists()  # nothing written by a visit


def test_the_counter_of_the_month_shows_segments_sent_refused_and_per_provider(alice, providers):
    SmsSettings.objects.create(territory=alice.territory, monthly_segment_budget=3, warning_percent=100)
    for text in ("a" * 161, "b" * 161, "court"):  # 2 accepted, 2 refused, 1 accepted
        enqueue_sms(territory=alice.territory, to="0612345678", text=text, purpose=Purpose.OTHER)
    run_due_deliveries()

    text = page_text(log_in(Client(), alice.territory_admin).get(_url(alice)))
    assert "sur 3 (100 %)" in text
    assert "Segments envoyés</th>\n                <td>3 (2 SMS)</td>" in text
    assert "<td>1 (2 segments)</td>" in text  # refused
    assert "<td>Fichier</td>\n                    <td>2</td>\n                    <td>3</td>" in text
    index = page_text(
        log_in(Client(), alice.territory_admin).get(reverse("espace_settings", args=[alice.territory.pk]))
    )
    assert "1 SMS refusé (budget épuisé)." in index


def test_saving_shows_a_message_and_logs_the_changes(alice, providers):
    client = log_in(Client(), alice.territory_admin)
    response = client.post(_url(alice), GOOD, follow=True)

    assert "Paramètres SMS enregistrés." in page_text(response)
    config = SmsSettings.objects.get(territory=alice.territory)
    assert (config.monthly_segment_budget, config.warning_percent) == (5000, 75)
    assert (config.provider, config.fallback_provider) == ("brevo", "backup")
    entry = AuditLog.objects.get(action="territory.sms_settings_updated")
    assert entry.territory_id == alice.territory.pk
    assert entry.changes["monthly_segment_budget"] == [0, 5000]
    assert entry.actor_id == alice.territory_admin.pk

    again = client.post(_url(alice), GOOD, follow=True)
    assert "Aucune modification" in page_text(again)
    assert AuditLog.objects.filter(action="territory.sms_settings_updated").count() == 1


def test_a_new_budget_lets_the_warning_go_again_this_month(alice, providers):
    SmsSettings.objects.create(territory=alice.territory, warned_for_month="2026-03-01")
    log_in(Client(), alice.territory_admin).post(_url(alice), GOOD)
    assert SmsSettings.objects.get(territory=alice.territory).warned_for_month is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "monthly_segment_budget",
            "-1",
            "Le budget mensuel : saisissez un nombre entier de segments entre 0 et 10 000 000",
        ),
        ("monthly_segment_budget", "beaucoup", "Le budget mensuel : saisissez un nombre entier"),
        ("monthly_segment_budget", "", "Le budget mensuel : saisissez un nombre entier"),
        ("monthly_segment_budget", "10000001", "entre 0 et 10 000 000"),
        ("monthly_segment_budget", "2,5", "Le budget mensuel : saisissez un nombre entier"),
        ("warning_percent", "0", "Le seuil d'alerte : saisissez un pourcentage entier entre 1 et 100."),
        ("warning_percent", "101", "Le seuil d'alerte : saisissez un pourcentage entier entre 1 et 100."),
        ("warning_percent", "", "Le seuil d'alerte : saisissez un pourcentage entier entre 1 et 100."),
        ("provider", "inconnu", "Choisissez un fournisseur proposé."),
        ("fallback_provider", "inconnu", "Choisissez un fournisseur de secours proposé."),
        ("fallback_provider", "brevo", "Le fournisseur de secours doit être différent du fournisseur principal."),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(alice, providers, field, value, message):
    before = _state()
    response = log_in(Client(), alice.territory_admin).post(_url(alice), {**GOOD, field: value})

    assert response.status_code == 200
    text = page_text(response)
    assert message in text
    assert "Les paramètres SMS n'ont pas été enregistrés" in text
    assert _state() == before


def test_the_fallback_may_not_be_the_platform_default_either(alice, providers):
    response = log_in(Client(), alice.territory_admin).post(
        _url(alice), {**GOOD, "provider": "", "fallback_provider": "file"}
    )
    assert "Le fournisseur de secours doit être différent du fournisseur principal." in page_text(response)
    assert not SmsSettings.objects.exists()


@pytest.mark.parametrize("who", ["agent", "organisation_admin"])
def test_agents_and_organisation_admins_get_a_404(alice, providers, who):
    before = _state()
    client = log_in(Client(), getattr(alice, who))
    assert client.get(_url(alice)).status_code == 404
    assert client.post(_url(alice), GOOD).status_code == 404
    assert _state() == before


def test_another_espace_s_admin_gets_a_404_and_changes_nothing(alice, bob, providers):
    before = _state()
    client = log_in(Client(), bob.territory_admin)
    assert client.get(_url(alice)).status_code == 404
    assert client.post(_url(alice), GOOD).status_code == 404
    assert _state() == before
    assert client.get(_url(bob)).status_code == 200


def test_the_service_refuses_who_is_not_an_espace_admin(alice, providers):
    from rdv.core.errors import DomainError
    from rdv.sms.services import update_sms_settings

    ctx = as_agent(alice.organisation_admin, alice.organisation)
    with pytest.raises(DomainError) as caught:
        update_sms_settings(ctx, monthly_segment_budget=1, warning_percent=50, provider="", fallback_provider="")
    assert caught.value.code == "forbidden"
    assert not SmsSettings.objects.exists()
