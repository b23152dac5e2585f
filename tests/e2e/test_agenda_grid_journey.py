"""Issue 17, « Agenda as a time grid », in a real browser.

With the mouse: an agent clicks an empty half-hour of the grid, books it, drags the RDV to another
time, confirms, and it is moved; a drag outside the plages is refused with the reason, snaps back
when cancelled, and moves only after « Déplacer quand même ». With the keyboard only: the same
journey (arrows and Enter on the grid, the RDV's « Déplacer » button, arrows, Enter). A colleague
whose grid is open sees a RDV booked meanwhile, and its « arrivé(e) » mark, without reloading.

Every page and every state of the dialog is checked with axe (`assert_accessible`). "Now" is
Tuesday 9 March 2027, 09:00 in Paris (time-machine patches the clock of the live server's thread).
"""

import re
from dataclasses import dataclass
from datetime import datetime, time

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel
from rdv.agendas.models import Lieu, PlageOuverture
from rdv.bookings import services
from rdv.bookings.models import Rdv
from rdv.core.models import AuditLog
from rdv.territories.models import WaitingRoomNotification
from rdv.usagers.models import Usager
from tests import factories
from tests.e2e.axe import assert_accessible as check_with_axe
from tests.e2e.test_booking_journey import label, log_in
from tests.helpers import as_agent

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 9, 9, 0, tzinfo=PARIS)
POLL_WAIT_MS = 30_000


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(NOW.date(), time(hour, minute), tzinfo=PARIS)


@dataclass
class Office:
    organisation: object
    motif: object
    lieu: object
    booker: object
    colleague: object


@pytest.fixture
def travelled():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def office(travelled, live_server) -> Office:
    territory = factories.TerritoryFactory(name="Drôme")
    territory.waiting_room_notification = WaitingRoomNotification.VISUAL
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
    return Office(valence, motif, lieu, booker, colleague)


def assert_accessible(page: Page) -> None:
    """axe, once the transitions are over (the DSFR dialog fades in: mid-way, its text is pale)."""
    page.wait_for_function("() => document.getAnimations().every(animation => animation.playState !== 'running')")
    check_with_axe(page)


def day_grid(page: Page, office: Office, agent=None) -> None:
    agent = agent or office.booker
    page.goto(f"/organisations/{office.organisation.pk}/agenda/?vue=jour&agents={agent.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda")
    expect(page.locator("#agenda-grille")).to_be_visible()


def cell(page: Page, hhmm: str):
    return page.get_by_role("link", name=re.compile(rf"^Réserver à {hhmm}, mardi 9 mars, Bruno Petit"))


def rdv_link(page: Page, start: str, end: str):
    return page.get_by_role("link", name=re.compile(rf"^{start}–{end}\s+Premier accueil\s+Inès NOUVELLE"))


