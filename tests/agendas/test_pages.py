"""Agenda pages: forms with French errors, the week view, the slot search, and their query counts."""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rdv.agendas import services
from rdv.agendas.models import Absence, Lieu, PlageException, PlageOuverture
from tests import factories
from tests.agendas.conftest import TUESDAY, agenda_state
from tests.helpers import as_agent, log_in, page_text


def plage_post(agenda, **overrides) -> dict:
    data = {
        "title": "Permanence",
        "lieu": agenda.lieu.pk,
        "motifs": [agenda.motif.pk],
        "first_date": "2027-03-02",
        "start_time": "09:00",
        "end_time": "12:00",
        "recurrence": "weekly",
        "recurrence_interval": "1",
        "recurrence_weekdays": ["1", "3"],
        "until": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def url(name, agenda, *args, agent=None):
    return reverse(name, args=[agenda.organisation.pk, (agent or agenda.agent).pk, *args])


# Plages ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_creates_a_weekly_plage_from_the_form(client, agenda):
    log_in(client, agenda.agent)
    response = client.post(url("plage_create", agenda), plage_post(agenda))
    assert response.status_code == 302
    assert response.url == url("plage_list", agenda)
    plage = PlageOuverture.objects.get()
    assert (plage.agent, plage.recurrence_weekdays, plage.start_time) == (agenda.agent, [1, 3], time(9, 0))
    page = page_text(client.get(response.url))
    assert "La plage « Permanence » est créée : Chaque semaine, le mardi et jeudi" in page
    assert "09:00–12:00" in page


@pytest.mark.django_db
def test_an_agent_creates_a_last_friday_of_the_month_plage_from_the_form(client, agenda):
    log_in(client, agenda.agent)
    data = plage_post(agenda, first_date="2027-01-22", recurrence="monthly", recurrence_weekdays=None)
    form = client.get(url("plage_create", agenda)).content.decode()
    assert 'name="recurrence_last_of_month"' in form
    response = client.post(url("plage_create", agenda), {**data, "recurrence_last_of_month": "on"})
    assert response.status_code == 302
    plage = PlageOuverture.objects.get()
    assert (plage.recurrence, plage.recurrence_last_of_month) == ("monthly", True)
    assert "Tous les mois, le dernier vendredi" in page_text(client.get(response.url))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_time": "08:00"}, "L'heure de fin (08:00) doit être après l'heure de début (09:00)."),
        ({"start_time": "neuf heures"}, "Saisissez une heure valide, par exemple 09:30."),
        ({"first_date": "31/02/2027"}, "Saisissez une date valide, par exemple 31/12/2026."),
        ({"first_date": ""}, "Indiquez la date de la première occurrence."),
        ({"lieu": ""}, "Choisissez le lieu de la plage."),
        ({"lieu": "999999"}, "Ce lieu n'est pas proposé : choisissez un lieu ouvert de l'organisation."),
        ({"motifs": []}, "Choisissez au moins un motif."),
        ({"motifs": ["abc"]}, "Ce motif n'est pas proposé pour cet agent."),
        ({"recurrence": "daily"}, "Choisissez une répétition dans la liste."),
        ({"recurrence_interval": "60"}, "L'intervalle de répétition ne peut pas dépasser 52."),
        ({"recurrence_interval": "deux"}, "L'intervalle de répétition doit être un nombre entier."),
        ({"recurrence_weekdays": ["8"]}, "Choisissez les jours de la semaine dans la liste."),
        ({"until": "2027-01-01"}, "La date de fin de la répétition (01/01/2027) doit être le 02/03/2027 ou après."),
    ],
)
def test_bad_plage_form_input_shows_a_french_error_and_saves_nothing(client, agenda, overrides, message):
    log_in(client, agenda.agent)
    before = agenda_state()
    response = client.post(url("plage_create", agenda), plage_post(agenda, **overrides))
    assert response.status_code == 200
    page = page_text(response)
    assert "La plage n'est pas enregistrée" in page
    assert message in page
    assert agenda_state() == before


