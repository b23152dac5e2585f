"""Plages d'ouverture: validation, overlap detection, occurrence exceptions and "this and following"."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv.agendas import services
from rdv.agendas.models import PlageException, PlageOuverture
from rdv.bookings.availability import find_slots
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from tests import factories
from tests.agendas.conftest import NOW, TUESDAY, agenda_state
from tests.helpers import as_agent

PARIS = ZoneInfo("Europe/Paris")


def slot_starts(motif, day: date, agent=None) -> list[str]:
    """Local "HH:MM" starts of the motif's free slots on a day."""
    slots = find_slots([motif], day, day, now=NOW, agent_ids=[agent.pk] if agent else None)[motif.pk]
    return [slot.start.astimezone(PARIS).strftime("%H:%M") for slot in slots]


def refused(agenda, code: str, *, plage=None, **overrides) -> DomainError:
    """Create (or update `plage`) with bad data: assert the refusal and that nothing changed."""
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        if plage is None:
            agenda.create_plage(**overrides)
        else:
            services.update_plage(
                as_agent(agenda.world.organisation_admin, plage), plage, agenda.plage_data(**overrides)
            )
    assert caught.value.code == code
    assert agenda_state() == before
    return caught.value


# Validation --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_plage_is_created_with_its_motifs_and_audited(agenda):
    plage = agenda.create_plage(**agenda.weekly(weekdays=[1, 3]))
    assert plage.agent == agenda.agent
    assert list(plage.motifs.all()) == [agenda.motif]
    assert plage.recurrence_weekdays == [1, 3]
    entry = AuditLog.objects.get(action="plage.created")
    assert entry.organisation == agenda.organisation
    assert entry.actor == agenda.world.organisation_admin


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "code", "field", "words"),
    [
        ({"end_time": time(9, 0)}, "end_before_start", "end_time", "doit être après l'heure de début"),
        ({"end_time": time(8, 0)}, "end_before_start", "end_time", "doit être après l'heure de début"),
        ({"start_time": None}, "start_time_required", "start_time", "Indiquez l'heure de début"),
        ({"start_time": "25:99"}, "start_time_invalid", "start_time", "heure valide"),
        ({"first_date": None}, "first_date_required", "first_date", "date de la première occurrence"),
        ({"first_date": "2027-02-30"}, "first_date_invalid", "first_date", "date valide"),
        ({"lieu": None}, "lieu_required", "lieu", "Choisissez le lieu"),
        ({"motifs": []}, "motifs_required", "motifs", "au moins un motif"),
        ({"recurrence": "daily"}, "recurrence_invalid", "recurrence", "répétition dans la liste"),
        (
            {"recurrence": "weekly", "recurrence_interval": 0},
            "recurrence_interval_range",
            "recurrence_interval",
            "1 à 52",
        ),
        (
            {"recurrence": "weekly", "recurrence_interval": 53},
            "recurrence_interval_range",
            "recurrence_interval",
            "1 à 52",
        ),
        (
            {"recurrence": "weekly", "recurrence_interval": "deux"},
            "recurrence_interval_invalid",
            "recurrence_interval",
            "nombre entier",
        ),
        (
            {"recurrence": "monthly", "recurrence_interval": 13},
            "recurrence_interval_range",
            "recurrence_interval",
            "1 à 12",
        ),
        (
            {"recurrence": "weekly", "recurrence_weekdays": [7]},
            "recurrence_weekdays_invalid",
            "recurrence_weekdays",
            "jours de la semaine",
        ),
        (
            {"recurrence": "weekly", "until": date(2027, 3, 1)},
            "until_before_first_date",
            "until",
            "doit être le 02/03/2027 ou après",
        ),
        ({"title": "x" * 201}, "title_too_long", "title", "200 caractères"),
    ],
)
def test_bad_plage_input_is_refused_in_french_and_saves_nothing(agenda, overrides, code, field, words):
    error = refused(agenda, code, **overrides)
    assert error.field == field
    assert words in error.message


@pytest.mark.django_db
def test_lieu_of_another_organisation_is_refused(agenda, bob):
    error = refused(agenda, "lieu_invalid", lieu=factories.LieuFactory(organisation=agenda.world.other_organisation))
    assert error.message == "Ce lieu ne fait pas partie de l'organisation."
    refused(agenda, "lieu_invalid", lieu=factories.LieuFactory(organisation=bob.organisation))


