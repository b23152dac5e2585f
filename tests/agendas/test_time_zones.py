"""Every wall-clock value of an espace is in its time zone: plages, absences, holidays, the booking
form, the RDV pages, the agenda, the CSV export, e-mails. Storage stays UTC.

Three espaces: the Drôme (Europe/Paris), La Réunion (Indian/Reunion, UTC+4, no DST) and Guyane
(America/Cayenne, UTC−3, no DST), on both sides of the Paris DST change of Sunday 28 March 2027.
"""

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from rdv.accounts.models import AccessLevel
from rdv.agendas import services as agenda_services
from rdv.agendas.calendar import holiday_zone
from rdv.bookings import services as booking_services
from rdv.bookings.availability import find_slots
from rdv.bookings.models import Rdv
from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.territories import services as territory_services
from rdv.territories.models import TimeZone, WaitingRoomNotification
from tests import factories
from tests.helpers import as_agent, deliver_emails, log_in, page_text

PARIS, REUNION, CAYENNE = ZoneInfo("Europe/Paris"), ZoneInfo("Indian/Reunion"), ZoneInfo("America/Cayenne")
BEFORE_DST = date(2027, 3, 23)  # a Tuesday, Paris at UTC+1
AFTER_DST = date(2027, 3, 30)  # a Tuesday, Paris at UTC+2
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def espace(name: str, departement: str):
    territory = territory_services.create_territory(Context.operator(), name, departement)
    organisation = factories.OrganisationFactory(territory=territory, name=f"MDS {name}")
    service = factories.ServiceFactory(name="Service social")
    factories.TerritoryServiceFactory(territory=territory, service=service)
    agent = factories.AgentFactory(email=f"agent-{departement}@exemple.fr")
    factories.AgentRoleFactory(agent=agent, organisation=organisation, access_level=AccessLevel.ADMIN)
    factories.AgentServiceFactory(agent=agent, territory=territory, service=service)
    lieu = factories.LieuFactory(organisation=organisation)
    motif = factories.MotifFactory(organisation=organisation, service=service, name="Accueil")
    return territory, organisation, agent, lieu, motif


def weekly_plage(organisation, agent, lieu, motif, start=time(9), end=time(12), first=BEFORE_DST):
    return agenda_services.create_plage(
        as_agent(agent, organisation),
        agent,
        {
            "lieu": lieu,
            "motifs": [motif],
            "first_date": first,
            "start_time": start,
            "end_time": end,
            "recurrence": "weekly",
            "recurrence_weekdays": [first.weekday()],
        },
    )


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def espaces(db, now):
    return {
        "drome": espace("Drôme", "26"),
        "reunion": espace("La Réunion", "974"),
        "guyane": espace("Guyane", "973"),
    }


def test_an_espace_takes_the_time_zone_of_its_departement_unless_the_operator_chooses(db):
    operator = Context.operator()
    assert territory_services.create_territory(operator, "Drôme", "26").time_zone == TimeZone.PARIS
    assert territory_services.create_territory(operator, "Réunion", "974").zone == REUNION
    assert territory_services.create_territory(operator, "Guyane", "973").zone == CAYENNE
    assert territory_services.create_territory(operator, "Sans numéro").time_zone == TimeZone.PARIS
    chosen = territory_services.create_territory(operator, "Réseau national", "", "Pacific/Noumea")
    assert chosen.time_zone == "Pacific/Noumea"
    with pytest.raises(DomainError) as caught:
        territory_services.create_territory(operator, "Ailleurs", "", "Mars/Olympus")
    assert caught.value.code == "time_zone_invalid"


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        # 09:00 local: Paris moves from UTC+1 to UTC+2; La Réunion (UTC+4) and Guyane (UTC−3) do not.
        ("drome", utc(BEFORE_DST, 8), utc(AFTER_DST, 7)),
        ("reunion", utc(BEFORE_DST, 5), utc(AFTER_DST, 5)),
        ("guyane", utc(BEFORE_DST, 12), utc(AFTER_DST, 12)),
    ],
)
def test_a_plage_typed_at_nine_offers_slots_at_nine_in_its_espace(espaces, name, before, after):
    territory, organisation, agent, lieu, motif = espaces[name]
    weekly_plage(organisation, agent, lieu, motif)
    slots = find_slots([motif], BEFORE_DST, AFTER_DST)[motif.pk]
    starts = [slot.start for slot in slots]
    assert starts[0] == before
    assert before + timedelta(minutes=30) in starts
    assert after in starts
    assert all(time(9) <= s.astimezone(territory.zone).time() < time(12) for s in starts)


