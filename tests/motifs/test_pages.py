"""The motif pages: espace list and creation, the three tabs, duplicate, archive, restore."""

import html
import re

import pytest
from django.urls import reverse

from rdv.core.models import AuditLog
from rdv.motifs import services
from rdv.motifs.models import LocationType, Motif
from tests import factories
from tests.helpers import as_agent
from tests.motifs.conftest import as_post, configuration, log_in, online

pytestmark = pytest.mark.django_db


def espace_url(world, name, *args):
    return reverse(name, args=[world.territory.pk, *args])


def text(response) -> str:
    return response.content.decode()


def create_post(world, organisations, **overrides) -> dict:
    return as_post({**configuration(world, **overrides), "organisations": organisations})


# Creation at espace level ------------------------------------------------------------------------------


def test_espace_admin_creates_the_motif_in_two_organisations(client, alice):
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_create"),
        create_post(alice, [alice.organisation, alice.other_organisation], name="Entretien budget"),
        follow=True,
    )

    motifs = Motif.objects.filter(name="Entretien budget")
    assert motifs.count() == 2
    assert set(motifs.values_list("organisation__name", flat=True)) == {"alice Centre", "alice Nord"}
    assert len(set(motifs.values_list("creation_batch", flat=True))) == 1
    first = motifs.get(organisation=alice.organisation)
    assert response.redirect_chain[-1][0] == espace_url(alice, "espace_motif", first.pk)
    page = text(response)
    assert "créé dans 2 organisations : alice Centre, alice Nord" in page
    assert "Créé en même temps que" in page and "alice Nord — Entretien budget" in page


def test_the_create_form_offers_the_espace_organisations_and_active_services_only(client, alice, bob):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motif_create")))

    assert "alice Centre" in page and "alice Nord" in page and "bob Centre" not in page
    assert "Service social" in page and "Insertion" not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Le nom du motif est obligatoire."),
        ({"color": "bleu"}, "La couleur doit être un code hexadécimal"),
        ({"default_duration_minutes": "abc"}, "La durée par défaut doit être un nombre entier de minutes."),
        ({"default_duration_minutes": "0"}, "supérieur à zéro"),
        ({"default_duration_minutes": "-30"}, "supérieur à zéro"),
        ({"default_duration_minutes": "1500"}, "ne peut pas dépasser une journée"),
        ({"location_type": "moon"}, "Choisissez un type de rendez-vous dans la liste."),
        ({"service": None}, "Choisissez le service du motif."),
        ({"service": "999999"}, "Ce service n&#x27;est pas proposé dans cet espace."),
        ({"collective": True, "location_type": "home"}, "Un motif collectif se déroule forcément sur place"),
        ({"collective": True}, "Indiquez le nombre maximum de participants"),
        ({"collective": True, "max_participants": "beaucoup"}, "doit être un nombre entier"),
        ({"bookable_by": "robots"}, "Choisissez qui peut réserver ce motif dans la liste."),
    ],
)
def test_bad_input_in_the_create_form_gets_a_french_message_and_saves_nothing(client, alice, overrides, message):
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_create"), create_post(alice, [alice.organisation], **overrides)
    )

    assert response.status_code == 200
    assert message in text(response)
    assert not Motif.objects.exists()


def test_the_create_form_needs_an_organisation(client, alice):
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_create"), create_post(alice, []))

    assert "Choisissez au moins une organisation." in text(response)
    assert not Motif.objects.exists()


def test_the_create_form_refuses_an_inactive_service(client, alice):
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_create"),
        create_post(alice, [alice.organisation], service=alice.inactive_service),
    )

    assert response.status_code == 200
    assert not Motif.objects.exists()


def test_the_create_form_refuses_an_organisation_of_another_espace(client, alice, bob):
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_create"), create_post(alice, [alice.organisation, bob.organisation])
    )

    assert "Cette organisation ne fait pas partie de l&#x27;espace." in text(response)
    assert not Motif.objects.exists()


def test_a_name_clash_in_one_organisation_creates_the_motif_nowhere(client, alice):
    factories.MotifFactory(organisation=alice.other_organisation, service=alice.service, name="Premier accueil")
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_create"),
        create_post(alice, [alice.organisation, alice.other_organisation], name="PREMIER ACCUEIL"),
    )

    page = text(response)
    assert "Le motif « Premier accueil » (sur place, service Service social) existe déjà" in page
    assert "alice Nord" in page
    assert Motif.objects.count() == 1


# The three tabs ----------------------------------------------------------------------------------------