def book_new_usager(page: Page, *, keyboard: bool = False) -> None:
    """The booking form, prefilled from the grid: book for a new usager."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau rendez-vous")
    assert_accessible(page)
    page.get_by_label(label("Prénom")).fill("Inès")
    page.get_by_label(label("Nom")).fill("Nouvelle")
    page.get_by_label(label("Adresse e-mail")).fill("ines.nouvelle@exemple.fr")
    submit = page.get_by_role("button", name="Réserver le rendez-vous")
    if keyboard:
        submit.focus()
        page.keyboard.press("Enter")
    else:
        submit.click()
    expect(page.get_by_text("Rendez-vous enregistré : Premier accueil, mardi 9 mars 2027")).to_be_visible()
    assert_accessible(page)


def drag(page: Page, source, target, steps: int = 12) -> None:
    """Press in the middle of `source`, move to the middle of `target`, release (the grid, 08:00 to
    18:00 here, fits in the window once scrolled to its top)."""
    page.locator("#agenda-grille").evaluate("grid => { grid.scrollTop = 0; grid.scrollIntoView(); }")
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=steps)
    page.mouse.up()


def expect_form_prefilled(page: Page, office: Office, hhmm: str) -> None:
    expect(page.get_by_label(label("Date"))).to_have_value("2027-03-09")
    expect(page.get_by_label(label("Heure de début"))).to_have_value(hhmm)
    expect(page.get_by_label("Motif", exact=True)).to_have_value(str(office.motif.pk))
    expect(page.get_by_label(label("Lieu"))).to_have_value(str(office.lieu.pk))
    expect(page.get_by_role("checkbox", name="Bruno Petit")).to_be_checked()


def test_book_an_empty_half_hour_then_drag_the_rdv_to_another_time(page: Page, office: Office):
    log_in(page, office.booker.email)
    day_grid(page, office)
    expect(page.get_by_role("link", name="Grille")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Plage 09:00–12:00 · MDS Valence — Centre")).to_be_visible()
    assert_accessible(page)

    # A click on the empty 10:00 half-hour opens the booking form, prefilled.
    cell(page, "10:00").click()
    expect_form_prefilled(page, office, "10:00")
    book_new_usager(page)
    rdv = Rdv.objects.get()
    assert rdv.starts_at == at(10)

    # Back in the grid, the RDV sits at 10:00; drag it to 11:00 and confirm.
    page.get_by_role("link", name="Voir dans l'agenda").click()
    block = rdv_link(page, "10:00", "10:30")
    expect(block).to_be_visible()
    assert_accessible(page)
    drag(page, block, cell(page, "11:00"))
    dialog = page.get_by_role("dialog", name="Déplacer le rendez-vous")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Actuellement mardi 9 mars 2027 à 10:00 avec Bruno Petit (MDS Valence — Centre)")
    expect(dialog).to_contain_text("Nouvel horaire mardi 9 mars 2027 à 11:00 avec Bruno Petit (MDS Valence — Centre)")
    assert_accessible(page)
    rdv.refresh_from_db()
    assert rdv.starts_at == at(10)  # nothing moves before the confirmation
    dialog.get_by_role("button", name="Déplacer le rendez-vous").click()
    expect(dialog).to_be_hidden()
    expect(
        page.get_by_role("status").filter(has_text="Rendez-vous déplacé au mardi 9 mars 2027 à 11:00.")
    ).to_be_visible()
    expect(rdv_link(page, "11:00", "11:30")).to_be_visible()
    expect(rdv_link(page, "10:00", "10:30")).to_have_count(0)
    rdv.refresh_from_db()
    assert rdv.starts_at == at(11)
    assert_accessible(page)

    # Outside the plage the move is refused with the reason; « Annuler » puts the RDV back.
    drag(page, rdv_link(page, "11:00", "11:30"), cell(page, "14:00"))
    expect(dialog).to_contain_text("Nouvel horaire mardi 9 mars 2027 à 14:00")
    dialog.get_by_role("button", name="Déplacer le rendez-vous").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Cet horaire est en dehors des disponibilités de Bruno Petit")
    expect(dialog.get_by_role("button", name="Déplacer quand même")).to_be_visible()
    assert_accessible(page)
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".agenda-grid__ghost")).to_have_count(0)
    expect(rdv_link(page, "11:00", "11:30")).to_be_visible()
    rdv.refresh_from_db()
    assert rdv.starts_at == at(11)

    # Again, and this time « Déplacer quand même »: moved, and the override is in the journal.
    drag(page, rdv_link(page, "11:00", "11:30"), cell(page, "14:00"))
    dialog.get_by_role("button", name="Déplacer le rendez-vous").click()
    dialog.get_by_role("button", name="Déplacer quand même").click()
    expect(dialog).to_be_hidden()
    expect(rdv_link(page, "14:00", "14:30")).to_be_visible()
    rdv.refresh_from_db()
    assert rdv.starts_at == at(14)
    entry = AuditLog.objects.filter(action="rdv.moved").order_by("-id").first()
    assert "hors disponibilité" in entry.changes["override"]
    assert_accessible(page)


def tab_until(page: Page, predicate: str, limit: int = 80) -> None:
    """Press Tab until `predicate` (a JavaScript expression on `el`, the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return Boolean({predicate}); }})()"):
            return
    pytest.fail(f"Focus never reached: {predicate}")


