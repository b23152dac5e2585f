"""The booking form in a real browser (issue 17, point 10): no JavaScript console error (the usager
search's htmx request included), the lieu shown only for a motif « sur place », the address only for
a motif « à domicile », the visio link only for a visio motif; without JavaScript every field stays
visible and the form still books."""

import re
from datetime import datetime, time

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings.models import Rdv
from tests import factories
from tests.e2e.axe import assert_accessible
from tests.e2e.test_booking_journey import label, log_in

NOW = datetime(2027, 3, 9, 8, 0, tzinfo=timezone.get_default_timezone())


@pytest.fixture
def mds(live_server):
    with time_machine.travel(NOW, tick=True):
        territory = factories.TerritoryFactory(name="Drôme")
        valence = factories.OrganisationFactory(territory=territory, name="MDS Valence")
        social = factories.ServiceFactory(name="Service social")
        factories.TerritoryServiceFactory(territory=territory, service=social)
        agent = factories.AgentFactory(email="bruno.petit@exemple.fr", first_name="Bruno", last_name="Petit")
        factories.AgentRoleFactory(agent=agent, organisation=valence, access_level=AccessLevel.BASIC)
        factories.AgentServiceFactory(agent=agent, territory=territory, service=social)
        motifs = {
            kind: factories.MotifFactory(organisation=valence, service=social, name=name, location_type=kind)
            for kind, name in (
                ("public_office", "Premier accueil"),
                ("home", "Visite à domicile"),
                ("visio", "Entretien en visio"),
            )
        }
        lieu = Lieu.objects.create(organisation=valence, name="MDS Valence — Centre", address="12 avenue de Romans")
        plage = PlageOuverture.objects.create(
            organisation=valence,
            agent=agent,
            lieu=lieu,
            first_date=NOW.date(),
            start_time=time(9),
            end_time=time(12),
            recurrence="weekly",
            recurrence_weekdays=[0, 1, 2, 3, 4],
        )
        plage.motifs.set(motifs.values())
        factories.UsagerFactory(territory=territory, first_name="Jeanne", last_name="Dupont", organisations=[valence])
        yield valence, motifs


def shown(page: Page) -> set[str]:
    """Which of the lieu, address and visio fields are visible."""
    fields = {"lieu": "#id_lieu", "adresse": "#id_address", "visio": "#id_visio_url"}
    return {name for name, selector in fields.items() if page.locator(selector).is_visible()}


def test_the_form_shows_the_fields_of_the_motif_type_without_console_error(page: Page, mds):
    organisation, motifs = mds
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    with time_machine.travel(NOW, tick=True):
        log_in(page, "bruno.petit@exemple.fr")
        page.goto(f"/organisations/{organisation.pk}/rdvs/nouveau/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau rendez-vous")
        assert_accessible(page)
        assert shown(page) == set()  # no motif chosen yet

        motif = page.get_by_label("Motif", exact=True)
        motif.select_option(str(motifs["public_office"].pk))
        assert shown(page) == {"lieu"}
        motif.select_option(str(motifs["visio"].pk))
        assert shown(page) == {"visio"}
        motif.select_option(str(motifs["home"].pk))
        assert shown(page) == {"adresse"}
        assert_accessible(page)

        # The usager search (htmx) runs without error, with or without an usager chosen.
        page.get_by_label(re.compile("Rechercher un usager existant")).press_sequentially("Dup")
        result = page.get_by_label("Jeanne DUPONT")
        expect(result).to_be_visible()
        result.check(force=True)  # the DSFR label covers the box
        page.get_by_label(re.compile("Rechercher un usager existant")).fill("Dupo")
        expect(page.get_by_label("Jeanne DUPONT")).to_be_checked()

        page.get_by_label(label("Date")).fill("2027-03-09")
        page.get_by_label(label("Heure de début")).fill("10:00")
        page.get_by_label(label("Adresse du rendez-vous")).fill("3 rue Haute, Valence")
        page.get_by_role("button", name="Réserver le rendez-vous").click()

        expect(page.get_by_text(re.compile("Rendez-vous enregistré : Visite à domicile"))).to_be_visible()
        assert_accessible(page)
    rdv = Rdv.objects.get()
    assert (rdv.motif, rdv.address, rdv.lieu, rdv.visio_url) == (motifs["home"], "3 rue Haute, Valence", None, "")
    assert console_errors == [], console_errors


def test_without_javascript_every_field_is_visible_and_the_form_books(page: Page, browser, live_server, mds):
    organisation, motifs = mds
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    no_js = context.new_page()
    try:
        with time_machine.travel(NOW, tick=True):
            no_js.goto("/connexion/")
            no_js.get_by_label("Adresse e-mail", exact=True).fill("bruno.petit@exemple.fr")
            no_js.get_by_label("Mot de passe", exact=True).fill(factories.PASSWORD)
            no_js.get_by_role("button", name="Se connecter").click()
            no_js.goto(f"/organisations/{organisation.pk}/rdvs/nouveau/?usager=1")
            assert shown(no_js) == {"lieu", "adresse", "visio"}

            no_js.get_by_label("Motif", exact=True).select_option(str(motifs["visio"].pk))
            no_js.get_by_label(label("Date")).fill("2027-03-09")
            no_js.get_by_label(label("Heure de début")).fill("11:00")
            no_js.get_by_label(label("Prénom")).fill("Inès")
            no_js.get_by_label(label("Nom")).fill("Nouvelle")
            no_js.get_by_label(label("Lien de visioconférence")).fill("https://visio.exemple.fr/salle")
            no_js.get_by_role("button", name="Réserver le rendez-vous").click()

            expect(no_js.get_by_text(re.compile("Rendez-vous enregistré : Entretien en visio"))).to_be_visible()
    finally:
        context.close()
    assert Rdv.objects.get().visio_url == "https://visio.exemple.fr/salle"
