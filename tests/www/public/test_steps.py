"""One step indicator for the whole public journey (rdv.www.public.steps): the search pages and the
booking pages count the same steps, from « Où ? » to « Code de confirmation », with the right
« Étape suivante »; a motif without a place counts no « Où exactement ? »; a prescripteur gives
their details before the beneficiary's."""

import html
import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from rdv.online.models import OnlineBooking
from rdv.www.public import steps
from rdv.www.public.search import MODE_KEY
from tests.online.fixtures import PERSON, last_code
from tests.www.public.search_world import NOW, at, build_journey

TUESDAY = date(2027, 3, 2)


@pytest.fixture
def journey(alice):
    with time_machine.travel(NOW, tick=False):
        yield build_journey(alice)


def stepper(response) -> tuple[str, str, str]:
    """(« Étape n sur N », the next step's title or "", the bar's data attributes) of the page."""
    assert response.status_code == 200, response.status_code
    content = html.unescape(response.content.decode())
    block = re.search(
        r'<div class="fr-stepper">(.*?)</div>\s*(?:<p class="fr-stepper__details">(.*?)</p>)?', content, re.S
    )
    assert block is not None, "no step indicator on the page"
    assert content.count('class="fr-stepper"') == 1
    state = re.search(r'<span class="fr-stepper__state">([^<]*)</span>', content).group(1).strip()
    bar = re.search(r'data-fr-current-step="(\d+)"\s+data-fr-steps="(\d+)"', content)
    details = re.search(r'<p class="fr-stepper__details">(.*?)</p>', content, re.S)
    following = " ".join(re.sub(r"<[^>]+>", " ", details.group(1)).split()) if details else ""
    return state, following, f"{bar.group(1)}/{bar.group(2)}"


def hold(client, motif, lieu, start, mode="usager"):
    response = client.post(
        reverse("public:hold"),
        {"motif": motif.pk, "lieu": lieu.pk if lieu else "", "debut": start.isoformat(), "mode": mode},
    )
    assert response.status_code == 302, response.status_code
    return response


def test_the_step_titles_are_defined_once_for_both_journeys():
    titles = [title for _, title in steps.journey()]
    assert titles == [
        "Où ?",
        "Quel rendez-vous ?",
        "Où exactement ?",
        "Quand ?",
        "Vos coordonnées",
        "Code de confirmation",
    ]
    assert [title for _, title in steps.journey(prescripteur=True, on_site=False)] == [
        "Où ?",
        "Quel rendez-vous ?",
        "Quand ?",
        "Prescripteur",
        "Bénéficiaire",
        "Code de confirmation",
    ]


def test_an_usager_counts_six_steps_from_the_search_to_the_code(client, journey):
    assert stepper(client.get(reverse("public:start"))) == (
        "Étape 1 sur 6",
        "Étape suivante : Quel rendez-vous ?",
        "1/6",
    )
    services = client.get(reverse("public:services"), {"organisation": journey.organisation.pk, "liste": "1"})
    assert stepper(services) == ("Étape 2 sur 6", "Étape suivante : Où exactement ?", "2/6")
    motifs = client.get(
        reverse("public:motifs"), {"organisation": journey.organisation.pk, "service": journey.motif.service_id}
    )
    assert stepper(motifs) == ("Étape 2 sur 6", "Étape suivante : Où exactement ?", "2/6")
    lieux = client.get(reverse("public:lieux"), {"motif": journey.motif.pk})
    assert stepper(lieux) == ("Étape 3 sur 6", "Étape suivante : Quand ?", "3/6")
    week = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    assert stepper(week) == ("Étape 4 sur 6", "Étape suivante : Vos coordonnées", "4/6")

    details_url = hold(client, journey.motif, journey.lieu, at(TUESDAY, 10)).url
    assert stepper(client.get(details_url)) == ("Étape 5 sur 6", "Étape suivante : Code de confirmation", "5/6")
    verify_url = client.post(details_url, PERSON).url
    assert stepper(client.get(verify_url)) == ("Étape 6 sur 6", "", "6/6")  # the last step: no next one
    confirmation = client.get(client.post(verify_url, {"code": last_code(PERSON["email"])}).url)
    assert "Rendez-vous confirmé" in confirmation.content.decode()
    assert "fr-stepper" not in confirmation.content.decode()  # the result of the journey, not a step
    assert "sur 3" not in confirmation.content.decode()


def test_the_instructions_before_are_part_of_the_choice_of_the_rdv(client, journey):
    response = client.get(reverse("public:instructions"), {"motif": journey.instructions_motif.pk})
    assert stepper(response) == ("Étape 2 sur 6", "Étape suivante : Où exactement ?", "2/6")


def test_a_motif_without_a_place_counts_no_lieu_step_once_chosen(client, journey):
    week = client.get(reverse("public:week"), {"motif": journey.phone_motif.pk})
    assert stepper(week) == ("Étape 3 sur 5", "Étape suivante : Vos coordonnées", "3/5")
    details_url = hold(client, journey.phone_motif, None, at(TUESDAY, 10)).url
    assert stepper(client.get(details_url)) == ("Étape 4 sur 5", "Étape suivante : Code de confirmation", "4/5")
    verify_url = client.post(details_url, PERSON).url
    assert stepper(client.get(verify_url)) == ("Étape 5 sur 5", "", "5/5")


def test_a_prescripteur_counts_their_own_step_before_the_beneficiary(client, journey):
    client.get(reverse("public:prescripteur"))
    assert client.session[MODE_KEY] == "prescripteur"
    assert stepper(client.get(reverse("public:start"))) == (
        "Étape 1 sur 7",
        "Étape suivante : Quel rendez-vous ?",
        "1/7",
    )
    week = client.get(reverse("public:week"), {"motif": journey.prescripteur_motif.pk, "lieu": journey.lieu.pk})
    assert stepper(week) == ("Étape 4 sur 7", "Étape suivante : Prescripteur", "4/7")

    prescripteur_url = hold(client, journey.prescripteur_motif, journey.lieu, at(TUESDAY, 10), mode="").url
    booking = OnlineBooking.objects.get()
    assert prescripteur_url == reverse("public:booking_prescripteur", args=[booking.public_id])
    assert stepper(client.get(prescripteur_url)) == ("Étape 5 sur 7", "Étape suivante : Bénéficiaire", "5/7")
    details_url = client.post(
        prescripteur_url, {"name": "Sam Social", "structure": "CCAS de Valence", "email": "sam@ccas.fr"}
    ).url
    assert stepper(client.get(details_url)) == ("Étape 6 sur 7", "Étape suivante : Code de confirmation", "6/7")
    verify_url = client.post(details_url, {**PERSON, "email": ""}).url
    assert stepper(client.get(verify_url)) == ("Étape 7 sur 7", "", "7/7")