@pytest.mark.django_db
def test_a_motif_of_another_service_or_organisation_is_not_offered(client, agenda):
    foreign = factories.MotifFactory(organisation=agenda.world.other_organisation, service=agenda.world.service)
    other_service = factories.MotifFactory(organisation=agenda.organisation, service=factories.ServiceFactory())
    log_in(client, agenda.agent)
    page = page_text(client.get(url("plage_create", agenda)))
    assert agenda.motif.name in page
    assert other_service.name not in page and foreign.name not in page
    before = agenda_state()
    for motif in (foreign, other_service):
        response = client.post(url("plage_create", agenda), plage_post(agenda, motifs=[motif.pk]))
        assert "Ce motif n'est pas proposé pour cet agent." in page_text(response)
    assert agenda_state() == before


@pytest.mark.django_db
def test_an_overlapping_plage_is_refused_with_the_clash_named(client, agenda):
    agenda.create_plage(title="Permanence du mardi")
    log_in(client, agenda.agent)
    before = agenda_state()
    response = client.post(
        url("plage_create", agenda), plage_post(agenda, title="Autre", start_time="11:00", end_time="13:00")
    )
    page = page_text(response)
    assert "Cette plage chevauche la plage « Permanence du mardi » du mardi 2 mars 2027 09:00–12:00" in page
    assert agenda_state() == before


@pytest.mark.django_db
def test_editing_the_whole_series_from_the_form(client, agenda):
    plage = agenda.create_plage(**agenda.weekly())
    log_in(client, agenda.agent)
    response = client.get(url("plage_edit", agenda, plage.pk))
    assert 'value="Permanence"' in response.content.decode()
    response = client.post(url("plage_edit", agenda, plage.pk), plage_post(agenda, end_time="11:00"))
    assert response.status_code == 302
    plage.refresh_from_db()
    assert plage.end_time == time(11, 0)


@pytest.mark.django_db
def test_cancel_and_restore_one_occurrence_from_the_pages(client, agenda):
    plage = agenda.create_plage(**agenda.weekly())
    log_in(client, agenda.agent)
    occurrence = url("plage_occurrence", agenda, plage.pk, "2027-03-09")
    assert "Annuler l'occurrence du 9 mars 2027" in page_text(client.get(occurrence))
    response = client.post(url("plage_occurrence_cancel", agenda, plage.pk, "2027-03-09"))
    assert response.status_code == 302
    assert response.url == url("agenda_week", agenda) + "?date=2027-03-09"
    assert PlageException.objects.get().cancelled
    week = page_text(client.get(response.url))
    assert "Annulée" in week
    assert "L'occurrence du mardi 9 mars 2027 est annulée" in week
    client.post(url("plage_occurrence_restore", agenda, plage.pk, "2027-03-09"))
    assert not PlageException.objects.exists()


@pytest.mark.django_db
def test_move_one_occurrence_from_the_page(client, agenda):
    plage = agenda.create_plage(**agenda.weekly())
    log_in(client, agenda.agent)
    occurrence = url("plage_occurrence", agenda, plage.pk, "2027-03-09")
    response = client.post(occurrence, {"start_time": "13:00", "end_time": "12:00"})
    assert "L'heure de fin (12:00) doit être après l'heure de début (13:00)." in page_text(response)
    assert not PlageException.objects.exists()
    response = client.post(occurrence, {"start_time": "13:00", "end_time": "15:00"})
    assert response.status_code == 302
    exception = PlageException.objects.get()
    assert (exception.start_time, exception.end_time) == (time(13, 0), time(15, 0))
    assert "Horaires modifiés" in page_text(client.get(response.url))


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["2027-03-10", "2027-02-23", "pas-une-date", "2027-13-01"])
def test_an_occurrence_page_of_a_date_outside_the_series_is_not_found(client, agenda, day):
    plage = agenda.create_plage(**agenda.weekly())
    log_in(client, agenda.agent)
    assert client.get(url("plage_occurrence", agenda, plage.pk, day)).status_code == 404
    assert client.post(url("plage_occurrence_cancel", agenda, plage.pk, day)).status_code == 404
    assert not PlageException.objects.exists()


@pytest.mark.django_db
def test_this_and_following_from_the_page(client, agenda):
    plage = agenda.create_plage(**agenda.weekly())
    log_in(client, agenda.agent)
    following = url("plage_edit_following", agenda, plage.pk, "2027-03-16")
    page = page_text(client.get(following))
    assert "Modifier cette occurrence et les suivantes (à partir du mardi 16 mars 2027)" in page
    response = client.post(following, plage_post(agenda, start_time="14:00", end_time="16:00", first_date="2030-01-01"))
    assert response.status_code == 302
    old, new = PlageOuverture.objects.order_by("pk")
    assert old.until == date(2027, 3, 15)
    assert (new.first_date, new.start_time) == (date(2027, 3, 16), time(14, 0))


