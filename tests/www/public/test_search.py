"""The public search journey (issue 18, steps 1–4): where, service, motif (instructions before), lieu,
a week of free times posted to the hold page; short links; the prescripteur mode."""

import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse

from rdv.agendas.models import PlageException, PlageOuverture
from rdv.territories.models import SectorCode, Territory
from rdv.www.public.search import MODE_KEY
from tests import factories
from tests.www.public.search_world import INSTRUCTIONS, NOW, build_journey, weekly_plage


@pytest.fixture
def journey(alice):
    with time_machine.travel(NOW, tick=False):
        yield build_journey(alice)


def text(response) -> str:
    """The visible text of the page's main content, whitespace collapsed."""
    content = response.content.decode()
    main = content[content.index("<main") : content.index("</main>")]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def hidden_fields(content: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', content):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def path_of(location: str) -> str:
    return urlsplit(location).path


# Step 1: where -----------------------------------------------------------------------------------


def test_the_start_page_asks_for_a_postal_code_or_a_commune(client, journey):
    response = client.get(reverse("public:start"))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<label class="fr-label" for="champ-lieu">' in content
    assert "Code postal ou commune" in content
    assert 'name="q"' in content
    assert "Étape 1 sur 6" in text(response)


def test_a_postal_code_served_by_one_organisation_goes_straight_to_its_services(client, journey):
    response = client.get(reverse("public:start"), {"q": "26000"})
    assert response.status_code == 302
    assert path_of(response["Location"]) == reverse("public:services")
    assert query_of(response["Location"])["organisation"] == str(journey.organisation.pk)


def test_a_postal_code_served_by_several_organisations_lists_them(client, journey):
    factories.MotifFactory(
        organisation=journey.other_organisation, name="Accueil Nord", bookable_online=True, bookable_by="everyone"
    )
    response = client.get(reverse("public:start"), {"q": "26500"})
    assert response.status_code == 200
    page = text(response)
    assert "alice Centre" in page and "alice Nord" in page
    assert f"?organisation={journey.other_organisation.pk}" in response.content.decode()


def test_organisations_without_any_motif_open_online_are_not_offered(client, journey):
    response = client.get(reverse("public:start"), {"q": "26500", "liste": "1"})
    page = text(response)
    assert "alice Centre" in page
    assert "alice Nord" not in page  # no motif open online


def test_a_commune_name_finds_its_organisations_and_ambiguous_names_offer_communes(client, journey):
    response = client.get(reverse("public:start"), {"q": "valence"})
    assert response.status_code == 200  # two communes contain « valence »
    page = text(response)
    assert "Précisez votre commune" in page
    assert "Valence (26000)" in page and "Bourg-lès-Valence (26500)" in page
    assert "?q=26000" in response.content.decode()
    assert "alice Centre" in page


def test_an_empty_or_unknown_place_says_so_in_french(client, journey):
    response = client.get(reverse("public:start"), {"q": "   "})
    assert response.status_code == 200
    assert "Indiquez un code postal ou le nom d'une commune." in text(response)
    response = client.get(reverse("public:start"), {"q": "99999"})
    assert "Aucun service ne propose de rendez-vous en ligne pour « 99999 »" in text(response)
    response = client.get(reverse("public:start"), {"q": "x" * 101})
    assert "Saisissez au plus 100 caractères." in text(response)


def test_an_espace_link_searches_within_that_espace_only(client, journey, bob):
    SectorCode.objects.create(organisation=bob.organisation, code="26000", commune="Valence")
    factories.MotifFactory(organisation=bob.organisation, bookable_online=True, bookable_by="everyone")
    across = client.get(reverse("public:start"), {"q": "26000"})
    assert across.status_code == 200  # alice's and bob's organisations
    assert "bob Centre" in text(across) and "alice Centre" in text(across)
    within = client.get(reverse("public:start"), {"q": "26000", "espace": journey.territory.pk})
    assert within.status_code == 302
    assert query_of(within["Location"])["organisation"] == str(journey.organisation.pk)


def test_an_espace_without_sectorisation_offers_its_organisations_without_asking_the_place(client, journey):
    SectorCode.objects.all().delete()
    factories.MotifFactory(
        organisation=journey.other_organisation, name="Accueil Nord", bookable_online=True, bookable_by="everyone"
    )
    response = client.get(reverse("public:start"), {"espace": journey.territory.pk})
    assert response.status_code == 200
    assert 'name="q"' not in response.content.decode()
    assert "alice Centre" in text(response) and "alice Nord" in text(response)


def test_an_espace_link_with_a_single_organisation_goes_to_its_services(client, journey):
    territory = Territory.objects.create(name="Espace seul")
    organisation = factories.OrganisationFactory(territory=territory, name="Seule")
    factories.MotifFactory(organisation=organisation, bookable_online=True, bookable_by="everyone")
    response = client.get(reverse("public:short_espace", args=[territory.pk]), follow=False)
    assert response["Location"] == f"{reverse('public:start')}?espace={territory.pk}"
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert query_of(response["Location"]) == {"organisation": str(organisation.pk)}


def test_the_place_field_suggests_the_espace_communes_without_javascript(client, journey):
    response = client.get(reverse("public:start"), {"espace": journey.territory.pk})
    content = response.content.decode()
    assert 'list="communes-proposees"' in content
    assert '<option value="26500">Bourg-lès-Valence (26500)</option>' in content


# Step 2: service and motif ----------------------------------------------------------------------


def test_services_list_only_those_with_a_bookable_motif_that_has_a_free_slot(client, journey):
    response = client.get(reverse("public:services"), {"organisation": journey.organisation.pk})
    assert response.status_code == 200
    page = text(response)
    assert "Service social" in page and "PMI" in page


def test_a_single_service_is_skipped(client, journey):
    journey.pmi_motif.bookable_online = False
    journey.pmi_motif.save()
    response = client.get(reverse("public:services"), {"organisation": journey.organisation.pk})
    assert response.status_code == 302
    assert path_of(response["Location"]) == reverse("public:motifs")
    assert query_of(response["Location"])["service"] == str(journey.motif.service_id)


def test_motifs_offered_are_those_open_to_the_public_with_a_free_slot(client, journey):
    response = client.get(
        reverse("public:motifs"), {"organisation": journey.organisation.pk, "service": journey.motif.service_id}
    )
    assert response.status_code == 200
    page = text(response)
    for offered in ("Premier accueil", "Aide au dossier RSA", "Conseil téléphonique"):
        assert offered in page
    for hidden in ("Accompagnement social", "Suivi interne", "Entretien fermé", "Sans plage"):
        assert hidden not in page
    assert "Prochaine disponibilité : mardi 2 mars à 9 h 30" in page  # 9 h 00 is taken by a RDV


def test_a_motif_whose_free_slots_are_all_beyond_its_maximum_delay_is_not_offered(client, journey):
    journey.pmi_motif.max_booking_delay_minutes = 60  # the plages start tomorrow
    journey.pmi_motif.save()
    response = client.get(reverse("public:services"), {"organisation": journey.organisation.pk})
    assert response.status_code == 302  # only the social service remains
    assert query_of(response["Location"])["service"] == str(journey.motif.service_id)


def test_a_motif_with_instructions_shows_them_before_any_slot(client, journey):
    motif = journey.instructions_motif
    response = client.get(
        reverse("public:motifs"), {"organisation": motif.organisation_id, "service": motif.service_id}
    )
    link = re.search(r'href="([^"]*informations[^"]*)"', response.content.decode()).group(1)
    response = client.get(html.unescape(link))
    assert response.status_code == 200
    assert INSTRUCTIONS in response.content.decode()  # sanitised HTML, rendered as is
    assert "J'ai lu ces informations" in text(response)
    assert 'name="debut"' not in response.content.decode()


def test_instructions_must_be_acknowledged_to_continue(client, journey):
    motif = journey.instructions_motif
    url = reverse("public:instructions")
    refused = client.get(url, {"motif": motif.pk, "envoyer": "1"})
    assert refused.status_code == 400
    assert "Cochez « J'ai lu ces informations » pour continuer." in text(refused)
    accepted = client.get(url, {"motif": motif.pk, "envoyer": "1", "lu": "1", "semaine": "2027-03-01"})
    assert accepted.status_code == 302
    assert path_of(accepted["Location"]) == reverse("public:lieux")
    assert query_of(accepted["Location"]) == {"motif": str(motif.pk), "lu": "1"}


def test_the_week_of_a_motif_with_instructions_is_not_shown_before_they_are_read(client, journey):
    motif = journey.instructions_motif
    response = client.get(reverse("public:week"), {"motif": motif.pk, "lieu": journey.lieu.pk})
    assert response.status_code == 302
    assert path_of(response["Location"]) == reverse("public:instructions")
    response = client.get(reverse("public:lieux"), {"motif": motif.pk})
    assert path_of(response["Location"]) == reverse("public:instructions")
    shown = client.get(reverse("public:week"), {"motif": motif.pk, "lieu": journey.lieu.pk, "lu": "1"})
    assert shown.status_code == 200
    assert 'name="debut"' in shown.content.decode()


# Step 3: lieu ----------------------------------------------------------------------------------


def test_lieux_show_address_map_link_and_next_free_time(client, journey):
    response = client.get(reverse("public:lieux"), {"motif": journey.motif.pk})
    assert response.status_code == 200
    page = text(response)
    content = response.content.decode()
    assert "Maison des solidarités" in page and "1 place de la Mairie 26000 Valence" in page
    assert "Antenne Nord" in page and "8 rue du Nord 26000 Valence" in page
    assert "https://www.openstreetmap.org/search?query=1+place+de+la+Mairie+26000+Valence" in content
    assert "Prochaine disponibilité : mardi 2 mars à 9 h 30" in page
    assert "Prochaine disponibilité : jeudi 4 mars à 14 h 00" in page
    assert f"lieu={journey.lieu_b.pk}&amp;semaine=2027-03-01" in content


def test_a_single_lieu_is_skipped_to_the_week_of_its_next_free_time(client, journey):
    response = client.get(reverse("public:lieux"), {"motif": journey.pmi_motif.pk})
    assert response.status_code == 302
    assert path_of(response["Location"]) == reverse("public:week")
    assert query_of(response["Location"]) == {
        "motif": str(journey.pmi_motif.pk),
        "lieu": str(journey.lieu.pk),
        "semaine": "2027-03-01",
    }


def test_phone_motifs_skip_the_choice_of_a_lieu(client, journey):
    response = client.get(reverse("public:lieux"), {"motif": journey.phone_motif.pk})
    assert response.status_code == 302
    assert path_of(response["Location"]) == reverse("public:week")
    response = client.get(reverse("public:week"), {"motif": journey.phone_motif.pk})
    assert response.status_code == 200
    assert hidden_fields(response.content.decode())["lieu"] == ""


# Step 4: the week ------------------------------------------------------------------------------


def test_the_week_lists_free_times_as_buttons_posting_to_the_hold_page(client, journey):
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    assert response.status_code == 200
    content = response.content.decode()
    # The whole window goes on to the booking, even from a partner site's iframe (tests/e2e/test_public_embedding.py).
    assert f'<form method="post" action="{reverse("public:hold")}" target="_top">' in content
    fields = hidden_fields(content)
    assert fields["motif"] == str(journey.motif.pk)
    assert fields["lieu"] == str(journey.lieu.pk)
    assert fields["affiche"] == "2027-03-01T08:00:00+01:00"
    assert fields["mode"] == "usager"
    starts = re.findall(r'name="debut"\s+value="([^"]+)"', content)
    assert starts == [f"2027-03-02T{h}+01:00" for h in ("09:30:00", "10:00:00", "10:30:00", "11:00:00", "11:30:00")]
    page = text(response)
    assert "Semaine du 1er mars au 7 mars 2027" in page
    assert "mardi 2 mars à 9 h 30" in page  # the button's name for screen readers


def test_times_are_shown_once_whatever_the_number_of_free_agents(client, journey):
    other = factories.AgentFactory()
    weekly_plage(journey.organisation, other, journey.lieu, [journey.motif], weekday=1, first=date(2027, 3, 2))
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    starts = re.findall(r'name="debut"\s+value="([^"]+)"', response.content.decode())
    assert starts[0] == "2027-03-02T09:00:00+01:00"  # the other agent is free at 9:00
    assert len(starts) == len(set(starts)) == 6


def test_week_navigation_never_leaves_the_online_window(client, journey):
    url = reverse("public:week")
    first = client.get(url, {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    assert "Semaine précédente" not in text(first)
    assert "semaine=2027-03-08" in first.content.decode()
    journey.motif.max_booking_delay_minutes = 10 * 24 * 60  # up to Thursday 11 March
    journey.motif.save()
    second = client.get(url, {"motif": journey.motif.pk, "lieu": journey.lieu.pk, "semaine": "2027-03-08"})
    assert second.status_code == 200
    assert "Semaine précédente" in text(second) and "Semaine suivante" not in text(second)
    assert "Vendredi 12 mars" not in text(second)  # beyond the window: not listed


def test_an_empty_week_offers_the_next_free_time(client, journey):
    journey.motif.max_booking_delay_minutes = 200 * 24 * 60
    journey.motif.save()
    plage = PlageOuverture.objects.get(lieu=journey.lieu)
    for week in range(3):  # the weekly plage: three Tuesdays cancelled
        PlageException.objects.create(plage=plage, date=date(2027, 3, 9) + timedelta(weeks=week), cancelled=True)
    response = client.get(
        reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk, "semaine": "2027-03-08"}
    )
    assert response.status_code == 200
    page = text(response)
    assert "Aucun créneau cette semaine." in page
    assert "Prochaine disponibilité le mardi 30 mars à 9 h 00" in page
    assert "semaine=2027-03-29" in response.content.decode()


def test_without_a_week_asked_the_first_week_with_free_times_is_shown(client, journey):
    plage = PlageOuverture.objects.get(lieu=journey.lieu)
    PlageException.objects.create(plage=plage, date=date(2027, 3, 2), cancelled=True)
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    assert response.status_code == 200
    assert "Semaine du 8 mars au 14 mars 2027" in text(response)
    starts = re.findall(r'name="debut"\s+value="([^"]+)"', response.content.decode())
    assert starts[0] == "2027-03-09T09:00:00+01:00"
    assert "Semaine précédente" in text(response)  # the current week stays reachable


def test_an_empty_week_without_any_later_slot_says_so(client, journey):
    journey.motif.max_booking_delay_minutes = 10 * 24 * 60
    journey.motif.save()
    response = client.get(
        reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu_b.pk, "semaine": "2027-03-08"}
    )
    page = text(response)
    assert "Aucun créneau cette semaine." in page  # Thursday 11 is in the window, its 14 h 00 is not
    assert "Prochaine disponibilité" not in page


def test_the_week_is_shown_in_the_time_of_an_overseas_espace(client, journey):
    territory = journey.territory
    territory.time_zone = "Indian/Reunion"  # UTC+4
    territory.save()
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    content = response.content.decode()
    starts = re.findall(r'name="debut"\s+value="([^"]+)"', content)
    assert starts[0] == "2027-03-02T09:00:00+04:00"  # plages are in the espace's wall-clock time
    assert "heure de La Réunion" in text(response)
    assert hidden_fields(content)["affiche"] == "2027-03-01T11:00:00+04:00"


# Short links -----------------------------------------------------------------------------------


def test_short_links_lead_to_the_right_step(client, journey):
    org = client.get(reverse("public:short_organisation", args=[journey.organisation.pk]))
    assert org["Location"] == f"{reverse('public:services')}?organisation={journey.organisation.pk}"
    lieu = client.get(reverse("public:short_lieu", args=[journey.lieu_b.pk]))
    assert query_of(lieu["Location"]) == {"organisation": str(journey.organisation.pk), "lieu": str(journey.lieu_b.pk)}
    motif = client.get(reverse("public:short_motif", args=[journey.motif.pk]))
    assert motif["Location"] == f"{reverse('public:lieux')}?motif={journey.motif.pk}"
    with_instructions = client.get(reverse("public:short_motif", args=[journey.instructions_motif.pk]))
    assert path_of(with_instructions["Location"]) == reverse("public:instructions")
    phone = client.get(reverse("public:short_motif", args=[journey.phone_motif.pk]))
    assert phone["Location"] == f"{reverse('public:week')}?motif={journey.phone_motif.pk}"
    assert reverse("public:short_motif", args=[7]) == "/prendre-rdv/m/7/"


def test_a_lieu_link_offers_only_what_that_lieu_offers(client, journey):
    response = client.get(
        reverse("public:services"), {"organisation": journey.organisation.pk, "lieu": journey.lieu_b.pk}
    )
    assert response.status_code == 302  # Antenne Nord: only « Premier accueil » (social service)
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert query_of(response["Location"]) == {
        "motif": str(journey.motif.pk),
        "lieu": str(journey.lieu_b.pk),
        "semaine": "2027-03-01",
    }
    week = client.get(response["Location"])
    starts = re.findall(r'name="debut"\s+value="([^"]+)"', week.content.decode())
    assert starts[0] == "2027-03-04T14:00:00+01:00"


# Prescripteurs ---------------------------------------------------------------------------------


def test_the_prescripteur_entry_keeps_the_mode_and_offers_the_motifs_open_to_prescripteurs(client, journey):
    response = client.get(reverse("public:prescripteur"))
    assert response["Location"] == reverse("public:start")
    assert client.session[MODE_KEY] == "prescripteur"
    start = client.get(reverse("public:start"))
    assert "Vous prenez rendez-vous pour une autre personne, en tant que professionnel" in start.content.decode()
    motifs = client.get(
        reverse("public:motifs"), {"organisation": journey.organisation.pk, "service": journey.motif.service_id}
    )
    page = text(motifs)
    assert "Accompagnement social" in page  # agents and prescripteurs
    assert "Premier accueil" in page  # everyone
    assert "Suivi interne" not in page
    week = client.get(reverse("public:week"), {"motif": journey.prescripteur_motif.pk, "lieu": journey.lieu.pk})
    assert week.status_code == 200
    assert hidden_fields(week.content.decode())["mode"] == "prescripteur"
    assert "en tant que professionnel" in week.content.decode()


def test_an_usager_cannot_reach_a_motif_open_only_to_prescripteurs(client, journey):
    response = client.get(reverse("public:week"), {"motif": journey.prescripteur_motif.pk, "lieu": journey.lieu.pk})
    assert response.status_code == 302
    assert path_of(response["Location"]) == reverse("public:services")


def test_a_prescripteur_can_go_back_to_booking_for_themselves(client, journey):
    client.get(reverse("public:prescripteur"))
    client.get(reverse("public:start"), {"mode": "usager"})
    assert MODE_KEY not in client.session
    week = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    assert hidden_fields(week.content.decode())["mode"] == "usager"


# The home page ---------------------------------------------------------------------------------


def test_the_home_page_invites_the_public_to_book(client, db):
    response = client.get(reverse("home"))
    content = response.content.decode()
    assert f'href="{reverse("public:start")}"' in content
    assert "Prendre rendez-vous" in content


def test_the_week_days_built_in_python_equal_the_template_loops_they_replace():
    """rdv.www.public.search.days_html writes what the week page's loops wrote (the reference kept
    beside this test), up to the whitespace between tags, with every text escaped."""
    import re
    from pathlib import Path

    from django.template import Context, Template

    from rdv.www.public.search import days_html

    def normalised(html: str) -> str:
        return re.sub(r"\s*([<>])\s*", r"\1", re.sub(r"\s+", " ", html)).strip()

    reference = Template((Path(__file__).parent / "reference_week_days.html").read_text())
    days = [
        {
            "label": "mardi 9 mars",
            "times": [{"iso": "2027-03-09T09:00:00+01:00", "label": "9 h 00"}, {"iso": "x", "label": "9 h 30"}],
        },
        {"label": "mercredi 10 mars", "times": []},
        {"label": '<jeudi> & « 11 » "mars"', "times": [{"iso": '"><script>', "label": "<b>10 h</b>"}]},
    ]
    for shown in (days, days[:1], days[1:2], []):
        expected = reference.render(Context({"days": shown}))
        built = str(days_html(shown))
        assert normalised(built) == normalised(expected)
    built = str(days_html(days))
    assert "&lt;jeudi&gt; &amp; « 11 » &quot;mars&quot;" in built and "&quot;&gt;&lt;script&gt;" in built
    assert built.count("<button") == 3 and "Pas d'horaire libre ce jour-là." in built
