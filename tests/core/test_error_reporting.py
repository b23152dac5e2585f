"""Error reporting with sentry-sdk: off without SENTRY_DSN; with it, no personal data and no token of
a link leaves the process (no network here: events are caught before the transport)."""

import json
import os
import subprocess
import sys

import sentry_sdk

from rdv.core.sentry import before_breadcrumb, before_send
from rdv.outbox import harness

TOKEN = "AbCdEfGhIjKlMnOpQrStUv"


def realistic_event() -> dict:
    """The parts of an event the Django integration fills for a failing request."""
    return {
        "transaction": "/r/{token}/annuler/",
        "request": {
            "url": f"https://rdv.example.fr/r/{TOKEN}/annuler/",
            "method": "POST",
            "query_string": "jeton=secret-de-requete",
            "data": {"email": "camille@exemple.fr", "telephone": "0611223344"},
            "cookies": {"sessionid": "abc"},
            "headers": {
                "User-Agent": "Firefox",
                "Cookie": "sessionid=abc",
                "Authorization": "Bearer jeton-api",
                "Referer": f"https://rdv.example.fr/r/{TOKEN}?jeton=secret-de-requete",
                "X-Forwarded-For": "203.0.113.7",
            },
            "env": {"SERVER_NAME": "web-1", "REMOTE_ADDR": "203.0.113.7"},
        },
        "logentry": {"message": "Erreur sur %s", "params": [f"/calendrier/{TOKEN}.ics"]},
        "exception": {"values": [{"type": "ValueError", "value": f"lien /r/{TOKEN} invalide"}]},
        "breadcrumbs": {
            "values": [
                {"category": "httplib", "data": {"url": f"https://si.exemple.fr/hooks/{TOKEN}", "http.query": "k=v"}},
                {"category": "django.request", "message": f"Not Found: /r/{TOKEN}"},
            ]
        },
    }


def test_before_send_masks_tokens_and_drops_bodies_cookies_and_query_strings():
    event = before_send(realistic_event(), {})
    text = json.dumps(event)
    assert TOKEN not in text
    assert "secret-de-requete" not in text
    assert "camille@exemple.fr" not in text and "0611223344" not in text
    assert "sessionid" not in text and "jeton-api" not in text and "203.0.113.7" not in text
    request = event["request"]
    assert request["url"] == "https://rdv.example.fr/r/[masked]/annuler/"
    assert "data" not in request and "cookies" not in request and "query_string" not in request
    assert request["headers"] == {"User-Agent": "Firefox", "Referer": "https://rdv.example.fr/r/[masked]"}
    assert event["exception"]["values"][0]["value"] == "lien /r/[masked] invalide"
    assert event["logentry"]["params"] == ["/calendrier/[masked].ics"]
    assert event["breadcrumbs"]["values"][0]["data"] == {"url": "https://si.exemple.fr/hooks/[masked]"}
    assert event["transaction"] == "/r/{token}/annuler/"  # a route pattern: nothing to mask


def test_before_breadcrumb_masks_messages():
    crumb = before_breadcrumb({"message": f"GET /r/{TOKEN}/deplacer/?jeton=x HTTP/1.1"}, None)
    assert crumb["message"] == "GET /r/[masked]/deplacer/ HTTP/1.1"


def test_without_a_dsn_sentry_is_not_initialised():
    assert not os.environ.get("SENTRY_DSN")
    assert sentry_sdk.get_client().is_active() is False


PROBE = """
import json
import sentry_sdk
from sentry_sdk.transport import Transport

client = sentry_sdk.get_client()
sent = []

class Recorder(Transport):
    def capture_envelope(self, envelope):
        sent.append(envelope.serialize().decode())

if client.is_active():
    client.transport = Recorder(client.options)
    sentry_sdk.capture_message("Lien /r/AbCdEfGhIjKlMnOpQrStUv?jeton=secret refusé")
    sentry_sdk.flush()
options = client.options if client.is_active() else {}
print(json.dumps({
    "active": client.is_active(),
    "send_default_pii": options.get("send_default_pii"),
    "include_local_variables": options.get("include_local_variables"),
    "max_request_body_size": options.get("max_request_body_size"),
    "before_send": getattr(options.get("before_send"), "__module__", None),
    "sent": sent,
}))
"""


def probe(**env) -> dict:
    child_env = {key: value for key, value in os.environ.items() if not key.startswith("SENTRY_")}
    child_env.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", **env})
    result = subprocess.run(
        [sys.executable, str(harness.BASE_DIR / "manage.py"), "shell", "-c", PROBE],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_dsn_turns_reporting_on_without_personal_data_and_events_go_through_the_scrubber():
    # Port 9 (discard) of this machine: nothing would answer, and the recorder replaces the transport.
    found = probe(SENTRY_DSN="http://cle-publique@127.0.0.1:9/1", SENTRY_ENVIRONMENT="test")
    assert found["active"] is True
    assert found["send_default_pii"] is False
    assert found["include_local_variables"] is False
    assert found["max_request_body_size"] == "never"
    assert found["before_send"] == "rdv.core.sentry"
    [envelope] = found["sent"]
    assert "Lien /r/[masked] refus" in envelope
    assert TOKEN not in envelope and "secret" not in envelope


def test_an_empty_dsn_leaves_reporting_off():
    assert probe(SENTRY_DSN="")["active"] is False