@pytest.mark.django_db
def test_end_or_delete_a_plage_from_the_page(client, agenda):
    plage = agenda.create_plage(**agenda.weekly())
    log_in(client, agenda.agent)
    page = url("plage_delete", agenda, plage.pk)
    response = client.post(page, {"action": "terminer", "until": "2027-01-01"})
    assert "La dernière occurrence ne peut pas précéder la première (02/03/2027)" in page_text(response)
    response = client.post(page, {"action": "terminer", "until": "2027-04-30"})
    assert response.status_code == 302
    plage.refresh_from_db()
    assert plage.until == date(2027, 4, 30)
    response = client.post(page, {"action": "n'importe quoi"})
    assert "Choisissez une action" in page_text(response)
    client.post(page, {"action": "supprimer"})
    assert not PlageOuverture.objects.exists()


# Absences --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_agent_declares_a_whole_day_absence_over_several_days(client, agenda):
    log_in(client, agenda.agent)
    data = {
        "title": "Congés",
        "whole_day": "on",
        "first_date": "2027-03-02",
        "end_date": "2027-03-05",
        "recurrence": "none",
        "recurrence_interval": "1",
    }
    response = client.post(url("absence_create", agenda), data)
    assert response.status_code == 302
    absence = Absence.objects.get()
    assert (absence.first_date, absence.end_date, absence.start_time, absence.end_time) == (
        date(2027, 3, 2),
        date(2027, 3, 5),
        time(0, 0),
        time(23, 59),
    )
    page = page_text(client.get(response.url))
    assert "Journées entières, du mardi 2 mars 2027 au vendredi 5 mars 2027" in page


@pytest.mark.django_db
def test_bad_absence_form_input_shows_a_french_error(client, agenda):
    log_in(client, agenda.agent)
    before = agenda_state()
    data = {"title": "", "first_date": "2027-03-02", "start_time": "10:00", "end_time": "09:00", "recurrence": "none"}
    page = page_text(client.post(url("absence_create", agenda), data))
    assert "Donnez un titre à l'absence" in page
    data["title"] = "Réunion"
    page = page_text(client.post(url("absence_create", agenda), data))
    assert "La fin de l'absence (02/03/2027 09:00) doit être après son début (02/03/2027 10:00)." in page
    data.update({"start_time": "", "end_time": ""})
    page = page_text(client.post(url("absence_create", agenda), data))
    assert "Indiquez l'heure de début (ou cochez « journée entière »)." in page
    assert agenda_state() == before


@pytest.mark.django_db
def test_edit_and_delete_an_absence_from_the_pages(client, agenda):
    absence = services.create_absence(as_agent(agenda.agent, agenda.organisation), agenda.agent, agenda.absence_data())
    log_in(client, agenda.agent)
    edit = url("absence_edit", agenda, absence.pk)
    form = page_text(client.get(edit))
    assert 'value="Congés"' in form
    response = client.post(
        edit,
        {
            "title": "Formation",
            "first_date": "2027-03-02",
            "start_time": "10:00",
            "end_time": "12:00",
            "recurrence": "none",
        },
    )
    assert response.status_code == 302
    absence.refresh_from_db()
    assert (absence.title, absence.end_time) == ("Formation", time(12, 0))
    assert "Supprimer l'absence" in page_text(client.get(url("absence_delete", agenda, absence.pk)))
    client.post(url("absence_delete", agenda, absence.pk))
    assert not Absence.objects.exists()


# Lieux -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_organisation_admin_manages_lieux(client, agenda):
    log_in(client, agenda.world.organisation_admin)
    lieux = reverse("lieu_list", args=[agenda.organisation.pk])
    response = client.post(
        reverse("lieu_create", args=[agenda.organisation.pk]),
        {"name": "Mairie annexe", "address": "1 place du Marché", "phone": "0475123456", "is_open": "on"},
    )
    assert response.status_code == 302
    lieu = Lieu.objects.get(name="Mairie annexe")
    page = page_text(client.get(lieux))
    assert "04 75 12 34 56" in page and "Mairie annexe" in page
    response = client.post(
        reverse("lieu_edit", args=[agenda.organisation.pk, lieu.pk]),
        {"name": "Maison des solidarités", "address": "1 place du Marché", "phone": ""},
    )
    assert "Un lieu s'appelle déjà « Maison des solidarités » dans l'organisation." in page_text(response)
    client.post(reverse("lieu_archive", args=[agenda.organisation.pk, lieu.pk]))
    lieu.refresh_from_db()
    assert lieu.archived_at is not None
    assert "Mairie annexe" in page_text(client.get(lieux + "?archives=1"))
    client.post(reverse("lieu_restore", args=[agenda.organisation.pk, lieu.pk]))
    lieu.refresh_from_db()
    assert lieu.archived_at is None