def test_the_motif_page_shows_the_three_tabs(client, alice, motif):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motif", motif.pk)))

    assert page.count('role="tab"') == 3
    for label in ("Configuration", "Réservation en ligne", "Notifications et instructions"):
        assert f">{label}</button>" in page
    for name in ("espace_motif_configuration", "espace_motif_online_booking", "espace_motif_instructions"):
        assert f'action="{espace_url(alice, name, motif.pk)}"' in page
    assert len(re.findall(r'\bid="([^"]+)"', page)) == len(set(re.findall(r'\bid="([^"]+)"', page)))


def test_the_configuration_tab_saves_only_its_part(client, alice, motif):
    services.update_motif_online_booking(as_agent(alice.territory_admin, motif), motif, {"bookable_online": True})
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_configuration", motif.pk),
        as_post(configuration(alice, name="Accueil social", default_duration_minutes=45)),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == espace_url(alice, "espace_motif", motif.pk) + "?onglet=configuration"
    assert "Onglet « Configuration » enregistré." in text(response)
    motif.refresh_from_db()
    assert motif.name == "Accueil social" and motif.default_duration_minutes == 45
    assert motif.bookable_online is True


def test_after_saving_a_tab_the_same_tab_is_selected(client, alice, motif):
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_online_booking", motif.pk), online(), follow=True)

    page = text(response)
    selected = re.search(r'id="onglet-(\w+)"[^>]*aria-selected="true"', page, re.S)
    assert selected.group(1) == "reservation"
    assert 'id="onglet-reservation-panneau"\n           class="fr-tabs__panel fr-tabs__panel--selected"' in page


def test_the_online_tab_converts_delays_with_units_to_minutes(client, alice, motif):
    log_in(client, alice.territory_admin)

    client.post(
        espace_url(alice, "espace_motif_online_booking", motif.pk),
        online(min_delay_value=2, min_delay_unit="hours", max_delay_value=6, max_delay_unit="weeks"),
    )

    motif.refresh_from_db()
    assert motif.bookable_online
    assert motif.min_booking_delay_minutes == 120 and motif.max_booking_delay_minutes == 6 * 7 * 24 * 60
    page = text(client.get(espace_url(alice, "espace_motif", motif.pk) + "?onglet=reservation"))
    assert 'name="max_delay_value" value="6"' in page
    assert '<option value="weeks" selected>semaines</option>' in page


def test_the_online_tab_shows_the_default_delays(client, alice, motif):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motif", motif.pk)))

    assert 'name="min_delay_value" value="30"' in page and '<option value="minutes" selected>' in page
    assert 'name="max_delay_value" value="3"' in page and '<option value="months" selected>' in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_delay_value": "10", "min_delay_unit": "minutes"}, "doit être d&#x27;au moins 30 minutes"),
        ({"max_delay_value": "1", "max_delay_unit": "hours", "min_delay_value": "2"}, "supérieur au délai minimum"),
        ({"max_delay_value": "13", "max_delay_unit": "months"}, "ne peut pas dépasser un an"),
        ({"min_delay_value": "deux"}, "Le délai minimum doit être un nombre entier."),
        ({"min_delay_value": None}, "Indiquez le délai minimum de réservation."),
        ({"max_delay_unit": "lunes"}, "Choisissez une unité dans la liste."),
        ({"visibility": "partout"}, "Choisissez la visibilité pour l&#x27;usager dans la liste."),
    ],
)
def test_bad_delays_get_a_french_message_and_change_nothing(client, alice, motif, overrides, message):
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_online_booking", motif.pk), online(**overrides))

    assert response.status_code == 200
    assert message in text(response)
    motif.refresh_from_db()
    assert motif.bookable_online is False and motif.min_booking_delay_minutes == 30
    assert not AuditLog.objects.filter(action="motif.online_booking_updated").exists()


def test_opening_a_motif_reserved_to_agents_explains_what_to_change(client, alice):
    motif = services.create_motif(
        as_agent(alice.territory_admin, alice.organisation), configuration(alice, bookable_by="agents")
    )
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_online_booking", motif.pk), online())

    assert "Ce motif ne peut pas être ouvert aux usagers : « Qui peut réserver » vaut « Agents de" in text(response)
    motif.refresh_from_db()
    assert not motif.bookable_online


def test_the_online_badge_shows_in_lists_and_on_the_motif(client, alice, motif):
    log_in(client, alice.territory_admin)
    assert "En ligne</p>" not in text(client.get(espace_url(alice, "espace_motifs")))

    client.post(espace_url(alice, "espace_motif_online_booking", motif.pk), online())

    assert "En ligne</p>" in text(client.get(espace_url(alice, "espace_motifs")))
    assert "En ligne</p>" in text(client.get(espace_url(alice, "espace_motif", motif.pk)))
    assert "En ligne</p>" in text(client.get(reverse("organisation_motifs", args=[alice.organisation.pk])))


