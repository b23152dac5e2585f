"""The public booking pages after a time was chosen: hold, « Vos coordonnées », the code, the
confirmation page and its ICS file; prescripteur mode; bad input on every form."""

import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from rdv.bookings.models import CreatedBy, Rdv, SlotHold
from rdv.bookings.services import BookingRequest, book_rdv
from rdv.core.context import Context
from rdv.online.models import BookingStatus, OnlineBooking
from rdv.usagers.models import Usager
from rdv.www.public.booking import week_url
from tests import factories
from tests.helpers import deliver_emails, page_text
from tests.online.fixtures import INSTRUCTIONS_AFTER, MARKER, NOW, PERSON, TUESDAY, at, build_online, last_code

SLOT_TAKEN = "Ce créneau vient d'être réservé, choisissez-en un autre."


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def online(db):
    return build_online()


def hold(client, online, start=None, *, for_motif=None, mode="usager", **extra):
    data = {
        "motif": (for_motif or online.motif).pk,
        "lieu": online.lieu.pk,
        "debut": (start or at(TUESDAY, 10)).isoformat(),
        "affiche": NOW.isoformat(),
        "mode": mode,
    }
    data.update(extra)
    return client.post(reverse("public:hold"), data)


def details_data(**changes):
    return {**PERSON, **changes}


def book(client, online, start=None):
    """The whole journey from the time chosen to the confirmation page; returns the booking."""
    response = hold(client, online, start)
    booking = OnlineBooking.objects.latest("id")
    assert response.url == reverse("public:booking_details", args=[booking.public_id])
    response = client.post(response.url, details_data())
    assert response.status_code == 302, page_text(response)
    assert response.url == reverse("public:booking_verify", args=[booking.public_id])
    response = client.post(response.url, {"code": last_code(PERSON["email"])})
    assert response.url == reverse("public:booking_confirmation", args=[booking.public_id])
    booking.refresh_from_db()
    return booking


def test_the_journey_from_a_chosen_time_to_the_confirmation(client, online):
    response = hold(client, online)
    booking = OnlineBooking.objects.get()
    page = page_text(client.get(response.url))
    assert "Vos coordonnées" in page
    assert "Ce créneau vous est réservé jusqu'à 8 h 10" in page
    assert "mardi 9 mars 2027 à 10 h 00" in page
    assert "Je prends rendez-vous pour un proche" in page

    response = client.post(reverse("public:booking_details", args=[booking.public_id]), details_data())
    page = page_text(client.get(response.url))
    assert "Un code à 6 chiffres a été envoyé à j•••@usager.fr" in page

    response = client.post(response.url, {"code": last_code(PERSON["email"])})
    page = page_text(client.get(response.url))
    rdv = Rdv.objects.get()
    assert rdv.created_by == CreatedBy.USAGER
    assert "Votre rendez-vous est confirmé" in page
    assert "mardi 9 mars 2027 à 10 h 00" in page
    assert "MDS Centre, 1 place de la Mairie 26000 Valence" in page
    assert "https://www.openstreetmap.org/search?query=1+place+de+la+Mairie+26000+Valence" in page
    assert INSTRUCTIONS_AFTER in page  # sanitised HTML rendered as is
    assert reverse("public:booking_ics", args=[booking.public_id]) in page
    link = rdv.manage_links.get()
    assert "http://testserver/r/" in page and link.token_hash not in page


def test_the_ics_file_has_the_rdv_with_a_stable_uid(client, online):
    booking = book(client, online)
    response = client.get(reverse("public:booking_ics", args=[booking.public_id]))
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert f"UID:rdv-{booking.rdv_id}@testserver" in body
    assert "DTSTART:20270309T090000Z" in body
    assert "SUMMARY:Rendez-vous : Accueil en ligne" in body
    assert client.get(reverse("public:booking_ics", args=[booking.public_id])).content.decode().count("UID:") == 1


def test_no_page_file_or_email_shows_the_contexte_or_an_agent(client, online):
    booking = book(client, online)
    Rdv.objects.filter(pk=booking.rdv_id).update(context=MARKER)
    for url in (
        reverse("public:booking_confirmation", args=[booking.public_id]),
        reverse("public:booking_ics", args=[booking.public_id]),
    ):
        body = client.get(url).content.decode()
        assert MARKER not in body
        assert "Agent1" not in body and "Agent2" not in body
    agents = {online.agent.email, online.agent2.email}  # the agents' own e-mails name them, of course
    to_public = [message for message in deliver_emails() if not agents & set(message.to)]
    assert to_public
    for message in to_public:
        assert "Agent1" not in message.body and "Agent2" not in message.body


