"""Absences, public holidays and lieux: rules of rdv.agendas.services and their effect on free slots."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv.agendas import services
from rdv.agendas.calendar import holiday_zone
from rdv.agendas.models import Absence, Lieu
from rdv.bookings.availability import find_slots
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from tests import factories
from tests.agendas.conftest import NOW, TUESDAY, agenda_state
from tests.helpers import as_agent

PARIS = ZoneInfo("Europe/Paris")


def starts(motif, first: date, last: date | None = None, **options) -> dict[date, list[str]]:
    """Free slot starts by local day."""
    result: dict[date, list[str]] = {}
    for slot in find_slots([motif], first, last or first, now=NOW, **options)[motif.pk]:
        local = slot.start.astimezone(PARIS)
        result.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    return result


# Absences --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_absence_of_a_few_hours_removes_the_slots_it_covers(agenda):
    agenda.create_plage()
    services.create_absence(
        as_agent(agenda.world.organisation_admin, agenda.organisation), agenda.agent, agenda.absence_data()
    )
    assert starts(agenda.motif, TUESDAY)[TUESDAY] == ["09:00", "09:30", "11:00", "11:30"]
    assert AuditLog.objects.filter(action="absence.created").count() == 1


@pytest.mark.django_db
def test_an_absence_over_several_days_removes_every_slot_of_those_days(agenda):
    agenda.create_plage(**agenda.weekly(weekdays=[0, 1, 2, 3, 4], first_date=date(2027, 3, 1)))
    services.create_absence(
        as_agent(agenda.agent, agenda.organisation),
        agenda.agent,
        agenda.absence_data(whole_day=True, first_date=TUESDAY, end_date=TUESDAY + timedelta(days=2)),
    )
    found = starts(agenda.motif, date(2027, 3, 1), date(2027, 3, 5))
    assert sorted(found) == [date(2027, 3, 1), date(2027, 3, 5)]  # Monday and Friday only
    absence = Absence.objects.get()
    assert (absence.start_time, absence.end_time) == (time(0, 0), time(23, 59))


@pytest.mark.django_db
def test_an_absence_starting_in_the_afternoon_and_ending_days_later(agenda):
    agenda.create_plage(**agenda.weekly(weekdays=[0, 1, 2], first_date=date(2027, 3, 1), end_time=time(17, 0)))
    services.create_absence(
        as_agent(agenda.agent, agenda.organisation),
        agenda.agent,
        agenda.absence_data(
            first_date=date(2027, 3, 1), start_time=time(14, 0), end_date=date(2027, 3, 3), end_time=time(10, 0)
        ),
    )
    found = starts(agenda.motif, date(2027, 3, 1), date(2027, 3, 3))
    assert found[date(2027, 3, 1)][-1] == "13:30"
    assert date(2027, 3, 2) not in found
    assert found[date(2027, 3, 3)][0] == "10:00"


@pytest.mark.django_db
def test_a_recurring_absence_removes_the_slots_of_each_occurrence(agenda):
    agenda.create_plage(**agenda.weekly())
    services.create_absence(
        as_agent(agenda.agent, agenda.organisation),
        agenda.agent,
        agenda.absence_data(recurrence="weekly", recurrence_interval=2, start_time=time(9, 0), end_time=time(12, 0)),
    )
    found = starts(agenda.motif, TUESDAY, TUESDAY + timedelta(weeks=3))
    assert sorted(found) == [TUESDAY + timedelta(weeks=1), TUESDAY + timedelta(weeks=3)]


@pytest.mark.django_db
def test_an_absence_entered_in_another_organisation_blocks_the_agent_everywhere(agenda):
    agenda.create_plage()
    other = agenda.world.other_organisation
    factories.AgentRoleFactory(agent=agenda.agent, organisation=other)
    services.create_absence(as_agent(agenda.agent, other), agenda.agent, agenda.absence_data(whole_day=True))
    assert starts(agenda.motif, TUESDAY) == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        ({"title": " "}, "title_required", "Donnez un titre"),
        ({"first_date": None}, "first_date_required", "date de début de l'absence"),
        ({"start_time": None}, "start_time_required", "journée entière"),
        ({"end_time": time(10, 0)}, "end_before_start", "doit être après son début"),
        ({"end_date": date(2027, 3, 1)}, "end_before_start", "(01/03/2027 11:00) doit être après son début"),
        (
            {"recurrence": "weekly", "end_date": TUESDAY + timedelta(days=7)},
            "recurring_absence_too_long",
            "au plus 7 jours",
        ),
        ({"recurrence": "weekly", "until": date(2027, 1, 1)}, "until_before_first_date", "doit être le 02/03/2027"),
        ({"recurrence": "monthly", "recurrence_interval": 0}, "recurrence_interval_range", "1 à 12 mois"),
        ({"first_date": date(1, 1, 1)}, "first_date_out_of_range", "entre 1900 et 2200"),
        ({"end_date": date(9999, 12, 31)}, "end_date_out_of_range", "entre 1900 et 2200"),
        ({"recurrence": "weekly", "until": date(2201, 1, 1)}, "until_out_of_range", "entre 1900 et 2200"),
    ],
)
def test_bad_absence_input_is_refused_in_french_and_saves_nothing(agenda, overrides, code, words):
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        services.create_absence(
            as_agent(agenda.agent, agenda.organisation), agenda.agent, agenda.absence_data(**overrides)
        )
    assert caught.value.code == code
    assert words in caught.value.message
    assert agenda_state() == before


@pytest.mark.django_db
def test_absences_are_updated_and_deleted_with_an_audit_trail(agenda):
    absence = services.create_absence(as_agent(agenda.agent, agenda.organisation), agenda.agent, agenda.absence_data())
    changes = services.update_absence(as_agent(agenda.agent, absence), absence, agenda.absence_data(title="Formation"))
    assert changes == {"title": ["Congés", "Formation"]}
    assert (
        services.update_absence(as_agent(agenda.agent, absence), absence, agenda.absence_data(title="Formation")) == {}
    )
    services.delete_absence(as_agent(agenda.agent, absence), absence)
    assert not Absence.objects.exists()
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == [
        "absence.created",
        "absence.updated",
        "absence.deleted",
    ]


# Public holidays -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_plage_on_the_fourteenth_of_july_gives_no_slot(agenda):
    agenda.create_plage(**agenda.weekly(weekdays=[1, 2, 3], first_date=date(2027, 7, 13)))
    found = starts(agenda.motif, date(2027, 7, 13), date(2027, 7, 15))
    assert sorted(found) == [date(2027, 7, 13), date(2027, 7, 15)]


@pytest.mark.django_db
def test_alsace_moselle_has_its_own_holidays(agenda):
    # 26 December 2027 is a Sunday: use Good Friday, 26 March 2027, a holiday in Moselle only.
    agenda.create_plage(first_date=date(2027, 3, 26))
    assert starts(agenda.motif, date(2027, 3, 26))
    assert starts(agenda.motif, date(2027, 3, 26), holiday_zone="57") == {}


def test_the_holiday_zone_is_the_espace_setting_else_follows_the_departement():
    class Espace:
        def __init__(self, number, zone=""):
            self.departement_number = number
            self.holiday_zone = zone

    assert holiday_zone(Espace("26")) == ""
    assert holiday_zone(Espace("57")) == "57"
    assert holiday_zone(Espace("67")) == "6AE"
    assert holiday_zone(Espace("974")) == "974"
    assert holiday_zone(Espace("")) == ""
    assert holiday_zone(Espace("26", zone="974")) == "974"
    assert holiday_zone(Espace("26", zone="inconnue")) == ""


# Lieux -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lieu_is_created_with_a_normalised_phone(agenda):
    lieu = services.create_lieu(
        as_agent(agenda.world.organisation_admin, agenda.organisation),
        {"name": " Mairie ", "address": "1 place de la Mairie", "phone": "04 75 12 34 56", "is_open": True},
    )
    assert (lieu.name, lieu.phone) == ("Mairie", "+33475123456")
    assert services.lieu_phone_display(lieu) == "04 75 12 34 56"
    assert AuditLog.objects.filter(action="lieu.created", organisation=agenda.organisation).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        ({"name": ""}, "name_required", "Le nom du lieu est obligatoire."),
        ({"address": "  "}, "address_required", "L'adresse du lieu est obligatoire."),
        ({"phone": "12"}, "phone_invalid", "Saisissez un numéro de téléphone valide"),
        ({"name": "MAISON DES SOLIDARITÉS"}, "lieu_name_taken", "Un lieu s'appelle déjà"),
        ({"name": "x" * 201}, "name_too_long", "Le nom ne doit pas dépasser 200 caractères."),
    ],
)
def test_bad_lieu_input_is_refused_in_french_and_saves_nothing(agenda, data, code, message):
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        services.create_lieu(
            as_agent(agenda.world.organisation_admin, agenda.organisation),
            {"name": "Nouveau", "address": "2 rue Neuve", "phone": "", **data},
        )
    assert caught.value.code == code
    assert caught.value.message.startswith(message)
    assert agenda_state() == before


@pytest.mark.django_db
def test_a_lieu_name_is_free_in_another_organisation(agenda):
    lieu = services.create_lieu(
        as_agent(None, agenda.world.other_organisation),
        {"name": "Maison des solidarités", "address": "3 rue Haute"},
    )
    assert lieu.organisation == agenda.world.other_organisation


@pytest.mark.django_db
def test_a_lieu_with_running_plages_cannot_be_archived(agenda):
    agenda.create_plage(**agenda.weekly())
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        services.archive_lieu(as_agent(agenda.world.organisation_admin, agenda.lieu), agenda.lieu, now=NOW)
    assert caught.value.message.startswith("Ce lieu est utilisé par 1 plage d'ouverture en cours")
    assert agenda_state() == before


@pytest.mark.django_db
def test_archive_and_restore_a_lieu(agenda):
    agenda.create_plage(first_date=date(2026, 3, 3))  # over
    services.archive_lieu(as_agent(agenda.world.organisation_admin, agenda.lieu), agenda.lieu, now=NOW)
    assert Lieu.objects.active().filter(pk=agenda.lieu.pk).count() == 0
    # Its name is free again; restoring then clashes.
    services.create_lieu(
        as_agent(agenda.world.organisation_admin, agenda.organisation),
        {"name": "Maison des solidarités", "address": "4 rue"},
    )
    with pytest.raises(DomainError) as caught:
        services.restore_lieu(as_agent(agenda.world.organisation_admin, agenda.lieu), agenda.lieu)
    assert caught.value.code == "lieu_name_taken"
    Lieu.objects.filter(address="4 rue").update(name="Autre nom")
    services.restore_lieu(as_agent(agenda.world.organisation_admin, agenda.lieu), agenda.lieu)
    agenda.lieu.refresh_from_db()
    assert agenda.lieu.archived_at is None
    assert list(
        AuditLog.objects.filter(object_id=str(agenda.lieu.pk), object_type="agendas.Lieu")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["lieu.archived", "lieu.restored"]


@pytest.mark.django_db
def test_updating_a_lieu_records_only_what_changed(agenda):
    changes = services.update_lieu(
        as_agent(agenda.world.organisation_admin, agenda.lieu),
        agenda.lieu,
        {"name": agenda.lieu.name, "address": agenda.lieu.address, "phone": "", "is_open": False},
    )
    assert changes == {"is_open": [True, False]}
    assert (
        services.update_lieu(
            as_agent(agenda.world.organisation_admin, agenda.lieu),
            agenda.lieu,
            {"name": agenda.lieu.name, "address": agenda.lieu.address, "phone": "", "is_open": False},
        )
        == {}
    )
