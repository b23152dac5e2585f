"""The manage link /r/<token>: three letters of the last name first (no enumeration, rate-limited),
then the RDV with « Annuler » and « Déplacer » within the espace's deadlines."""

import base64
import re
from datetime import time, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rdv.agendas.models import PlageOuverture
from rdv.bookings.models import Rdv, RdvStatus
from rdv.bookings.services import BookingRequest, book_rdv
from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.online import services
from rdv.online.models import ManageLink
from tests import factories
from tests.helpers import page_text
from tests.online.fixtures import MARKER, NOW, PERSON, THURSDAY, TUESDAY, at, build_online, last_code
from tests.www.public.test_booking_pages import book as book_through_pages

REFUSED = "Ces informations ne permettent pas d'ouvrir un rendez-vous."


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def online(db):
    return build_online()


def booked(online, start, holder_key="visiteur-1"):
    """(rdv, token) of a RDV booked online for Jeanne Dupont."""
    booking = online.hold(start, holder_key=holder_key)
    services.submit_details(booking, PERSON, holder_key=holder_key)
    booking = services.confirm_booking(booking, last_code(PERSON["email"]), holder_key=holder_key)
    return booking.rdv, booking.manage_token


def unlock(client, token, letters="dup"):
    return client.post(reverse("public:manage", args=[token]), {"lettres": letters})


def state(rdv):
    rdv.refresh_from_db()
    return rdv.status, rdv.starts_at, list(rdv.agent_links.values_list("agent_id", "starts_at", "blocks_agenda"))


# Opening the link ------------------------------------------------------------------------------------


def test_the_link_asks_three_letters_then_shows_the_rdv_without_contexte_or_agent(client, online):
    rdv, token = booked(online, at(THURSDAY, 10))
    Rdv.objects.filter(pk=rdv.pk).update(context=MARKER)
    url = reverse("public:manage", args=[token])
    page = page_text(client.get(url))
    assert "Les trois premières lettres du nom de famille" in page and "Accueil en ligne" not in page

    response = unlock(client, token, " DÛp ")
    assert response.url == url
    response = client.get(url)
    page = page_text(response)
    assert "jeudi 11 mars 2027 à 10 h 00" in page
    assert "Apportez votre <strong>pièce d'identité</strong>." in page
    assert "Annuler" in page and "Déplacer" in page
    for name in ("public:manage", "public:manage_cancel", "public:manage_move", "public:manage_ics"):
        body = client.get(reverse(name, args=[token])).content.decode()
        assert MARKER not in body
        assert "Agent1" not in body and "Agent2" not in body


def test_wrong_letters_and_unknown_or_revoked_tokens_get_the_same_answer(client, online):
    _rdv, token = booked(online, at(THURSDAY, 10))
    wrong = unlock(client, token, "mar")
    unknown = unlock(Client(), "jeton-inconnu-" + "x" * 30, "dup")
    ManageLink.objects.update(revoked_at=timezone.now())
    revoked = unlock(Client(), token, "dup")
    for response in (wrong, unknown, revoked):
        assert response.status_code == 200
        assert REFUSED in page_text(response)
        assert "Accueil en ligne" not in page_text(response)
    assert Client().get(reverse("public:manage", args=["jeton-inconnu"])).status_code == 200


def test_a_revoked_link_closes_an_opened_session_too(client, online):
    _rdv, token = booked(online, at(THURSDAY, 10))
    unlock(client, token)
    ManageLink.objects.update(revoked_at=timezone.now())
    page = page_text(client.get(reverse("public:manage", args=[token])))
    assert "Les trois premières lettres" in page and "Accueil en ligne" not in page
    assert client.get(reverse("public:manage_cancel", args=[token])).url == reverse("public:manage", args=[token])


def test_the_link_expires_thirty_days_after_the_rdv(client, online, frozen):
    rdv, token = booked(online, at(THURSDAY, 10))
    frozen.move_to(rdv.ends_at + timedelta(days=30) - timedelta(seconds=1))
    assert services.manage_link(token) is not None
    frozen.move_to(rdv.ends_at + timedelta(days=30))
    assert REFUSED in page_text(unlock(client, token))


def test_a_link_with_an_expiry_opens_until_that_instant_only(online, frozen):
    rdv, token = booked(online, at(THURSDAY, 10))
    ManageLink.objects.filter(rdv=rdv).update(expires_at=NOW + timedelta(hours=1))
    assert services.manage_link(token).rdv == rdv
    frozen.move_to(NOW + timedelta(hours=1))
    assert services.manage_link(token) is None


def test_the_manage_token_is_22_url_safe_characters_stored_hashed(online):
    """132 bits derived from a 32-byte random salt and the SECRET_KEY: unguessable, short enough for
    a one-segment SMS; the database holds its hash and the salt, never the token."""
    _rdv, token = booked(online, at(THURSDAY, 10))
    assert len(token) == 22 and re.fullmatch(r"[A-Za-z0-9_-]{22}", token)
    link = ManageLink.objects.get()
    assert len(base64.urlsafe_b64decode(link.token_salt + "=" * (-len(link.token_salt) % 4))) == 32
    assert token not in link.token_hash and token not in link.token_salt