@pytest.mark.django_db
def test_archiving_a_lieu_in_use_is_refused_with_a_message(client, agenda):
    agenda.create_plage(**agenda.weekly())
    log_in(client, agenda.world.organisation_admin)
    response = client.post(reverse("lieu_archive", args=[agenda.organisation.pk, agenda.lieu.pk]), follow=True)
    assert "Ce lieu est utilisé par 1 plage d'ouverture en cours" in page_text(response)
    agenda.lieu.refresh_from_db()
    assert agenda.lieu.archived_at is None


@pytest.mark.django_db
def test_basic_agents_read_lieux_without_management_buttons(client, agenda):
    log_in(client, agenda.agent)
    page = page_text(client.get(reverse("lieu_list", args=[agenda.organisation.pk])))
    assert "Maison des solidarités" in page
    assert "Créer un lieu" not in page and "Archiver" not in page


# Week view ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_week_view_shows_plages_absences_and_holidays_per_day(client, agenda):
    agenda.create_plage(**agenda.weekly(weekdays=[1, 2], first_date=date(2027, 7, 13), title="Accueil d'été"))
    services.create_absence(
        as_agent(agenda.agent, agenda.organisation),
        agenda.agent,
        agenda.absence_data(
            title="Formation", first_date=date(2027, 7, 15), start_time=time(14, 0), end_time=time(16, 0)
        ),
    )
    log_in(client, agenda.agent)
    response = client.get(url("agenda_week", agenda) + "?date=2027-07-14")
    page = page_text(response)
    assert "Semaine du 12 juillet 2027 au 18 juillet 2027" in page
    assert "Férié : Fête nationale" in page
    assert page.count("Accueil d'été") == 2
    assert "14:00–16:00" in page and "Absence : Formation" in page
    assert "?date=2027-07-05" in page and "?date=2027-07-19" in page  # previous and next weeks
    cells = response.content.decode().split('<td class="agenda-week__day')[1:]
    assert "Accueil" in cells[1] and "Accueil" in cells[2] and "Férié" in cells[2] and "Formation" in cells[3]


@pytest.mark.django_db
def test_the_week_view_shows_a_multi_day_absence_on_each_day(client, agenda):
    services.create_absence(
        as_agent(agenda.agent, agenda.organisation),
        agenda.agent,
        agenda.absence_data(
            first_date=TUESDAY, start_time=time(14, 0), end_date=date(2027, 3, 4), end_time=time(10, 0)
        ),
    )
    log_in(client, agenda.agent)
    page = page_text(client.get(url("agenda_week", agenda) + "?date=2027-03-03"))
    assert "à partir de 14:00" in page and "Journée entière" in page and "jusqu'à 10:00" in page


@pytest.mark.django_db
def test_the_week_view_shows_absences_entered_in_another_organisation_without_their_title(client, agenda):
    other = agenda.world.other_organisation
    factories.AgentRoleFactory(agent=agenda.agent, organisation=other)
    services.create_absence(
        as_agent(agenda.agent, other),
        agenda.agent,
        agenda.absence_data(title="Rendez-vous médical", first_date=TUESDAY),
    )
    log_in(client, agenda.agent)
    response = client.get(url("agenda_week", agenda) + "?date=2027-03-02")
    page = page_text(response)
    assert "indisponible (autre organisation)" in page
    assert "Rendez-vous médical" not in page
    absence = Absence.objects.get()
    assert reverse("absence_edit", args=[other.pk, agenda.agent.pk, absence.pk]) not in response.content.decode()


@pytest.mark.django_db
def test_the_week_view_accepts_a_bad_date_and_shows_the_current_week(client, agenda):
    log_in(client, agenda.agent)
    response = client.get(url("agenda_week", agenda) + "?date=demain")
    assert response.status_code == 200
    assert "Date invalide" in page_text(response)


