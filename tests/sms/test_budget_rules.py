"""The rules of rdv.sms.services that test_enqueue.py and test_page.py do not reach, found by mutation
testing (mutation/sms-services.toml): the warning threshold to the segment, the providers chosen
(and the warning logged when one is gone), the counters of a month with two providers, an SMS
written without the budget's headers, and update_sms_settings' own checks (the page's form checks
first: the service is the last word for every other caller)."""

import logging

import pytest
from django.core import mail

from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.outbox import services as outbox
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from rdv.outbox.services import run_due_deliveries
from rdv.sms.models import SmsMonthlyUsage, SmsSettings
from rdv.sms.services import BUDGET_MAX, enqueue_sms, month_of, update_sms_settings
from tests.helpers import as_agent


def _sms(world, text="Rappel : RDV demain à 9h"):
    return enqueue_sms(territory=world.territory, to="06 12 34 56 78", text=text, purpose=Purpose.OTHER)


def _settings(world, **values):
    SmsSettings.objects.update_or_create(territory=world.territory, defaults=values)


def _warnings() -> list[str]:
    return [m.subject for m in Delivery.objects.filter(channel=Channel.EMAIL).order_by("pk")]


# The warning threshold -----------------------------------------------------------------------------


def test_the_warning_goes_at_the_threshold_itself_not_a_segment_before(alice, sms_providers):
    _settings(alice, monthly_segment_budget=1000, warning_percent=80)
    SmsMonthlyUsage.objects.create(territory=alice.territory, month=month_of(alice.territory), segments_accepted=792)
    _sms(alice)  # 793 segments: 79.3 %
    assert _warnings() == []
    for _ in range(7):
        _sms(alice)  # 800: 80 %
    assert _warnings() == ["SMS : 80 % du budget du mois atteint pour l'espace Espace alice"]


def test_the_warning_gives_the_percentage_rounded_down(alice, sms_providers):
    _settings(alice, monthly_segment_budget=3, warning_percent=34)
    _sms(alice)  # 33 %
    _sms(alice)  # 66.7 %
    assert _warnings() == ["SMS : 66 % du budget du mois atteint pour l'espace Espace alice"]
    run_due_deliveries()
    assert "2 segments SMS sur un budget de 3" in mail.outbox[0].body
    assert "(66 %, seuil d'alerte : 34 %)" in mail.outbox[0].body


# Providers ---------------------------------------------------------------------------------------


def test_a_provider_gone_from_the_settings_is_logged_and_a_fallback_equal_to_the_primary_dropped(
    alice, sms_providers, caplog
):
    with caplog.at_level(logging.WARNING, logger="rdv.sms.services"):
        _settings(alice, provider="", fallback_provider="file")  # the platform's default, twice
        first = _sms(alice)
        _settings(alice, provider="backup", fallback_provider="file")
        second = _sms(alice)
        assert caplog.messages == []
        _settings(alice, provider="gone", fallback_provider="backup")
        third = _sms(alice)
    assert [(d.headers["provider"], d.headers["fallback"]) for d in (first, second, third)] == [
        ("file", ""),
        ("backup", "file"),
        ("file", "backup"),
    ]
    assert caplog.messages == [f"SMS provider 'gone' of espace {alice.territory.pk} is not configured; using 'file'."]


def test_the_month_s_counter_keeps_each_provider_that_sent(alice, sms_providers, settings, tmp_path):
    _settings(alice, provider="file", fallback_provider="backup")
    _sms(alice)
    run_due_deliveries()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.SMS_PROVIDERS = {
        **settings.SMS_PROVIDERS,
        "file": {"backend": "file", "options": {"path": str(blocker / "sms.jsonl")}},  # fails
    }
    _sms(alice, text="a" * 161)
    assert run_due_deliveries() == {"sent": 1}
    usage = SmsMonthlyUsage.objects.get(territory=alice.territory)
    assert usage.sent_by_provider == {"file": {"messages": 1, "segments": 1}, "backup": {"messages": 1, "segments": 2}}


