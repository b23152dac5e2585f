"""The statistics dashboards: who sees them (two espaces side by side), the page and its charts,
the filters and their French messages, the CSV exports, the query counts."""

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from rdv.bookings.models import CreatedBy, RdvStatus
from rdv.sms.models import SmsMonthlyUsage
from tests import factories
from tests.bookings.test_stats import make
from tests.helpers import log_in, page_text

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def data(alice, bob):
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service, name="Accueil social")
    make(alice.organisation, motif, datetime(2026, 11, 16, 9, tzinfo=PARIS), status=RdvStatus.SEEN)
    make(
        alice.organisation,
        motif,
        datetime(2026, 11, 17, 9, tzinfo=PARIS),
        status=RdvStatus.NOSHOW,
        created_by=CreatedBy.USAGER,
    )
    make(alice.organisation, motif, datetime(2026, 11, 24, 9, tzinfo=PARIS), status=RdvStatus.EXCUSED)
    other = factories.MotifFactory(organisation=alice.other_organisation, service=alice.service, name="Accueil nord")
    make(alice.other_organisation, other, datetime(2026, 11, 18, 9, tzinfo=PARIS), status=RdvStatus.SEEN)
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service, name="Motif de bob")
    make(bob.organisation, bob_motif, datetime(2026, 11, 18, 9, tzinfo=PARIS), status=RdvStatus.SEEN)
    SmsMonthlyUsage.objects.create(
        territory=alice.territory, month=date(2026, 11, 1), messages_accepted=7, segments_accepted=9
    )
    return motif


def espace_url(world):
    return reverse("espace_stats", args=[world.territory.pk])


def organisation_url(world, organisation=None):
    return reverse("organisation_stats", args=[(organisation or world.organisation).pk])


def client_for(agent):
    return log_in(Client(), agent)


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


# Rights ------------------------------------------------------------------------------------------


def test_espace_admin_sees_the_espace_dashboard(alice, data):
    response = client_for(alice.territory_admin).get(espace_url(alice))
    assert response.status_code == 200
    text = page_text(response)
    assert "Statistiques de l'espace Espace alice" in text
    assert "4 rendez-vous du 31/08/2026 au 27/12/2026" in text
    assert "Motif de bob" not in text


@pytest.mark.parametrize("who", ["organisation_admin", "agent"])
def test_only_espace_admins_open_the_espace_dashboard(alice, data, who):
    assert client_for(getattr(alice, who)).get(espace_url(alice)).status_code == 404


def test_another_espace_admin_gets_404_on_both_dashboards(alice, bob, data):
    client = client_for(bob.territory_admin)
    assert client.get(espace_url(alice)).status_code == 404
    assert client.get(organisation_url(alice)).status_code == 404
    assert client.get(espace_url(alice), {"format": "csv", "tableau": "statuts"}).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(alice):
    response = Client().get(espace_url(alice))
    assert response.status_code == 302 and "/connexion/" in response.url


def test_organisation_dashboard_counts_what_each_member_may_see(alice, data):
    pmi = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    other_service = factories.MotifFactory(organisation=alice.organisation, service=pmi, name="Consultation")
    make(alice.organisation, other_service, datetime(2026, 11, 19, 9, tzinfo=PARIS))

    admin_text = page_text(client_for(alice.organisation_admin).get(organisation_url(alice)))
    assert "4 rendez-vous du" in admin_text
    agent_response = client_for(alice.agent).get(organisation_url(alice))
    assert agent_response.status_code == 200
    agent_text = page_text(agent_response)
    assert "3 rendez-vous du" in agent_text  # the basic agent's service only
    assert "Vous voyez les chiffres des rendez-vous que vous pouvez consulter" in agent_text
    # Not a member of the other organisation: 404.
    assert client_for(alice.agent).get(organisation_url(alice, alice.other_organisation)).status_code == 404