def test_rate_limit_keys_tell_tokens_apart_without_holding_them():
    first, second = "premier-jeton-" * 3, "second-jeton-" * 3
    assert services.token_digest(first) != services.token_digest(second)
    assert first not in services.token_digest(first)


def test_only_who_may_change_the_rdv_revokes_its_link_and_it_is_audited(online):
    rdv, _token = booked(online, at(THURSDAY, 10))
    link = ManageLink.objects.get(rdv=rdv)
    with pytest.raises(DomainError):
        services.revoke_manage_link(Context.public(online.organisation), link)
    link.refresh_from_db()
    assert link.revoked_at is None
    services.revoke_manage_link(Context.system(online.territory, online.organisation), link)
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert AuditLog.objects.filter(action="rdv.manage_link_revoked").count() == 1


def test_letters_are_rate_limited_per_ip_and_token(client, online, settings):
    settings.PUBLIC_RATE_LIMITS = {"manage": (3, 600)}
    _rdv, token = booked(online, at(THURSDAY, 10))
    for _ in range(3):
        assert unlock(client, token, "zzz").status_code == 200
    response = unlock(client, token, "dup")
    assert response.status_code == 429 and "Retry-After" in response
    assert unlock(client, token, "dup").status_code == 429
    assert unlock(Client(REMOTE_ADDR="203.0.113.5"), token, "dup").status_code == 302  # another IP


def test_empty_letters_get_a_french_error(client, online):
    _rdv, token = booked(online, at(THURSDAY, 10))
    assert "Saisissez les trois premières lettres du nom de famille." in page_text(unlock(client, token, ""))


def test_the_responsibles_last_name_opens_a_relatives_rdv(client, online):
    booking = online.hold(at(THURSDAY, 10))
    services.submit_details(
        booking, PERSON, holder_key="visiteur-1", relative={"first_name": "Léo", "last_name": "Martin"}
    )
    booking = services.confirm_booking(booking, last_code(PERSON["email"]), holder_key="visiteur-1")
    assert unlock(client, booking.manage_token, "mar").status_code == 302
    assert unlock(Client(), booking.manage_token, "dup").status_code == 302


# Cancel -------------------------------------------------------------------------------------------------


def test_cancel_with_the_motifs_warning_and_a_confirmation(client, online):
    rdv, token = booked(online, at(TUESDAY, 10))  # 26 hours ahead
    unlock(client, token)
    page = page_text(client.get(reverse("public:manage_cancel", args=[token])))
    assert "Prévenez-nous si possible." in page
    assert rdv.status == RdvStatus.UNKNOWN
    response = client.post(reverse("public:manage_cancel", args=[token]))
    assert response.url == reverse("public:manage", args=[token])
    rdv.refresh_from_db()
    assert rdv.status == RdvStatus.EXCUSED
    page = page_text(client.get(response.url))
    assert (
        "Votre rendez-vous est annulé." in page
        and "Annulé à votre demande" in page
        and "Annulé par l'usager" not in page
    )


def test_no_cancel_within_the_espaces_deadline(client, online, frozen):
    rdv, token = booked(online, at(TUESDAY, 10))
    frozen.move_to(at(TUESDAY, 6, 0) + timedelta(seconds=1))  # less than 4 hours before
    unlock(client, token)
    page = page_text(client.get(reverse("public:manage", args=[token])))
    assert "L'annulation en ligne est possible jusqu'à 4 heures avant le rendez-vous" in page
    before = state(rdv)
    response = client.post(reverse("public:manage_cancel", args=[token]))
    assert "Ce rendez-vous ne peut pas être annulé en ligne." in [str(m) for m in get_messages(response.wsgi_request)]
    assert state(rdv) == before


def test_the_cancel_deadline_is_the_espaces_setting(client, online):
    rdv, token = booked(online, at(TUESDAY, 10))  # 26 hours ahead
    online.territory.online_cancel_min_hours = 30
    online.territory.save()
    link = services.manage_link(token)
    assert not services.can_cancel_online(link)
    with pytest.raises(DomainError):
        services.cancel_online(link)
    rdv.refresh_from_db()
    assert rdv.status == RdvStatus.UNKNOWN


# Move ----------------------------------------------------------------------------------------------------