def test_a_tab_can_be_applied_to_the_motifs_created_together(client, alice, batch):
    first = batch[0]
    log_in(client, alice.territory_admin)
    page = text(client.get(espace_url(alice, "espace_motif", first.pk)))
    assert "Appliquer aussi aux motifs créés ensemble" in page and "alice Nord (Entretien budget)" in page

    client.post(espace_url(alice, "espace_motif_online_booking", first.pk), online(apply_to_batch="on"))

    assert Motif.objects.online().count() == 2


def test_without_the_batch_option_only_the_motif_changes(client, alice, batch):
    first = batch[0]
    log_in(client, alice.territory_admin)

    client.post(espace_url(alice, "espace_motif_online_booking", first.pk), online())

    assert list(Motif.objects.online()) == [first]


def test_the_instructions_tab_saves_and_previews_the_texts(client, alice, motif):
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_instructions", motif.pk),
        {
            "instructions_before": "Munissez-vous de votre livret de famille.\nMerci.",
            "instructions_after": 'Plan d\'accès : <a href="https://exemple.fr/plan">voir le plan</a>',
            "cancellation_warning": "",
        },
        follow=True,
    )

    page = text(response)
    assert "Onglet « Notifications et instructions » enregistré." in page
    assert "Munissez-vous de votre livret de famille.<br>Merci." in page
    assert '<a href="https://exemple.fr/plan" rel="noopener noreferrer">voir le plan</a>' in page
    # The textarea shows the text as typed, escaped.
    assert "Munissez-vous de votre livret de famille.\nMerci.</textarea>" in page


def test_too_long_instructions_are_refused_in_french(client, alice, motif):
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_instructions", motif.pk), {"instructions_after": "a" * 5001})

    assert "Ce texte ne doit pas dépasser 5000 caractères." in text(response)
    motif.refresh_from_db()
    assert motif.instructions_after == ""


SCRIPT = "<script>alert(1)</script>"
JS_LINK = '<a href="javascript:alert(2)">clic</a>'


