"""In development (`make run`: config.settings.dev, DEBUG=True), a refused or unknown page shows the
product's French 404, as in production, not Django's English debug page (issue 17, point 9).
Developers reach the debug page with DJANGO_DEBUG_404=1."""

import importlib

import pytest
from django.test import Client
from django.urls import reverse

from config.settings import dev
from tests.helpers import log_in, page_text

DEBUG_PAGE = "Using the URLconf defined in"


def dev_middleware(monkeypatch, debug_404: str | None = None) -> list[str]:
    """The MIDDLEWARE of config.settings.dev as `make run` loads it (with DJANGO_DEBUG_404 or not)."""
    if debug_404 is None:
        monkeypatch.delenv("DJANGO_DEBUG_404", raising=False)
    else:
        monkeypatch.setenv("DJANGO_DEBUG_404", debug_404)
    return list(importlib.reload(dev).MIDDLEWARE)


@pytest.fixture
def dev_settings(settings, monkeypatch):
    middleware = dev_middleware(monkeypatch)
    settings.DEBUG = True
    settings.MIDDLEWARE = middleware
    yield settings
    monkeypatch.delenv("DJANGO_DEBUG_404", raising=False)
    importlib.reload(dev)


@pytest.mark.django_db
def test_an_unknown_address_shows_the_french_404_in_development(dev_settings):
    assert dev_settings.DEBUG is True

    response = Client().get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    page = page_text(response)
    assert "Page introuvable" in page
    assert "La page que vous cherchez n’existe pas ou vous n’y avez pas accès." in page
    assert DEBUG_PAGE not in page and "Page not found" not in page


def test_a_refused_page_shows_the_french_404_in_development(dev_settings, alice, bob):
    client = log_in(Client(), alice.territory_admin)

    response = client.get(reverse("espace_agents", args=[bob.territory.pk]))  # another espace

    assert response.status_code == 404
    page = page_text(response)
    assert "Page introuvable" in page
    assert "No Territory matches" not in page and "Page not found" not in page
    assert 'lang="fr"' in page


@pytest.mark.django_db
def test_without_the_dev_middleware_debug_shows_djangos_english_page(settings):
    """What `make run` showed before: the reason for the middleware."""
    settings.DEBUG = True

    response = Client().get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    assert DEBUG_PAGE in response.content.decode()


@pytest.mark.django_db
def test_developers_get_the_debug_page_with_an_environment_variable(settings, monkeypatch):
    settings.DEBUG = True
    settings.MIDDLEWARE = dev_middleware(monkeypatch, "1")
    try:
        response = Client().get("/cette-page-n-existe-pas/")
    finally:
        monkeypatch.delenv("DJANGO_DEBUG_404")
        importlib.reload(dev)

    assert "rdv.www.middleware.ProductNotFoundMiddleware" not in settings.MIDDLEWARE
    assert DEBUG_PAGE in response.content.decode()


@pytest.mark.django_db
def test_pages_that_exist_are_untouched_in_development(dev_settings):
    response = Client().get(reverse("login"))

    assert response.status_code == 200
    assert "Page introuvable" not in page_text(response)


def test_the_readme_documents_the_variable():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert "DJANGO_DEBUG_404=1" in readme