@pytest.mark.django_db
def test_archived_or_closed_lieu_is_refused_for_a_new_plage(agenda):
    archived = factories.LieuFactory(organisation=agenda.organisation, name="Ancien site", archived_at=NOW)
    closed = factories.LieuFactory(organisation=agenda.organisation, name="Annexe", is_open=False)
    assert "« Ancien site » est archivé" in refused(agenda, "lieu_archived", lieu=archived).message
    assert "« Annexe » est fermé au public" in refused(agenda, "lieu_closed", lieu=closed).message


@pytest.mark.django_db
def test_a_plage_keeps_its_lieu_after_the_lieu_closes(agenda):
    plage = agenda.create_plage()
    agenda.lieu.is_open = False
    agenda.lieu.save()
    changes = services.update_plage(
        as_agent(agenda.world.organisation_admin, plage), plage, agenda.plage_data(title="Accueil")
    )
    assert changes["title"] == ["Permanence", "Accueil"]


@pytest.mark.django_db
def test_motif_of_another_organisation_is_refused(agenda):
    foreign = factories.MotifFactory(organisation=agenda.world.other_organisation, service=agenda.world.service)
    error = refused(agenda, "motif_invalid", motifs=[foreign])
    assert error.message == "Ce motif ne fait pas partie de l'organisation."


@pytest.mark.django_db
def test_archived_motif_is_refused(agenda):
    archived = factories.MotifFactory(
        organisation=agenda.organisation, service=agenda.world.service, name="Ancien motif", archived_at=NOW
    )
    error = refused(agenda, "motif_archived", motifs=[agenda.motif, archived])
    assert error.message == "Le motif « Ancien motif » est archivé : retirez-le de la plage."


@pytest.mark.django_db
def test_motif_of_a_service_the_agent_does_not_have_is_refused(agenda):
    pmi = factories.ServiceFactory(name="PMI")
    motif = factories.MotifFactory(organisation=agenda.organisation, service=pmi, name="Consultation")
    error = refused(agenda, "motif_service", motifs=[motif])
    assert error.message == f"Le motif « Consultation » relève d'un service auquel {agenda.agent} n'appartient pas."


@pytest.mark.django_db
def test_secretariat_agents_may_use_motifs_open_to_the_secretariat(agenda):
    secretariat = factories.ServiceFactory(name="Secrétariat", is_secretariat=True)
    agent = factories.AgentFactory()
    factories.AgentRoleFactory(agent=agent, organisation=agenda.organisation)
    factories.AgentServiceFactory(agent=agent, territory=agenda.world.territory, service=secretariat)
    open_motif = factories.MotifFactory(
        organisation=agenda.organisation, service=agenda.world.service, name="Accueil", for_secretariat=True
    )
    plage = agenda.create_plage(agent=agent, motifs=[open_motif])
    assert list(plage.motifs.all()) == [open_motif]
    with pytest.raises(DomainError) as caught:
        agenda.create_plage(agent=agent, motifs=[agenda.motif], first_date=date(2027, 3, 3))
    assert caught.value.code == "motif_service"


@pytest.mark.django_db
def test_agent_outside_the_organisation_cannot_get_a_plage(agenda, bob):
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        agenda.create_plage(agent=bob.agent)
    assert caught.value.code == "forbidden"  # no agenda of this organisation to manage
    assert agenda_state() == before


@pytest.mark.django_db
def test_weekly_recurrence_without_weekday_takes_the_first_date_weekday(agenda):
    plage = agenda.create_plage(**agenda.weekly(weekdays=[]))
    assert plage.recurrence_weekdays == [TUESDAY.weekday()]


@pytest.mark.django_db
def test_a_one_off_plage_ignores_recurrence_details(agenda):
    plage = agenda.create_plage(
        recurrence="none", recurrence_interval=9, recurrence_weekdays=[4], until=date(2027, 9, 1)
    )
    assert (plage.recurrence_interval, plage.recurrence_weekdays, plage.until) == (1, [], None)


