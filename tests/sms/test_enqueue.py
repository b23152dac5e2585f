"""enqueue_sms and the SMS channel with the real outbox: segments stored, numbers checked, the
monthly budget (refusal, one warning e-mail per month), the fallback provider, permanent errors."""

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from rdv.core.errors import DomainError
from rdv.outbox.models import AttemptOutcome, Channel, Delivery, Purpose, Status
from rdv.outbox.services import run_due_deliveries
from rdv.sms.models import SmsMonthlyUsage, SmsSettings
from rdv.sms.services import BUDGET_EXHAUSTED, InvalidMobile, enqueue_sms, normalise_mobile, settings_for
from tests import factories

LATER = timedelta(days=3)


def _sms(world, text="Rappel : RDV demain à 9h", to="06 12 34 56 78", **kwargs):
    return enqueue_sms(territory=world.territory, to=to, text=text, purpose=Purpose.OTHER, **kwargs)


def _budget(world, segments, percent=80, **extra):
    SmsSettings.objects.update_or_create(
        territory=world.territory, defaults={"monthly_segment_budget": segments, "warning_percent": percent, **extra}
    )


def _usage(world):
    return SmsMonthlyUsage.objects.get(territory=world.territory)


def test_the_text_is_made_gsm7_and_its_segments_are_stored_then_sent(alice, sms_providers):
    delivery = _sms(alice, text="Rendez-vous à l’hôtel « Maison » — fenêtre " + "x" * 130)

    assert delivery.channel == Channel.SMS
    assert delivery.recipient == "+33612345678"
    assert delivery.text.startswith('Rendez-vous à l\'hotel "Maison" - fenetre ')
    assert delivery.headers["encoding"] == "GSM-7"
    assert delivery.headers["segments"] == 2
    assert delivery.headers["provider"] == "file"

    assert run_due_deliveries() == {"sent": 1}
    [line] = sms_providers.sent("file")
    assert (line["to"], line["text"], line["sender"]) == ("+33612345678", delivery.text, "RDV")
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.provider_id == f"file:{line['id']}"
    usage = _usage(alice)
    assert (usage.messages_accepted, usage.segments_accepted) == (1, 2)
    assert usage.sent_by_provider == {"file": {"messages": 1, "segments": 2}}


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("07.81.23.45.67", "+33781234567"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0639 01 23 45", "+262639012345"),  # Mayotte
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0694 20 12 34", "+594694201234"),  # Guyane
        ("+687 75 12 34", "+687751234"),  # Nouvelle-Calédonie
        ("+689 87 12 34 56", "+68987123456"),  # Polynésie française
    ],
)
def test_french_mobiles_of_metropolitan_france_and_overseas_are_accepted(typed, e164):
    assert normalise_mobile(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "bonjour",
        "01 23 45 67 89",
        "06 12 34",
        "+32 470 12 34 56",
        "+44 7700 900123",
        "0262 12 34 56",
        "08 00 12 34 56",
    ],
)
def test_landlines_foreign_and_malformed_numbers_are_refused_in_french(alice, sms_providers, typed):
    with pytest.raises(InvalidMobile) as caught:
        _sms(alice, to=typed)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, DomainError)
    assert "numéro de téléphone mobile français valide" in caught.value.message
    assert not Delivery.objects.exists()
    assert not SmsMonthlyUsage.objects.exists()


def test_an_empty_text_is_refused(alice, sms_providers):
    with pytest.raises(DomainError, match="Le texte du SMS est vide"):
        _sms(alice, text=" \u200b ")
    assert not Delivery.objects.exists()