def test_scripts_in_instructions_never_reach_a_page(client, alice, batch):
    first, second = batch
    log_in(client, alice.territory_admin)

    client.post(
        espace_url(alice, "espace_motif_instructions", first.pk),
        {
            "instructions_before": f"Avant {SCRIPT}",
            "instructions_after": f"Après {JS_LINK}",
            "cancellation_warning": f'<img src=x onerror="alert(3)">{SCRIPT}',
            "apply_to_batch": "on",
        },
    )
    # A failed save echoes the typed text back in the textarea: escaped.
    failed = text(
        client.post(
            espace_url(alice, "espace_motif_instructions", first.pk),
            {"instructions_before": SCRIPT, "instructions_after": "a" * 5001},
        )
    )
    copy = services.duplicate_motif(as_agent(alice.territory_admin, first), first)

    pages = [failed]
    for url in [
        espace_url(alice, "espace_motifs"),
        espace_url(alice, "espace_motifs") + "?archived=tous",
        espace_url(alice, "espace_motif", first.pk),
        espace_url(alice, "espace_motif", first.pk) + "?onglet=instructions",
        espace_url(alice, "espace_motif", second.pk),
        espace_url(alice, "espace_motif", copy.pk),
        espace_url(alice, "espace_journal"),
        reverse("organisation_motifs", args=[alice.organisation.pk]),
        reverse("organisation_motif", args=[alice.organisation.pk, first.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(text(response))
    for page in pages:
        assert "<script>alert" not in page
        assert "javascript:" not in page
        assert "onerror" not in page
    assert "Avant" in pages[4] and ">clic</a>" in pages[4]


# Lock on type and collective ---------------------------------------------------------------------------


def test_once_rdvs_exist_the_form_explains_why_the_type_is_locked(client, alice, motif, monkeypatch):
    monkeypatch.setattr(services, "motif_has_rdvs", lambda m: True)
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motif", motif.pk)))

    assert "son type et son caractère collectif ne peuvent plus changer" in page
    assert re.search(r'<select name="location_type"[^>]*disabled', page)


def test_once_rdvs_exist_a_posted_type_change_is_ignored(client, alice, motif, monkeypatch):
    monkeypatch.setattr(services, "motif_has_rdvs", lambda m: True)
    log_in(client, alice.territory_admin)

    client.post(
        espace_url(alice, "espace_motif_configuration", motif.pk),
        as_post(configuration(alice, location_type=LocationType.PHONE, default_duration_minutes=40)),
    )

    motif.refresh_from_db()
    assert motif.location_type == LocationType.PUBLIC_OFFICE and motif.default_duration_minutes == 40


# Duplicate, archive, restore ---------------------------------------------------------------------------


def test_duplicating_opens_the_copy_with_the_type_field_focused(client, alice, motif):
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_duplicate", motif.pk), follow=True)

    copy = Motif.objects.get(name="Premier accueil (copie)")
    assert (
        response.redirect_chain[-1][0] == espace_url(alice, "espace_motif", copy.pk) + "?onglet=configuration&copie=1"
    )
    page = text(response)
    assert "Copie créée : « Premier accueil (copie) »" in page
    assert re.search(r'<select name="location_type"[^>]*autofocus', page)


def test_duplicating_as_phone_then_renaming_gives_two_modalities(client, alice, motif):
    log_in(client, alice.territory_admin)
    client.post(espace_url(alice, "espace_motif_duplicate", motif.pk))
    copy = Motif.objects.get(name="Premier accueil (copie)")

    client.post(
        espace_url(alice, "espace_motif_configuration", copy.pk),
        as_post(configuration(alice, location_type=LocationType.PHONE)),
    )

    assert set(Motif.objects.values_list("name", "location_type")) == {
        ("Premier accueil", "public_office"),
        ("Premier accueil", "phone"),
    }


def test_archiving_hides_the_motif_from_the_default_list(client, alice, motif):
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_archive", motif.pk), follow=True)

    assert "Le motif « Premier accueil » est archivé" in text(response)
    assert response.redirect_chain[-1][0] == espace_url(alice, "espace_motifs")
    assert "Aucun motif pour le moment." in text(response)
    archived = text(client.get(espace_url(alice, "espace_motifs") + "?archived=archives"))
    assert "Premier accueil" in archived and "Archivé</p>" in archived


def test_an_archived_motif_page_offers_restore_and_no_save(client, alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motif", motif.pk)))
    assert "Restaurez-le pour le modifier" in page
    assert "Enregistrer<span" not in page

    response = client.post(espace_url(alice, "espace_motif_restore", motif.pk), follow=True)
    assert "Le motif « Premier accueil » est restauré." in text(response)
    motif.refresh_from_db()
    assert not motif.is_archived


def test_restoring_onto_a_reused_name_explains_the_clash(client, alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)
    services.create_motif(as_agent(alice.territory_admin, alice.organisation), configuration(alice))
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_restore", motif.pk), follow=True)

    assert "Impossible de restaurer ce motif" in text(response)
    motif.refresh_from_db()
    assert motif.is_archived


def test_editing_an_archived_motif_is_refused(client, alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_configuration", motif.pk), as_post(configuration(alice, name="Autre"))
    )

    assert "restaurez-le avant de le modifier" in text(response)
    motif.refresh_from_db()
    assert motif.name == "Premier accueil"


# Lists --------------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(alice):
    pmi = factories.ServiceFactory(name="PMI (Protection Maternelle et Infantile)")
    factories.TerritoryServiceFactory(territory=alice.territory, service=pmi)
    admin = alice.territory_admin
    both = [alice.organisation, alice.other_organisation]
    services.create_territory_motifs(as_agent(admin, alice.territory), both, configuration(alice, name="Budget"))
    services.create_territory_motifs(
        as_agent(admin, alice.territory),
        both,
        configuration(alice, name="Consultation", service=pmi, location_type="phone"),
    )
    online_motif = services.create_motif(as_agent(admin, alice.organisation), configuration(alice, name="Permanence"))
    services.update_motif_online_booking(as_agent(admin, online_motif), online_motif, {"bookable_online": True})
    archived = services.create_motif(as_agent(admin, alice.other_organisation), configuration(alice, name="Ancien"))
    services.archive_motif(as_agent(admin, archived), archived)
    return pmi


def test_the_list_groups_motifs_by_organisation_then_service(client, alice, catalogue):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motifs")))

    centre, nord = (
        page.index('<h2 class="fr-mt-4w">alice Centre</h2>'),
        page.index('<h2 class="fr-mt-4w">alice Nord</h2>'),
    )
    assert centre < nord
    centre_part = page[centre:nord]
    assert centre_part.index("PMI (Protection") < centre_part.index("Service social")
    assert "Budget" in centre_part and "Permanence" in centre_part and "Consultation" in centre_part
    assert "Ancien" not in page
    assert "5 motifs" in page


def test_the_list_says_which_motifs_were_created_together(client, alice, catalogue):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motifs") + f"?organisation={alice.organisation.pk}"))

    # Budget and Consultation were created for both organisations, Permanence for one.
    assert page.count("alice Nord\n") == 2
    assert "3 motifs" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("location_type=phone", {"Consultation"}),
        ("online=oui", {"Permanence"}),
        ("online=non", {"Budget", "Consultation"}),
        ("archived=archives", {"Ancien"}),
        ("archived=tous", {"Budget", "Consultation", "Permanence", "Ancien"}),
    ],
)
def test_the_list_filters(client, alice, catalogue, query, expected):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motifs") + "?" + query))

    for name in {"Budget", "Consultation", "Permanence", "Ancien"}:
        assert (f"{name}\n" in page) == (name in expected), name


def test_the_list_filters_by_service(client, alice, catalogue):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_motifs") + f"?service={catalogue.pk}"))

    assert "Consultation\n" in page and "Budget\n" not in page


def test_an_unknown_filter_value_is_ignored_not_an_error(client, alice, catalogue):
    log_in(client, alice.territory_admin)

    response = client.get(espace_url(alice, "espace_motifs") + "?service=abc&location_type=moon&online=peut-etre")

    assert response.status_code == 200


def test_the_list_costs_the_same_queries_for_many_motifs(client, alice, django_assert_max_num_queries):
    log_in(client, alice.territory_admin)
    url = espace_url(alice, "espace_motifs")
    services.create_motif(as_agent(alice.territory_admin, alice.organisation), configuration(alice, name="Seul"))
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for index in range(30):
        services.create_territory_motifs(
            as_agent(alice.territory_admin, alice.territory),
            [alice.organisation, alice.other_organisation],
            configuration(alice, name=f"Motif {index}"),
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert "61 motifs" in text(response)


def test_the_organisation_list_shows_only_its_motifs(client, alice, catalogue):
    log_in(client, alice.agent)

    page = text(client.get(reverse("organisation_motifs", args=[alice.organisation.pk])))

    assert "Motifs\n    d'alice Centre" in html.unescape(page)  # « d' » before a vowel
    assert "Permanence\n" in page and "Ancien\n" not in page
    assert page.count("Budget\n") == 1


def test_a_basic_agent_reads_the_list_without_edit_links(client, alice, motif):
    log_in(client, alice.agent)

    page = text(client.get(reverse("organisation_motifs", args=[alice.organisation.pk])))

    assert "Premier accueil" in page
    assert "Créer un motif" not in page and "Modifier" not in page


def test_organisation_admin_creates_and_edits_from_the_organisation_pages(client, alice):
    log_in(client, alice.organisation_admin)
    base = [alice.organisation.pk]

    response = client.post(
        reverse("organisation_motif_create", args=base), as_post(configuration(alice, name="Accueil")), follow=True
    )
    motif = Motif.objects.get(name="Accueil")
    assert motif.organisation == alice.organisation
    assert response.redirect_chain[-1][0] == reverse("organisation_motif", args=[*base, motif.pk])

    client.post(reverse("organisation_motif_online_booking", args=[*base, motif.pk]), online())
    motif.refresh_from_db()
    assert motif.bookable_online


def test_the_organisation_home_links_to_its_motifs(client, alice):
    log_in(client, alice.agent)

    page = text(client.get(reverse("organisation_home", args=[alice.organisation.pk])))

    assert reverse("organisation_motifs", args=[alice.organisation.pk]) in page


def test_the_espace_menu_links_to_the_motifs(client, alice):
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_agents")))

    assert f'href="{espace_url(alice, "espace_motifs")}"' in page


def test_a_tab_url_opened_directly_shows_that_tab(client, alice, motif):
    log_in(client, alice.territory_admin)

    response = client.get(espace_url(alice, "espace_motif_instructions", motif.pk))

    assert response.status_code == 302
    assert response.url == espace_url(alice, "espace_motif", motif.pk) + "?onglet=instructions"


def test_the_espace_journal_describes_motif_changes_in_french(client, alice, motif):
    services.update_motif_configuration(
        as_agent(alice.territory_admin, motif), motif, configuration(alice, location_type=LocationType.VISIO)
    )
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)
    log_in(client, alice.territory_admin)

    page = text(client.get(espace_url(alice, "espace_journal")))

    for label in ("Motif créé", "Motif modifié (configuration)", "Motif archivé"):
        assert label in page
    assert "Sur place → En visioconférence" in page