def test_navigation_links_to_the_dashboards(alice):
    espace_page = page_text(client_for(alice.territory_admin).get(reverse("espace_agents", args=[alice.territory.pk])))
    assert espace_url(alice) in espace_page
    home = client_for(alice.agent).get(reverse("organisation_home", args=[alice.organisation.pk]))
    assert organisation_url(alice) in home.content.decode()


# The page ----------------------------------------------------------------------------------------


def test_the_page_shows_figures_charts_and_their_tables(alice, data):
    response = client_for(alice.territory_admin).get(espace_url(alice), {"du": "2026-11-16", "au": "2026-11-29"})
    html = response.content.decode()
    text = page_text(response)
    assert "4 rendez-vous du 16/11/2026 au 29/11/2026" in text
    assert "33,3 %" in text  # no-show: 1 of 3 seen or absent
    assert "25,0 %" in text  # cancelled: 1 of 4
    assert html.count('role="img"') == 5  # statuses, channels, services, lead time, SMS
    assert '<title id="graphique-statuts-titre">Rendez-vous par semaine et par statut</title>' in html
    assert 'aria-labelledby="graphique-statuts-titre"' in html and 'aria-describedby="graphique-statuts-desc"' in html
    assert "<caption>Rendez-vous par semaine et par statut</caption>" in html
    assert '<th scope="row">Semaine du 16/11/2026</th>' in html
    assert '<th scope="col">Absents (non excusés)</th>' in html
    assert "Taux d'absence" in text and "Comment ces chiffres sont calculés" in text
    assert "novembre 2026" in text  # the SMS table


def test_chart_coordinates_are_not_localised(alice, data):
    """French number formatting (12,5) would break the SVG: coordinates keep their dot."""
    html = (
        client_for(alice.territory_admin)
        .get(espace_url(alice), {"du": "2026-11-16", "au": "2026-12-20"})
        .content.decode()
    )
    rects = re.findall(r'<rect x="([^"]*)" y="([^"]*)" width="([^"]*)" height="([^"]*)"', html)
    assert len(rects) > 5
    for values in rects:
        for value in values:
            float(value)  # "12,5" raises
    assert any("." in value for values in rects for value in values)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "pas-une-date"}, "Date de début invalide"),
        ({"au": "2026-13-45"}, "Date de fin invalide"),
        (
            {"du": "2026-11-20", "au": "2026-11-01"},
            "La date de fin doit être le même jour que la date de début ou après.",
        ),
        ({"du": "2020-01-01", "au": "2026-11-01"}, "La période ne peut pas dépasser deux ans"),
        ({"du": ""}, "Saisissez la date de début de la période."),
        ({"du": "99999-01-01"}, "Date de début invalide"),
        ({"service": "abc"}, "Ce service n'est pas actif dans l'espace."),
        ({"organisation": "99999999999999999999999"}, "Cette organisation ne fait pas partie de l'espace."),
        ({"motif": "-1"}, "Ce motif n'est pas proposé ici."),
    ],
)
def test_bad_filters_get_a_french_message_and_the_page_still_shows(alice, data, params, message):
    response = client_for(alice.territory_admin).get(espace_url(alice), params)
    assert response.status_code == 200
    text = page_text(response)
    assert message in text
    assert "Certains champs sont invalides" in text


def test_filters_of_another_espace_are_refused(alice, bob, data):
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service)
    response = client_for(alice.territory_admin).get(
        espace_url(alice), {"organisation": bob.organisation.pk, "motif": bob_motif.pk}
    )
    text = page_text(response)
    assert "Cette organisation ne fait pas partie de l'espace." in text
    assert "Ce motif n'est pas proposé ici." in text
    assert "4 rendez-vous du" in text  # the filters are dropped, not applied


def test_an_organisation_filter_narrows_the_espace_dashboard(alice, data):
    text = page_text(
        client_for(alice.territory_admin).get(espace_url(alice), {"organisation": alice.other_organisation.pk})
    )
    assert "1 rendez-vous du" in text