def test_over_the_budget_the_sms_is_cancelled_and_counted_as_refused(alice, sms_providers):
    _budget(alice, 3, percent=100)
    first = _sms(alice, text="a" * 161)  # 2 segments
    second = _sms(alice, text="a" * 161)  # 2 more: over 3
    third = _sms(alice, text="court")  # 1: fits exactly

    assert first.status == Status.PENDING
    assert third.status == Status.PENDING
    second.refresh_from_db()
    assert second.status == Status.CANCELLED
    assert second.last_error == BUDGET_EXHAUSTED == "Budget SMS du mois épuisé"
    assert second.headers["refused"] == "budget"
    assert second.next_attempt_at is None
    assert run_due_deliveries() == {"sent": 3}  # the two SMS and the warning e-mail (100 % reached)
    assert len(mail.outbox) == 1
    assert [line["text"] for line in sms_providers.sent("file")] == ["a" * 161, "court"]
    usage = _usage(alice)
    assert (usage.segments_accepted, usage.messages_accepted) == (3, 2)
    assert (usage.segments_refused, usage.messages_refused) == (2, 1)


def test_a_budget_of_zero_means_no_budget(alice, sms_providers):
    _budget(alice, 0)
    for _ in range(5):
        _sms(alice, text="a" * 400)
    assert Delivery.objects.filter(status=Status.PENDING).count() == 5
    assert _usage(alice).segments_refused == 0


def test_crossing_the_threshold_warns_the_espace_admins_once_a_month(alice, bob, sms_providers):
    second_admin = factories.AgentFactory(email="alice-admin2@exemple.fr")
    factories.TerritoryRoleFactory(agent=second_admin, territory=alice.territory)
    _budget(alice, 10, percent=50)
    with time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=UTC), tick=False):
        for _ in range(4):
            _sms(alice)  # 4 segments: 40 %
        assert not Delivery.objects.filter(channel=Channel.EMAIL).exists()
        _sms(alice)  # 50 %: warning
        _sms(alice)  # 60 %: already warned
        for _ in range(6):
            _sms(alice)  # up to and beyond the budget: still no second e-mail
        run_due_deliveries()

    assert sorted(message.to[0] for message in mail.outbox) == ["alice-admin2@exemple.fr", "alice-admin@exemple.fr"]
    message = mail.outbox[0]
    assert message.subject == "SMS : 50 % du budget du mois atteint pour l'espace Espace alice"
    assert "5 segments SMS sur un budget de 10 pour mars 2026" in message.body
    assert f"/espace/{alice.territory.pk}/parametres/sms/" in message.body
    assert SmsSettings.objects.get(territory=alice.territory).warned_for_month.isoformat() == "2026-03-01"
    usage = _usage(alice)
    assert (usage.segments_accepted, usage.messages_refused) == (10, 2)

    mail.outbox.clear()
    with time_machine.travel(datetime(2026, 4, 2, 9, tzinfo=UTC), tick=False):  # a new month, a new budget
        for _ in range(5):
            assert _sms(alice).status == Status.PENDING
        run_due_deliveries()
    assert len(mail.outbox) == 2
    assert "pour avril 2026" in mail.outbox[0].body
    # Bob's espace has its own counter, untouched.
    assert not SmsMonthlyUsage.objects.filter(territory=bob.territory).exists()


def test_the_month_is_the_espace_calendar_month(alice, sms_providers):
    alice.territory.time_zone = "Indian/Reunion"  # UTC+4
    alice.territory.save()
    with time_machine.travel(datetime(2026, 3, 31, 21, tzinfo=UTC), tick=False):  # 1 April, 01:00 there
        delivery = _sms(alice)
    assert delivery.headers["month"] == "2026-04-01"
    assert SmsMonthlyUsage.objects.get().month.isoformat() == "2026-04-01"


def test_a_rolled_back_change_neither_sends_nor_counts(alice, sms_providers):
    with pytest.raises(RuntimeError), transaction.atomic():
        _sms(alice)
        raise RuntimeError
    assert not Delivery.objects.exists()
    assert not SmsMonthlyUsage.objects.exists()


def test_the_fallback_provider_sends_when_the_first_one_fails(alice, sms_providers, fake_brevo):
    fake_brevo.replies = [(503, {"code": "unavailable", "message": "maintenance"})]
    sms_providers.add_brevo(fake_brevo)
    _budget(alice, 0, provider="brevo", fallback_provider="backup")
    delivery = _sms(alice)

    assert run_due_deliveries() == {"sent": 1}
    delivery.refresh_from_db()
    [line] = sms_providers.sent("backup")
    assert delivery.status == Status.SENT
    assert delivery.provider_id == f"backup:{line['id']}"
    assert len(fake_brevo.requests) == 1  # the first provider was tried once
    [attempt] = delivery.attempt_rows.all()
    assert attempt.outcome == AttemptOutcome.SENT
    assert "brevo : Brevo : HTTP 503 unavailable maintenance" in attempt.response_excerpt
    assert _usage(alice).sent_by_provider == {"backup": {"messages": 1, "segments": 1}}