def week_queries(client, agenda, count: int) -> int:
    for index in range(count):
        factories.PlageOuvertureFactory(
            organisation=agenda.organisation,
            agent=agenda.agent,
            lieu=agenda.lieu,
            first_date=date(2027, 3, 1) + timedelta(days=index % 7),
            start_time=time(7 + index // 7, 0),
            end_time=time(7 + index // 7, 45),
            recurrence="weekly",
            motifs=[agenda.motif, agenda.long_motif],
        )
        factories.PlageExceptionFactory(
            plage=PlageOuverture.objects.last(), date=date(2027, 3, 8) + timedelta(days=index % 7)
        )
        factories.AbsenceFactory(organisation=agenda.organisation, agent=agenda.agent, first_date=date(2027, 3, 8))
    log_in(client, agenda.agent)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("agenda_week", agenda) + "?date=2027-03-08")
    assert response.status_code == 200
    assert response.content.decode().count("agenda-week__entry--plage") == count
    return len(queries)


@pytest.mark.django_db
def test_the_week_view_query_count_does_not_grow_with_plages_and_absences(client, agenda):
    few = week_queries(client, agenda, 2)
    PlageOuverture.objects.all().delete()
    Absence.objects.all().delete()
    many = week_queries(client, agenda, 30)
    assert few == many
    assert many <= 16


# Slot search -----------------------------------------------------------------------------------


def search(client, agenda, **params):
    query = {"motif": agenda.motif.pk, "start_date": "2027-03-01", **params}
    return client.get(reverse("slot_search", args=[agenda.organisation.pk]), query)


def rows_of(response) -> list[tuple]:
    """(day, time, lieu, free agents, booked agent) of each free time shown, in page order."""
    result = response.context["result"]
    return [
        (day.day.isoformat(), f"{time.start:%H:%M}", time.lieu.name, [str(a) for a in time.agents], str(time.agent))
        for day in result.days
        for time in day.times
    ]


def two_agents_on_tuesdays(agenda):
    """The agent and the organisation admin both free on Tuesdays 9:00-10:00 at the Maison des
    solidarités; the admin alone on Tuesday 2 March 14:00-15:00 at the Antenne Nord."""
    admin = agenda.world.organisation_admin
    agenda.create_plage(**agenda.weekly(end_time=time(10, 0)))
    agenda.create_plage(agent=admin, **agenda.weekly(end_time=time(10, 0)))
    agenda.create_plage(agent=admin, lieu=agenda.other_lieu, start_time=time(14, 0), end_time=time(15, 0))
    return admin


@pytest.mark.django_db
def test_the_search_shows_a_week_by_day_and_time_with_the_free_agents(client, agenda):
    admin = two_agents_on_tuesdays(agenda)
    log_in(client, agenda.agent)
    response = search(client, agenda)
    both = sorted([str(agenda.agent), str(admin)], key=lambda name: name.split()[-1])
    assert rows_of(response) == [
        ("2027-03-02", "09:00", "Maison des solidarités", both, str(agenda.agent)),  # the viewer, when free
        ("2027-03-02", "09:30", "Maison des solidarités", both, str(agenda.agent)),
        ("2027-03-02", "14:00", "Antenne Nord", [str(admin)], str(admin)),
        ("2027-03-02", "14:30", "Antenne Nord", [str(admin)], str(admin)),
    ]
    page = " ".join(page_text(response).split())
    assert "« Premier accueil » : semaine du lundi 1er mars au dimanche 7 mars 2027" in page
    assert "4 horaires libres cette semaine (30 minutes par rendez-vous), 6 créneaux en comptant chaque agent" in page
    assert "Mardi 2 : 4 horaires" in page and "Lundi 1er : aucun horaire libre" in page
    assert "Mardi 9 mars" not in page  # one week at a time
    # One link per time (not per agent), which prefills the booking form.
    assert page.count("Réserver avec") == 4
    book = reverse("rdv_create", args=[agenda.organisation.pk])
    assert (
        f"{book}?motif={agenda.motif.pk}&debut=2027-03-02T09%3A00%3A00%2B01%3A00&agent={agenda.agent.pk}"
        f"&lieu={agenda.lieu.pk}"
    ) in page
    assert f"debut=2027-03-02T14%3A00%3A00%2B01%3A00&agent={admin.pk}&lieu={agenda.other_lieu.pk}" in page


@pytest.mark.django_db
def test_the_search_names_a_few_free_agents_and_counts_the_others(client, agenda):
    for index in range(11):
        agent = factories.AgentFactory(last_name=f"Agent{index:02d}")
        factories.AgentRoleFactory(agent=agent, organisation=agenda.organisation)
        factories.AgentServiceFactory(agent=agent, territory=agenda.world.territory, service=agenda.world.service)
        agenda.create_plage(agent=agent, end_time=time(9, 30))
    log_in(client, agenda.agent)
    results = " ".join(page_text(search(client, agenda)).split()).split('id="resultats-titre"')[1]
    assert "<strong>11</strong> :" in results and "et 3 autres" in results
    assert "Agent07" in results and "Agent08" not in results  # 8 named, by name


@pytest.mark.django_db
def test_the_search_filters_by_agent_and_lieu(client, agenda):
    admin = two_agents_on_tuesdays(agenda)
    log_in(client, agenda.agent)
    by_agent = rows_of(search(client, agenda, agents=[admin.pk]))
    assert [(row[1], row[3], row[4]) for row in by_agent] == [
        ("09:00", [str(admin)], str(admin)),
        ("09:30", [str(admin)], str(admin)),
        ("14:00", [str(admin)], str(admin)),
        ("14:30", [str(admin)], str(admin)),
    ]
    by_lieu = rows_of(search(client, agenda, lieu=agenda.other_lieu.pk))
    assert [(row[1], row[2]) for row in by_lieu] == [("14:00", "Antenne Nord"), ("14:30", "Antenne Nord")]


@pytest.mark.django_db
def test_the_search_moves_a_week_at_a_time_and_keeps_the_filters(client, agenda):
    two_agents_on_tuesdays(agenda)
    log_in(client, agenda.agent)
    response = search(client, agenda, lieu=agenda.lieu.pk, start_date="2027-03-04")  # a Thursday
    links = response.context["links"]
    assert "start_date=2027-03-08" in links["next"] and f"lieu={agenda.lieu.pk}" in links["next"]
    assert "start_date=2027-02-22" in links["previous"]
    following = client.get(links["next"])
    assert [row[:3] for row in rows_of(following)] == [
        ("2027-03-09", "09:00", "Maison des solidarités"),
        ("2027-03-09", "09:30", "Maison des solidarités"),
    ]
    assert "semaine du lundi 8 mars au dimanche 14 mars 2027" in page_text(following)


@pytest.mark.django_db
def test_the_current_week_has_no_previous_week_and_starts_today(client, agenda):
    log_in(client, agenda.agent)
    response = search(client, agenda, start_date="")
    result = response.context["result"]
    today = timezone.localdate()
    assert result.monday == today - timedelta(days=today.weekday())
    assert result.first_day == today and result.days[0].day == today
    assert "previous" not in response.context["links"]
    assert "Semaine précédente" not in page_text(response)
    # A week in the past is read as the current one.
    assert search(client, agenda, start_date="2020-01-06").context["result"].monday == result.monday


@pytest.mark.django_db
def test_an_empty_week_gives_the_next_availability(client, agenda):
    agenda.create_plage(first_date=date(2027, 4, 20))
    log_in(client, agenda.agent)
    response = search(client, agenda)
    page = " ".join(page_text(response).split())
    assert "Aucun créneau libre cette semaine pour « Premier accueil »." in page
    assert "Prochaine disponibilité" in page
    assert "Mardi 20 avril 2027 à 09:00 (Maison des solidarités), 1 agent libre." in page
    assert "start_date=2027-04-19" in response.context["links"]["next_slot"]
    assert "Voir la semaine du 19 avril 2027" in page
    assert rows_of(client.get(response.context["links"]["next_slot"]))[0][:2] == ("2027-04-20", "09:00")


@pytest.mark.django_db
def test_the_search_says_when_nothing_is_free_within_three_months(client, agenda):
    agenda.create_plage(first_date=date(2027, 6, 8))  # after the horizon: 7 March + 92 days
    log_in(client, agenda.agent)
    page = " ".join(page_text(search(client, agenda)).split())
    assert "Aucun créneau libre cette semaine pour « Premier accueil »." in page
    assert "Prochaine disponibilité" not in page
    assert "Aucun créneau libre non plus jusqu'au 7 juin 2027." in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"motif": ""}, "Choisissez un motif."),
        ({"motif": "abc"}, "Ce motif n'est pas proposé : choisissez un motif actif de l'organisation."),
        ({"start_date": "hier"}, "Saisissez une date valide"),
        ({"start_date": "2031-01-01"}, "Choisissez une date dans les deux prochaines années."),
        ({"agents": ["x"]}, "Cet agent ne fait pas partie de l'organisation."),
        ({"lieu": "0"}, "Ce lieu n'est pas proposé"),
        ({"start_date": "2027-02-30"}, "Saisissez une date valide"),
        ({"start_date": "99999-01-01"}, "Saisissez une date valide"),
        ({"agents": ["99999999999999999999"]}, "Cet agent ne fait pas partie de l'organisation."),
        ({"lieu": "-1"}, "Ce lieu n'est pas proposé"),
        ({"motif": "1e3"}, "Ce motif n'est pas proposé"),
    ],
)
def test_bad_search_input_shows_a_french_error(client, agenda, params, message):
    log_in(client, agenda.agent)
    response = search(client, agenda, **params)
    assert response.status_code == 200
    assert message in page_text(response)


