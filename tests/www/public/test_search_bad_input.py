"""Bad or stale query parameters of the public search pages: a clear French page (400/404 with the
public base template) or a redirect to the right step with a message; never a 500."""

from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from rdv.agendas.models import Lieu
from tests.www.public.search_world import NOW, build_journey
from tests.www.public.test_search import query_of, text


@pytest.fixture
def journey(alice, bob):
    with time_machine.travel(NOW, tick=False):
        yield build_journey(alice, bob)


def assert_public_error(response, status: int, words: str):
    assert response.status_code == status
    content = response.content.decode()
    assert words in text(response)
    assert "Prendre rendez-vous avec un service public" in content  # the public base template
    assert "Connexion agent" not in content


def followed_message(client, response) -> str:
    """The message shown after a redirect (Django's messages, on the next page)."""
    assert response.status_code == 302, response.status_code
    page = client.get(response["Location"], follow=True)
    return text(page)


GARBAGE = ["abc", "-1", "1.5", "1e3", "１２", "99999999999999999999999", "1 OR 1=1", "0x10"]


@pytest.mark.parametrize("value", GARBAGE)
@pytest.mark.parametrize(
    "name,param", [("start", "espace"), ("services", "organisation"), ("week", "motif"), ("lieux", "motif")]
)
def test_garbage_ids_give_a_french_400_page(client, journey, name, param, value):
    response = client.get(reverse(f"public:{name}"), {param: value})
    assert_public_error(response, 400, "Lien incorrect")


def test_a_garbage_lieu_or_service_gives_a_french_400_page(client, journey):
    week = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": "x"})
    assert_public_error(week, 400, "Lien incorrect")
    motifs = client.get(reverse("public:motifs"), {"organisation": journey.organisation.pk, "service": "1;2"})
    assert_public_error(motifs, 400, "Lien incorrect")


@pytest.mark.parametrize(
    "name,param",
    [
        ("start", "espace"),
        ("services", "organisation"),
        ("week", "motif"),
        ("lieux", "motif"),
        ("instructions", "motif"),
    ],
)
def test_unknown_ids_give_a_french_404_page(client, journey, name, param):
    response = client.get(reverse(f"public:{name}"), {param: 987654})
    assert_public_error(response, 404, "n'existe pas ou n'est pas proposé en ligne")


@pytest.mark.parametrize("name", ["short_espace", "short_organisation", "short_lieu", "short_motif"])
def test_unknown_or_huge_ids_in_short_links_give_a_french_404_page(client, journey, name):
    assert_public_error(client.get(reverse(f"public:{name}", args=[987654])), 404, "n'existe pas")
    assert_public_error(client.get(f"{reverse(f'public:{name}', args=[1])[:-2]}{'9' * 30}/"), 404, "n'existe pas")


def test_an_unknown_lieu_gives_a_french_404_page(client, journey):
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": 987654})
    assert_public_error(response, 404, "Ce lieu n'existe pas")


def test_an_archived_or_closed_lieu_link_gives_a_french_404_page(client, journey):
    journey.lieu_b.archived_at = timezone.now()
    journey.lieu_b.save()
    assert_public_error(client.get(reverse("public:short_lieu", args=[journey.lieu_b.pk])), 404, "Ce lieu")
    response = client.get(
        reverse("public:services"), {"organisation": journey.organisation.pk, "lieu": journey.lieu_b.pk}
    )
    assert "Ce lieu ne propose pas ce rendez-vous en ligne" in followed_message(client, response)


@pytest.mark.parametrize(
    "attribute", ["closed_motif", "agents_motif", "prescripteur_motif", "archived", "of_other_kind"]
)
def test_a_motif_not_open_online_redirects_to_the_services_with_a_message(client, journey, attribute):
    motif = journey.motif
    if attribute == "archived":
        motif.archived_at = timezone.now()
        motif.save()
    elif attribute == "of_other_kind":
        motif.bookable_online = False  # open to prescripteurs (everyone) but closed to usagers
        motif.save()
    else:
        motif = getattr(journey, attribute)
    for name in ("week", "lieux", "instructions"):
        response = client.get(reverse(f"public:{name}"), {"motif": motif.pk, "lieu": journey.lieu.pk, "lu": "1"})
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("public:services")
        assert query_of(response["Location"]) == {"organisation": str(motif.organisation_id)}
    response = client.get(reverse("public:short_motif", args=[motif.pk]))
    assert "Ce motif n'est pas ou plus proposé en ligne" in followed_message(client, response)


def test_a_lieu_of_another_organisation_redirects_with_a_message(client, journey):
    other_lieu = Lieu.objects.create(organisation=journey.other_organisation, name="Ailleurs", address="2 rue")
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": other_lieu.pk})
    assert "Ce lieu ne dépend pas de cette organisation" in followed_message(client, response)
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.other_espace_lieu.pk})
    assert urlsplit(response["Location"]).path == reverse("public:services")
    response = client.get(
        reverse("public:services"), {"organisation": journey.organisation.pk, "lieu": journey.other_espace_lieu.pk}
    )
    assert response.status_code == 302


def test_a_lieu_not_offering_the_motif_redirects_to_the_lieux_of_the_motif(client, journey):
    response = client.get(reverse("public:week"), {"motif": journey.pmi_motif.pk, "lieu": journey.lieu_b.pk})
    assert urlsplit(response["Location"]).path == reverse("public:lieux")
    assert "Ce lieu ne propose pas ce rendez-vous en ligne" in followed_message(client, response)


@pytest.mark.parametrize("week", ["2027-02-22", "2020-01-06", "2027-06-07", "2199-12-30"])
def test_a_week_outside_the_online_window_redirects_to_the_first_week_with_a_message(client, journey, week):
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk, "semaine": week})
    assert response.status_code == 302
    assert "semaine" not in query_of(response["Location"])
    assert "en dehors de la période de réservation en ligne" in followed_message(client, response)


@pytest.mark.parametrize("week", ["demain", "2027-02-30", "99999-01-01", "0001-01-01", "2027-3-8"])
def test_a_malformed_week_redirects_to_the_first_week_with_a_message(client, journey, week):
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk, "semaine": week})
    assert "La date demandée n'est pas valide" in followed_message(client, response)


def test_a_week_given_by_any_of_its_days_is_read_from_its_monday(client, journey):
    response = client.get(
        reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk, "semaine": "2027-03-11"}
    )
    assert response.status_code == 200
    assert "Semaine du 8 mars au 14 mars 2027" in text(response)


def test_missing_choices_send_back_to_the_first_step(client, journey):
    for name in ("services", "motifs", "week", "lieux", "instructions"):
        response = client.get(reverse(f"public:{name}"))
        assert response.status_code == 302
        assert response["Location"] == reverse("public:start")
    response = client.get(reverse("public:motifs"), {"organisation": journey.organisation.pk})
    assert urlsplit(response["Location"]).path == reverse("public:services")


def test_a_service_without_offered_motif_redirects_to_the_services_with_a_message(client, journey, bob):
    response = client.get(
        reverse("public:motifs"), {"organisation": journey.organisation.pk, "service": bob.inactive_service.pk}
    )
    assert "Ce service ne propose pas de rendez-vous en ligne pour le moment" in followed_message(client, response)
