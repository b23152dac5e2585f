"""Issue 5 in a real browser: the espace admin creates an online motif for two organisations
through the three tabs, then duplicates it to offer it by phone.

Every page shown is checked with axe (`assert_accessible`); the `page` fixture fails the test
if one was missed.
"""

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel
from rdv.motifs.models import LocationType, Motif
from tests import factories
from tests.e2e.axe import assert_accessible


@dataclass
class Espace:
    territory: object
    valence: object
    romans: object
    social: object
    admin: object


@pytest.fixture
def espace(live_server) -> Espace:
    """An espace "Drôme" with two organisations, administered by Alice Martin."""
    territory = factories.TerritoryFactory(name="Drôme")
    valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    romans = factories.OrganisationFactory(territory=territory, name="MDS Romans-sur-Isère")
    social = factories.ServiceFactory(name="Service social")
    factories.TerritoryServiceFactory(territory=territory, service=social)
    admin = factories.AgentFactory(email="alice.martin@exemple.fr", first_name="Alice", last_name="Martin")
    factories.TerritoryRoleFactory(agent=admin, territory=territory)
    factories.AgentRoleFactory(agent=admin, organisation=valence, access_level=AccessLevel.ADMIN)
    return Espace(territory, valence, romans, social, admin)


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion agent")
    assert_accessible(page)
    page.get_by_label("Adresse e-mail", exact=True).press_sequentially(email)
    page.get_by_label("Mot de passe", exact=True).press_sequentially(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page)


def tick(page_or_panel, label: str) -> None:
    """DSFR draws the checkbox on its label, which takes the click (as for a person)."""
    page_or_panel.locator("label", has_text=label).click()


