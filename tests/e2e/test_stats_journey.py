"""Issue 22 « Statistiques » in a real browser: an espace admin opens the espace dashboard from the
espace menu, reads a chart's table (disclosed), downloads a CSV, types a bad date (French message,
the page still shows), then opens an organisation's dashboard from the organisation's home. Every
page shown is checked with axe (`assert_accessible`). With E2E_SCREENSHOTS=<folder> in the
environment, each page is also saved there as a full-page PNG."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rdv.accounts.models import AccessLevel
from rdv.bookings.models import CreatedBy, RdvStatus
from tests import factories
from tests.bookings.test_stats import make
from tests.e2e.axe import assert_accessible
from tests.e2e.test_motif_journey import Espace, log_in

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
    motif = factories.MotifFactory(organisation=valence, service=social, name="Premier accueil")
    other = factories.MotifFactory(organisation=romans, service=social, name="Premier accueil")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    statuses = [RdvStatus.SEEN, RdvStatus.SEEN, RdvStatus.NOSHOW, RdvStatus.EXCUSED, RdvStatus.REVOKED]
    for index in range(30):
        past = index < 20
        make(
            valence if index % 3 else romans,
            motif if index % 3 else other,
            now + timedelta(days=(-index * 3 if past else index - 15)),
            status=statuses[index % 5] if past else RdvStatus.UNKNOWN,
            created_by=[CreatedBy.AGENT, CreatedBy.USAGER, CreatedBy.PRESCRIPTEUR][index % 3],
            created_at=now - timedelta(days=index * 3 + index % 9),
        )
    return Espace(territory, valence, romans, social, admin)


def checked(page: Page, name: str) -> None:
    assert_accessible(page)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"stats-{name}.png"), full_page=True)


def test_admin_reads_the_espace_and_organisation_dashboards(page: Page, espace: Espace):
    log_in(page, espace.admin.email, factories.PASSWORD)
    page.goto(f"/espace/{espace.territory.pk}/agents/")
    assert_accessible(page)
    page.get_by_role("navigation", name="Espace Drôme").get_by_role("link", name="Statistiques").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiques de l'espace Drôme")
    expect(page.get_by_role("img", name="Rendez-vous par semaine et par statut")).to_be_visible()
    checked(page, "1-espace")

    # The accessible alternative of the first chart: its table, disclosed.
    page.get_by_text("Afficher les chiffres sous forme de tableau").first.click()
    table = page.get_by_role("table", name="Rendez-vous par semaine et par statut")
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader", name="Absents (non excusés)")).to_be_visible()
    expect(table.get_by_role("rowheader", name="Total")).to_be_visible()
    checked(page, "2-tableau")

    # CSV export of the motifs table (always shown).
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger ce tableau (CSV) : rendez-vous par motif").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"statistiques-espace-{espace.territory.pk}-motifs-")
    content = Path(download.path()).read_text(encoding="utf-8")
    assert content.startswith("\ufeffMotif;Service;Rendez-vous;Vus;Absents (non excusés);Annulés")
    assert "Premier accueil;Service social;" in content

    # A bad date: a French message, the default period, the page still there.
    page.locator("#id_du").fill("")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("Saisissez la date de début de la période.")).to_be_visible()
    expect(page.get_by_role("img", name="Rendez-vous par semaine et par statut")).to_be_visible()
    checked(page, "3-erreur")

    # The organisation's dashboard, from its home page.
    page.goto(f"/organisations/{espace.valence.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name="Statistiques", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Statistiques")
    expect(page.get_by_role("heading", name="SMS consommés par l'espace")).to_have_count(0)
    expect(
        page.get_by_role("img", name="Origine des rendez-vous").or_(
            page.get_by_role("img", name="Rendez-vous par semaine et par origine")
        )
    ).to_be_visible()
    checked(page, "4-organisation")