def test_when_both_providers_fail_the_sms_is_retried_later(alice, sms_providers, fake_brevo, settings):
    fake_brevo.replies = [(503, {"message": "down"}), (503, {"message": "down"}), (201, {"messageId": 42})]
    sms_providers.add_brevo(fake_brevo)
    with socket.socket() as probe:  # the backup's port: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_PROVIDERS = {
        **settings.SMS_PROVIDERS,
        "backup": {"backend": "brevo", "options": {"api_key": "k", "base_url": f"http://127.0.0.1:{port}"}},
    }
    _budget(alice, 0, provider="brevo", fallback_provider="backup")
    delivery = _sms(alice)

    assert run_due_deliveries() == {"failing": 1}
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILING
    assert "brevo : Brevo : HTTP 503" in delivery.last_error
    assert "secours backup : Brevo : ConnectionRefusedError" in delivery.last_error
    # The next attempts (backoff, within the next days): one more failure, then the primary is back.
    assert run_due_deliveries(due_before=timezone.now() + LATER) == {"failing": 1, "sent": 1}
    delivery.refresh_from_db()
    assert delivery.provider_id == "brevo:42"
    assert delivery.attempts == 3
    assert _usage(alice).sent_by_provider == {"brevo": {"messages": 1, "segments": 1}}


def test_a_permanent_error_is_not_retried_nor_sent_to_the_fallback(alice, sms_providers, fake_brevo):
    fake_brevo.replies = [(400, {"code": "invalid_parameter", "message": "Invalid recipient"})]
    sms_providers.add_brevo(fake_brevo)
    _budget(alice, 0, provider="brevo", fallback_provider="backup")
    delivery = _sms(alice)

    assert run_due_deliveries() == {"abandoned": 1}
    assert run_due_deliveries(due_before=timezone.now() + LATER) == {}
    delivery.refresh_from_db()
    assert delivery.status == Status.ABANDONED
    assert delivery.attempts == 1
    assert len(fake_brevo.requests) == 1
    assert sms_providers.sent("backup") == []
    [attempt] = delivery.attempt_rows.all()
    assert (attempt.outcome, attempt.status_code) == (AttemptOutcome.PERMANENT, 400)
    usage = _usage(alice)
    assert (usage.messages_undelivered, usage.segments_undelivered) == (1, 1)
    assert usage.segments_accepted == 1  # an accepted SMS still counts against the budget


def test_without_fallback_a_temporary_failure_is_retried_with_the_same_provider(alice, sms_providers, fake_brevo):
    fake_brevo.replies = [(429, {"message": "slow down"}), (201, {"messageId": 7})]
    sms_providers.add_brevo(fake_brevo)
    _budget(alice, 0, provider="brevo")
    delivery = _sms(alice)

    assert run_due_deliveries() == {"failing": 1}
    assert run_due_deliveries(due_before=timezone.now() + LATER) == {"sent": 1}
    delivery.refresh_from_db()
    assert delivery.provider_id == "brevo:7"
    assert sms_providers.sent("backup") == []


def test_a_provider_removed_from_the_settings_falls_back_to_the_platform_default(alice, sms_providers):
    _budget(alice, 0, provider="gone", fallback_provider="gone-too")
    delivery = _sms(alice)
    assert (delivery.headers["provider"], delivery.headers["fallback"]) == ("file", "")


def test_settings_are_created_lazily_with_the_defaults(alice):
    assert not SmsSettings.objects.exists()
    config = settings_for(alice.territory)
    assert (config.monthly_segment_budget, config.warning_percent, config.warned_for_month) == (0, 80, None)
    assert settings_for(alice.territory).pk == config.pk
