"""Issue 7 in a real browser: an agent finds a free slot with "Trouver un créneau", books it for a
new usager (created inline) with a Contexte note, opens the RDV and marks the usager arrived; a
second agent, whose agenda is open in another browser, sees the "Arrivé(e)" mark appear without
reloading (htmx polling, within 30 seconds).

Every page shown is checked with axe (`assert_accessible`): the agenda, the RDV list, the RDV
form and the RDV page among them.

"Now" is travelled to Tuesday 9 March 2027, 09:00 in Paris (time-machine patches the clock of
this process, so of the live server's thread too; the browser keeps its own clock).
"""

import re
from dataclasses import dataclass
from datetime import datetime, time

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings.models import Rdv
from rdv.territories.models import WaitingRoomNotification
from rdv.usagers.models import Usager
from tests import factories
from tests.e2e.axe import assert_accessible
from tests.helpers import deliver_emails

NOW = datetime(2027, 3, 9, 9, 0, tzinfo=timezone.get_default_timezone())
CONTEXT_NOTE = "Souhaite parler de son dossier RSA"
POLL_WAIT_MS = 30_000


@dataclass
class Organisation:
    organisation: object
    motif: object
    lieu: object
    booker: object  # basic agent of the Service social, with the plage
    colleague: object  # organisation admin, watching the booker's agenda


@pytest.fixture
def travelled():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def mds(travelled, live_server) -> Organisation:
    territory = factories.TerritoryFactory(name="Drôme")
    territory.waiting_room_notification = WaitingRoomNotification.BOTH
    territory.save()
    valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
    social = factories.ServiceFactory(name="Service social")
    factories.TerritoryServiceFactory(territory=territory, service=social)
    booker = factories.AgentFactory(email="bruno.petit@exemple.fr", first_name="Bruno", last_name="Petit")
    factories.AgentRoleFactory(agent=booker, organisation=valence, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=booker, territory=territory, service=social)
    colleague = factories.AgentFactory(email="alice.martin@exemple.fr", first_name="Alice", last_name="Martin")
    factories.AgentRoleFactory(agent=colleague, organisation=valence, access_level=AccessLevel.ADMIN)
    factories.AgentServiceFactory(agent=colleague, territory=territory, service=social)
    motif = factories.MotifFactory(organisation=valence, service=social, name="Premier accueil", color="#b34000")
    lieu = Lieu.objects.create(organisation=valence, name="MDS Valence — Centre", address="12 avenue de Romans")
    plage = PlageOuverture.objects.create(
        organisation=valence,
        agent=booker,
        lieu=lieu,
        first_date=NOW.date(),
        start_time=time(9),
        end_time=time(12),
        recurrence="weekly",
        recurrence_weekdays=[0, 1, 2, 3, 4],
    )
    plage.motifs.add(motif)
    return Organisation(valence, motif, lieu, booker, colleague)