def test_a_holiday_closes_the_whole_local_day_of_the_espace(espaces):
    # 20 December 2027 is a public holiday in La Réunion only (abolition de l'esclavage).
    for name in ("reunion", "drome"):
        territory, organisation, agent, lieu, motif = espaces[name]
        monday = date(2027, 12, 20)
        # 00:00–03:00 local: in La Réunion, 19 December 20:00 – 23:00 UTC.
        weekly_plage(organisation, agent, lieu, motif, start=time(0), end=time(3), first=monday)
        slots = find_slots([motif], monday, monday, holiday_zone=holiday_zone(territory))
        if name == "reunion":
            assert slots[motif.pk] == []
        else:
            assert slots[motif.pk][0].start == datetime(2027, 12, 19, 23, 0, tzinfo=UTC)


def test_an_agent_of_two_espaces_cannot_be_in_both_at_once(espaces):
    _, paris_org, paris_agent, paris_lieu, paris_motif = espaces["drome"]
    reunion, reunion_org, _, reunion_lieu, reunion_motif = espaces["reunion"]
    factories.AgentRoleFactory(agent=paris_agent, organisation=reunion_org, access_level=AccessLevel.ADMIN)
    factories.AgentServiceFactory(agent=paris_agent, territory=reunion, service=reunion_motif.service)
    # 06:00–09:00 in Paris (winter) is 09:00–12:00 in La Réunion: the same hours of the agent.
    weekly_plage(paris_org, paris_agent, paris_lieu, paris_motif, start=time(6), end=time(9))
    with pytest.raises(DomainError) as caught:
        weekly_plage(reunion_org, paris_agent, reunion_lieu, reunion_motif)
    assert caught.value.code == "plage_overlap"
    assert "09:00" in caught.value.message or "06:00" in caught.value.message
    # 13:00–16:00 in La Réunion (10:00–13:00 in Paris): free; an absence typed in Paris blocks it.
    weekly_plage(reunion_org, paris_agent, reunion_lieu, reunion_motif, start=time(13), end=time(16))
    agenda_services.create_absence(
        as_agent(paris_agent, paris_org),
        paris_agent,
        {
            "title": "Réunion",
            "first_date": BEFORE_DST,
            "start_time": time(10, 30),
            "end_date": BEFORE_DST,
            "end_time": time(11),
        },
    )
    starts = {s.start for s in find_slots([reunion_motif], BEFORE_DST, BEFORE_DST)[reunion_motif.pk]}
    assert utc(BEFORE_DST, 9) in starts  # 13:00 in La Réunion, 10:00 in Paris
    assert utc(BEFORE_DST, 9, 30) not in starts  # 13:30 = 10:30 in Paris: absent
    assert utc(BEFORE_DST, 10) in starts  # 14:00 = 11:00 in Paris: back


def test_the_booking_form_pages_and_export_speak_the_espace_s_time(espaces):
    territory, organisation, agent, lieu, motif = espaces["reunion"]
    weekly_plage(organisation, agent, lieu, motif)
    usager = factories.UsagerFactory(territory=territory, last_name="Payet", organisations=[organisation])
    client = log_in(Client(), agent)
    response = client.post(
        reverse("rdv_create", args=[organisation.pk]),
        {
            "motif": motif.pk,
            "date": BEFORE_DST.isoformat(),
            "heure": "09:00",
            "lieu": lieu.pk,
            "agents": [agent.pk],
            "usagers": [usager.pk],
        },
    )
    assert response.status_code == 302, page_text(response)
    rdv = Rdv.objects.get()
    assert rdv.starts_at == utc(BEFORE_DST, 5)  # 09:00 in La Réunion
    detail = page_text(client.get(reverse("rdv_detail", args=[organisation.pk, rdv.pk])))
    assert "09:00" in detail and "05:00" not in detail
    agenda = page_text(
        client.get(reverse("agenda", args=[organisation.pk]), {"vue": "jour", "date": BEFORE_DST.isoformat()})
    )
    assert "09:00–09:30" in agenda
    export = client.get(reverse("rdv_list", args=[organisation.pk]), {"format": "csv", "du": BEFORE_DST.isoformat()})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode().lstrip("\ufeff")), delimiter=";"))
    assert rows[1][:3] == ["23/03/2027", "09:00", "09:30"]
    week = page_text(
        client.get(reverse("agenda_week", args=[organisation.pk, agent.pk]), {"date": BEFORE_DST.isoformat()})
    )
    assert "09:00" in week