# Overlaps ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_weekly_plages_on_other_weekdays_do_not_overlap(agenda):
    agenda.create_plage(**agenda.weekly(weekdays=[0, 2]))  # Monday, Wednesday
    agenda.create_plage(**agenda.weekly(weekdays=[1, 3], title="Mardi et jeudi"))
    assert PlageOuverture.objects.count() == 2  # both stored


@pytest.mark.django_db
def test_touching_plages_do_not_overlap(agenda):
    agenda.create_plage(**agenda.weekly())
    agenda.create_plage(**agenda.weekly(start_time=time(12, 0), end_time=time(14, 0), title="Midi"))
    assert sorted(PlageOuverture.objects.values_list("start_time", "end_time")) == [
        (time(9), time(12)),
        (time(12), time(14)),
    ]


@pytest.mark.django_db
def test_same_weekday_overlapping_hours_are_refused_naming_the_clash(agenda):
    agenda.create_plage(**agenda.weekly(title="Permanence du mardi", first_date=date(2027, 3, 9)))
    error = refused(
        agenda, "plage_overlap", **agenda.weekly(title="Autre", start_time=time(11, 0), end_time=time(13, 0))
    )
    assert error.message.startswith(
        "Cette plage chevauche la plage « Permanence du mardi » du mardi 9 mars 2027 09:00–12:00 "
        "à Maison des solidarités."
    )


@pytest.mark.django_db
def test_an_untitled_plage_is_named_by_its_motifs_in_the_clash_message(agenda):
    agenda.create_plage(title="", motifs=[agenda.motif, agenda.long_motif])
    error = refused(agenda, "plage_overlap", title="", start_time=time(10, 0), end_time=time(10, 30))
    assert "« Entretien budget, Premier accueil » du mardi 2 mars 2027 09:00–12:00" in error.message


@pytest.mark.django_db
def test_every_two_weeks_on_alternate_weeks_do_not_overlap(agenda):
    agenda.create_plage(**agenda.weekly(recurrence_interval=2, title="Semaines paires"))
    agenda.create_plage(
        **agenda.weekly(recurrence_interval=2, first_date=TUESDAY + timedelta(weeks=1), title="Semaines impaires")
    )
    assert PlageOuverture.objects.count() == 2  # both stored
    # …but a weekly one clashes with both, first on the first Tuesday.
    error = refused(agenda, "plage_overlap", **agenda.weekly(title="Toutes"))
    assert "« Semaines paires » du mardi 2 mars 2027" in error.message


@pytest.mark.django_db
def test_monthly_plage_clashing_with_a_weekly_one_is_refused(agenda):
    # Every other Tuesday from 2 March: 2, 16, 30 March, 13, 27 April, 11 May…
    agenda.create_plage(**agenda.weekly(recurrence_interval=2, title="Un mardi sur deux"))
    # The 2nd Tuesday of each month from 9 March: 9 March, 13 April (a clash), 11 May…
    error = refused(
        agenda,
        "plage_overlap",
        recurrence="monthly",
        first_date=date(2027, 3, 9),
        start_time=time(11, 30),
        end_time=time(12, 30),
        title="Mensuelle",
    )
    assert "« Un mardi sur deux » du mardi 13 avril 2027 09:00–12:00" in error.message


@pytest.mark.django_db
def test_monthly_plage_on_weeks_without_the_weekly_one_is_accepted(agenda):
    agenda.create_plage(**agenda.weekly(until=date(2027, 3, 31), title="Mars"))
    agenda.create_plage(recurrence="monthly", first_date=date(2027, 4, 13), title="Mensuelle")
    assert PlageOuverture.objects.count() == 2  # both stored


@pytest.mark.django_db
def test_plages_in_another_organisation_count_for_the_overlap(agenda):
    other = agenda.world.other_organisation
    factories.AgentRoleFactory(agent=agenda.agent, organisation=other)
    motif = factories.MotifFactory(organisation=other, service=agenda.world.service)
    lieu = factories.LieuFactory(organisation=other, name="Antenne Sud")
    agenda.create_plage(organisation=other, lieu=lieu, motifs=[motif], title="Ailleurs")
    error = refused(agenda, "plage_overlap")
    assert f"« Ailleurs » du mardi 2 mars 2027 09:00–12:00 à Antenne Sud ({other.name})" in error.message