def test_a_second_visitor_does_not_see_a_held_time_and_is_sent_back_to_the_week(client, online, django_user_model):
    from django.test import Client

    hold(client, online)
    other = Client()
    hold(other, online)  # the second agent
    response = hold(Client(), online)
    assert response.status_code == 302
    assert response.url == week_url(online.motif.pk, online.lieu.pk, at(TUESDAY, 10), online.territory.zone)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [SLOT_TAKEN]
    assert SlotHold.objects.count() == 2


def test_a_slot_taken_before_the_code_sends_back_to_the_week_and_creates_nothing(client, online):
    hold(client, online)
    booking = OnlineBooking.objects.get()
    client.post(reverse("public:booking_details", args=[booking.public_id]), details_data())
    usager = factories.UsagerFactory(territory=online.territory, organisations=[online.organisation])
    book_rdv(
        Context.system(online.territory, online.organisation),
        BookingRequest(
            motif=online.motif, starts_at=booking.starts_at, agents=[booking.agent], usagers=[usager], lieu=online.lieu
        ),
        override=True,
    )
    response = client.post(
        reverse("public:booking_verify", args=[booking.public_id]), {"code": last_code(PERSON["email"])}
    )
    assert response.status_code == 302
    assert response.url == week_url(online.motif.pk, online.lieu.pk, booking.starts_at, online.territory.zone)
    assert SLOT_TAKEN in [str(m) for m in get_messages(response.wsgi_request)]
    assert Rdv.objects.count() == 1 and not Usager.objects.filter(email=PERSON["email"]).exists()


def test_a_double_submit_of_the_code_creates_one_rdv(client, online):
    hold(client, online)
    booking = OnlineBooking.objects.get()
    client.post(reverse("public:booking_details", args=[booking.public_id]), details_data())
    code = last_code(PERSON["email"])
    url = reverse("public:booking_verify", args=[booking.public_id])
    first, second = client.post(url, {"code": code}), client.post(url, {"code": code})
    assert first.url == second.url == reverse("public:booking_confirmation", args=[booking.public_id])
    assert Rdv.objects.count() == 1


def test_a_prescripteur_books_for_a_beneficiary(client, online):
    session = client.session
    session["public_mode"] = "prescripteur"
    session.save()
    response = hold(client, online, for_motif=online.prescripteur_motif, mode="")
    booking = OnlineBooking.objects.get()
    assert response.url == reverse("public:booking_prescripteur", args=[booking.public_id])
    page = page_text(client.get(response.url))
    assert "Vous prenez rendez-vous pour une autre personne, en tant que professionnel" in page
    # The beneficiary step waits for the prescripteur.
    assert client.get(reverse("public:booking_details", args=[booking.public_id])).url == response.url
    response = client.post(
        response.url, {"name": "Sam Social", "structure": "CCAS de Valence", "email": "sam@ccas.fr", "phone": ""}
    )
    assert response.url == reverse("public:booking_details", args=[booking.public_id])
    assert "Bénéficiaire" in page_text(client.get(response.url))
    response = client.post(response.url, details_data(email="", phone="06 12 34 56 78"))  # no e-mail: fine
    response = client.post(response.url, {"code": last_code("sam@ccas.fr")})
    page = page_text(client.get(response.url))
    rdv = Rdv.objects.get()
    assert rdv.created_by == CreatedBy.PRESCRIPTEUR
    assert "Une copie vous a été envoyée à sam@ccas.fr" in page


# The relative's fields -----------------------------------------------------------------------------


def relative_fieldset(content: str) -> str:
    """The opening tag and content of the fieldset of the relative's fields."""
    match = re.search(r'<fieldset[^>]*id="champs-proche"[^>]*>.*?</fieldset>', content, re.S)
    assert match is not None, "no fieldset of the relative's fields"
    return match.group(0)


def test_the_relatives_fields_are_in_a_fieldset_the_box_reveals_and_shown_without_javascript(client, online):
    response = hold(client, online)
    content = client.get(response.url).content.decode()
    box = re.search(r'<input type="checkbox" name="for_relative"[^>]*>', content).group(0)
    assert 'aria-controls="champs-proche"' in box and "data-reveals" in box and "checked" not in box
    fieldset = relative_fieldset(content)
    opening = fieldset[: fieldset.index(">") + 1]
    assert "hidden" not in opening  # without JavaScript every field is there to fill in
    for name in ("relative_first_name", "relative_last_name", "relative_birth_date"):
        assert f'name="{name}"' in fieldset
    assert "Votre proche" in fieldset
    # The names are required for a relative: not labelled « Optionnel », yet no HTML `required`
    # (the box may stay unticked); the birth date stays optional.
    names = fieldset[: fieldset.index("Date de naissance du proche")]
    assert "Optionnel" not in names and "required" not in names
    assert "Optionnel" in fieldset[fieldset.index("Date de naissance du proche") :]
    assert '<script src="/static/www/reveal.js" defer></script>' in content  # a static file: no inline script
    assert content.index('name="for_relative"') < content.index('id="champs-proche"')


