"""The agenda and RDV pages: booking from a slot or directly, moving, cancelling, statuses,
participants, arrival, the agenda views, the list and its CSV export, and bad input (a French
message, nothing changed, never a 500)."""

import csv
import io
import re

import pytest
from django.urls import reverse

from rdv.agendas.models import Absence
from rdv.bookings import services
from rdv.bookings.models import Rdv, RdvStatus
from rdv.core.models import AuditLog
from rdv.usagers.models import Usager
from tests import factories
from tests.bookings.conftest import TODAY, at, next_weekday
from tests.bookings.test_services import state
from tests.helpers import as_agent, log_in, page_text

TOMORROW = next_weekday(TODAY)


@pytest.fixture
def agent_client(client, setup):
    return log_in(client, setup.agent)


def url(name, setup, *args):
    return reverse(name, args=[setup.organisation.pk, *args])


def booking_data(setup, **overrides) -> dict:
    data = {
        "motif": setup.motif.pk,
        "date": TODAY.isoformat(),
        "heure": "10:00",
        "lieu": setup.lieu.pk,
        "agents": [setup.agent.pk],
        "usagers": [setup.usager.pk],
        "action": "reserver",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# Booking -------------------------------------------------------------------------------------------


def test_an_agent_books_a_rdv_for_an_existing_usager(agent_client, setup):
    response = agent_client.post(url("rdv_create", setup), booking_data(setup, context="Dossier RSA"))

    rdv = Rdv.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("rdv_detail", setup, rdv.pk)
    assert (rdv.starts_at, rdv.context, rdv.lieu) == (at(TODAY, 10), "Dossier RSA", setup.lieu)
    assert list(rdv.participations.values_list("usager", flat=True)) == [setup.usager.pk]
    page = page_text(agent_client.get(response["Location"]))
    assert "Rendez-vous enregistré : Premier accueil, mardi 9 mars 2027 à 10:00." in page
    assert "Dossier RSA" in page


def test_the_form_is_prefilled_from_a_slot_of_the_search(agent_client, setup):
    search = page_text(agent_client.get(url("slot_search", setup), {"motif": setup.motif.pk}))
    links = re.findall(r'href="(/organisations/\d+/rdvs/nouveau/\?[^"]+)"', search)
    assert links, "each free slot links to the booking form"
    first = links[0].replace("&amp;", "&")
    assert f"motif={setup.motif.pk}" in first and f"lieu={setup.lieu.pk}" in first
    assert f"agent={setup.agent.pk}" in first

    response = agent_client.get(first)
    form = page_text(response)
    assert response.context["form"].initial["agents"] == [setup.agent.pk]

    motif_select = form.split('name="motif"', 1)[1].split("</select>", 1)[0]
    assert re.search(rf'<option value="{setup.motif.pk}"( selected| data-type="public_office"){{2}}>', motif_select)
    assert 'value="2027-03-09"' in form
    assert 'value="09:00"' in form
    lieu_select = form.split('name="lieu"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{setup.lieu.pk}" selected>' in lieu_select


def test_an_invalid_start_in_the_link_is_reported_not_a_crash(agent_client, setup):
    response = agent_client.get(url("rdv_create", setup), {"debut": "demain matin", "motif": "abc"})
    assert response.status_code == 200
    assert "L'horaire demandé est invalide" in page_text(response)


def test_a_new_usager_is_created_inline_with_the_rdv_and_its_context(agent_client, setup):
    data = booking_data(
        setup,
        usagers=None,
        new_first_name="Inès",
        new_last_name="Nouvelle",
        new_email="ines@exemple.fr",
        context="Première visite",
    )
    response = agent_client.post(url("rdv_create", setup), data)

    assert response.status_code == 302
    usager = Usager.objects.get(last_name="Nouvelle")
    rdv = Rdv.objects.get()
    assert list(rdv.participations.values_list("usager", flat=True)) == [usager.pk]
    assert usager.organisations.get() == setup.organisation
    assert rdv.context == "Première visite"


def test_an_inline_usager_looking_like_an_existing_one_asks_for_a_confirmation(agent_client, setup):
    data = booking_data(
        setup, usagers=None, new_first_name="Jeanne", new_last_name="Dupont", new_email="jeanne@usager.fr"
    )
    before = state()

    response = agent_client.post(url("rdv_create", setup), data)

    assert response.status_code == 200
    text = page_text(response)
    assert "Cet usager existe peut-être déjà" in text
    assert "même adresse e-mail" in text
    assert state() == before

    response = agent_client.post(url("rdv_create", setup), {**data, "confirmer_doublon": "on"})
    assert response.status_code == 302
    assert Usager.objects.filter(last_name="Dupont").count() == 2


def test_searching_an_usager_keeps_the_form_and_books_nothing(agent_client, setup):
    data = booking_data(setup, usagers=None, recherche_usager="benali", action="rechercher", context="Gardé")
    before = state()

    response = agent_client.post(url("rdv_create", setup), data)

    text = page_text(response)
    assert state() == before
    assert "Karim BENALI" in text
    assert re.search(rf'name="usagers"\s+value="{setup.usager2.pk}"', text)
    assert "Gardé" in text  # what was typed stays
    assert "Rien n'a été enregistré" not in text


def test_the_usager_search_fragment_keeps_the_chosen_usagers(agent_client, setup):
    response = agent_client.get(
        url("rdv_usager_search", setup), {"recherche_usager": "martin", "usagers": [setup.usager.pk]}
    )
    text = page_text(response)
    assert re.search(rf'value="{setup.usager.pk}"\s+id="usager-{setup.usager.pk}"\s+checked', text)
    assert "Lucie MARTIN" in text
    assert "<html" not in text  # a fragment


def test_booking_outside_the_plages_offers_to_book_anyway(agent_client, setup):
    data = booking_data(setup, heure="15:00")
    before = state()

    response = agent_client.post(url("rdv_create", setup), data)

    text = page_text(response)
    assert response.status_code == 200
    assert "Le rendez-vous n'est pas enregistré" in text
    assert "en dehors des disponibilités" in text
    assert "Réserver quand même (hors disponibilité)" in text
    assert state() == before

    response = agent_client.post(url("rdv_create", setup), {**data, "override": "on"})
    assert response.status_code == 302
    assert "hors disponibilité" in AuditLog.objects.get(action="rdv.created").changes["override"]


def test_the_override_box_is_not_offered_before_a_refusal(agent_client, setup):
    text = page_text(agent_client.get(url("rdv_create", setup)))
    assert "Réserver quand même" not in text


def test_booking_a_taken_slot_says_so(agent_client, setup):
    setup.book(at(TODAY, 10), usagers=[setup.usager2])
    response = agent_client.post(url("rdv_create", setup), booking_data(setup))
    text = page_text(response)
    assert "Ce créneau n'est plus disponible" in text
    assert "Réserver quand même" in text
    assert Rdv.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"motif": None}, "Choisissez le motif du rendez-vous."),
        ({"motif": "999999"}, "Ce motif n'est pas proposé dans cette organisation."),
        ({"date": "31/02/2027"}, "Saisissez une date valide"),
        ({"heure": "25:99"}, "Saisissez une heure valide"),
        ({"agents": None}, "Choisissez au moins un agent."),
        ({"agents": ["abc"]}, "Cet agent ne fait pas partie de l'organisation."),
        ({"usagers": None}, "Choisissez un usager"),
        ({"usagers": ["999999"]}, "Usager inconnu dans cette organisation."),
        ({"lieu": None}, "Choisissez le lieu du rendez-vous."),
        ({"duration_minutes": "-5"}, "La durée doit être d'au moins 1 minute."),
        ({"new_first_name": "Seul"}, "Le nom du nouvel usager est obligatoire."),
        ({"visio_url": "pas une url", "motif": "PHONE"}, "Saisissez une adresse web valide"),
    ],
)
def test_bad_input_gets_a_french_message_and_changes_nothing(agent_client, setup, overrides, message):
    if overrides.get("motif") == "PHONE":
        overrides = {**overrides, "motif": setup.phone_motif.pk, "lieu": None}
    before = state()
    response = agent_client.post(url("rdv_create", setup), booking_data(setup, **overrides))
    assert response.status_code == 200
    assert message in page_text(response)
    assert state() == before


