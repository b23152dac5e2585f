"""Logs: a request id on every response and every record of the request, JSON lines with one access
line per request when LOG_FORMAT=json, and never a token of a link nor a query string."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid

import pytest
from django.urls import reverse

from rdv.core.logging import JsonFormatter, RequestContextFilter, mask_path
from rdv.outbox import harness

TOKEN = "AbCdEfGhIjKlMnOpQrStUv"  # the shape of a manage link's token
HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines(settings):
    """The root logger writes JSON lines (the production handler's filter and formatter) to a buffer;
    `json_lines()` returns the lines written so far, parsed."""
    settings.LOG_FORMAT = "json"
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "rdv.request"]


# Request id --------------------------------------------------------------------------------------


def test_each_response_carries_a_new_request_id(db, client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert HEX_ID.fullmatch(first["X-Request-ID"])
    assert HEX_ID.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept(db, client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-2026.11_abc-42"})
    assert response["X-Request-ID"] == "lb-2026.11_abc-42"


@pytest.mark.parametrize(
    "incoming",
    ["x" * 101, "a b", "id;rm -rf", "<script>", "é-accentué", "ligne\r\nX-Injected: 1", ""],
    ids=["too-long", "blank", "semicolon", "markup", "non-ascii", "header-injection", "empty"],
)
def test_an_unsafe_incoming_request_id_is_replaced(db, client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert HEX_ID.fullmatch(response["X-Request-ID"])


def test_every_record_of_a_request_carries_its_request_id(db, client, json_lines):
    response = client.get(f"/nulle-part/{uuid.uuid4().hex}/")  # 404: Django logs « Not Found »
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    lines = json_lines()
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert len(not_found) == 1
    assert not_found[0]["request_id"] == request_id
    assert not_found[0]["level"] == "WARNING"
    assert access_lines(lines)[0]["request_id"] == request_id


def test_a_record_outside_any_request_has_a_null_request_id(json_lines):
    logging.getLogger("rdv.test").warning("Hors requête")
    [line] = json_lines()
    assert line["request_id"] is None
    assert line["message"] == "Hors requête"


# Access line -------------------------------------------------------------------------------------


def test_json_mode_writes_one_access_line_per_request_with_its_fields(db, client, json_lines):
    response = client.get("/healthz?token=secret-de-requete&x=1", headers={"X-Request-ID": "req-1"})
    [line] = access_lines(json_lines())
    assert line["level"] == "INFO"
    assert line["request_id"] == "req-1"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"  # never the query string
    assert line["route"] == "healthz"
    assert line["status"] == response.status_code == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert isinstance(line["cpu_ms"], float) and 0 <= line["cpu_ms"] <= line["duration_ms"] + 1  # thread CPU time
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line["timestamp"])
    assert line["message"] == "GET /healthz 200"
    assert "secret-de-requete" not in json.dumps(json_lines())
    assert "request" not in line  # Django's request object is never serialised


def test_text_mode_writes_no_access_line(db, client, settings, caplog):
    settings.LOG_FORMAT = "text"
    with caplog.at_level(logging.INFO):
        client.get("/healthz")
    assert not [record for record in caplog.records if record.name == "rdv.request"]


# Secrets in paths --------------------------------------------------------------------------------

BOOKING = "0f8fad5b-d9cb-469f-a165-70867728950e"
TOKEN_PATHS = [
    reverse("public:manage", args=[TOKEN]),
    reverse("public:manage_cancel", args=[TOKEN]),
    reverse("public:manage_ics", args=[TOKEN]),
    reverse("public:notification_preferences", args=[TOKEN]),
    reverse("calendar_feed", args=[TOKEN]),
    reverse("accept_invitation", args=[TOKEN]),
    reverse("password_reset_confirm", args=["MTIzNDU", f"c2v5ab-{TOKEN}"]),
    reverse("public:booking_details", args=[BOOKING]),
    f"/r/{TOKEN}/chemin-inconnu/",  # no route: the token-looking segment is masked all the same
]


@pytest.mark.parametrize("path", TOKEN_PATHS)
def test_tokens_of_links_never_reach_the_logs(db, client, json_lines, path):
    client.get(path + "?jeton=secret-de-requete")
    output = json.dumps(json_lines())
    assert TOKEN not in output
    assert BOOKING not in output
    assert "MTIzNDU" not in output  # the uidb64 of a password reset link
    assert "secret-de-requete" not in output
    [line] = access_lines(json_lines())
    assert "[masked]" in line["path"]


def test_masked_paths_keep_what_helps_to_debug():
    assert mask_path(f"/r/{TOKEN}/annuler/") == "/r/[masked]/annuler/"
    assert mask_path(f"/calendrier/{TOKEN}.ics") == "/calendrier/[masked].ics"
    assert mask_path("/organisations/12/rdvs/345/") == "/organisations/12/rdvs/345/"
    assert mask_path("/espace/3/parametres/reservation-en-ligne/") == "/espace/3/parametres/reservation-en-ligne/"
    assert mask_path(f"/prendre-rdv/reservation/{BOOKING}/code/") == "/prendre-rdv/reservation/[masked]/code/"
    assert mask_path("/r/e/annuler/") == "/r/[masked]/annuler/"  # a short token: its segment only


def test_every_route_with_a_token_parameter_is_masked(settings):
    """A new route taking a secret must be listed in MASKED_URL_KWARGS: this walks the URLconf."""
    from django.urls import get_resolver
    from django.urls.resolvers import URLResolver

    def parameters(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from parameters(pattern, route)
            else:
                yield from ((route, name) for name in pattern.pattern.regex.groupindex)

    secret_like = re.compile(r"token|secret|key|uid|booking")
    # Database ids that merely name a secret-bearing object (« Jetons d’API »: /mon-compte/api/<id>/…).
    not_secrets = {"token_id"}
    unmasked = {
        (route, name)
        for route, name in parameters(get_resolver())
        if secret_like.search(name) and name not in settings.MASKED_URL_KWARGS and name not in not_secrets
    }
    assert unmasked == set()


def test_django_own_records_go_through_the_masking_handler_only():
    """Django's default console handler (DEBUG) and runserver's request lines would write raw paths."""
    assert logging.getLogger("django").handlers == []
    # (pytest adds its capturing handlers to loggers that do not propagate)
    [handler] = [found for found in logging.getLogger("django.server").handlers if type(found) is logging.StreamHandler]
    assert any(isinstance(found, RequestContextFilter) for found in handler.filters)
    assert logging.getLogger("django.server").propagate is False


# The settings' switch ----------------------------------------------------------------------------

SAY = "import logging; logging.getLogger('rdv.essai').warning('Lien /r/AbCdEfGhIjKlMnOpQrStUv?jeton=x envoyé')"


def run_shell(**env) -> str:
    child_env = {key: value for key, value in os.environ.items() if key != "LOG_FORMAT"}
    child_env.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", **env})
    result = subprocess.run(
        [sys.executable, str(harness.BASE_DIR / "manage.py"), "shell", "-c", SAY],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stderr


def test_log_format_json_in_the_environment_switches_the_root_handler_to_json_lines():
    [line] = [json.loads(text) for text in run_shell(LOG_FORMAT="json").splitlines() if text.startswith("{")]
    assert line["level"] == "WARNING"
    assert line["logger"] == "rdv.essai"
    assert line["message"] == "Lien /r/[masked] envoyé"
    assert line["request_id"] is None
    assert "timestamp" in line


def test_plain_text_stays_the_default():
    assert run_shell().strip() == "Lien /r/[masked] envoyé"