def test_after_an_error_with_the_box_ticked_the_relatives_fields_are_shown_with_their_errors(client, online):
    hold(client, online)
    booking = OnlineBooking.objects.get()
    response = client.post(
        reverse("public:booking_details", args=[booking.public_id]),
        details_data(for_relative="on", relative_first_name="Léo"),
    )
    assert response.status_code == 200
    content = page_text(response)
    box = re.search(r'<input type="checkbox" name="for_relative"[^>]*>', content).group(0)
    assert "checked" in box  # reveal.js shows the fieldset of a ticked box when the page loads
    fieldset = relative_fieldset(content)
    assert "hidden" not in fieldset[: fieldset.index(">") + 1]
    assert 'value="Léo"' in fieldset
    assert "Le nom du proche est obligatoire." in fieldset
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD


def test_no_relatives_fields_where_the_espace_hides_the_responsible(client, online):
    online.territory.hidden_usager_fields = ["responsible"]
    online.territory.save()
    response = hold(client, online)
    content = client.get(response.url).content.decode()
    assert 'id="champs-proche"' not in content and "aria-controls" not in content


# Bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "text"),
    [
        ({"motif": ""}, 404, "Ce motif n'existe pas"),
        ({"motif": "abc"}, 404, "Ce motif n'existe pas"),
        ({"motif": "99999999999999999999999"}, 404, "Ce motif n'existe pas"),
        ({"motif": "987654"}, 404, "Ce motif n'existe pas"),
        ({"lieu": "x"}, 404, "Ce lieu n'existe pas"),
        ({"lieu": "987654"}, 404, "Ce lieu n'existe pas"),
        ({"debut": ""}, 400, "Cet horaire n'est pas valide"),
        ({"debut": "demain"}, 400, "Cet horaire n'est pas valide"),
        ({"debut": "2027-03-09T10:00:00"}, 400, "Cet horaire n'est pas valide"),  # no offset
        ({"debut": "9999-12-31T23:59:59+14:00"}, 400, "Cet horaire n'est pas valide"),
    ],
)
def test_bad_hold_parameters_answer_a_french_page_and_hold_nothing(client, online, changes, status, text):
    response = hold(client, online, **changes)
    assert response.status_code == status
    assert text in page_text(response)
    assert not SlotHold.objects.exists()


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ("other_organisation_lieu", "Ce lieu n'est pas disponible pour ce motif."),
        ("not_online", "Ce motif ne peut pas être réservé en ligne."),
        ("archived", "Ce motif n'est plus proposé"),
    ],
)
def test_holds_refused_by_the_rules_answer_a_french_page(client, online, change, text):
    extra = {}
    if change == "other_organisation_lieu":
        extra["lieu"] = factories.LieuFactory(organisation=online.other_organisation).pk
    elif change == "not_online":
        online.motif.bookable_online = False
        online.motif.save()
    else:
        online.motif.archived_at = NOW
        online.motif.save()
    response = hold(client, online, **extra)
    assert response.status_code == 400
    assert text in page_text(response)
    assert not SlotHold.objects.exists()


def test_a_get_on_the_hold_url_goes_back_to_the_start(client, online):
    assert client.get(reverse("public:hold")).url == reverse("public:start")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, ["Le prénom est obligatoire.", "Le nom est obligatoire."]),
        (details_data(email="pas-une-adresse"), ["Saisissez une adresse e-mail valide"]),
        (details_data(phone="123"), ["Saisissez un numéro de téléphone valide"]),
        (details_data(email="", phone="04 75 00 00 00"), ["Indiquez une adresse e-mail, ou un numéro de mobile"]),
        (details_data(birth_date="31/02/2000"), ["Saisissez une date valide"]),
        (
            details_data(for_relative="on"),
            ["Le prénom du proche est obligatoire.", "Le nom du proche est obligatoire."],
        ),
        (details_data(first_name="x" * 500), ["Assurez-vous que cette valeur comporte au plus 150 caractères"]),
    ],
)
def test_bad_details_answer_french_errors_and_send_no_code(client, online, data, errors):
    hold(client, online)
    booking = OnlineBooking.objects.get()
    response = client.post(reverse("public:booking_details", args=[booking.public_id]), data)
    assert response.status_code == 200
    page = page_text(response)
    for error in errors:
        assert error in page
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD and not deliver_emails()


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("", "Saisissez le code à 6 chiffres reçu par e-mail."),
        ("abcdef", "Saisissez le code à 6 chiffres reçu par e-mail."),
        ("12345", "Saisissez le code à 6 chiffres reçu par e-mail."),
        ("wrong", None),
    ],
)
def test_bad_codes_answer_french_errors_and_book_nothing(client, online, code, error):
    hold(client, online)
    booking = OnlineBooking.objects.get()
    client.post(reverse("public:booking_details", args=[booking.public_id]), details_data())
    right = last_code(PERSON["email"])
    if code == "wrong":
        code, error = ("000000" if right != "000000" else "111111"), "Ce code n'est pas le bon. Il vous reste 4 essais."
    response = client.post(reverse("public:booking_verify", args=[booking.public_id]), {"code": code})
    assert response.status_code == 200
    assert error in page_text(response)
    assert not Rdv.objects.exists()


