"""Issue 18 in a real browser, on a phone-sized screen (375×800): a member of the public finds the
service of their place (sectorisation), reads the motif's instructions before, picks a lieu and a
time, gives their details, confirms with the code received by e-mail, then, through the manage
link, moves the RDV and cancels it. The agent's agenda, open in another browser, follows.

A second test does the booking part with the keyboard only (Tab, Enter, Space; no click).

Every page shown is checked with axe (`assert_accessible`). With E2E_SCREENSHOTS=<folder> in the
environment, each public page is also saved there as a full-page PNG, to be looked at.

"Now" is travelled to Monday 8 March 2027, 08:00 in Paris.
"""

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from rdv.accounts.models import AccessLevel
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings.models import CreatedBy, Rdv, RdvStatus
from rdv.motifs.models import BookableBy
from rdv.territories.models import SectorCode
from tests import factories
from tests.e2e.axe import assert_accessible
from tests.online.fixtures import last_code

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 8, 8, 0, tzinfo=PARIS)
THURSDAY = date(2027, 3, 11)
MOBILE = {"width": 375, "height": 800}
INSTRUCTIONS_BEFORE = "<p>Préparez votre <strong>dernier avis d'imposition</strong>.</p>"
INSTRUCTIONS_AFTER = "<p>Apportez votre <strong>pièce d'identité</strong>.</p>"
MARKER = "MARQUEUR-CONTEXTE"
PERSON = {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne.dupont@usager.fr", "phone": "06 12 34 56 78"}
SHOTS = os.environ.get("E2E_SCREENSHOTS", "")
MAX_TABS = 120


@dataclass
class Espace:
    organisation: object
    motif: object  # « Aide au dossier RSA », with instructions before and after
    centre: object
    gare: object
    agent: object


@pytest.fixture
def travelled():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def espace(travelled, live_server, settings) -> Espace:
    settings.SITE_URL = live_server.url  # the manage link given on the confirmation page
    territory = factories.TerritoryFactory(name="Drôme")
    organisation = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    SectorCode.objects.create(organisation=organisation, code="26000", commune="Valence")
    social = factories.ServiceFactory(name="Service social")
    pmi = factories.ServiceFactory(name="PMI")
    for service in (social, pmi):
        factories.TerritoryServiceFactory(territory=territory, service=service)
    agent = factories.AgentFactory(email="agnes.agent@exemple.fr", first_name="Agnès", last_name="Agent")
    factories.AgentRoleFactory(agent=agent, organisation=organisation, access_level=AccessLevel.BASIC)
    for service in (social, pmi):
        factories.AgentServiceFactory(agent=agent, territory=territory, service=service)
    online = {
        "organisation": organisation,
        "bookable_online": True,
        "bookable_by": BookableBy.EVERYONE,
        "min_booking_delay_minutes": 30,
        "max_booking_delay_minutes": 30 * 24 * 60,
        "usager_can_cancel": True,
        "usager_can_move": True,
    }
    motif = factories.MotifFactory(
        service=social,
        name="Aide au dossier RSA",
        instructions_before=INSTRUCTIONS_BEFORE,
        instructions_after=INSTRUCTIONS_AFTER,
        cancellation_warning="<p>Prévenez-nous si possible.</p>",
        **online,
    )
    accueil = factories.MotifFactory(service=social, name="Premier accueil", **online)
    nourrisson = factories.MotifFactory(service=pmi, name="Consultation nourrisson", **online)
    centre = Lieu.objects.create(
        organisation=organisation, name="MDS Centre", address="1 place de la Mairie 26000 Valence"
    )
    gare = Lieu.objects.create(organisation=organisation, name="MDS Gare", address="3 avenue de la Gare 26000 Valence")
    for lieu, weekdays in ((centre, [1, 3]), (gare, [2])):  # Centre: Tuesday, Thursday; Gare: Wednesday
        plage = PlageOuverture.objects.create(
            organisation=organisation,
            agent=agent,
            lieu=lieu,
            first_date=NOW.date(),
            start_time=time(9),
            end_time=time(12),
            recurrence="weekly",
            recurrence_weekdays=weekdays,
        )
        plage.motifs.set([motif, accueil, nourrisson])
    return Espace(organisation, motif, centre, gare, agent)


@pytest.fixture
def mobile(page: Page) -> Page:
    page.set_viewport_size(MOBILE)
    return page


# Helpers ---------------------------------------------------------------------------------------------


def check(page: Page, name: str) -> None:
    """Axe on the page shown and, when asked, a full-page screenshot `name`.png."""
    assert_accessible(page)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(text)


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus (a keyboard user's way to reach it)."""
    target.wait_for()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} is not reachable with Tab")


def log_in(page: Page, email: str) -> None:
    page.goto("/connexion/")
    heading(page, "Connexion agent")
    assert_accessible(page)
    page.get_by_label("Adresse e-mail", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page)


def agenda_of(page: Page, espace: Espace, day: date) -> None:
    page.goto(
        f"/organisations/{espace.organisation.pk}/agenda/"
        f"?agents={espace.agent.pk}&affichage=liste&vue=jour&date={day.isoformat()}"
    )
    heading(page, "Agenda")
    assert_accessible(page)


def rdv_card(page: Page, start: str) -> Locator:
    return page.get_by_role("link", name=re.compile(rf"{start}–.*Aide au dossier RSA.*Jeanne DUPONT"))


def label(text: str, *, whole: bool = False) -> re.Pattern:
    """A DSFR label, followed or not by "(Optionnel)" and a hint (`whole`: nothing after)."""
    return re.compile(rf"^\s*{re.escape(text)}" + (r"\s*$" if whole else r"\b"))


def local_time(moment: datetime) -> str:
    return timezone.localtime(moment, PARIS).strftime("%H:%M")


# The journey -----------------------------------------------------------------------------------------


def test_a_visitor_books_on_a_phone_then_moves_and_cancels_with_the_manage_link(
    mobile: Page, browser, live_server, espace: Espace
):
    page = mobile
    # 1. Where, which service, which motif (its instructions before), which lieu, when.
    page.goto("/prendre-rdv/")
    heading(page, "Où habitez-vous ?")
    check(page, "01-ou")
    page.get_by_label(label("Code postal ou commune")).fill("26000")
    page.get_by_role("button", name="Rechercher").click()

    heading(page, "Quel service ?")  # one organisation serves 26000: its services straight away
    expect(page.get_by_text("MDS Valence")).to_be_visible()
    check(page, "02-service")
    page.get_by_role("link", name=re.compile("^Service social")).click()

    heading(page, "Quel motif ?")
    expect(page.get_by_role("link", name=re.compile("^Premier accueil"))).to_be_visible()
    check(page, "03-motif")
    page.get_by_role("link", name=re.compile("^Aide au dossier RSA")).click()

    heading(page, "Avant de choisir un créneau")
    expect(page.locator(".public-instructions")).to_contain_text("Préparez votre dernier avis d'imposition.")
    check(page, "04-informations")
    page.get_by_role("button", name="Continuer").click()  # not ticked: the browser refuses (required)
    heading(page, "Avant de choisir un créneau")
    page.locator("label", has_text="J'ai lu ces informations").click()  # DSFR draws the box on the label
    expect(page.get_by_label("J'ai lu ces informations")).to_be_checked()
    page.get_by_role("button", name="Continuer").click()

    heading(page, "Où exactement ?")
    expect(page.get_by_role("heading", name="MDS Gare")).to_be_visible()
    check(page, "05-lieu")
    page.get_by_role("link", name="Choisir MDS Centre").click()

    heading(page, "Quand ?")
    expect(page.get_by_role("heading", name=re.compile("^Semaine du 8 mars au 14 mars"))).to_be_visible()
    check(page, "06-semaine")
    page.get_by_role("button", name="jeudi 11 mars à 10 h 00").click()

    # 2. « Vos coordonnées », the code received by e-mail.
    heading(page, "Vos coordonnées")
    expect(page.get_by_text("Ce créneau vous est réservé jusqu'à")).to_be_visible()
    check(page, "07-coordonnees")
    page.get_by_label(label("Prénom", whole=True)).fill(PERSON["first_name"])
    page.get_by_label(label("Nom", whole=True)).fill(PERSON["last_name"])
    page.get_by_label(label("Adresse e-mail")).fill(PERSON["email"])
    page.get_by_label(label("Téléphone")).fill(PERSON["phone"])
    page.get_by_role("button", name="Recevoir le code de confirmation").click()

    heading(page, "Confirmez avec le code reçu")
    expect(page.get_by_text("Un code à 6 chiffres a été envoyé à")).to_be_visible()
    check(page, "08-code")
    page.get_by_label(label("Code de confirmation")).fill(last_code(PERSON["email"]))
    page.get_by_role("button", name="Confirmer le rendez-vous").click()

    # 3. The confirmation: when, where, instructions after, the ICS file, the manage link.
    heading(page, "Rendez-vous confirmé")
    expect(page.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(page.get_by_text("Le jeudi 11 mars 2027 à 10 h 00")).to_be_visible()
    expect(page.get_by_text("MDS Centre, 1 place de la Mairie 26000 Valence")).to_be_visible()
    expect(page.locator(".instructions")).to_contain_text("Apportez votre pièce d'identité.")
    expect(page.get_by_role("link", name="Ajouter à mon agenda (fichier ICS)")).to_have_attribute(
        "href", re.compile(r"/rendez-vous\.ics$")
    )
    manage_link = page.locator(f'a[href^="{live_server.url}/r/"]')
    expect(manage_link).to_have_text(re.compile(r"^http://.*/r/\S+$"))  # the link shows its address
    check(page, "09-confirmation")

    rdv = Rdv.objects.get()
    assert rdv.created_by == CreatedBy.USAGER
    assert rdv.motif == espace.motif and rdv.lieu == espace.centre
    assert timezone.localtime(rdv.starts_at, PARIS) == datetime.combine(THURSDAY, time(10), tzinfo=PARIS)
    assert list(rdv.agent_links.values_list("agent", flat=True)) == [espace.agent.pk]
    # An agent's internal note on the RDV: never shown through the manage link.
    Rdv.objects.filter(pk=rdv.pk).update(context=MARKER)

    # The agent's agenda, in another browser, shows the RDV on that day.
    agent_context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    agent_page = agent_context.new_page()
    try:
        log_in(agent_page, espace.agent.email)
        agenda_of(agent_page, espace, THURSDAY)
        expect(rdv_card(agent_page, "10:00")).to_be_visible()

        # 4. The manage link: three letters of the last name, then move, then cancel.
        manage_link.click()
        heading(page, "Accéder à votre rendez-vous")
        check(page, "10-acces")
        page.get_by_label(label("Les trois premières lettres du nom de famille")).fill("Dup")
        page.get_by_role("button", name="Voir le rendez-vous").click()

        heading(page, "Votre rendez-vous")
        expect(page.get_by_text("Le jeudi 11 mars 2027 à 10 h 00")).to_be_visible()
        assert MARKER not in page.content()
        assert "Agent" not in page.locator("main").inner_text()
        check(page, "11-rendez-vous")
        page.get_by_role("link", name="Déplacer").click()

        heading(page, "Déplacer le rendez-vous")
        expect(page.get_by_role("button", name="jeudi 11 mars à 10 h 00")).to_have_count(0)  # its own time
        check(page, "12-deplacer")
        page.get_by_role("button", name="jeudi 11 mars à 11 h 00").click()

        heading(page, "Confirmer le déplacement")
        expect(page.get_by_text("sera déplacé au jeudi 11 mars 2027 à 11 h 00")).to_be_visible()
        check(page, "13-confirmer-deplacement")
        page.get_by_role("button", name="Confirmer le déplacement").click()

        heading(page, "Votre rendez-vous")
        expect(page.get_by_text("Votre rendez-vous est déplacé au jeudi 11 mars 2027 à 11 h 00.")).to_be_visible()
        expect(page.get_by_text("Le jeudi 11 mars 2027 à 11 h 00")).to_be_visible()
        assert MARKER not in page.content()
        check(page, "14-deplace")
        rdv.refresh_from_db()
        assert local_time(rdv.starts_at) == "11:00"
        assert [local_time(start) for start in rdv.agent_links.values_list("starts_at", flat=True)] == ["11:00"]
        agent_page.reload()
        expect(rdv_card(agent_page, "11:00")).to_be_visible()
        expect(rdv_card(agent_page, "10:00")).to_have_count(0)
        assert_accessible(agent_page)
        # The old time is free again: offered to whoever moves or books.
        page.get_by_role("link", name="Déplacer").click()
        heading(page, "Déplacer le rendez-vous")
        expect(page.get_by_role("button", name="jeudi 11 mars à 10 h 00")).to_be_visible()
        expect(page.get_by_role("button", name="jeudi 11 mars à 11 h 00")).to_have_count(0)
        assert_accessible(page)
        page.get_by_role("link", name="Retour au rendez-vous").click()

        heading(page, "Votre rendez-vous")
        assert_accessible(page)
        page.get_by_role("link", name="Annuler").click()
        heading(page, "Annuler le rendez-vous")
        expect(page.get_by_text("Prévenez-nous si possible.")).to_be_visible()
        assert MARKER not in page.content()
        check(page, "15-annuler")
        page.get_by_role("button", name="Oui, annuler le rendez-vous").click()

        heading(page, "Votre rendez-vous")
        expect(page.get_by_text("Votre rendez-vous est annulé.")).to_be_visible()
        expect(page.get_by_text("Ce rendez-vous est annulé.")).to_be_visible()
        expect(page.get_by_role("link", name="Déplacer")).to_have_count(0)
        check(page, "16-annule")
        rdv.refresh_from_db()
        assert rdv.status == RdvStatus.EXCUSED
        agent_page.reload()
        expect(rdv_card(agent_page, "11:00")).to_have_count(0)  # cancelled RDVs are hidden by default
        assert_accessible(agent_page)
    finally:
        agent_context.close()


def test_a_visitor_books_with_the_keyboard_only(mobile: Page, espace: Espace):
    page = mobile
    page.goto("/prendre-rdv/")
    heading(page, "Où habitez-vous ?")
    assert_accessible(page)
    tab_to(page, page.get_by_label(label("Code postal ou commune")))
    page.keyboard.type("26000")
    page.keyboard.press("Enter")

    heading(page, "Quel service ?")
    assert_accessible(page)
    tab_to(page, page.get_by_role("link", name=re.compile("^Service social")))
    page.keyboard.press("Enter")

    heading(page, "Quel motif ?")
    assert_accessible(page)
    tab_to(page, page.get_by_role("link", name=re.compile("^Aide au dossier RSA")))
    page.keyboard.press("Enter")

    heading(page, "Avant de choisir un créneau")
    assert_accessible(page)
    acknowledgement = page.get_by_label("J'ai lu ces informations")
    tab_to(page, acknowledgement)
    page.keyboard.press("Space")
    expect(acknowledgement).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Continuer"))
    page.keyboard.press("Enter")

    heading(page, "Où exactement ?")
    assert_accessible(page)
    tab_to(page, page.get_by_role("link", name="Choisir MDS Centre"))
    page.keyboard.press("Enter")

    heading(page, "Quand ?")
    assert_accessible(page)
    tab_to(page, page.get_by_role("button", name="jeudi 11 mars à 9 h 30"))
    page.keyboard.press("Enter")

    heading(page, "Vos coordonnées")
    assert_accessible(page)
    for name, value in (
        (label("Prénom", whole=True), PERSON["first_name"]),
        (label("Nom", whole=True), PERSON["last_name"]),
        (label("Adresse e-mail"), PERSON["email"]),
    ):
        tab_to(page, page.get_by_label(name))
        page.keyboard.type(value)
    tab_to(page, page.get_by_role("button", name="Recevoir le code de confirmation"))
    page.keyboard.press("Enter")

    heading(page, "Confirmez avec le code reçu")
    assert_accessible(page)
    tab_to(page, page.get_by_label(label("Code de confirmation")))
    page.keyboard.type(last_code(PERSON["email"]))
    tab_to(page, page.get_by_role("button", name="Confirmer le rendez-vous"))
    page.keyboard.press("Enter")

    heading(page, "Rendez-vous confirmé")
    expect(page.get_by_text("Le jeudi 11 mars 2027 à 9 h 30")).to_be_visible()
    assert_accessible(page)
    rdv = Rdv.objects.get()
    assert local_time(rdv.starts_at) == "09:30"
    assert rdv.participations.get().usager.email == PERSON["email"]


def test_the_relatives_fields_show_only_while_the_box_is_ticked(mobile: Page, espace: Espace):
    """The fields of « Votre proche » are hidden until « Je prends rendez-vous pour un proche » is
    ticked (mouse or Space), hidden again when it is not, and shown after an error with it ticked."""
    page = mobile
    page.goto(f"/prendre-rdv/creneaux/?motif={espace.motif.pk}&lieu={espace.centre.pk}&lu=1")
    heading(page, "Quand ?")
    assert_accessible(page)
    page.get_by_role("button", name="jeudi 11 mars à 10 h 00").click()

    heading(page, "Vos coordonnées")
    box = page.get_by_label(label("Je prends rendez-vous pour un proche"))
    relative = page.get_by_role("group", name=re.compile("^Votre proche"))
    relative_first_name = page.get_by_label(label("Prénom du proche"))
    expect(box).not_to_be_checked()
    expect(relative).to_be_hidden()
    expect(relative_first_name).to_be_hidden()
    assert_accessible(page)

    page.locator("label", has_text="Je prends rendez-vous pour un proche").click()  # DSFR draws the box on the label
    expect(box).to_be_checked()
    expect(relative).to_be_visible()
    expect(relative_first_name).to_be_visible()
    expect(box).to_have_attribute("aria-controls", "champs-proche")
    assert_accessible(page)
    page.locator("label", has_text="Je prends rendez-vous pour un proche").click()
    expect(box).not_to_be_checked()
    expect(relative).to_be_hidden()

    # The keyboard: Space ticks and unticks the box.
    tab_to(page, box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(relative_first_name).to_be_visible()
    page.keyboard.press("Space")
    expect(box).not_to_be_checked()
    expect(relative_first_name).to_be_hidden()
    page.keyboard.press("Space")
    expect(relative_first_name).to_be_visible()

    # An error with the box ticked: the page comes back with the relative's fields shown.
    page.get_by_label(label("Prénom", whole=True)).fill(PERSON["first_name"])
    page.get_by_label(label("Nom", whole=True)).fill(PERSON["last_name"])
    page.get_by_label(label("Adresse e-mail")).fill(PERSON["email"])
    relative_first_name.fill("Léo")
    page.get_by_role("button", name="Recevoir le code de confirmation").click()
    heading(page, "Vos coordonnées")
    expect(box).to_be_checked()
    expect(relative_first_name).to_have_value("Léo")
    expect(page.get_by_label(label("Nom du proche"))).to_be_visible()
    expect(relative.get_by_text("Le nom du proche est obligatoire.")).to_be_visible()
    assert_accessible(page)