def test_move_to_another_time_of_the_same_agent_and_lieu(client, online):
    rdv, token = booked(online, at(THURSDAY, 10))  # 50 hours ahead
    agent = rdv.agent_links.get().agent_id
    unlock(client, token)
    page = page_text(client.get(reverse("public:manage_move", args=[token]) + "?semaine=2027-03-08"))
    assert "Semaine du lundi 8 mars 2027" in page
    new = at(THURSDAY, 11)
    response = client.post(reverse("public:manage_move", args=[token]), {"debut": new.isoformat()})
    assert "sera déplacé au <strong>jeudi 11 mars 2027 à 11 h 00</strong>" in page_text(response)
    assert state(rdv)[1] == at(THURSDAY, 10)  # not yet
    response = client.post(reverse("public:manage_move", args=[token]), {"debut": new.isoformat(), "confirmer": "1"})
    assert response.url == reverse("public:manage", args=[token])
    _status, starts_at, links = state(rdv)
    assert starts_at == new and links == [(agent, new, True)]


def test_the_times_offered_for_a_move_leave_out_the_rdvs_own_time(online):
    _rdv, token = booked(online, at(THURSDAY, 10))
    starts = [slot.start for slot in services.move_slots(services.manage_link(token), THURSDAY, THURSDAY)]
    assert at(THURSDAY, 10) not in starts
    assert at(THURSDAY, 9, 30) in starts
    assert at(THURSDAY, 10, 30) in starts
    # the same agents elsewhere: not offered (same lieu)
    for agent in (online.agent, online.agent2):
        plage = PlageOuverture.objects.create(
            organisation=online.organisation,
            agent=agent,
            lieu=online.other_lieu,
            first_date=THURSDAY,
            start_time=time(14),
            end_time=time(15),
        )
        plage.motifs.add(online.motif)
    starts = [slot.start for slot in services.move_slots(services.manage_link(token), THURSDAY, THURSDAY)]
    assert at(THURSDAY, 14) not in starts


def test_no_move_within_48_hours(client, online):
    rdv, token = booked(online, at(TUESDAY, 10))  # 26 hours ahead
    unlock(client, token)
    page = page_text(client.get(reverse("public:manage", args=[token])))
    assert "Déplacer" not in page.replace("Le déplacement", "")
    assert "Le déplacement en ligne est possible jusqu'à 48 heures avant" in page
    before = state(rdv)
    client.post(reverse("public:manage_move", args=[token]), {"debut": at(THURSDAY, 11).isoformat(), "confirmer": "1"})
    assert state(rdv) == before


def test_a_move_to_a_taken_time_changes_nothing(client, online):
    rdv, token = booked(online, at(THURSDAY, 10))
    agent = rdv.agent_links.get().agent
    other = factories.UsagerFactory(territory=online.territory, organisations=[online.organisation])
    book_rdv(
        Context.system(online.territory, online.organisation),
        BookingRequest(
            motif=online.motif, starts_at=at(THURSDAY, 11), agents=[agent], usagers=[other], lieu=online.lieu
        ),
    )
    unlock(client, token)
    before = state(rdv)
    response = client.post(
        reverse("public:manage_move", args=[token]), {"debut": at(THURSDAY, 11).isoformat(), "confirmer": "1"}
    )
    assert "Ce créneau vient d'être réservé, choisissez-en un autre." in [
        str(m) for m in get_messages(response.wsgi_request)
    ]
    assert state(rdv) == before


@pytest.mark.parametrize("debut", ["", "jeudi", "2027-03-11T11:00:00", "2027-03-11T11:07:00+01:00"])
def test_bad_move_times_change_nothing(client, online, debut):
    rdv, token = booked(online, at(THURSDAY, 10))
    unlock(client, token)
    before = state(rdv)
    response = client.post(reverse("public:manage_move", args=[token]), {"debut": debut, "confirmer": "1"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)]
    assert state(rdv) == before


def test_a_collective_rdv_cannot_be_moved_online(client, online):
    usager = factories.UsagerFactory(
        territory=online.territory, last_name="Dupont", organisations=[online.organisation]
    )
    ctx = Context.public(online.organisation, usager=usager)
    rdv = book_rdv(
        ctx,
        BookingRequest(
            motif=online.collective_motif,
            starts_at=at(THURSDAY, 10),
            agents=[online.agent],
            usagers=[usager],
            lieu=online.lieu,
        ),
    )
    token = services._create_manage_link(rdv, usager)
    unlock(client, token)
    page = page_text(client.get(reverse("public:manage", args=[token])))
    assert "Un rendez-vous collectif ne peut pas être déplacé en ligne." in page
    assert client.get(reverse("public:manage_move", args=[token])).url == reverse("public:manage", args=[token])
    with pytest.raises(DomainError):
        services.move_online(services.manage_link(token), at(THURSDAY, 11))


def test_the_manage_link_from_the_confirmation_page_opens_the_rdv(client, online):
    booking = book_through_pages(client, online, at(THURSDAY, 10))
    page = page_text(client.get(reverse("public:booking_confirmation", args=[booking.public_id])))
    path = page.split("http://testserver")[1].split()[0].split('"')[0].split("<")[0]
    assert path.startswith("/r/")
    visitor = Client()
    assert visitor.post(path, {"lettres": "dup"}).status_code == 302
    assert "Votre rendez-vous" in page_text(visitor.get(path))
