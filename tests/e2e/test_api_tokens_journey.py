"""Issue 21 in a real browser: an agent opens « Jetons d’API » from the header, is refused a token
without a name, creates one, copies its secret from the page (shown once), calls the API with it
over HTTP (200), then revokes it after a confirmation and the same call gets 401.

Every page shown is checked with axe (`assert_accessible`). With E2E_SCREENSHOTS=<folder> in the
environment, each page is also saved there as a full-page PNG, to be looked at.
"""

import json
import os
import re
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel, ApiToken, hash_token
from tests import factories
from tests.e2e.axe import assert_accessible
from tests.e2e.test_motif_journey import log_in

SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


@pytest.fixture
def agent(live_server):
    """Alice Martin, a basic agent of MDS Valence (espace Drôme)."""
    territory = factories.TerritoryFactory(name="Drôme")
    valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    factories.OrganisationFactory(territory=territory, name="MDS Romans-sur-Isère")
    alice = factories.AgentFactory(email="alice.martin@exemple.fr", first_name="Alice", last_name="Martin")
    factories.AgentRoleFactory(agent=alice, organisation=valence, access_level=AccessLevel.BASIC)
    return alice


def checked(page: Page, name: str) -> None:
    assert_accessible(page)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"jetons-{name}.png"), full_page=True)


def call_api(base_url: str, secret: str, path: str = "/api/v1/organisations") -> tuple[int, dict]:
    """A call from outside the browser, as the organisation's information system would make it."""
    request = urllib.request.Request(
        base_url + path, headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_agent_creates_a_token_calls_the_api_with_it_then_revokes_it(page: Page, agent, live_server):
    log_in(page, agent.email, factories.PASSWORD)
    page.get_by_role("link", name="Jetons d’API").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jetons d’API")
    expect(page.get_by_text("Aucun jeton pour l’instant.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Documentation de l’API"))).to_have_attribute(
        "href", "/api/v1/docs"
    )
    checked(page, "1-page-vide")

    # A token without a name: said in French, on the field.
    page.get_by_role("button", name="Créer le jeton").click()
    expect(page.get_by_text("Le jeton n’a pas été créé")).to_be_visible()
    expect(page.get_by_text("Donnez un nom au jeton (l’outil qui l’utilisera, par exemple).")).to_be_visible()
    checked(page, "2-erreur")
    assert not ApiToken.objects.exists()

    # Created with an expiry date: the secret, once, in a read-only field.
    expires_on = timezone.localdate() + timedelta(days=90)
    page.get_by_label("Nom du jeton").fill("Logiciel de suivi")
    page.get_by_label("Date d’expiration").fill(expires_on.isoformat())
    page.get_by_role("button", name="Créer le jeton").click()
    expect(page.get_by_text("Copiez-le maintenant : il ne sera plus affiché.")).to_be_visible()
    field = page.get_by_label("Jeton secret (à copier)")
    expect(field).to_have_attribute("readonly", "")
    expect(page.get_by_role("button", name="Copier le jeton")).to_be_visible()
    secret = field.input_value()
    checked(page, "3-jeton-cree")
    token = ApiToken.objects.get()
    assert token.token_hash == hash_token(secret) and token.name == "Logiciel de suivi"
    assert timezone.localtime(token.expires_at).date() == expires_on

    # The information system uses it: Alice's organisation, with her rights.
    status, body = call_api(live_server.url, secret)
    assert status == 200, body
    assert [o["name"] for o in body["organisations"]] == ["MDS Valence"]

    # Back on the page: the secret is gone, the token is listed with its use.
    page.get_by_role("link", name="Jetons d’API").click()
    assert secret not in page.content()
    row = page.locator(f"#jeton-{token.pk}")
    expect(row).to_contain_text("Logiciel de suivi")
    expect(row).to_contain_text(f"{secret[:12]}…")
    expect(row).to_contain_text("Actif")
    expect(row).to_contain_text(f"{expires_on:%d/%m/%Y}")
    expect(row.locator("td").nth(4)).to_have_text("1")  # calls of the last 30 days
    checked(page, "4-liste")

    # Revoked after a confirmation: the next call is refused.
    row.get_by_role("link", name="Révoquer le jeton « Logiciel de suivi »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Révoquer le jeton « Logiciel de suivi » ?")
    checked(page, "5-confirmation")
    token.refresh_from_db()
    assert token.revoked_at is None
    page.get_by_role("button", name="Révoquer le jeton").click()
    expect(page.get_by_text("Le jeton « Logiciel de suivi » est révoqué")).to_be_visible()
    expect(row).to_contain_text("Révoqué")
    expect(row.get_by_role("link", name=re.compile("Révoquer"))).to_have_count(0)
    checked(page, "6-revoque")

    status, body = call_api(live_server.url, secret)
    assert status == 401 and body["code"] == "unauthenticated"