@pytest.mark.django_db
def test_plages_of_other_agents_never_clash(agenda):
    agenda.create_plage()
    agenda.create_plage(agent=agenda.world.organisation_admin)
    assert PlageOuverture.objects.count() == 2  # both stored


@pytest.mark.django_db
def test_a_cancelled_occurrence_leaves_room_for_another_plage(agenda):
    weekly = agenda.create_plage(**agenda.weekly())
    services.cancel_plage_occurrence(as_agent(agenda.world.organisation_admin, weekly), weekly, TUESDAY)
    agenda.create_plage(title="Remplacement")
    assert PlageOuverture.objects.count() == 2  # both stored


@pytest.mark.django_db
def test_changing_a_series_into_a_clash_is_refused(agenda):
    agenda.create_plage(**agenda.weekly(weekdays=[3], title="Jeudi"))
    plage = agenda.create_plage(**agenda.weekly(weekdays=[1]))
    error = refused(agenda, "plage_overlap", plage=plage, **agenda.weekly(weekdays=[1, 3]))
    assert "« Jeudi » du jeudi 4 mars 2027" in error.message


@pytest.mark.django_db
def test_an_open_ended_series_is_compared_with_a_later_one(agenda):
    agenda.create_plage(**agenda.weekly(first_date=date(2027, 1, 5), title="Depuis janvier"))
    error = refused(agenda, "plage_overlap", first_date=date(2028, 6, 6), title="L'an prochain")
    assert "du mardi 6 juin 2028" in error.message


# Occurrence exceptions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_one_occurrence_removes_its_slots_only(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    next_week = TUESDAY + timedelta(weeks=1)
    assert slot_starts(agenda.motif, TUESDAY)[:2] == ["09:00", "09:30"]

    services.cancel_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)

    assert slot_starts(agenda.motif, TUESDAY) == []
    assert slot_starts(agenda.motif, next_week) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert slot_starts(agenda.motif, TUESDAY - timedelta(weeks=1)) == []  # before the first date
    plage.refresh_from_db()
    assert (plage.first_date, plage.until, plage.start_time) == (TUESDAY, None, time(9, 0))
    assert AuditLog.objects.filter(action="plage.occurrence_cancelled").count() == 1


@pytest.mark.django_db
def test_a_date_outside_the_series_cannot_be_cancelled(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        services.cancel_plage_occurrence(
            as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY + timedelta(days=1)
        )
    assert caught.value.message == "La plage n'a pas d'occurrence le mercredi 3 mars 2027."
    assert agenda_state() == before


@pytest.mark.django_db
def test_moving_one_occurrence_changes_that_day_only(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    services.move_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY, "14:00", "15:00")
    assert slot_starts(agenda.motif, TUESDAY) == ["14:00", "14:30"]
    assert slot_starts(agenda.motif, TUESDAY + timedelta(weeks=1))[0] == "09:00"
    exception = PlageException.objects.get(plage=plage)
    assert (exception.date, exception.cancelled, exception.start_time) == (TUESDAY, False, time(14, 0))

    # Back to the series' hours: the exception goes away.
    services.move_plage_occurrence(
        as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY, time(9, 0), time(12, 0)
    )
    assert not PlageException.objects.exists()


@pytest.mark.django_db
def test_moving_an_occurrence_onto_another_plage_is_refused(agenda):
    agenda.create_plage(start_time=time(14, 0), end_time=time(16, 0), title="Après-midi")
    plage = agenda.create_plage(**agenda.weekly(title="Matin"))
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        services.move_plage_occurrence(
            as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY, "11:00", "15:00"
        )
    assert "« Après-midi » du mardi 2 mars 2027 14:00–16:00" in caught.value.message
    with pytest.raises(DomainError) as caught:
        services.move_plage_occurrence(
            as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY, "11:00", "10:00"
        )
    assert caught.value.code == "end_before_start"
    assert agenda_state() == before


@pytest.mark.django_db
def test_restoring_an_occurrence_brings_its_slots_back(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    services.cancel_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)
    services.restore_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)
    assert slot_starts(agenda.motif, TUESDAY)[0] == "09:00"
    with pytest.raises(DomainError) as caught:
        services.restore_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)
    assert caught.value.code == "no_exception"