def log_in(page: Page, email: str) -> None:
    page.goto("/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion agent")
    assert_accessible(page)
    page.get_by_label("Adresse e-mail", exact=True).press_sequentially(email)
    page.get_by_label("Mot de passe", exact=True).press_sequentially(factories.PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert_accessible(page)


def label(text: str) -> re.Pattern:
    """A DSFR label, followed or not by "(Optionnel)" and a hint."""
    return re.compile(rf"^\s*{re.escape(text)}\b")


def test_agent_books_a_found_slot_for_a_new_usager_and_a_colleague_sees_the_arrival(
    page: Page, browser, live_server, mds: Organisation
):
    # The colleague opens the booker's agenda in another browser and keeps it open.
    colleague_context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    colleague = colleague_context.new_page()
    colleague_errors: list[str] = []  # the htmx polling page must run without JavaScript error
    colleague.on("pageerror", lambda error: colleague_errors.append(str(error)))
    try:
        log_in(colleague, mds.colleague.email)
        colleague.goto(f"/organisations/{mds.organisation.pk}/agenda/?agents={mds.booker.pk}&affichage=liste")
        expect(colleague.get_by_role("heading", level=1)).to_contain_text("Agenda")
        today_row = colleague.get_by_role("row", name=re.compile("Mardi 9 mars 2027"))
        expect(today_row).to_contain_text("Plage 09:00–12:00 · MDS Valence — Centre")
        assert_accessible(colleague)
        colleague.evaluate("window.notReloaded = true")

        # The booker finds a free slot.
        log_in(page, mds.booker.email)
        page.goto(f"/organisations/{mds.organisation.pk}/")
        assert_accessible(page)
        page.get_by_role("link", name="Trouver un créneau").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un créneau")
        assert_accessible(page)
        page.get_by_label(label("Motif")).select_option(str(mds.motif.pk))
        page.get_by_role("button", name="Chercher").click()
        expect(page.get_by_role("heading", name=re.compile("« Premier accueil » : semaine du"))).to_be_visible()
        assert_accessible(page)
        # One link per free time, which books the agent searching when free.
        first_slot = page.get_by_role("link", name=re.compile(r"^Réserver avec Bruno Petit le .* à \d\d:\d\d")).first
        slot_time = re.search(r"à (\d\d:\d\d)", first_slot.text_content()).group(1)
        first_slot.click()

        # The form is prefilled with the slot; the usager is new, created inline, with a Contexte.
        expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau rendez-vous")
        expect(page.get_by_label(label("Heure de début"))).to_have_value(slot_time)
        expect(page.get_by_label(label("Date"))).to_have_value("2027-03-09")
        assert_accessible(page)
        page.get_by_label(label("Prénom")).fill("Inès")
        page.get_by_label(label("Nom")).fill("Nouvelle")
        page.get_by_label(label("Adresse e-mail")).fill("ines.nouvelle@exemple.fr")
        page.get_by_label(label("Contexte")).fill(CONTEXT_NOTE)
        page.get_by_role("button", name="Réserver le rendez-vous").click()

        # The RDV page: details, the new usager, the Contexte, the waiting-room button.
        expect(page.get_by_text("Rendez-vous enregistré : Premier accueil, mardi 9 mars 2027")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Rendez-vous du mardi 9 mars 2027 à {slot_time}")
        expect(page.get_by_role("link", name="Inès NOUVELLE")).to_be_visible()
        expect(page.locator("#rdv-contexte")).to_have_text(CONTEXT_NOTE)
        assert_accessible(page)
        rdv = Rdv.objects.get()
        usager = Usager.objects.get(last_name="Nouvelle")
        assert list(rdv.participations.values_list("usager", flat=True)) == [usager.pk]
        assert rdv.context == CONTEXT_NOTE
        assert timezone.localtime(rdv.starts_at).strftime("%H:%M") == slot_time

        # The colleague's agenda, as a list, shows the new RDV after a reload (the list polls arrivals
        # only; the grid polls RDVs too: tests/e2e/test_agenda_grid_journey.py).
        colleague.reload()
        card = colleague.get_by_role("link", name=re.compile(rf"{slot_time}–.*Premier accueil.*Inès NOUVELLE"))
        expect(card).to_be_visible()
        expect(colleague.get_by_text("Arrivé(e)")).to_have_count(0)
        assert_accessible(colleague)
        colleague.evaluate("window.notReloaded = true")

        # The usager got her confirmation (rdv.notifications), without the Contexte.
        confirmations = [m for m in deliver_emails() if m.to == [usager.email]]
        assert [m.subject.startswith("Rendez-vous confirmé") for m in confirmations] == [True]
        assert CONTEXT_NOTE not in confirmations[0].body

        # The usager arrives: the booker marks it.
        mail.outbox.clear()
        page.get_by_role("button", name="L'usager est arrivé").click()
        expect(page.get_by_text("Arrivée enregistrée : l'usager est en salle d'attente.")).to_be_visible()
        expect(page.get_by_role("button", name="Annuler l'arrivée")).to_be_visible()
        assert_accessible(page)
        rdv.refresh_from_db()
        assert rdv.arrived_at is not None
        assert [message.to for message in deliver_emails()] == [[mds.booker.email]]
        assert CONTEXT_NOTE not in mail.outbox[0].body

        # Without reloading, the colleague's agenda gets the mark within 30 seconds.
        expect(colleague.get_by_text(re.compile(r"Arrivé\(e\) à \d\d:\d\d"))).to_be_visible(timeout=POLL_WAIT_MS)
        expect(colleague.get_by_text(re.compile(r"Salle d'attente :\s+Inès NOUVELLE"))).to_be_visible()
        assert colleague.evaluate("window.notReloaded") is True
        assert_accessible(colleague)
        assert not colleague_errors, colleague_errors

        # The booker's agenda and RDV list show it too.
        page.get_by_role("link", name="Voir dans l'agenda").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda")
        expect(page.get_by_text(re.compile(r"Arrivé\(e\) à \d\d:\d\d"))).to_be_visible()
        assert_accessible(page)
        page.get_by_role("link", name="Liste des rendez-vous").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Rendez-vous")
        expect(page.get_by_role("row").filter(has_text="Inès NOUVELLE")).to_contain_text("Arrivé(e)")
        assert_accessible(page)
    finally:
        colleague_context.close()
