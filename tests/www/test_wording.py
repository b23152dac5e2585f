"""Wording and display (issue 17, point 10): French elisions (« d'Alice »), « 1er » for the first day
of a month, durations and delays in human units in the journal and the organisation of each motif
copy, a « Texte long » field refuses list options, numbers typed on numeric keyboards, and the
« missing service » request is a link (settings.SUPPORT_URL)."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse

from rdv.core.audit import describe_changes, human_minutes
from rdv.core.dates import french_date
from rdv.core.errors import DomainError
from rdv.core.text import de
from rdv.motifs import services as motif_services
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField
from tests import factories
from tests.helpers import as_agent, log_in, page_text
from tests.motifs.conftest import configuration

PARIS = ZoneInfo("Europe/Paris")


# Elisions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Alice Martin", "d'Alice Martin"),
        ("Bruno Petit", "de Bruno Petit"),
        ("Éloïse DUPRÉ", "d'Éloïse DUPRÉ"),
        ("Hélène Roux", "d'Hélène Roux"),
        ("Yves Morel", "d'Yves Morel"),
        ("alice Centre", "d'alice Centre"),
        ("Œuvre", "d'Œuvre"),
        ("MDS Valence", "de MDS Valence"),
        ("", "de "),
    ],
)
def test_de_elides_before_a_vowel_or_an_h(name, expected):
    assert de(name) == expected


def test_the_template_filter_elides_too():
    rendered = Template("{% load rdv_format %}Agenda {{ a|de }} · Agenda {{ b|de }}").render(
        Context({"a": "Inès Terprète", "b": "Paul Pmi"})
    )

    assert rendered == "Agenda d&#x27;Inès Terprète · Agenda de Paul Pmi"


def test_titles_and_messages_elide_names(client, alice):
    agent = factories.AgentFactory(email="alice.martin@exemple.fr", first_name="Alice", last_name="Martin")
    factories.AgentRoleFactory(agent=agent, organisation=alice.organisation)
    factories.AgentServiceFactory(agent=agent, territory=alice.territory, service=alice.service)
    log_in(client, alice.territory_admin)

    assignments = page_text(client.get(reverse("espace_agent_edit", args=[alice.territory.pk, agent.pk])))
    week = page_text(client.get(reverse("agenda_week", args=[alice.organisation.pk, agent.pk])))
    created = client.post(
        reverse("usager_create", args=[alice.organisation.pk]), {"first_name": "Inès", "last_name": "Nouvelle"}
    )

    assert "<title>\n      Affectations d'Alice Martin" in assignments
    assert "Agenda d'Alice Martin" in week and "Agenda de Alice" not in week
    assert "La fiche d'Inès NOUVELLE est créée." in page_text(client.get(created["Location"]))


# « 1er » ----------------------------------------------------------------------------------------


def test_french_dates_write_1er_for_the_first_day_of_a_month():
    assert french_date(date(2027, 3, 1)) == "lundi 1er mars 2027"
    assert french_date(date(2027, 3, 2)) == "mardi 2 mars 2027"
    assert french_date(date(2027, 3, 1), weekday=False) == "1er mars 2027"
    assert french_date(date(2027, 3, 1), weekday=False, year=False) == "1er mars"
    rendered = Template('{% load rdv_format %}{{ d|date_fr }} | {{ d|date_fr:"court" }} | {{ d|date_fr:"jour" }}')
    assert rendered.render(Context({"d": date(2027, 5, 1)})) == "samedi 1er mai 2027 | 1er mai 2027 | 1er mai"
    rendered = Template('{% load rdv_format %}{{ d|date_fr:"semaine" }} | {{ d|date_fr:"numero" }}')
    assert rendered.render(Context({"d": date(2027, 5, 1)})) == "samedi 1er mai | samedi 1er"
    assert rendered.render(Context({"d": date(2027, 5, 2)})) == "dimanche 2 mai | dimanche 2"


def test_the_holidays_page_writes_1er(client, alice):
    log_in(client, alice.territory_admin)

    with time_machine.travel(datetime(2027, 3, 10, 9, tzinfo=PARIS), tick=False):
        log_in(client, alice.territory_admin)
        page = page_text(client.get(reverse("espace_settings_holidays", args=[alice.territory.pk])))

    assert "Samedi 1er mai 2027 — " in page
    assert not re.search(r"\b1 (mai|novembre|janvier)\b", page)


# The journal ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 minute"),
        (1, "1 minute"),
        (30, "30 minutes"),
        (60, "1 heure"),
        (90, "1 h 30"),
        (120, "2 heures"),
        (1440, "1 jour"),
        (86400, "60 jours"),
        (129600, "90 jours"),
        (1530, "1 jour et 1 h 30"),
        (2940, "2 jours et 1 heure"),
    ],
)
def test_minutes_are_written_in_human_units(minutes, text):
    assert human_minutes(minutes) == text


def test_the_journal_shows_delays_and_durations_in_human_units(client, alice):
    ctx = as_agent(alice.territory_admin, alice.territory)
    motif = motif_services.create_territory_motifs(ctx, [alice.organisation], configuration(alice))[0]
    motif_services.update_motif_online_booking(
        ctx, motif, {"min_booking_delay_minutes": 30, "max_booking_delay_minutes": 86400}
    )
    motif_services.update_motif_configuration(ctx, motif, configuration(alice, default_duration_minutes=90))
    log_in(client, alice.territory_admin)

    page = page_text(client.get(reverse("espace_journal", args=[alice.territory.pk])))

    assert "délai maximum de réservation : 90 jours → 60 jours" in page
    assert "durée par défaut : 30 minutes → 1 h 30" in page
    assert "129600" not in page and "86400" not in page
    assert describe_changes({"max_booking_delay_minutes": [129600, 86400]}) == [
        ("délai maximum de réservation", "90 jours → 60 jours")
    ]


def test_the_journal_names_the_organisation_of_each_motif_copy(client, alice):
    ctx = as_agent(alice.territory_admin, alice.territory)
    motif_services.create_territory_motifs(ctx, [alice.organisation, alice.other_organisation], configuration(alice))
    log_in(client, alice.territory_admin)

    page = page_text(client.get(reverse("espace_journal", args=[alice.territory.pk])))

    rows = [row for row in page.split("<tr>") if "Motif créé" in row]
    assert len(rows) == 2
    objects = sorted(re.sub(r"\s+", " ", row.split("<td>")[4]) for row in rows)
    assert "alice Centre" in objects[0] and "alice Nord" in objects[1]
    details = sorted(row.split("<td>")[5] for row in rows)
    assert "organisation : alice Centre" in details[0] and "organisation : alice Nord" in details[1]


# « Texte long » refuses options -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["long_text", "text", "number", "date", "boolean"])
def test_a_field_that_is_not_a_list_refuses_options(alice, kind):
    ctx = as_agent(alice.territory_admin, alice.territory)

    with pytest.raises(DomainError) as caught:
        usager_services.create_custom_field(ctx, label="Observations", kind=kind, choices=["RSA", "Logement"])

    assert caught.value.code == "choices_not_allowed"
    assert caught.value.field == "choices"
    assert "n'a pas d'options" in caught.value.message
    assert not CustomField.objects.exists()


def test_a_list_turned_into_a_long_text_must_drop_its_options(alice):
    ctx = as_agent(alice.territory_admin, alice.territory)
    field = usager_services.create_custom_field(ctx, label="Orientation", kind="choice", choices=["RSA"])

    with pytest.raises(DomainError) as caught:
        usager_services.update_custom_field(ctx, field, label="Orientation", kind="long_text", choices=["RSA"])
    changes = usager_services.update_custom_field(ctx, field, label="Orientation", kind="long_text", choices=[])

    assert caught.value.code == "choices_not_allowed"
    assert changes["kind"] == ["Liste de choix", "Texte long"]


def test_the_custom_field_form_refuses_options_for_a_long_text(client, alice):
    log_in(client, alice.territory_admin)

    response = client.post(
        reverse("espace_custom_field_create", args=[alice.territory.pk]),
        {"label": "Observations", "kind": "long_text", "choices": "RSA\nLogement"},
    )

    assert response.status_code == 200
    page = page_text(response)
    assert "Un champ de type « Texte long » n'a pas d'options" in page
    error_zone = page.split('id="id_choices"', 1)[1][:600]
    assert "n'a pas d'options" in error_zone  # on the options field
    assert not CustomField.objects.exists()


# Numeric keyboards --------------------------------------------------------------------------------


def _input(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def test_numbers_typed_in_the_usager_form_use_a_numeric_keyboard(client, alice):
    number = factories.CustomFieldFactory(territory=alice.territory, label="Personnes au foyer", kind="number")
    log_in(client, alice.agent)

    page = page_text(client.get(reverse("usager_create", args=[alice.organisation.pk])))

    assert 'inputmode="numeric"' in _input(page, "postal_code")
    assert 'inputmode="numeric"' in _input(page, "caf_number")
    assert 'inputmode="decimal"' in _input(page, number.key)
    assert 'type="number"' in _input(page, "number_of_children")


def test_a_required_number_of_the_inline_usager_uses_a_numeric_keyboard(client, alice):
    number = factories.CustomFieldFactory(
        territory=alice.territory, label="Personnes au foyer", kind="number", required=True
    )
    log_in(client, alice.agent)

    page = page_text(client.get(reverse("rdv_create", args=[alice.organisation.pk])))

    assert 'inputmode="decimal"' in _input(page, f"new_{number.key}")
    assert 'type="number"' in _input(page, "duration_minutes")


# « Demandez-le aux opérateurs » is a link --------------------------------------------------------


def test_the_missing_service_request_is_a_link_to_the_support(client, alice):
    log_in(client, alice.territory_admin)

    page = page_text(client.get(reverse("espace_services", args=[alice.territory.pk])))

    link = re.search(r'<a href="([^"]+)">Demandez-le aux opérateurs de la plateforme</a>', page)
    assert link, "the request is a link"
    assert link.group(1).startswith("mailto:support@rdv.example.fr?subject=Service%20manquant")


def test_the_support_link_is_a_setting(client, alice, settings):
    settings.SUPPORT_URL = "https://aide.exemple.fr/contact"
    log_in(client, alice.territory_admin)

    page = page_text(client.get(reverse("espace_services", args=[alice.territory.pk])))

    assert '<a href="https://aide.exemple.fr/contact">Demandez-le aux opérateurs de la plateforme</a>' in page