def test_admin_creates_an_online_motif_for_two_organisations_then_offers_it_by_phone(page: Page, espace: Espace):
    log_in(page, espace.admin.email, factories.PASSWORD)

    # The espace's motifs, from the side menu of an espace page.
    page.goto(f"/espace/{espace.territory.pk}/agents/")
    assert_accessible(page)
    page.get_by_role("navigation", name="Espace Drôme").get_by_role("link", name="Motifs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Motifs")
    expect(page.get_by_text("Aucun motif pour le moment.")).to_be_visible()
    assert_accessible(page)

    # Creation: both organisations, the configuration. A missing name is explained first.
    page.get_by_role("main").get_by_role("link", name="Créer un motif").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau motif")
    assert_accessible(page)
    tick(page, "MDS Valence")
    tick(page, "MDS Romans-sur-Isère")
    page.get_by_label("Service", exact=False).select_option(label="Service social")
    page.get_by_role("button", name="Créer le motif").click()
    expect(page.get_by_text("Le nom du motif est obligatoire.")).to_be_visible()
    assert_accessible(page)
    assert not Motif.objects.exists()

    page.get_by_label("Nom du motif").fill("Premier accueil")
    page.get_by_label("Durée par défaut").fill("30")
    page.get_by_label("Type de rendez-vous").select_option(label="Sur place")
    tick(page, "Tout le monde")
    page.get_by_role("button", name="Créer le motif").click()

    # The first organisation's motif opens (alphabetical order), listing the other one.
    expect(page.get_by_role("heading", level=1)).to_have_text("Premier accueil")
    expect(page.get_by_text("créé dans 2 organisations : MDS Romans-sur-Isère, MDS Valence")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("MDS Romans-sur-Isère · Service social · Sur place · 30 min")
    expect(page.get_by_text("MDS Valence — Premier accueil")).to_be_visible()
    assert_accessible(page)
    assert Motif.objects.filter(name="Premier accueil").count() == 2

    # Tab 2: open online booking for both motifs created together.
    page.get_by_role("tab", name="Réservation en ligne").click()
    panel = page.get_by_role("tabpanel", name="Réservation en ligne")
    expect(panel).to_be_visible()
    tick(panel, "Ouvert aux usagers")
    opened = panel.get_by_role("checkbox", name="Ouvert aux usagers")
    if not opened.is_checked():  # a click lost while DSFR slides the tab panel in (seen under load)
        tick(panel, "Ouvert aux usagers")
    expect(opened).to_be_checked()
    panel.get_by_label("Délai minimum", exact=True).fill("2")
    panel.get_by_label("Unité du délai minimum").select_option(label="heures")
    panel.get_by_label("Délai maximum", exact=True).fill("2")
    panel.get_by_label("Unité du délai maximum").select_option(label="mois (30 jours)")
    tick(panel, "Appliquer aussi aux motifs créés ensemble")
    panel.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_text("Onglet « Réservation en ligne » enregistré pour 2 motifs créés ensemble.")).to_be_visible()
    expect(page.get_by_role("tab", name="Réservation en ligne")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("main").get_by_text("En ligne", exact=True)).to_be_visible()
    assert_accessible(page)
    assert list(Motif.objects.online().values_list("min_booking_delay_minutes", "max_booking_delay_minutes")) == [
        (120, 86400),
        (120, 86400),
    ]

    # Tab 3: instructions before and after booking, for both.
    page.get_by_role("tab", name="Notifications et instructions").click()
    panel = page.get_by_role("tabpanel", name="Notifications et instructions")
    panel.get_by_label("Instructions avant la réservation").fill("Prévoyez une pièce d'identité.")
    panel.get_by_label("Instructions après la réservation").fill(
        'Présentez-vous 5 minutes avant.\nPlan : <a href="https://exemple.fr/plan">voir le plan</a>'
    )
    tick(panel, "Appliquer aussi aux motifs créés ensemble")
    panel.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_text("Onglet « Notifications et instructions » enregistré pour 2 motifs")).to_be_visible()
    panel = page.get_by_role("tabpanel", name="Notifications et instructions")
    expect(panel.get_by_role("link", name="voir le plan")).to_have_attribute("href", "https://exemple.fr/plan")
    assert_accessible(page)
    assert set(Motif.objects.values_list("instructions_after", flat=True)) == {
        'Présentez-vous 5 minutes avant.<br>Plan : <a href="https://exemple.fr/plan" rel="noopener noreferrer">'
        "voir le plan</a>"
    }

    # Duplicate, to offer the same motif by phone: the copy opens with its type focused.
    page.get_by_role("button", name="Dupliquer ce motif").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Premier accueil (copie)")
    type_field = page.get_by_label("Type de rendez-vous")
    expect(type_field).to_be_focused()
    assert_accessible(page)
    type_field.select_option(label="Par téléphone")
    page.get_by_label("Nom du motif").fill("Premier accueil")
    page.get_by_label("Durée par défaut").fill("20")
    page.get_by_role("tabpanel", name="Configuration").get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_text("Onglet « Configuration » enregistré.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Premier accueil")
    expect(page.get_by_role("main")).to_contain_text("Par téléphone · 20 min")
    assert_accessible(page)

    # The list: three motifs, all online (the copy kept the online settings), grouped by organisation.
    page.get_by_role("navigation", name="vous êtes ici :").get_by_role("link", name="Motifs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Motifs")
    expect(page.get_by_text("3 motifs")).to_be_visible()
    expect(page.get_by_role("table").get_by_text("En ligne", exact=True)).to_have_count(3)
    expect(page.get_by_role("heading", level=2, name="MDS Valence")).to_be_visible()
    phone_row = page.get_by_role("row").filter(has_text="Par téléphone")
    expect(phone_row).to_contain_text("20 min")
    assert_accessible(page)
    assert set(Motif.objects.values_list("organisation__name", "name", "location_type", "bookable_online")) == {
        ("MDS Valence", "Premier accueil", LocationType.PUBLIC_OFFICE, True),
        ("MDS Romans-sur-Isère", "Premier accueil", LocationType.PUBLIC_OFFICE, True),
        ("MDS Romans-sur-Isère", "Premier accueil", LocationType.PHONE, True),
    }
    assert re.search(r"/espace/\d+/motifs/$", page.url)