def test_an_sms_written_without_the_budget_s_headers_is_sent_and_counted_nowhere(alice, sms_providers, caplog):
    outbox.enqueue(channel=Channel.SMS, recipient="+33612345678", text="Bonjour", territory=alice.territory)
    outbox.enqueue(channel=Channel.SMS, recipient="+33612345679", text="Bonjour")
    with caplog.at_level(logging.ERROR):
        assert run_due_deliveries() == {"sent": 2}
    assert caplog.records == []  # the outcome hook did not fail
    assert not SmsMonthlyUsage.objects.exists()
    assert [line["to"] for line in sms_providers.sent("file")] == ["+33612345678", "+33612345679"]


# update_sms_settings' own checks -------------------------------------------------------------------


def _update(world, **values):
    values = {"monthly_segment_budget": 100, "warning_percent": 80, "provider": "", "fallback_provider": "", **values}
    return update_sms_settings(as_agent(world.territory_admin, world.territory), **values)


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"monthly_segment_budget": -1}, "budget_invalid"),
        ({"monthly_segment_budget": BUDGET_MAX + 1}, "budget_invalid"),
        ({"monthly_segment_budget": True}, "budget_invalid"),
        ({"monthly_segment_budget": "100"}, "budget_invalid"),
        ({"warning_percent": 0}, "warning_percent_invalid"),
        ({"warning_percent": 101}, "warning_percent_invalid"),
        ({"warning_percent": True}, "warning_percent_invalid"),
        ({"warning_percent": "80"}, "warning_percent_invalid"),
        ({"provider": "inconnu"}, "provider_unknown"),
        ({"fallback_provider": "inconnu"}, "provider_unknown"),
        ({"provider": "backup", "fallback_provider": "backup"}, "fallback_same_as_provider"),
        ({"fallback_provider": "file"}, "fallback_same_as_provider"),  # the platform's default
    ],
)
def test_the_service_refuses_bad_values_itself_and_changes_nothing(alice, sms_providers, values, code):
    with pytest.raises(DomainError) as caught:
        _update(alice, **values)
    assert caught.value.code == code
    assert not SmsSettings.objects.exists()
    assert not AuditLog.objects.filter(action="territory.sms_settings_updated").exists()


@pytest.mark.parametrize(
    "values",
    [
        {"monthly_segment_budget": 0},
        {"monthly_segment_budget": BUDGET_MAX},
        {"warning_percent": 1},
        {"warning_percent": 100},
        {"provider": "backup", "fallback_provider": "file"},
        {"provider": "", "fallback_provider": "backup"},
    ],
)
def test_the_service_accepts_the_edges(alice, sms_providers, values):
    _update(alice, **values)
    config = SmsSettings.objects.get(territory=alice.territory)
    assert {name: getattr(config, name) for name in values} == values


def test_changing_only_the_providers_keeps_this_month_s_warning_sent(alice, sms_providers):
    _settings(alice, monthly_segment_budget=100, warning_percent=80, warned_for_month="2026-03-01")
    assert _update(alice, provider="backup") == {"provider": ["", "backup"]}
    assert SmsSettings.objects.get(territory=alice.territory).warned_for_month.isoformat() == "2026-03-01"
    assert _update(alice, provider="backup", warning_percent=90) == {"warning_percent": [80, 90]}
    assert SmsSettings.objects.get(territory=alice.territory).warned_for_month is None


@pytest.mark.django_db(transaction=True)
def test_the_services_hold_their_own_transaction(alice, sms_providers):
    # Called outside any transaction (a command, a shell): the row locks need one of their own, which
    # PostgreSQL enforces (select_for_update outside a transaction is an error there).
    _update(alice, monthly_segment_budget=10)
    assert _sms(alice).status == Status.PENDING
    assert SmsMonthlyUsage.objects.get(territory=alice.territory).segments_accepted == 1