# CSV ---------------------------------------------------------------------------------------------


def test_csv_export_of_the_statuses_table(alice, data):
    response = client_for(alice.territory_admin).get(
        espace_url(alice), {"du": "2026-11-16", "au": "2026-11-29", "format": "csv", "tableau": "statuts"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="statistiques-espace-{alice.territory.pk}-statuts-2026-11-16-2026-11-29.csv"'
        in response["Content-Disposition"]
    )
    assert read_csv(response) == [
        [
            "Semaine",
            "Vus",
            "Absents (non excusés)",
            "Annulés par l'usager",
            "Annulés par le service",
            "Non renseignés (passés)",
            "À venir",
            "Total",
        ],
        ["Semaine du 16/11/2026", "2", "1", "0", "0", "0", "0", "3"],
        ["Semaine du 23/11/2026", "0", "0", "1", "0", "0", "0", "1"],
        ["Total", "2", "1", "1", "0", "0", "0", "4"],
    ]


def test_csv_export_of_the_other_tables(alice, data):
    client = client_for(alice.territory_admin)
    period = {"du": "2026-11-16", "au": "2026-11-29", "format": "csv"}
    channels = read_csv(client.get(espace_url(alice), {**period, "tableau": "canaux"}))
    assert channels[-1] == ["Total", "3", "1", "0", "4"]
    motifs = read_csv(client.get(espace_url(alice), {**period, "tableau": "motifs"}))
    assert motifs[1:] == [
        ["Accueil social", "Service social", "3", "1", "1", "1"],
        ["Accueil nord", "Service social", "1", "1", "0", "0"],
    ]
    sms = read_csv(client.get(espace_url(alice), {**period, "tableau": "sms"}))
    assert sms[1] == ["novembre 2026", "7", "9", "0"]
    lead = read_csv(client.get(espace_url(alice), {**period, "tableau": "delai"}))
    assert lead[0] == ["Délai", "Rendez-vous"] and lead[1:] == [
        ["Le jour même", "0"],
        ["1 à 7 jours", "4"],
        ["8 à 30 jours", "0"],
        ["Plus de 30 jours", "0"],
        ["Enregistré après le rendez-vous", "0"],
    ]


def test_unknown_csv_table_is_a_404(alice, data):
    client = client_for(alice.territory_admin)
    assert client.get(espace_url(alice), {"format": "csv", "tableau": "inconnu"}).status_code == 404
    assert (
        client_for(alice.organisation_admin)
        .get(organisation_url(alice), {"format": "csv", "tableau": "sms"})
        .status_code
        == 404
    )


# Query counts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", [{"du": "2026-11-16", "au": "2026-11-22"}, {"du": "2025-01-01", "au": "2026-12-31"}])
def test_espace_dashboard_query_count(alice, data, django_assert_num_queries, period):
    client = client_for(alice.territory_admin)
    client.get(espace_url(alice))  # warm the session and the DSFR configuration
    with django_assert_num_queries(ESPACE_PAGE_QUERIES):
        assert client.get(espace_url(alice), period).status_code == 200


@pytest.mark.parametrize("period", [{"du": "2026-11-16", "au": "2026-11-22"}, {"du": "2025-01-01", "au": "2026-12-31"}])
def test_organisation_dashboard_query_count(alice, data, django_assert_num_queries, period):
    client = client_for(alice.agent)
    client.get(organisation_url(alice))
    with django_assert_num_queries(ORGANISATION_PAGE_QUERIES):
        assert client.get(organisation_url(alice), {**period, "service": alice.service.pk}).status_code == 200


# session, agent, the espace-admin check, the context; 4 for the figures; the menus (2); the
# choices of the organisation, service and motif filters (3).
ESPACE_PAGE_QUERIES = 13
# session, agent, two role checks, the context; the service filter checked (1); 3 for the figures
# (no SMS); the menus (2); the choices of the service and motif filters (2).
ORGANISATION_PAGE_QUERIES = 13