def test_an_individual_rdv_with_two_usagers_is_refused(agent_client, setup):
    response = agent_client.post(
        url("rdv_create", setup), booking_data(setup, usagers=[setup.usager.pk, setup.usager2.pk])
    )
    assert "Un rendez-vous individuel n'a qu'un usager" in page_text(response)
    assert not Rdv.objects.exists()


def test_a_collective_rdv_is_booked_with_several_usagers(agent_client, setup):
    data = booking_data(setup, motif=setup.collective_motif.pk, usagers=[setup.usager.pk, setup.usager2.pk])
    assert agent_client.post(url("rdv_create", setup), data).status_code == 302
    assert Rdv.objects.get().participations.count() == 2


def test_a_basic_agent_is_offered_only_the_motifs_of_their_services(client, setup):
    log_in(client, setup.other_agent)
    text = page_text(client.get(url("rdv_create", setup)))
    assert "Consultation nourrisson" in text
    assert "Premier accueil" not in text
    log_in(client, setup.secretariat)
    assert "Premier accueil" in page_text(client.get(url("rdv_create", setup)))


# The RDV page and its operations --------------------------------------------------------------------


def test_the_rdv_page_shows_details_participants_and_history(agent_client, setup):
    rdv = setup.book(at(TODAY, 10), context="Ligne 1\nLigne 2")
    text = page_text(agent_client.get(url("rdv_detail", setup, rdv.pk)))
    assert "Rendez-vous du mardi 9 mars 2027 à 10:00" in text
    assert "Premier accueil (sur place) — Service social" in text
    assert "Ligne 1<br>Ligne 2" in text
    assert "Jeanne DUPONT" in text
    assert "Rendez-vous pris par" in text
    assert "L'usager est arrivé" in text  # today


