"""The providers' rules that test_providers.py does not reach, found by mutation testing
(mutation/sms-providers.toml): which answers of Brevo are a success, how much of an answer is read
and kept, how errors are worded, the options and settings checked, and how a provider is chosen by
name (label, default, dotted path)."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from rdv.outbox.channels import PermanentError, TemporaryError
from rdv.sms.providers import (
    BrevoProvider,
    ConsoleProvider,
    default_provider_name,
    get_provider,
    provider_label,
    read_file_messages,
)


def _brevo(sms_providers, fake_brevo, *replies, **options):
    fake_brevo.replies = list(replies)
    sms_providers.add_brevo(fake_brevo, **options)
    return get_provider("brevo")


def _padded(total: int) -> bytes:
    """A JSON answer {"messageId": 7, "pad": "xx…"} of exactly `total` bytes."""
    body = json.dumps({"messageId": 7, "pad": ""})
    return json.dumps({"messageId": 7, "pad": "x" * (total - len(body))}).encode()


# Brevo's answers ---------------------------------------------------------------------------------


def test_brevo_takes_every_2xx_as_sent_and_the_answers_around_them_as_temporary(sms_providers, fake_brevo):
    others = (199, 300, 399)
    brevo = _brevo(
        sms_providers, fake_brevo, (200, {"messageId": 1}), (299, {"messageId": 2}), *((s, {}) for s in others)
    )
    assert [brevo.send("+33612345678", text, "RDV").provider_id for text in ("a", "b")] == ["1", "2"]
    for status in others:
        with pytest.raises(TemporaryError) as caught:
            brevo.send("+33612345678", "c", "RDV")
        assert caught.value.status_code == status


def test_every_4xx_but_the_account_s_refuses_the_message_for_good(sms_providers, fake_brevo):
    with pytest.raises(PermanentError) as caught:
        _brevo(sms_providers, fake_brevo, (499, {"message": "?"})).send("+33612345678", "Bonjour", "RDV")
    assert caught.value.status_code == 499


@pytest.mark.parametrize("body", [b"OK", b"[1, 2]", b""])
def test_a_2xx_without_a_readable_message_id_is_still_sent(sms_providers, fake_brevo, body):
    result = _brevo(sms_providers, fake_brevo, (201, body)).send("+33612345678", "Bonjour", "RDV")
    assert (result.provider_id, result.status_code, result.response_excerpt) == ("", 201, body.decode())


def test_brevo_reads_at_most_64_kib_of_an_answer_and_keeps_500_characters(sms_providers, fake_brevo):
    brevo = _brevo(sms_providers, fake_brevo, (201, _padded(64 * 1024)), (201, _padded(64 * 1024 + 1)))
    whole = brevo.send("+33612345678", "a", "RDV")
    cut = brevo.send("+33612345678", "b", "RDV")
    assert whole.provider_id == "7"
    assert cut.provider_id == ""  # the end of a longer answer is never read: no id, still sent
    assert len(whole.response_excerpt) == len(cut.response_excerpt) == 500
    assert whole.response_excerpt.startswith('{"messageId": 7, "pad": "xxx')


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, b"<html>" + b"x" * 300, "Brevo : HTTP 503 <html>" + "x" * 194),  # 200 characters of a page
        (500, b"[1, 2]", "Brevo : HTTP 500"),  # JSON, but not Brevo's error object
        (502, {"message": ""}, "Brevo : HTTP 502"),
        (400, {"code": "c" * 150, "message": "m" * 150}, "Brevo : HTTP 400 " + "c" * 150 + " " + "m" * 49),
    ],
)
def test_brevo_error_answers_are_summarised_in_the_error(sms_providers, fake_brevo, status, body, message):
    with pytest.raises((TemporaryError, PermanentError)) as caught:
        _brevo(sms_providers, fake_brevo, (status, body)).send("+33612345678", "Bonjour", "RDV")
    assert str(caught.value) == message
    assert caught.value.status_code == status


def test_brevo_silent_gives_the_socket_s_own_words(sms_providers, fake_brevo):
    with pytest.raises(TemporaryError) as caught:
        _brevo(sms_providers, fake_brevo, "hang", timeout=0.3).send("+33612345678", "Bonjour", "RDV")
    assert str(caught.value) == "Brevo : pas de réponse en 0.3 s (timed out)"


def test_an_answer_that_is_not_http_is_a_temporary_error(sms_providers, fake_brevo):
    with pytest.raises(TemporaryError) as caught:
        _brevo(sms_providers, fake_brevo, ("raw", b"NOT HTTP\r\n\r\n")).send("+33612345678", "Bonjour", "RDV")
    assert str(caught.value).startswith("Brevo : BadStatusLine")


# Brevo's options and settings --------------------------------------------------------------------


def test_brevo_options_give_the_sender_the_tag_and_a_path_prefix(sms_providers, fake_brevo):
    fake_brevo.replies = [(201, {"messageId": 3})]
    sms_providers.add_brevo(fake_brevo, sender="MAIRIE", tag="rdv", base_url=fake_brevo.base_url + "/relais/")
    get_provider("brevo").send("+33612345678", "Bonjour", "RDV")
    [request] = fake_brevo.requests
    assert request["path"] == "/relais/v3/transactionalSMS/send"
    assert (request["body"]["sender"], request["body"]["tag"]) == ("MAIRIE", "rdv")


@pytest.mark.parametrize("base_url", ["ftp://api.brevo.com", "https://", "http://exemple.fr:8080"])
def test_brevo_refuses_a_base_url_that_is_not_https_to_a_host(base_url):
    with pytest.raises(ImproperlyConfigured, match="base_url must"):
        BrevoProvider("brevo", api_key="k", base_url=base_url)


def test_brevo_accepts_plain_http_towards_this_machine_only():
    for host in ("127.0.0.1", "localhost", "[::1]"):
        assert BrevoProvider("brevo", api_key="k", base_url=f"http://{host}:8080").url.scheme == "http"


# The file backend --------------------------------------------------------------------------------


def test_the_file_backend_creates_its_folders_and_writes_readable_utf8(settings, tmp_path):
    path = tmp_path / "sms" / "envoyés" / "sms.jsonl"
    settings.SMS_PROVIDERS = {"file": {"backend": "file", "options": {"path": str(path)}}}
    get_provider("file").send("+33612345678", "Rendez-vous à 10h", "RDV")
    assert '"text": "Rendez-vous à 10h"' in path.read_text(encoding="utf-8")


def test_the_file_backend_writes_to_sms_file_path_by_default(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "default.jsonl")
    settings.SMS_PROVIDERS = {"file": {"backend": "file"}}
    get_provider("file").send("+33612345678", "Bonjour", "RDV")
    assert [line["text"] for line in read_file_messages(tmp_path / "default.jsonl")] == ["Bonjour"]


# Choosing a provider by name ---------------------------------------------------------------------


def test_the_default_provider_is_the_configured_one_else_the_first(settings):
    settings.SMS_PROVIDERS = {"a": {"backend": "console"}, "b": {"backend": "console"}}
    settings.SMS_DEFAULT_PROVIDER = "b"
    assert default_provider_name() == "b"
    settings.SMS_DEFAULT_PROVIDER = "gone"
    assert default_provider_name() == "a"
    settings.SMS_PROVIDERS = {}
    assert default_provider_name() == ""


def test_a_provider_s_label_defaults_to_its_name(settings):
    settings.SMS_PROVIDERS = {"brevo": {"backend": "brevo", "label": "Brevo"}, "console": {"backend": "console"}}
    assert [provider_label(name) for name in ("brevo", "console", "gone")] == ["Brevo", "console", "gone"]


def test_a_backend_may_be_a_dotted_path_and_an_unknown_one_is_a_configuration_error(settings):
    settings.SMS_PROVIDERS = {
        "maison": {"backend": "rdv.sms.providers.ConsoleProvider", "options": {"x": 1}},
        "pigeon": {"backend": "pigeon-voyageur"},
        "vide": {},
    }
    provider = get_provider("maison")
    assert isinstance(provider, ConsoleProvider)
    assert (provider.name, provider.options) == ("maison", {"x": 1})
    for name in ("pigeon", "vide"):
        with pytest.raises(ImproperlyConfigured, match="unknown backend"):
            get_provider(name)
