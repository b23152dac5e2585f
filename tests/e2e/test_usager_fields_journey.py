"""Issue 4 in a real browser: the espace admin adds a "liste de choix" custom field and hides
"Situation familiale"; an agent then creates an usager, sees the new field and not the hidden one.

Every page shown is checked with axe (`assert_accessible`).
"""

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel
from rdv.usagers.models import CustomField, Usager
from tests import factories
from tests.e2e.axe import assert_accessible

PASSWORD = factories.PASSWORD


@dataclass
class Espace:
    territory: object
    valence: object
    admin: object
    agent: object


@pytest.fixture
def espace(live_server) -> Espace:
    territory = factories.TerritoryFactory(name="Drôme")
    valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    factories.OrganisationFactory(territory=territory, name="MDS Romans-sur-Isère")
    admin = factories.AgentFactory(email="alice.martin@exemple.fr", first_name="Alice", last_name="Martin")
    factories.TerritoryRoleFactory(agent=admin, territory=territory)
    factories.AgentRoleFactory(agent=admin, organisation=valence, access_level=AccessLevel.ADMIN)
    agent = factories.AgentFactory(email="bruno.petit@exemple.fr", first_name="Bruno", last_name="Petit")
    factories.AgentRoleFactory(agent=agent, organisation=valence, access_level=AccessLevel.BASIC)
    return Espace(territory, valence, admin, agent)


def log_in(page: Page, email: str) -> None:
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Connexion agent").click()
    assert_accessible(page)
    page.get_by_label("Adresse e-mail", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Connexion agent")).to_be_visible()
    assert_accessible(page)


def test_admin_adds_a_choice_field_and_hides_a_field_then_an_agent_creates_an_usager(page: Page, espace):
    # The espace admin opens the settings from the header's espace menu.
    log_in(page, espace.admin.email)
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("button", name="Espace Drôme").click()
    menu.get_by_role("link", name="Paramètres", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paramètres")
    assert_accessible(page)

    # A "liste de choix" custom field.
    page.get_by_role("link", name="Champs personnalisés").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Champs personnalisés")
    assert_accessible(page)
    page.get_by_role("link", name="Ajouter un champ").click()
    assert_accessible(page)
    page.get_by_role("textbox", name=re.compile("^Libellé")).fill("Orientation")
    page.get_by_role("combobox", name=re.compile("^Type")).select_option(label="Liste de choix")
    page.get_by_role("textbox", name=re.compile("^Options de la liste")).fill("RSA\nLogement\nSanté")
    page.get_by_role("textbox", name=re.compile("^Texte d'aide")).fill("Motif principal de l'accompagnement.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le champ « Orientation » est ajouté")).to_be_visible()
    expect(page.get_by_role("cell", name="RSA · Logement · Santé")).to_be_visible()
    assert_accessible(page)

    # Hide "Situation familiale" for the whole espace.
    page.get_by_role("link", name="Retour aux paramètres").click()
    assert_accessible(page)
    page.get_by_role("link", name="Champs de la fiche usager").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Champs de la fiche usager")
    assert_accessible(page)
    switch = page.get_by_label("Situation familiale")
    expect(switch).to_be_checked()
    switch.uncheck()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Champs de la fiche usager enregistrés")).to_be_visible()
    expect(page.get_by_label("Situation familiale")).not_to_be_checked()
    expect(page.get_by_label("Date de naissance")).to_be_checked()
    assert_accessible(page)
    log_out(page)

    # An agent of the organisation creates an usager.
    log_in(page, espace.agent.email)
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("button", name="Mes organisations").click()
    menu.get_by_role("link", name="MDS Valence").click()
    assert_accessible(page)
    page.get_by_role("link", name="Usagers de l'organisation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Usagers")
    assert_accessible(page)
    page.get_by_role("link", name="Nouvel usager").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvel usager")
    assert_accessible(page)
    expect(page.get_by_label("Orientation")).to_be_visible()
    expect(page.get_by_label("Situation familiale")).to_have_count(0)
    expect(page.get_by_label("Date de naissance")).to_be_visible()

    # A bad phone number first: a French message, nothing saved, and the error page is accessible.
    page.get_by_label("Prénom").fill("Éloïse")
    page.get_by_label("Nom d'usage").fill("Dupré")
    page.get_by_label("Téléphone").fill("12 34")
    page.get_by_label("Orientation").select_option("Logement")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Saisissez un numéro de téléphone valide")).to_be_visible()
    assert_accessible(page)
    assert not Usager.objects.exists()

    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La fiche d'Éloïse DUPRÉ est créée.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Éloïse DUPRÉ")
    expect(page.get_by_role("row", name="Orientation Logement")).to_be_visible()
    expect(page.get_by_text("Situation familiale")).to_have_count(0)
    expect(page.get_by_text("06 12 34 56 78")).to_be_visible()
    assert_accessible(page)

    # The list finds her without accents.
    page.get_by_role("link", name="Usagers", exact=True).click()
    page.get_by_role("searchbox", name=re.compile("^Rechercher un usager")).fill("eloise dupre")
    page.get_by_role("button", name="Rechercher dans l'organisation").click()
    expect(page.get_by_role("link", name="DUPRÉ Éloïse")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Date de naissance")).to_be_visible()
    assert_accessible(page)

    usager = Usager.objects.get()
    field = CustomField.objects.get(territory=espace.territory)
    assert usager.custom_values == {field.key: "Logement"}
    assert usager.phone == "+33612345678"
    assert list(usager.organisations.all()) == [espace.valence]