def test_moving_to_a_free_time_from_the_page(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    response = agent_client.post(
        url("rdv_move", setup, rdv.pk), {"date": TODAY.isoformat(), "heure": "11:00", "agents": [setup.agent.pk]}
    )
    assert response.status_code == 302
    rdv.refresh_from_db()
    assert rdv.starts_at == at(TODAY, 11)
    assert "Rendez-vous déplacé au mardi 9 mars 2027 à 11:00." in page_text(agent_client.get(response["Location"]))


def test_moving_onto_a_taken_time_from_the_page_is_refused(agent_client, setup):
    setup.book(at(TODAY, 11), usagers=[setup.usager2])
    rdv = setup.book(at(TODAY, 10))
    before = state()
    response = agent_client.post(
        url("rdv_move", setup, rdv.pk),
        {"date": TODAY.isoformat(), "heure": "11:00", "agents": [setup.agent.pk], "lieu": setup.lieu.pk},
    )
    text = page_text(response)
    assert "Le rendez-vous n'est pas déplacé" in text
    assert "Ce créneau n'est plus disponible" in text
    assert "Déplacer quand même (hors disponibilité)" in text
    assert state() == before


def test_the_move_form_is_prefilled_from_a_slot(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    text = page_text(agent_client.get(url("rdv_move", setup, rdv.pk), {"debut": "2027-03-10T11:30:00+01:00"}))
    assert 'value="2027-03-10"' in text and 'value="11:30"' in text


def test_cancelling_from_the_page_with_a_reason(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    response = agent_client.post(url("rdv_cancel", setup, rdv.pk), {"by": "usager", "reason": "Empêchement"})
    assert response.status_code == 302
    rdv.refresh_from_db()
    assert (rdv.status, rdv.cancel_reason) == (RdvStatus.EXCUSED, "Empêchement")
    text = page_text(agent_client.get(response["Location"]))
    assert "Le rendez-vous est annulé : le créneau est de nouveau libre." in text
    assert "Empêchement" in text
    assert "Déplacer" not in text.split("<h2>Détails</h2>")[0].split("</h1>")[1]


def test_a_reason_too_long_is_refused(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    before = state()
    response = agent_client.post(url("rdv_cancel", setup, rdv.pk), {"by": "service", "reason": "x" * 301})
    assert "Le motif d'annulation ne doit pas dépasser 300 caractères." in page_text(response)
    assert state() == before


def test_a_status_in_the_future_is_refused_on_the_page(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    before = state()
    response = agent_client.post(url("rdv_status", setup, rdv.pk), {"status": "seen"})
    assert response.status_code == 200
    assert "Ce rendez-vous n'a pas encore eu lieu." in page_text(response)
    assert state() == before
    response = agent_client.post(url("rdv_status", setup, rdv.pk), {"status": "inconnu"})
    assert "Statut inconnu." in page_text(response)


def test_participants_are_added_and_removed_from_the_page(agent_client, setup):
    rdv = setup.book(at(TODAY, 10), motif=setup.collective_motif, usagers=[setup.usager])
    search = page_text(agent_client.get(url("rdv_detail", setup, rdv.pk), {"recherche_usager": "benali"}))
    assert "Ajouter Karim BENALI" in search

    assert agent_client.post(url("rdv_participant_add", setup, rdv.pk), {"usager": setup.usager2.pk}).status_code == 302
    response = agent_client.post(url("rdv_participant_add", setup, rdv.pk), {"usager": setup.usager2.pk})
    assert "Karim BENALI participe déjà à ce rendez-vous." in page_text(response)
    assert rdv.participations.count() == 2

    response = agent_client.post(url("rdv_participant_remove", setup, rdv.pk, setup.usager.pk))
    assert response.status_code == 302
    assert list(rdv.participations.values_list("usager", flat=True)) == [setup.usager2.pk]


def test_the_single_usager_of_an_individual_rdv_cannot_be_removed_from_the_page(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    response = agent_client.post(url("rdv_participant_remove", setup, rdv.pk, setup.usager.pk), follow=True)
    assert "Un rendez-vous individuel garde son usager" in page_text(response)
    assert rdv.participations.count() == 1


def test_the_arrival_button_is_offered_only_on_the_day(agent_client, setup):
    tomorrow = setup.book(at(TOMORROW, 10))
    assert "L'usager est arrivé" not in page_text(agent_client.get(url("rdv_detail", setup, tomorrow.pk)))
    response = agent_client.post(url("rdv_arrival", setup, tomorrow.pk), {"arrive": "1"}, follow=True)
    assert "L'arrivée ne peut être signalée que le jour du rendez-vous." in page_text(response)
    tomorrow.refresh_from_db()
    assert tomorrow.arrived_at is None


def test_arrival_and_undo_from_the_page(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    response = agent_client.post(url("rdv_arrival", setup, rdv.pk), {"arrive": "1"}, follow=True)
    text = page_text(response)
    assert "Arrivée enregistrée" in text
    assert "Arrivé(e) à 08:00" in text
    assert "Annuler l'arrivée" in text
    agent_client.post(url("rdv_arrival", setup, rdv.pk), {"arrive": "0"})
    rdv.refresh_from_db()
    assert rdv.arrived_at is None


def test_editing_the_information_of_a_rdv(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    response = agent_client.post(url("rdv_edit", setup, rdv.pk), {"context": "Nouveau", "address": "", "visio_url": ""})
    assert response.status_code == 302
    rdv.refresh_from_db()
    assert rdv.context == "Nouveau"
    response = agent_client.post(url("rdv_edit", setup, rdv.pk), {"context": "x" * 5001})
    assert "Le contexte ne doit pas dépasser 5000 caractères." in page_text(response)


# Agenda --------------------------------------------------------------------------------------------------


def test_the_week_view_shows_plages_rdvs_absences_and_the_motif_colour(agent_client, setup):
    setup.book(at(TODAY, 10))
    Absence.objects.create(
        organisation=setup.organisation,
        agent=setup.agent,
        title="Formation",
        first_date=TOMORROW,
        end_date=TOMORROW,
        start_time=at(TOMORROW, 14).time(),
        end_time=at(TOMORROW, 17).time(),
    )
    text = page_text(agent_client.get(url("agenda", setup), {"affichage": "liste"}))

    assert "Semaine du lundi 8 mars 2027 au dimanche 14 mars 2027" in text
    assert text.count('scope="row"') == 7
    assert "Plage 09:00–12:00 · MDS Centre" in text
    assert 'style="border-left-color: #b34000"' in text  # the motif's colour…
    assert "Premier accueil" in text  # …and always its name
    assert "Jeanne DUPONT" in text
    assert "<strong>Absence</strong> : Formation" in text
    assert "14:00–17:00" in text
    assert "Aujourd'hui" in text


def test_the_day_view_and_several_agents_side_by_side(agent_client, setup):
    setup.book(at(TODAY, 10))
    setup.book(at(TODAY, 10), agents=[setup.admin], usagers=[setup.usager2])
    response = agent_client.get(
        url("agenda", setup),
        {
            "vue": "jour",
            "date": TODAY.isoformat(),
            "agents": f"{setup.agent.pk},{setup.admin.pk}",
            "affichage": "liste",
        },
    )
    text = page_text(response)
    assert text.count('scope="row"') == 1
    assert text.count('<th scope="col">') == 3  # day + two agents
    assert "Jeanne DUPONT" in text and "Karim BENALI" in text
    assert "Jour précédent" in text and "Jour suivant" in text


def test_public_holidays_are_shown(agent_client, setup):
    text = page_text(agent_client.get(url("agenda", setup), {"date": "2027-05-06"}))
    assert "Jour férié : Ascension" in text


def test_previous_and_next_week_links(agent_client, setup):
    text = page_text(agent_client.get(url("agenda", setup)))
    assert "date=2027-03-02" in text and "date=2027-03-16" in text


@pytest.mark.parametrize(
    "query",
    [{"date": "2027-13-45"}, {"agents": "abc,-1,99999999999999"}, {"vue": "annee"}, {"agents": "0"}],
)
def test_bad_agenda_parameters_never_crash(agent_client, setup, query):
    response = agent_client.get(url("agenda", setup), query)
    assert response.status_code == 200
    if "date" in query:
        assert "Date invalide" in page_text(response)


def test_agents_of_other_organisations_are_not_shown(agent_client, setup):
    response = agent_client.get(url("agenda", setup), {"agents": setup.outsider.pk})
    text = page_text(response)
    assert "Certains agendas demandés ne font pas partie de l'organisation" in text
    assert f'<th scope="col">{setup.outsider}</th>' not in text


def test_cancelled_rdvs_are_hidden_unless_asked(agent_client, setup):
    rdv = setup.book(at(TODAY, 10))
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    assert "Jeanne DUPONT" not in page_text(agent_client.get(url("agenda", setup)))
    text = page_text(agent_client.get(url("agenda", setup), {"annules": "1"}))
    assert "Jeanne DUPONT" in text and "Annulé par le service" in text


# List and CSV export ----------------------------------------------------------------------------------


def test_the_list_filters(agent_client, setup):
    setup.book(at(TODAY, 10))
    setup.book(at(TOMORROW, 10), usagers=[setup.usager2])
    phone = setup.book(at(TODAY, 11), motif=setup.phone_motif, usagers=[setup.usager3])
    services.cancel_rdv(as_agent(setup.agent, phone), phone)

    def names(**filters):
        text = page_text(agent_client.get(url("rdv_list", setup), filters))
        return {name for name in ("Jeanne DUPONT", "Karim BENALI", "Lucie MARTIN") if name in text}

    assert names() == {"Jeanne DUPONT", "Karim BENALI", "Lucie MARTIN"}
    assert names(du=TOMORROW.isoformat()) == {"Karim BENALI"}
    assert names(au=TODAY.isoformat()) == {"Jeanne DUPONT", "Lucie MARTIN"}
    assert names(statut="revoked") == {"Lucie MARTIN"}
    assert names(motif=setup.phone_motif.pk) == {"Lucie MARTIN"}
    assert names(lieu=setup.lieu.pk) == {"Jeanne DUPONT", "Karim BENALI"}
    assert names(usager="benali") == {"Karim BENALI"}
    assert names(agent=setup.admin.pk) == set()


def test_invalid_list_filters_are_reported_and_ignored(agent_client, setup):
    setup.book(at(TODAY, 10))
    response = agent_client.get(url("rdv_list", setup), {"du": "hier", "statut": "perdu", "agent": "x"})
    text = page_text(response)
    assert response.status_code == 200
    assert "Certains filtres sont invalides" in text
    assert "Date de début invalide." in text
    assert "Jeanne DUPONT" in text


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_csv_export_with_french_headers(agent_client, setup):
    rdv = setup.book(at(TODAY, 10), context="Note interne")
    services.mark_arrived(as_agent(setup.agent, rdv), rdv)
    setup.book(at(TODAY, 11), motif=setup.collective_motif, usagers=[setup.usager2, setup.usager3])

    response = agent_client.get(url("rdv_list", setup), {"format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rendez-vous-2027-03-09.csv"'
    rows = read_csv(response)
    assert rows[0] == [
        "Date",
        "Heure de début",
        "Heure de fin",
        "Durée (minutes)",
        "Motif",
        "Service",
        "Type",
        "Lieu",
        "Agents",
        "Usagers",
        "Statut",
        "Arrivé(e) à",
        "Motif d'annulation",
        "Pris le",
        "Contexte",
    ]
    assert rows[1] == [
        "09/03/2027",
        "10:00",
        "10:30",
        "30",
        "Premier accueil",
        "Service social",
        "Sur place",
        "MDS Centre",
        str(setup.agent),
        "Jeanne DUPONT",
        "À venir",
        "08:00",
        "",
        "09/03/2027 08:00",
        "Note interne",
    ]
    assert rows[2][9] == "Karim BENALI, Lucie MARTIN"
    assert len(rows) == 3


def test_csv_export_follows_the_filters_and_the_context_setting(agent_client, setup):
    setup.book(at(TODAY, 10), context="Note interne")
    setup.book(at(TOMORROW, 10), usagers=[setup.usager2])
    territory = setup.world.territory
    territory.rdv_context_enabled = False
    territory.save()

    rows = read_csv(agent_client.get(url("rdv_list", setup), {"format": "csv", "du": TOMORROW.isoformat()}))

    assert "Contexte" not in rows[0]
    assert [row[9] for row in rows[1:]] == ["Karim BENALI"]


def test_the_csv_export_holds_only_the_rdvs_the_agent_may_see(client, setup):
    setup.book(at(TODAY, 10))  # Service social, with the social worker
    setup.book(at(TODAY, 11), motif=setup.other_motif, actor=setup.admin)  # PMI: the PMI agent's service
    setup.book(at(TODAY, 14), agents=[setup.other_agent], override=True)  # Service social, the PMI agent takes part
    log_in(client, setup.other_agent)
    rows = read_csv(client.get(url("rdv_list", setup), {"format": "csv"}))
    assert [(row[1], row[4], row[8], row[9]) for row in rows[1:]] == [
        ("11:00", "Consultation nourrisson", str(setup.agent), "Jeanne DUPONT"),
        ("14:00", "Premier accueil", str(setup.other_agent), "Jeanne DUPONT"),
    ]


def test_csv_cells_cannot_inject_formulas(agent_client, setup):
    rdv = setup.book(at(TODAY, 10), context='=HYPERLINK("http://x")')
    rdv.refresh_from_db()
    rows = read_csv(agent_client.get(url("rdv_list", setup), {"format": "csv"}))
    assert rows[1][-1] == '\'=HYPERLINK("http://x")'


def test_the_agenda_links_to_the_booking_pages(agent_client, setup):
    text = page_text(agent_client.get(url("agenda", setup)))
    assert url("rdv_create", setup) in text
    assert url("slot_search", setup) in text
    assert url("rdv_list", setup) in text


def test_other_organisations_usagers_are_not_offered(agent_client, setup):
    stranger = factories.UsagerFactory(
        territory=setup.world.territory, last_name="Ailleurs", organisations=[setup.world.other_organisation]
    )
    response = agent_client.get(url("rdv_usager_search", setup), {"recherche_usager": "ailleurs"})
    assert "AILLEURS" not in page_text(response)
    response = agent_client.post(url("rdv_create", setup), booking_data(setup, usagers=[stranger.pk]))
    assert "Usager inconnu dans cette organisation." in page_text(response)
