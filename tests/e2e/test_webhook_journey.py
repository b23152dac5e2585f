"""Issue 19 in a real browser: an espace admin creates a webhook to a real HTTP receiver on
127.0.0.1, copies its secret (shown once), sends a test event, sees it fail in the delivery log with
the receiver's HTTP status, then, once the receiver works, replays it and sees it sent. The
receiver checks both signatures of every request with the documented example
(rdv/webhooks/examples/verify.py).

Deliveries are sent by `run_due_deliveries()` in the test process, as a worker would. Every page
shown is checked with axe (`assert_accessible`). With E2E_SCREENSHOTS=<folder> in the environment,
each page is also saved there as a full-page PNG, to be looked at.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel
from rdv.outbox.models import Status
from rdv.outbox.services import run_due_deliveries
from rdv.webhooks.models import WebhookEndpoint, WebhookEvent
from tests import factories
from tests.e2e.axe import assert_accessible
from tests.e2e.test_motif_journey import Espace, log_in
from tests.webhook_receiver import Receiver

SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


@pytest.fixture
def espace(live_server) -> Espace:
    territory = factories.TerritoryFactory(name="Drôme")
    valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    romans = factories.OrganisationFactory(territory=territory, name="MDS Romans-sur-Isère")
    social = factories.ServiceFactory(name="Service social")
    factories.TerritoryServiceFactory(territory=territory, service=social)
    admin = factories.AgentFactory(email="alice.martin@exemple.fr", first_name="Alice", last_name="Martin")
    factories.TerritoryRoleFactory(agent=admin, territory=territory)
    factories.AgentRoleFactory(agent=admin, organisation=valence, access_level=AccessLevel.ADMIN)
    return Espace(territory, valence, romans, social, admin)


@pytest.fixture
def receiver():
    receiver = Receiver(status=500).start()
    yield receiver
    receiver.stop()


def tick(page: Page, label: str) -> None:
    """DSFR draws the checkbox on its label, which takes the click (as for a person)."""
    page.locator("label").get_by_text(label, exact=True).click()


def checked(page: Page, name: str) -> None:
    assert_accessible(page)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"webhook-{name}.png"), full_page=True)


def test_admin_creates_a_webhook_sends_a_test_event_and_replays_it_once_the_receiver_works(
    page: Page, espace: Espace, receiver: Receiver
):
    log_in(page, espace.admin.email, factories.PASSWORD)
    page.goto(f"/espace/{espace.territory.pk}/agents/")
    assert_accessible(page)
    page.get_by_role("navigation", name="Espace Drôme").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.get_by_text("Aucun webhook pour l'instant.")).to_be_visible()
    checked(page, "1-liste-vide")

    # The documentation for the SI team.
    page.get_by_role("link", name="Documentation pour les équipes informatiques").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documentation des webhooks")
    expect(page.get_by_text("def verify_standard_webhooks(headers: dict, body: bytes, secret: str)")).to_be_visible()
    checked(page, "2-documentation")
    page.get_by_role("link", name="Retour aux webhooks").click()

    # Creation: a bad URL first, explained in French, then the receiver's.
    page.get_by_role("link", name="Ajouter un webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un webhook")
    checked(page, "3-formulaire")
    page.get_by_role("combobox", name=re.compile("^Organisation")).select_option(label="MDS Valence")
    page.get_by_label("URL de destination").fill("https://10.0.0.8/rdv")
    for label in ("Usagers", "Prénom", "Nom"):
        tick(page, label)
    page.get_by_role("button", name="Créer le webhook").click()
    expect(page.get_by_text("Cette adresse désigne un réseau privé ou local")).to_be_visible()
    checked(page, "4-erreur")
    assert not WebhookEndpoint.objects.exists()
    page.get_by_label("URL de destination").fill(receiver.url)
    page.get_by_role("button", name="Créer le webhook").click()

    # The secret, in full, once.
    alert = page.locator("#cle-secrete-complete")
    expect(alert).to_contain_text("elle ne sera plus jamais affichée en entier")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.subscriptions == ["rdv", "absence", "plage_ouverture", "user"]
    assert endpoint.usager_fields == ["first_name", "last_name"]
    secret = page.get_by_label("Clé secrète", exact=True).input_value()
    assert secret == endpoint.secret
    expect(page.get_by_role("button", name="Copier la clé")).to_be_visible()
    checked(page, "5-cle-une-fois")
    receiver.secret = secret
    page.reload()
    expect(page.locator("#cle-secrete-complete")).to_have_count(0)
    expect(page.get_by_text(endpoint.masked_secret)).to_be_visible()
    assert secret not in page.content()
    assert_accessible(page)

    # A test event: the receiver answers 500.
    page.get_by_role("button", name="Envoyer un événement de test").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journal des envois du webhook de MDS Valence")
    assert_accessible(page)
    run_due_deliveries()
    page.reload()
    event = WebhookEvent.objects.get()
    row = page.locator(f"#evenement-{event.pk}")
    expect(row).to_contain_text("Événement de test")
    expect(row).to_contain_text("échec temporaire")
    expect(row).to_contain_text("HTTP 500")
    expect(row).to_contain_text("prochaine le")
    page.get_by_text(re.compile("Tentatives et contenu")).click()
    expect(page.get_by_text("Réponse : erreur du SI")).to_be_visible()
    checked(page, "6-journal-echec")

    # The receiver works again: « Renvoyer ».
    receiver.status = 200
    page.get_by_role("button", name=f"Renvoyer l'événement n° {event.pk}").click()
    expect(page.get_by_text("est renvoyé : il part dans quelques instants.")).to_be_visible()
    assert_accessible(page)
    run_due_deliveries()
    page.reload()
    expect(row).to_contain_text("envoyé")
    expect(row).to_contain_text("HTTP 200")
    checked(page, "7-journal-envoye")
    event.delivery.refresh_from_db()
    assert event.delivery.status == Status.SENT

    # The list shows it working.
    page.get_by_role("navigation", name="Espace Drôme").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("row", name=re.compile("MDS Valence"))).to_contain_text("Actif")
    checked(page, "8-liste")

    assert len(receiver.requests) == 2
    assert all(request.lapin_ok and request.standard_ok for request in receiver.requests)
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