@pytest.mark.django_db
def test_restoring_an_occurrence_that_now_clashes_is_refused(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    services.cancel_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)
    agenda.create_plage(title="Remplacement", start_time=time(10, 0), end_time=time(11, 0))
    with pytest.raises(DomainError) as caught:
        services.restore_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)
    assert "« Remplacement »" in caught.value.message
    assert PlageException.objects.get(plage=plage).cancelled


# Whole series, this and following, end, delete ---------------------------------------------------


@pytest.mark.django_db
def test_updating_the_series_keeps_exceptions_of_remaining_dates(agenda):
    plage = agenda.create_plage(**agenda.weekly(weekdays=[1, 3]))
    services.cancel_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)
    services.cancel_plage_occurrence(
        as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY + timedelta(days=2)
    )
    changes = services.update_plage(
        as_agent(agenda.world.organisation_admin, plage), plage, agenda.weekly(weekdays=[1], start_time=time(8, 0))
    )
    assert changes["start_time"] == [time(9, 0), time(8, 0)]
    assert list(PlageException.objects.values_list("date", flat=True)) == [TUESDAY]  # Thursday's went away
    assert slot_starts(agenda.motif, TUESDAY + timedelta(weeks=1))[0] == "08:00"


@pytest.mark.django_db
def test_this_and_following_splits_the_series(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    split_day = TUESDAY + timedelta(weeks=2)
    services.cancel_plage_occurrence(
        as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY + timedelta(weeks=1)
    )
    services.cancel_plage_occurrence(
        as_agent(agenda.world.organisation_admin, plage), plage, split_day + timedelta(weeks=1)
    )

    new_plage = services.update_plage_from(
        as_agent(agenda.world.organisation_admin, plage),
        plage,
        split_day,
        agenda.weekly(
            start_time=time(14, 0), end_time=time(15, 0), lieu=agenda.other_lieu, first_date=date(2030, 1, 1)
        ),
    )

    plage.refresh_from_db()
    assert plage.until == split_day - timedelta(days=1)
    assert (new_plage.first_date, new_plage.until, new_plage.lieu) == (split_day, None, agenda.other_lieu)
    assert list(plage.exceptions.values_list("date", flat=True)) == [TUESDAY + timedelta(weeks=1)]
    assert not new_plage.exceptions.exists()
    assert slot_starts(agenda.motif, TUESDAY)[0] == "09:00"
    assert slot_starts(agenda.motif, TUESDAY + timedelta(weeks=1)) == []
    assert slot_starts(agenda.motif, split_day) == ["14:00", "14:30"]
    assert slot_starts(agenda.motif, split_day + timedelta(weeks=5)) == ["14:00", "14:30"]
    assert set(AuditLog.objects.values_list("action", flat=True)) >= {"plage.split", "plage.created"}


@pytest.mark.django_db
def test_this_and_following_from_the_first_occurrence_changes_the_whole_series(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    result = services.update_plage_from(
        as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY, agenda.weekly(start_time=time(8, 0))
    )
    assert result == plage
    assert PlageOuverture.objects.count() == 1
    plage.refresh_from_db()
    assert plage.start_time == time(8, 0)


@pytest.mark.django_db
def test_a_refused_split_changes_nothing(agenda):
    agenda.create_plage(title="Jeudi", **{"first_date": date(2027, 3, 18), "start_time": time(9, 0)})
    plage = agenda.create_plage(**agenda.weekly())
    before = agenda_state()
    with pytest.raises(DomainError) as caught:
        services.update_plage_from(
            as_agent(agenda.world.organisation_admin, plage),
            plage,
            TUESDAY + timedelta(weeks=1),
            agenda.weekly(weekdays=[1, 3]),
        )
    assert caught.value.code == "plage_overlap"
    assert agenda_state() == before


@pytest.mark.django_db
def test_this_and_following_needs_a_recurring_plage_and_an_occurrence(agenda):
    one_off = agenda.create_plage()
    with pytest.raises(DomainError) as caught:
        services.update_plage_from(
            as_agent(agenda.world.organisation_admin, one_off), one_off, TUESDAY, agenda.plage_data()
        )
    assert caught.value.code == "not_recurring"
    weekly = agenda.create_plage(**agenda.weekly(weekdays=[3], title="Jeudi"))
    with pytest.raises(DomainError) as caught:
        services.update_plage_from(
            as_agent(agenda.world.organisation_admin, weekly), weekly, TUESDAY, agenda.weekly(weekdays=[3])
        )
    assert caught.value.code == "not_an_occurrence"


@pytest.mark.django_db
def test_ending_a_series_drops_later_occurrences(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    services.cancel_plage_occurrence(
        as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY + timedelta(weeks=3)
    )
    services.end_plage(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY + timedelta(weeks=1))
    assert slot_starts(agenda.motif, TUESDAY + timedelta(weeks=1))[0] == "09:00"
    assert slot_starts(agenda.motif, TUESDAY + timedelta(weeks=2)) == []
    assert not PlageException.objects.exists()
    with pytest.raises(DomainError) as caught:
        services.end_plage(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY - timedelta(days=1))
    assert caught.value.code == "until_before_first_date"


@pytest.mark.django_db
def test_deleting_a_plage_removes_its_slots_and_is_audited(agenda):
    plage = agenda.create_plage(**agenda.weekly())
    services.cancel_plage_occurrence(as_agent(agenda.world.organisation_admin, plage), plage, TUESDAY)
    services.delete_plage(as_agent(agenda.world.organisation_admin, plage), plage)
    assert not PlageOuverture.objects.exists()
    assert not PlageException.objects.exists()
    assert slot_starts(agenda.motif, TUESDAY + timedelta(weeks=1)) == []
    assert AuditLog.objects.filter(action="plage.deleted").exists()


@pytest.mark.django_db
def test_plages_of_a_closed_lieu_give_no_slot(agenda):
    agenda.create_plage()
    agenda.lieu.is_open = False
    agenda.lieu.save()
    assert slot_starts(agenda.motif, TUESDAY) == []


@pytest.mark.django_db
def test_plages_of_an_archived_lieu_give_no_slot(agenda):
    agenda.create_plage()
    assert slot_starts(agenda.motif, TUESDAY) != []
    type(agenda.lieu).objects.filter(pk=agenda.lieu.pk).update(archived_at=NOW)  # whatever path archived it
    assert slot_starts(agenda.motif, TUESDAY) == []


@pytest.mark.django_db
def test_week_occurrences_keep_wall_clock_hours_across_the_dst_change(agenda):
    agenda.create_plage(**agenda.weekly(weekdays=[4], first_date=date(2027, 3, 26)))  # Fridays around 28 March
    before = find_slots([agenda.motif], date(2027, 3, 26), date(2027, 3, 26), now=NOW)[agenda.motif.pk][0]
    after = find_slots([agenda.motif], date(2027, 4, 2), date(2027, 4, 2), now=NOW)[agenda.motif.pk][0]
    assert before.start == datetime(2027, 3, 26, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert after.start == datetime(2027, 4, 2, 7, 0, tzinfo=UTC)  # 09:00 CEST


def test_a_monthly_plage_on_the_last_friday_gives_slots_on_last_fridays_only(agenda):
    from rdv.agendas.calendar import describe_recurrence

    plage = agenda.create_plage(
        first_date=date(2027, 1, 22),  # a 4th Friday, which is also the last one of January
        recurrence="monthly",
        recurrence_last_of_month=True,
        until=date(2027, 4, 30),
    )
    assert plage.recurrence_last_of_month is True
    assert describe_recurrence(plage).startswith("Tous les mois, le dernier vendredi")
    slots = find_slots([agenda.motif], date(2027, 1, 1), date(2027, 4, 30), now=NOW)[agenda.motif.pk]
    days = sorted({s.start.astimezone(ZoneInfo("Europe/Paris")).date() for s in slots})
    assert days == [date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26), date(2027, 4, 30)]


def test_the_last_of_month_flag_is_ignored_for_weekly_plages(agenda):
    plage = agenda.create_plage(**agenda.weekly(recurrence_last_of_month=True))
    assert plage.recurrence_last_of_month is False
