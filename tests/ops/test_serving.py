"""Production serving: check --deploy, error pages that need no database, client addresses behind
trusted proxies (rate limits and the login lockout)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import OperationalError
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from config.settings.base import prepare_statements
from rdv.core.ratelimit import client_ip
from rdv.www.views.errors import bad_request, error_page, not_found, permission_denied, server_error
from tests.factories import PASSWORD
from tests.helpers import log_in, page_text

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_the_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "x" * 30 + "-production-like-secret-key-for-the-check-" + "y" * 10,
    }
    for name in ("HTTPS_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE"):  # the browser tests set the latter
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _prod_database_options(**env) -> str:
    """The default database's OPTIONS with the production settings (PostgreSQL, never connected to)."""
    env = {
        **{key: value for key, value in os.environ.items() if key != "DATABASE_PREPARE_THRESHOLD"},
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/rdv_options",
        **env,
    }
    code = "from django.conf import settings; print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's « N objects imported »


def test_production_prepares_statements_on_postgresql_unless_told_off():
    assert _prod_database_options() == "[('prepare_threshold', 5), ('server_side_binding', True)]"
    assert _prod_database_options(DATABASE_PREPARE_THRESHOLD="off") == "[]"


def test_the_prepared_statements_setting_takes_a_count_or_off():
    def options(threshold, engine="django.db.backends.postgresql"):
        settings = {"ENGINE": engine}
        prepare_statements(settings, threshold)
        return settings.get("OPTIONS")

    assert options("5") == {"server_side_binding": True, "prepare_threshold": 5}
    assert options(" 0 ") == {"server_side_binding": True, "prepare_threshold": 0}
    assert options("") is None and options("off") is None and options(" OFF ") is None
    assert options("5", engine="django.db.backends.sqlite3") is None
    for bad in ("-1", "cinq", "2.5", "²"):
        with pytest.raises(ImproperlyConfigured, match="DATABASE_PREPARE_THRESHOLD"):
            options(bad)


@pytest.mark.parametrize(
    ("view", "status", "words"),
    [
        (bad_request, 400, "Demande incorrecte"),
        (permission_denied, 403, "Accès refusé"),
        (not_found, 404, "Page introuvable"),
        (server_error, 500, "Erreur inattendue"),
    ],
)
def test_error_pages_are_french_dsfr_and_touch_no_database(view, status, words):
    # No django_db mark: any database access would raise here.
    request = RequestFactory().get("/")
    response = view(request) if view is server_error else view(request, None)
    assert response.status_code == status
    text = page_text(response)
    assert words in text and "Revenir à l’accueil" in text
    assert 'lang="fr"' in text and "dsfr" in text and "fr-header" in text


def test_429_and_413_pages_are_french_too():
    assert "patientez environ 2 minutes" in page_text(error_page(429, minutes=2))
    assert "trop volumineuses" in page_text(error_page(413))


@pytest.mark.django_db
def test_an_agent_gets_the_french_500_page_while_the_database_is_down(alice, monkeypatch):
    client = log_in(Client(raise_request_exception=False), alice.agent)

    def down(self):
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", down)
    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", lambda self: down(self))
    response = client.get(reverse("organisation_home", args=[alice.organisation.pk]))
    assert response.status_code == 500
    assert "Erreur inattendue" in page_text(response)
    assert "Internal Server Error" not in page_text(response)


@pytest.mark.django_db
def test_a_3_mb_post_gets_the_french_413_page_and_changes_nothing(client):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_621_440):
        response = client.post(reverse("login"), {"username": "a@exemple.fr", "password": "x" * 3_000_000})
    assert response.status_code == 413
    assert "trop volumineuses" in page_text(response)


@pytest.mark.django_db
def test_a_forged_form_gets_the_french_csrf_page():
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "Le formulaire a expiré" in page_text(response)


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@override_settings(TRUSTED_PROXIES=["10.0.0.0/24", "2001:db8::/32"])
def test_the_client_address_is_read_behind_trusted_proxies_only():
    assert client_ip(_request("10.0.0.5", "203.0.113.7")) == "203.0.113.7"
    # A client writes what it likes on the left; the proxies append on the right.
    assert client_ip(_request("10.0.0.5", "1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(_request("10.0.0.5", "203.0.113.7, 10.0.0.9")) == "203.0.113.7"
    assert client_ip(_request("2001:db8::1", "198.51.100.2")) == "198.51.100.2"
    # An untrusted sender's header is ignored; garbage stops the walk.
    assert client_ip(_request("198.51.100.9", "203.0.113.7")) == "198.51.100.9"
    assert client_ip(_request("10.0.0.5", "pas-une-adresse")) == "10.0.0.5"
    assert client_ip(_request("10.0.0.5")) == "10.0.0.5"


def test_without_trusted_proxies_the_forwarded_header_is_ignored():
    assert client_ip(_request("10.0.0.5", "203.0.113.7")) == "10.0.0.5"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_behind_a_proxy_wrong_passwords_lock_the_attacker_not_everybody(alice):
    def attempt(ip, password):
        return Client().post(
            reverse("login"),
            {"username": "alice-agent@exemple.fr", "password": password},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=ip,
        )

    for _ in range(6):
        attempt("203.0.113.66", "pas-le-bon")
    assert attempt("203.0.113.66", PASSWORD).status_code != 302  # the attacker's address is locked
    assert attempt("198.51.100.10", PASSWORD).status_code == 302  # the agent, elsewhere, logs in


def test_axes_gets_no_address_rather_than_a_word():
    from rdv.core.ratelimit import axes_client_ip

    assert axes_client_ip(_request("203.0.113.7")) == "203.0.113.7"
    assert axes_client_ip(RequestFactory().get("/", REMOTE_ADDR="")) is None
    assert axes_client_ip(None) is None