def test_another_visitor_cannot_open_someone_elses_booking(client, online):
    from django.test import Client

    hold(client, online)
    booking = OnlineBooking.objects.get()
    for name in (
        "public:booking_details",
        "public:booking_verify",
        "public:booking_confirmation",
        "public:booking_ics",
    ):
        response = Client().get(reverse(name, args=[booking.public_id]))
        assert response.status_code == 404
        assert "Réservation introuvable" in page_text(response)


def test_a_new_code_can_be_asked_and_is_rate_limited(client, online, settings):
    settings.PUBLIC_RATE_LIMITS = {"code": (3, 600)}
    hold(client, online)
    booking = OnlineBooking.objects.get()
    client.post(reverse("public:booking_details", args=[booking.public_id]), details_data())  # 1
    url = reverse("public:booking_verify", args=[booking.public_id])
    response = client.post(url, {"renvoyer": "1"})  # 2
    assert "Un nouveau code vous a été envoyé" in page_text(client.get(response.url))
    assert client.post(url, {"renvoyer": "1"}).status_code == 302  # 3
    response = client.post(url, {"renvoyer": "1"})
    assert response.status_code == 429 and "Trop de demandes" in page_text(response)
    booking.refresh_from_db()
    assert booking.codes_sent == 3


def test_the_limit_per_contact_is_explained(client, online):
    book(client, online)
    from django.test import Client

    other = Client()
    hold(other, online, at(TUESDAY, 11))
    booking = OnlineBooking.objects.latest("id")
    response = other.post(reverse("public:booking_details", args=[booking.public_id]), details_data())
    assert "1 rendez-vous à venir pour ce motif" in page_text(response)


def test_the_hold_needs_no_csrf_cookie_but_the_later_steps_do(online):
    """A partner site's iframe cannot keep the product's cookies: choosing a time works without the
    CSRF cookie (and opens the booking in the whole window); the coordinates form still refuses a
    forged POST."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = hold(strict, online)
    booking = OnlineBooking.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("public:booking_details", args=[booking.public_id])
    forged = strict.post(response.url, details_data())
    assert forged.status_code == 403
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD and not booking.contact_email


def test_without_email_the_code_page_says_it_went_to_the_mobile(client, online):
    response = hold(client, online)
    response = client.post(response.url, details_data(email="", phone="06 12 34 56 78"))
    assert response.status_code == 302
    page = page_text(client.get(response.url))
    assert "Un code à 6 chiffres a été envoyé à votre mobile (•• •• •• 56 78)." in page
    assert "+33612345678" not in page and "06 12 34 56 78" not in page


def test_browsing_the_week_opens_no_session_and_a_holder_still_sees_their_held_time(client, online):
    from django.contrib.sessions.models import Session
    from django.test import Client

    week = week_url(online.motif.pk, online.lieu.pk, at(TUESDAY, 10), online.territory.zone)
    times = re.compile(r'name="debut"\s+value="([^"]+)"')
    offered = times.findall(client.get(week).content.decode())
    assert offered
    assert "sessionid" not in client.cookies
    assert not Session.objects.exists()  # a visitor who only browses leaves no session row

    response = hold(client, online, start=at(TUESDAY, 10))
    assert response.status_code == 302
    assert "sessionid" in client.cookies and Session.objects.count() == 1  # the hold opened it
    hold(Client(), online, start=at(TUESDAY, 10))  # the second agent: the time is now held twice
    held = [iso for iso in offered if iso not in times.findall(Client().get(week).content.decode())]
    assert len(held) == 1  # hidden from the others…
    assert times.findall(client.get(week).content.decode()) == offered  # …still offered to its holder