def test_an_rdv_late_in_the_local_evening_stays_on_its_local_day(espaces):
    territory, organisation, agent, lieu, motif = espaces["guyane"]
    # 22:00 in Guyane is 01:00 UTC the next day.
    weekly_plage(organisation, agent, lieu, motif, start=time(21), end=time(23))
    rdv = booking_services.book_rdv(
        as_agent(agent, organisation),
        booking_services.BookingRequest(
            motif=motif,
            starts_at=datetime.combine(BEFORE_DST, time(22), tzinfo=CAYENNE),
            agents=[agent],
            lieu=lieu,
            usagers=[factories.UsagerFactory(territory=territory, organisations=[organisation])],
        ),
    )
    assert rdv.starts_at == utc(BEFORE_DST + timedelta(days=1), 1)
    client = log_in(Client(), agent)
    listing = page_text(
        client.get(
            reverse("rdv_list", args=[organisation.pk]), {"du": BEFORE_DST.isoformat(), "au": BEFORE_DST.isoformat()}
        )
    )
    assert "22:00" in listing
    assert "Aucun rendez-vous" not in listing


def test_the_waiting_room_day_and_e_mail_are_in_the_espace_s_time(espaces, settings):
    territory, organisation, agent, lieu, motif = espaces["reunion"]
    territory.waiting_room_notification = WaitingRoomNotification.EMAIL
    territory.save()
    weekly_plage(organisation, agent, lieu, motif, start=time(7), end=time(8), first=date(2027, 3, 2))
    usager = factories.UsagerFactory(territory=territory, organisations=[organisation])
    # Tuesday 2 March, 07:30 in La Réunion = 03:30 UTC; it is 06:00 there (02:00 UTC), Monday in Guyane.
    with time_machine.travel(utc(date(2027, 3, 2), 2), tick=False):
        rdv = booking_services.book_rdv(
            as_agent(agent, organisation),
            booking_services.BookingRequest(
                motif=motif,
                starts_at=datetime(2027, 3, 2, 7, 30, tzinfo=REUNION),
                agents=[agent],
                usagers=[usager],
                lieu=lieu,
            ),
        )
        mail.outbox.clear()
        booking_services.mark_arrived(as_agent(agent, organisation), rdv)  # today in La Réunion
        (message,) = deliver_emails()
    assert "07:30" in message.subject


def test_the_espace_settings_say_which_time_zone_applies(espaces):
    territory = espaces["reunion"][0]
    admin = factories.AgentFactory(email="admin-974@exemple.fr")
    factories.TerritoryRoleFactory(agent=admin, territory=territory)
    text = page_text(log_in(Client(), admin).get(reverse("espace_settings", args=[territory.pk])))
    assert "Fuseau horaire" in text and "La Réunion" in text


def test_the_time_grid_places_rdvs_at_the_espace_s_time(espaces):
    territory, organisation, agent, lieu, motif = espaces["reunion"]
    weekly_plage(organisation, agent, lieu, motif)
    booking_services.book_rdv(
        as_agent(agent, organisation),
        booking_services.BookingRequest(
            motif=motif,
            starts_at=datetime.combine(BEFORE_DST, time(9), tzinfo=REUNION),
            agents=[agent],
            lieu=lieu,
            usagers=[factories.UsagerFactory(territory=territory, last_name="Hoarau", organisations=[organisation])],
        ),
    )
    html = (
        log_in(Client(), agent)
        .get(reverse("agenda", args=[organisation.pk]), {"vue": "jour", "date": BEFORE_DST.isoformat()})
        .content.decode()
    )
    times = re.findall(r'agenda-grid__rdv-time">\s*([^<]+?)\s*<', html)
    assert times and times[0].startswith("09:00"), times
