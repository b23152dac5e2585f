"""Providers: the file and console backends, and the Brevo adapter against a fake API on
127.0.0.1 (statuses, timeouts, refused connections)."""

import logging
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from rdv.outbox.channels import PermanentError, TemporaryError
from rdv.sms.providers import BrevoProvider, get_provider, read_file_messages


def test_the_file_backend_appends_one_json_line_per_sms(sms_providers):
    provider = get_provider("file")
    first = provider.send("+33612345678", "Bonjour", "RDV")
    second = provider.send("+262692123456", "a" * 161, "RDV")

    lines = sms_providers.sent("file")
    assert [line["to"] for line in lines] == ["+33612345678", "+262692123456"]
    assert [line["id"] for line in lines] == [first.provider_id, second.provider_id]
    assert (lines[0]["text"], lines[0]["sender"], lines[0]["segments"]) == ("Bonjour", "RDV", 1)
    assert (lines[1]["encoding"], lines[1]["segments"]) == ("GSM-7", 2)


def test_the_file_backend_fails_temporarily_when_it_cannot_write(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.SMS_PROVIDERS = {"file": {"backend": "file", "options": {"path": str(blocker / "sms.jsonl")}}}
    with pytest.raises(TemporaryError, match="Écriture impossible"):
        get_provider("file").send("+33612345678", "Bonjour", "RDV")


def test_the_console_backend_logs_the_sms(settings, caplog):
    settings.SMS_PROVIDERS = {"console": {"backend": "console"}}
    with caplog.at_level(logging.WARNING, logger="rdv.sms.providers"):
        result = get_provider("console").send("+33612345678", "Votre RDV demain", "RDV")
    assert result.provider_id
    assert "+33612345678" in caplog.text
    assert "Votre RDV demain" in caplog.text


def test_an_unknown_provider_is_a_temporary_error(sms_providers):
    with pytest.raises(TemporaryError, match="Fournisseur SMS inconnu"):
        get_provider("nope")


def test_brevo_posts_the_documented_request_and_returns_the_message_id(sms_providers, fake_brevo):
    sms_providers.add_brevo(fake_brevo)
    result = get_provider("brevo").send("+33612345678", "Votre RDV du 3 mars", "RDV")

    assert result.provider_id == "1511882900176220"
    assert result.status_code == 201
    [request] = fake_brevo.requests
    assert request["path"] == "/v3/transactionalSMS/send"
    assert request["headers"]["api-key"] == "xkeysib-test"
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == {
        "sender": "RDV",
        "recipient": "33612345678",
        "content": "Votre RDV du 3 mars",
        "type": "transactional",
        "unicodeEnabled": False,
    }


def test_brevo_flags_unicode_content(sms_providers, fake_brevo):
    sms_providers.add_brevo(fake_brevo)
    get_provider("brevo").send("+33612345678", "ê", "RDV")
    assert fake_brevo.requests[0]["body"]["unicodeEnabled"] is True


@pytest.mark.parametrize("status", [400, 404, 422])
def test_brevo_refusing_the_message_is_permanent(sms_providers, fake_brevo, status):
    fake_brevo.replies = [(status, {"code": "invalid_parameter", "message": "Invalid phone number"})]
    sms_providers.add_brevo(fake_brevo)
    with pytest.raises(PermanentError) as caught:
        get_provider("brevo").send("+33612345678", "Bonjour", "RDV")
    assert caught.value.status_code == status
    assert "invalid_parameter Invalid phone number" in str(caught.value)
    assert "Invalid phone number" in caught.value.response_excerpt


@pytest.mark.parametrize("status", [401, 402, 403, 408, 429, 500, 502, 503])
def test_brevo_account_throttling_and_server_errors_are_temporary(sms_providers, fake_brevo, status):
    fake_brevo.replies = [(status, {"code": "x", "message": "try later"})]
    sms_providers.add_brevo(fake_brevo)
    with pytest.raises(TemporaryError) as caught:
        get_provider("brevo").send("+33612345678", "Bonjour", "RDV")
    assert caught.value.status_code == status


def test_brevo_silent_is_a_temporary_error_after_the_timeout(sms_providers, fake_brevo):
    fake_brevo.replies = ["hang"]
    sms_providers.add_brevo(fake_brevo, timeout=0.3)
    with pytest.raises(TemporaryError, match=r"pas de réponse en 0\.3 s"):
        get_provider("brevo").send("+33612345678", "Bonjour", "RDV")


def test_brevo_unreachable_is_a_temporary_error(settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_PROVIDERS = {
        "brevo": {"backend": "brevo", "options": {"api_key": "k", "base_url": f"http://127.0.0.1:{port}"}}
    }
    with pytest.raises(TemporaryError, match="ConnectionRefusedError"):
        get_provider("brevo").send("+33612345678", "Bonjour", "RDV")


def test_brevo_settings_are_checked():
    with pytest.raises(ImproperlyConfigured, match="api_key"):
        BrevoProvider("brevo")
    with pytest.raises(ImproperlyConfigured, match="https"):
        BrevoProvider("brevo", api_key="k", base_url="http://api.brevo.com")
    assert BrevoProvider("brevo", api_key="k").url.geturl() == "https://api.brevo.com"
    assert BrevoProvider("brevo", api_key="k").timeout == 5


def test_read_file_messages_of_a_missing_file_is_empty(tmp_path):
    assert read_file_messages(tmp_path / "none.jsonl") == []
