"""Issue 3 in a real browser: an espace admin invites an agent, the agent joins from the e-mail's
link, then the admin changes the agent's access level and organisations.

Every page shown is checked with axe (`assert_accessible`); the `page` fixture fails the test
if one was missed.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from playwright.sync_api import Page, expect

from rdv.accounts import services as account_services
from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, Invitation, InvitationStatus
from tests import factories
from tests.e2e.axe import assert_accessible
from tests.helpers import as_agent, deliver_emails

NEW_AGENT_EMAIL = "camille.durand@exemple.fr"
NEW_AGENT_PASSWORD = "Rendez-vous-2026-solide"
INVITATION_LINK = re.compile(r"https?://\S+/invitation/[^/\s]+/")


@dataclass
class Espace:
    territory: object
    valence: object
    romans: object
    social: object
    admin: object


@pytest.fixture
def espace(settings, live_server) -> Espace:
    """An espace "Drôme" with two organisations, administered by Alice Martin."""
    settings.SITE_URL = live_server.url  # links in e-mails point to the live server
    territory = factories.TerritoryFactory(name="Drôme")
    valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    romans = factories.OrganisationFactory(territory=territory, name="MDS Romans-sur-Isère")
    social = factories.ServiceFactory(name="Service social")
    pmi = factories.ServiceFactory(name="PMI (Protection Maternelle et Infantile)")
    for service in (social, pmi):
        factories.TerritoryServiceFactory(territory=territory, service=service)
    admin = factories.AgentFactory(email="alice.martin@exemple.fr", first_name="Alice", last_name="Martin")
    factories.TerritoryRoleFactory(agent=admin, territory=territory)
    factories.AgentRoleFactory(agent=admin, organisation=valence, access_level=AccessLevel.ADMIN)
    factories.AgentServiceFactory(agent=admin, territory=territory, service=social)
    return Espace(territory, valence, romans, social, admin)


def log_in(page: Page, email: str, password: str) -> None:
    """From any page, as an anonymous visitor: the header's login link, then type the credentials."""
    page.get_by_role("link", name="Connexion agent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion agent")
    assert_accessible(page)
    page.get_by_label("Adresse e-mail", exact=True).press_sequentially(email)
    page.get_by_label("Mot de passe", exact=True).press_sequentially(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté(e).")).to_be_visible()
    expect(page.get_by_role("link", name="Connexion agent")).to_be_visible()
    assert_accessible(page)


def open_espace_menu(page: Page, territory_name: str, link: str) -> None:
    """The header's main menu: the espace's drop-down, then one of its links."""
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("button", name=f"Espace {territory_name}").click()
    menu.get_by_role("link", name=link, exact=True).click()


def side_menu(page: Page, territory_name: str):
    return page.get_by_role("navigation", name=f"Espace {territory_name}")


def paris_time(value, fmt: str) -> str:
    with translation.override("fr"):
        return date_format(timezone.localtime(value), fmt)


def test_admin_invites_an_agent_who_joins_then_gets_new_rights(page: Page, espace: Espace, live_server):
    # The espace admin logs in from the public home page.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(settings.SITE_NAME)
    assert_accessible(page)
    log_in(page, espace.admin.email, factories.PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Alice")
    assert_accessible(page)

    # Espace menu → Agents → "Inviter un agent".
    open_espace_menu(page, "Drôme", "Agents")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agents")
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name="Inviter un agent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inviter un agent")
    assert_accessible(page)

    # Sending the empty form explains what is missing, and stays accessible.
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text("Saisissez l'adresse e-mail de l'agent.")).to_be_visible()
    expect(page.get_by_text("Choisissez au moins un service.")).to_be_visible()
    assert_accessible(page)
    assert not Invitation.objects.exists()
    assert deliver_emails() == []

    # E-mail, one service, one organisation with its access level.
    page.get_by_label("Adresse e-mail de l'agent").press_sequentially(NEW_AGENT_EMAIL)
    # DSFR draws the checkbox on its label, which takes the click (as for a person).
    page.locator("label", has_text="Service social").click()
    expect(page.get_by_label("Service social", exact=True)).to_be_checked()
    page.get_by_label("MDS Valence", exact=True).select_option(label="Agent (accès de base)")
    page.get_by_role("button", name="Envoyer l'invitation").click()

    # The invitations list: "En attente" with the exact expiry date.
    invitation = Invitation.objects.get(email=NEW_AGENT_EMAIL)
    assert invitation.expires_at - invitation.sent_at == settings.AGENT_INVITATION_VALIDITY
    assert abs(invitation.sent_at - timezone.now()) < timedelta(minutes=1)
    expiry_short = paris_time(invitation.expires_at, "d/m/Y H:i")
    expect(page).to_have_url(re.compile(rf"/espace/{espace.territory.pk}/invitations/$"))
    expect(page.get_by_text(f"Invitation envoyée à {NEW_AGENT_EMAIL}")).to_contain_text(
        paris_time(invitation.expires_at, "d/m/Y à H:i")
    )
    row = page.get_by_role("row").filter(has_text=NEW_AGENT_EMAIL)
    expect(row).to_contain_text("En attente")
    expect(row).to_contain_text(expiry_short)
    expect(row).to_contain_text("MDS Valence (agent)")
    expect(row).to_contain_text("Service social")
    assert_accessible(page)

    # The e-mail: addressed to the agent, with the expiry date and a link to the live site.
    assert len(deliver_emails()) == 1
    email = mail.outbox[0]
    assert email.to == [NEW_AGENT_EMAIL]
    assert "Drôme" in email.subject
    assert f"Il expire le {paris_time(invitation.expires_at, 'l j F Y à H:i')} (heure de Paris)" in email.body
    link = INVITATION_LINK.search(email.body).group(0)
    assert link.startswith(live_server.url + "/invitation/")

    # The admin logs out; the invited person opens the link.
    log_out(page)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Rejoindre l'espace Drôme")
    expect(page.get_by_role("main")).to_contain_text(NEW_AGENT_EMAIL)
    assert_accessible(page)

    # Two different passwords: a clear error, nothing created.
    page.get_by_label("Prénom").press_sequentially("Camille")
    page.get_by_label("Nom", exact=True).press_sequentially("Durand")
    page.get_by_label(re.compile(r"^\s*Mot de passe")).press_sequentially(NEW_AGENT_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").press_sequentially(NEW_AGENT_PASSWORD + "x")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("Les deux mots de passe ne sont pas identiques.")).to_be_visible()
    assert_accessible(page)
    assert not Agent.objects.filter(email=NEW_AGENT_EMAIL).exists()

    # The names are kept; the passwords are typed again.
    expect(page.get_by_label("Prénom")).to_have_value("Camille")
    page.get_by_label(re.compile(r"^\s*Mot de passe")).press_sequentially(NEW_AGENT_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").press_sequentially(NEW_AGENT_PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()

    # Logged in on the home page, with the organisation of the invitation.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Camille")
    expect(page.get_by_text("Bienvenue ! Votre compte est créé")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="MDS Valence")).to_be_visible()
    assert_accessible(page)
    agent = Agent.objects.get(email=NEW_AGENT_EMAIL)
    assert (agent.first_name, agent.last_name) == ("Camille", "Durand")
    assert agent.check_password(NEW_AGENT_PASSWORD)
    assert {(r.organisation, r.access_level) for r in AgentRole.objects.filter(agent=agent)} == {
        (espace.valence, AccessLevel.BASIC)
    }
    assert [link.service for link in AgentService.objects.filter(agent=agent)] == [espace.social]
    invitation.refresh_from_db()
    assert invitation.status() == InvitationStatus.ACCEPTED
    log_out(page)

    # The admin comes back, finds the new agent and changes their rights.
    log_in(page, espace.admin.email, factories.PASSWORD)
    assert_accessible(page)
    open_espace_menu(page, "Drôme", "Agents")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agents")
    row = page.get_by_role("row").filter(has_text=NEW_AGENT_EMAIL)
    expect(row).to_contain_text("Camille Durand")
    expect(row).to_contain_text("MDS Valence — Agent")
    assert_accessible(page)
    row.get_by_role("link", name="Modifier les affectations de Camille Durand").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Camille Durand")
    assert_accessible(page)

    page.get_by_label("MDS Valence", exact=True).select_option(label="Administrateur de l'organisation")
    page.get_by_label("MDS Romans-sur-Isère", exact=True).select_option(label="Agent (accès de base)")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Affectations enregistrées.")).to_be_visible()
    expect(page.get_by_label("MDS Valence", exact=True)).to_have_value(AccessLevel.ADMIN)
    expect(page.get_by_label("MDS Romans-sur-Isère", exact=True)).to_have_value(AccessLevel.BASIC)
    assert_accessible(page)
    assert {(r.organisation, r.access_level) for r in AgentRole.objects.filter(agent=agent)} == {
        (espace.valence, AccessLevel.ADMIN),
        (espace.romans, AccessLevel.BASIC),
    }
    assert [link.service for link in AgentService.objects.filter(agent=agent)] == [espace.social]

    # The invitation is now "Acceptée"; the journal tells the whole story.
    side_menu(page, "Drôme").get_by_role("link", name="Invitations").click()
    expect(page.get_by_role("row").filter(has_text=NEW_AGENT_EMAIL)).to_contain_text("Acceptée")
    assert_accessible(page)
    side_menu(page, "Drôme").get_by_role("link", name="Journal des modifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal des modifications")
    expect(page.get_by_role("row").filter(has_text="Alice Martin").filter(has_text="Camille Durand")).not_to_have_count(
        0
    )
    assert_accessible(page)


def test_expired_or_tampered_invitation_link_shows_a_french_error_page(page: Page, espace: Espace):
    result = account_services.invite_agent(
        as_agent(espace.admin, espace.territory), NEW_AGENT_EMAIL, [espace.social], {espace.valence: AccessLevel.BASIC}
    )
    link = INVITATION_LINK.search(deliver_emails()[0].body).group(0)
    expired_at = timezone.now() - timedelta(minutes=5)
    Invitation.objects.filter(pk=result.invitation.pk).update(expires_at=expired_at)

    response = page.goto(link)
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitation inutilisable")
    expect(page.get_by_role("main")).to_contain_text(
        f"Cette invitation a expiré le {paris_time(expired_at, 'd/m/Y à H:i')}"
    )
    expect(page.get_by_role("button", name="Créer mon compte")).to_have_count(0)
    assert_accessible(page)

    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = link.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    response = page.goto(tampered)
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitation inutilisable")
    expect(page.get_by_role("main")).to_contain_text("Ce lien d'invitation n'est pas valide.")
    assert_accessible(page)

    page.get_by_role("main").get_by_role("link", name="Revenir à l'accueil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(settings.SITE_NAME)
    assert_accessible(page)
    assert not Agent.objects.filter(email=NEW_AGENT_EMAIL).exists()


def test_keyboard_user_skips_to_the_content_and_sees_the_french_404_page(page: Page, espace: Espace):
    response = page.goto("/cette-page-n-existe-pas/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert_accessible(page)

    # The first Tab stop is the skip link; following it puts the focus on the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Contenu")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    # An espace the visitor does not administer is "not found" too, never "forbidden".
    log_in(page, espace.admin.email, factories.PASSWORD)
    assert_accessible(page)
    other = factories.TerritoryFactory(name="Ardèche")
    response = page.goto(f"/espace/{other.pk}/agents/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert_accessible(page)