def test_the_same_journey_with_the_keyboard_only(page: Page, office: Office):
    log_in(page, office.booker.email)
    day_grid(page, office)
    assert_accessible(page)

    # One tab stop for the grid's half-hours: it starts at "now" (09:00); the arrows move it.
    page.get_by_role("link", name="Liste", exact=True).focus()
    tab_until(page, "el.classList.contains('agenda-grid__cell')")
    expect(page.locator(":focus")).to_have_accessible_name(re.compile(r"^Réserver à 09:00, mardi 9 mars, Bruno Petit"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator(":focus")).to_have_accessible_name(re.compile(r"^Réserver à 10:00, mardi 9 mars, Bruno Petit"))
    page.keyboard.press("Enter")
    expect_form_prefilled(page, office, "10:00")
    book_new_usager(page, keyboard=True)
    rdv = Rdv.objects.get()
    assert rdv.starts_at == at(10)

    # The RDV's « Déplacer » button, then the arrows and Enter: the same confirmation.
    day_grid(page, office)
    assert_accessible(page)
    page.get_by_role("link", name="Liste", exact=True).focus()
    tab_until(page, "el.classList.contains('agenda-grid__move')")
    expect(page.locator(":focus")).to_have_accessible_name("Déplacer le rendez-vous de 10:00–10:30 (Inès NOUVELLE)")
    page.keyboard.press("Enter")
    help_box = page.locator("#agenda-deplacement-aide")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Nouvel horaire proposé : 10:00, mardi 9 mars 2027, Bruno Petit.")
    assert_accessible(page)

    # Escape gives up: nothing changes.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    expect(page.locator(":focus")).to_have_accessible_name(re.compile("^Déplacer le rendez-vous de 10:00"))

    page.keyboard.press("Enter")
    for _ in range(4):  # four quarters of an hour
        page.keyboard.press("ArrowDown")
    expect(help_box).to_contain_text("Nouvel horaire proposé : 11:00, mardi 9 mars 2027, Bruno Petit.")
    expect(page.locator("#agenda-annonce")).to_have_text("11:00, mardi 9 mars 2027, Bruno Petit")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Déplacer le rendez-vous")
    expect(dialog).to_contain_text("Nouvel horaire mardi 9 mars 2027 à 11:00 avec Bruno Petit")
    expect(page.locator(":focus")).to_have_accessible_name("Déplacer le rendez-vous")
    assert_accessible(page)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(
        page.get_by_role("status").filter(has_text="Rendez-vous déplacé au mardi 9 mars 2027 à 11:00.")
    ).to_be_visible()
    # The focus lands on the moved RDV.
    expect(page.locator(":focus")).to_have_accessible_name(re.compile(r"^11:00–11:30\s+Premier accueil"))
    rdv.refresh_from_db()
    assert rdv.starts_at == at(11)
    assert_accessible(page)


def test_a_colleague_sees_a_new_rdv_and_its_arrival_without_reloading(page: Page, office: Office):
    log_in(page, office.colleague.email)
    day_grid(page, office)
    expect(page.locator(".agenda-grid__rdv")).to_have_count(0)
    assert_accessible(page)
    page.evaluate("window.notReloaded = true")

    usager = factories.UsagerFactory(
        territory=office.organisation.territory,
        first_name="Inès",
        last_name="Nouvelle",
        organisations=[office.organisation],
    )
    rdv = services.book_rdv(
        as_agent(office.booker, office.organisation),
        services.BookingRequest(
            motif=office.motif, starts_at=at(9, 30), agents=[office.booker], usagers=[usager], lieu=office.lieu
        ),
    )
    services.mark_arrived(as_agent(office.booker, rdv), rdv)

    expect(rdv_link(page, "09:30", "10:00")).to_be_visible(timeout=POLL_WAIT_MS)
    expect(page.get_by_text(re.compile(r"Arrivé\(e\) à \d\d:\d\d"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Salle d'attente :\s+Inès NOUVELLE"))).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    assert Usager.objects.count() == 1
    assert_accessible(page)