@pytest.mark.django_db
def test_the_search_does_not_offer_motifs_lieux_or_agents_of_other_tenants(client, agenda, bob):
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service, name="Motif de Bob")
    log_in(client, agenda.agent)
    page = page_text(client.get(reverse("slot_search", args=[agenda.organisation.pk])))
    assert "Motif de Bob" not in page and str(bob.agent) not in page
    page = page_text(search(client, agenda, motif=bob_motif.pk, agents=[bob.agent.pk]))
    assert "Ce motif n'est pas proposé" in page and "Cet agent ne fait pas partie de l'organisation." in page


def search_queries(client, agenda, count: int) -> tuple[int, int]:
    """(queries, size of the page) of a week of `count` plages of `count // 2` agents."""
    agents = []
    for index in range(count):
        if index % 2 == 0:
            agent = factories.AgentFactory()
            factories.AgentRoleFactory(agent=agent, organisation=agenda.organisation)
            agents.append(agent)
        factories.PlageOuvertureFactory(
            organisation=agenda.organisation,
            agent=agents[-1],
            lieu=agenda.lieu if index % 2 else agenda.other_lieu,
            first_date=date(2027, 3, 1),
            start_time=time(8 + 3 * (index % 2), 0),
            end_time=time(10 + 3 * (index % 2), 0),
            recurrence="weekly",
            recurrence_weekdays=[0, 1, 2, 3, 4],
            motifs=[agenda.motif],
        )
        factories.AbsenceFactory(organisation=agenda.organisation, agent=agents[-1], first_date=date(2027, 3, 3))
    log_in(client, agenda.agent)
    with CaptureQueriesContext(connection) as queries:
        response = search(client, agenda)
    result = response.context["result"]
    # agents × 8 slots a day × 4 days (the weekdays, minus the absence), 8 times a day at 2 lieux
    assert result.agent_slot_count == count // 2 * 8 * 4
    assert result.count == 8 * 4
    assert page_text(response).count("Réserver avec") == 8 * 4  # one link per time, whatever the agents
    return len(queries), len(response.content)


@pytest.mark.django_db
def test_the_search_query_count_does_not_grow_with_plages_and_agents(client, agenda):
    few, _ = search_queries(client, agenda, 2)
    PlageOuverture.objects.all().delete()
    Absence.objects.all().delete()
    many, _ = search_queries(client, agenda, 30)
    assert few == many
    assert many <= 20


@pytest.mark.django_db
def test_looking_for_the_next_availability_takes_a_bounded_number_of_queries(client, agenda):
    log_in(client, agenda.agent)
    with CaptureQueriesContext(connection) as found_this_week:
        agenda.create_plage(first_date=date(2027, 3, 2))
        search(client, agenda)
    PlageOuverture.objects.all().delete()
    agenda.create_plage(first_date=date(2027, 5, 25))  # found by the last of the three further looks
    with CaptureQueriesContext(connection) as queries:
        response = search(client, agenda)
    assert response.context["result"].next_slot.start.date() == date(2027, 5, 25)
    # Three more calls of the slot function (up to four queries each), and the lieu of the slot.
    assert len(queries) <= len(found_this_week) + 3 * 4 + 1
