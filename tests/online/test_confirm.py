"""Details, verification code and confirmation: one RDV per booking, created through the booking
services with a public context, nothing created when anything refuses."""

import re
import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from rdv.bookings.models import CreatedBy, Participation, Rdv, SlotHold
from rdv.bookings.services import BookingRequest, book_rdv
from rdv.core.context import ActorKind, Context
from rdv.core.errors import DomainError
from rdv.motifs.models import LocationType, Motif
from rdv.online import services
from rdv.online.models import BookingStatus, ManageLink, OnlineBooking
from rdv.outbox.models import Delivery
from rdv.usagers.models import Usager
from tests import factories
from tests.helpers import deliver_emails
from tests.online.fixtures import MARKER, NOW, PERSON, TUESDAY, at, build_online, last_code


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def online(db):
    return build_online()


def counts():
    return (Rdv.objects.count(), Usager.objects.count(), Participation.objects.count())


def held_with_code(online, start=None, *, holder_key="visiteur-1", person=None, **kwargs):
    booking = online.hold(start or at(TUESDAY, 10), holder_key=holder_key)
    booking = services.submit_details(booking, person or PERSON, holder_key=holder_key, **kwargs)
    return booking, last_code((person or PERSON)["email"])


def refused(code, operation, *args, **kwargs):
    before = counts()
    with pytest.raises(DomainError) as caught:
        operation(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert counts() == before
    return caught.value


# Details -------------------------------------------------------------------------------------------


def test_the_code_is_sent_by_email_and_stored_hashed(online):
    booking, code = held_with_code(online)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CODE_SENT
    assert code not in booking.code_hash and len(booking.code_hash) == 64
    assert booking.code_expires_at == NOW + timedelta(minutes=10)
    message = mail.outbox[-1]
    assert message.to == ["jeanne@usager.fr"]
    assert "mardi 9 mars 2027 à 10 h 00" in message.body


def test_the_details_are_saved_with_the_code_in_one_write_and_the_motif_read_with_the_booking(online):
    """« Vos coordonnées » locks the booking (with its motif, named in the code's e-mail) and writes
    it once: details, contact and code together."""
    booking = online.hold(at(TUESDAY, 10), holder_key="visiteur-1")
    with CaptureQueriesContext(connection) as queries:
        services.submit_details(booking, PERSON, holder_key="visiteur-1")
    statements = [query["sql"] for query in queries.captured_queries]
    updates = [sql for sql in statements if sql.startswith('UPDATE "online_onlinebooking"')]
    assert len(updates) == 1, updates
    assert not any(sql.startswith('SELECT "motifs_motif"') for sql in statements), statements
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CODE_SENT
    assert booking.contact_email == PERSON["email"] and booking.details["person"]["email"] == PERSON["email"]


def test_the_code_email_says_the_code_is_valid_for_ten_minutes(online):
    held_with_code(online)
    message = next(m for m in reversed(mail.outbox) if "code" in m.subject.lower())
    assert "Ce code est valable 10 minutes." in message.body


def test_a_code_is_any_of_the_million_six_digit_numbers(online):
    booking, first = held_with_code(online)
    codes = [first]
    for _ in range(services.CODE_MAX_SENDS - 1):
        services.resend_code(booking, holder_key="visiteur-1")
        codes.append(last_code(PERSON["email"]))
    assert all(len(code) == 6 for code in codes)
    assert max(int(code) for code in codes) >= 1000  # five draws all below 1000: a chance of 1e-15


def test_without_email_nor_mobile_the_visitor_is_asked_for_one(online):
    booking = online.hold(at(TUESDAY, 10))
    for phone, code in (("", "contact_required"), ("04 75 00 00 00", "email_required")):  # a landline gets no SMS
        error = refused(
            code,
            services.submit_details,
            booking,
            {**PERSON, "email": "", "phone": phone},
            holder_key="visiteur-1",
        )
        assert error.message == (services.CONTACT_REQUIRED if not phone else services.CONTACT_FOR_CODE)
    assert not deliver_emails()
    assert not Delivery.objects.filter(channel="sms").exists()


def test_without_email_the_code_goes_by_sms_to_the_mobile_and_books(online):
    booking = online.hold(at(TUESDAY, 10))
    booking = services.submit_details(
        booking, {**PERSON, "email": "", "phone": "06 12 34 56 78"}, holder_key="visiteur-1"
    )
    sms = Delivery.objects.get(channel="sms")
    assert sms.recipient == "+33612345678" and not deliver_emails()
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    assert (
        sms.text
        == f"Code de confirmation de votre RDV : {code} (valable 10 min). Sans demande de votre part, ignorez ce SMS."
    )
    assert sms.expires_at == booking.code_expires_at
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    assert booking.rdv is not None and booking.rdv.participations.get().usager.phone == "+33612345678"


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"first_name": ""}, "first_name_required", "first_name"),
        ({"last_name": "  "}, "last_name_required", "last_name"),
        ({"email": "pas-une-adresse"}, "invalid_email", "email"),
        ({"phone": "12"}, "invalid_phone", "phone"),
        ({"email": "", "phone": ""}, "contact_required", "email"),
        ({"birth_date": "2090-01-01"}, "birth_date_future", "birth_date"),
        ({"first_name": "x" * 151}, "too_long", "first_name"),
    ],
)
def test_bad_details_are_refused_in_french_and_nothing_is_sent(online, data, code, field):
    booking = online.hold(at(TUESDAY, 10))
    error = refused(code, services.submit_details, booking, {**PERSON, **data}, holder_key="visiteur-1")
    assert error.field == field
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD and not booking.code_hash
    assert not deliver_emails()


def test_required_custom_fields_asked_online_are_required(online):
    field = factories.CustomFieldFactory(
        territory=online.territory, label="Numéro CAF", asked_online=True, required=True
    )
    booking = online.hold(at(TUESDAY, 10))
    error = refused("custom_field_required", services.submit_details, booking, PERSON, holder_key="visiteur-1")
    assert error.field == field.key
    services.submit_details(booking, PERSON, holder_key="visiteur-1", custom_values={field.key: "12345"})
    booking.refresh_from_db()
    assert booking.details["custom"] == {field.key: "12345"}


def test_only_custom_fields_asked_online_or_required_are_asked(online):
    asked = factories.CustomFieldFactory(territory=online.territory, label="Numéro CAF", asked_online=True)
    required = factories.CustomFieldFactory(territory=online.territory, label="Quartier", required=True)
    factories.CustomFieldFactory(territory=online.territory, label="Note interne")
    assert {field.pk for field in services.online_custom_fields(online.territory)} == {asked.pk, required.pk}


def test_an_abandoned_booking_takes_no_more_details(online):
    first = online.hold(at(TUESDAY, 10))
    online.hold(at(TUESDAY, 11))  # the same visitor holds another slot: the first one is abandoned
    refused("booking_closed", services.submit_details, first, PERSON, holder_key="visiteur-1")
    first.refresh_from_db()
    assert first.status == BookingStatus.ABANDONED and first.details == {}


def test_someone_else_cannot_use_the_booking(online):
    booking = online.hold(at(TUESDAY, 10))
    refused("not_found", services.submit_details, booking, PERSON, holder_key="intrus")


def test_a_booking_is_found_only_with_its_holders_key(online):
    other = online.hold(at(TUESDAY, 11), holder_key="visiteur-2")
    booking = online.hold(at(TUESDAY, 10))
    assert services.booking_for(booking.public_id, "visiteur-1") == booking
    assert services.booking_for(other.public_id, "visiteur-2") == other
    assert services.booking_for(uuid.uuid4(), "visiteur-1") is None
    assert services.booking_for(booking.public_id, "intrus") is None
    assert services.booking_for(booking.public_id, "") is None


def test_an_espace_that_hides_the_birth_date_still_takes_names_and_contact(online):
    online.territory.hidden_usager_fields = ["birth_date"]
    online.territory.save()
    booking = online.hold(at(TUESDAY, 10))
    booking = services.submit_details(booking, {**PERSON, "birth_date": "1990-05-04"}, holder_key="visiteur-1")
    person = booking.details["person"]
    assert (person["first_name"], person["last_name"], person["email"]) == ("Jeanne", "Dupont", "jeanne@usager.fr")
    assert person["phone"]
    assert "birth_date" not in person


# Code --------------------------------------------------------------------------------------------


def test_the_right_code_books_once_with_the_held_agent_and_lieu(online):
    booking, code = held_with_code(online)
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1", ip="203.0.113.1")

    rdv = booking.rdv
    assert booking.status == BookingStatus.CONFIRMED
    assert rdv.created_by == CreatedBy.USAGER
    assert rdv.starts_at == at(TUESDAY, 10) and rdv.lieu == online.lieu
    assert list(rdv.agent_links.values_list("agent_id", flat=True)) == [booking.agent_id]
    usager = rdv.participations.get().usager
    assert (usager.first_name, usager.last_name, usager.email, usager.phone) == (
        "Jeanne",
        "Dupont",
        "jeanne@usager.fr",
        "+33612345678",
    )
    assert ManageLink.objects.filter(rdv=rdv, usager=usager).count() == 1
    assert booking.manage_token and ManageLink.objects.get().token_hash != booking.manage_token
    assert booking.hold is None and not SlotHold.objects.exists()


def test_confirming_releases_the_visitors_own_hold_only(online):
    booking, code = held_with_code(online)
    other = online.hold(at(TUESDAY, 11), holder_key="visiteur-2")
    services.confirm_booking(booking, code, holder_key="visiteur-1")
    assert list(SlotHold.objects.values_list("pk", flat=True)) == [other.hold_id]


def test_a_wrong_code_counts_a_try_and_five_wrong_tries_lock_the_code(online):
    booking, code = held_with_code(online)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        error = refused("wrong_code", services.confirm_booking, booking, wrong, holder_key="visiteur-1")
        assert error.message == f"Ce code n'est pas le bon. Il vous reste {left} essai{'s' if left > 1 else ''}."
    refused("too_many_tries", services.confirm_booking, booking, wrong, holder_key="visiteur-1")
    # Even the right code no longer works; a new code does.
    refused("too_many_tries", services.confirm_booking, booking, code, holder_key="visiteur-1")
    services.resend_code(booking, holder_key="visiteur-1")
    booking = services.confirm_booking(booking, last_code(PERSON["email"]), holder_key="visiteur-1")
    assert booking.status == BookingStatus.CONFIRMED


def test_an_expired_code_is_refused(online, frozen):
    booking, code = held_with_code(online)
    frozen.shift(timedelta(minutes=10))
    refused("code_expired", services.confirm_booking, booking, code, holder_key="visiteur-1")


def test_a_code_works_until_its_last_second_even_after_the_hold_expired(online, frozen):
    booking, code = held_with_code(online)
    frozen.shift(timedelta(minutes=9, seconds=59))
    assert services.confirm_booking(booking, code, holder_key="visiteur-1").status == BookingStatus.CONFIRMED


def test_a_new_code_replaces_the_previous_one(online):
    booking, first = held_with_code(online)
    services.resend_code(booking, holder_key="visiteur-1")
    second = last_code(PERSON["email"])
    if first != second:
        refused("wrong_code", services.confirm_booking, booking, first, holder_key="visiteur-1")
    assert services.confirm_booking(booking, second, holder_key="visiteur-1").status == BookingStatus.CONFIRMED


def test_no_code_is_resent_before_the_details(online):
    booking = online.hold(at(TUESDAY, 10))
    refused("no_code", services.resend_code, booking, holder_key="visiteur-1")
    assert not deliver_emails()


def test_codes_cannot_be_resent_forever(online):
    booking, _ = held_with_code(online)
    for _ in range(4):  # five codes in all
        services.resend_code(booking, holder_key="visiteur-1")
    refused("too_many_codes", services.resend_code, booking, holder_key="visiteur-1")


def test_a_reused_code_creates_no_second_rdv(online):
    booking, code = held_with_code(online)
    first = services.confirm_booking(booking, code, holder_key="visiteur-1")
    again = services.confirm_booking(booking, code, holder_key="visiteur-1")
    assert again.rdv_id == first.rdv_id
    assert Rdv.objects.count() == 1 and Usager.objects.count() == 1
    assert not hasattr(again, "manage_token")  # the link is shown once


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_the_right_code_create_one_rdv():
    online = build_online("concurrent")
    with time_machine.travel(NOW, tick=False):
        booking, code = held_with_code(online)
    barrier = threading.Barrier(4)
    outcomes = []

    def submit():
        try:
            with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
                barrier.wait(timeout=30)
                outcomes.append(services.confirm_booking(booking, code, holder_key="visiteur-1").rdv_id)
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], int), outcomes
    assert Rdv.objects.count() == 1
    assert Participation.objects.count() == 1


def test_a_new_hold_by_the_same_visitor_leaves_a_confirmed_booking_confirmed(online):
    booking, code = held_with_code(online)
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    online.hold(at(TUESDAY, 11))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


# Slot taken, limits --------------------------------------------------------------------------------


def test_when_the_slot_was_taken_meanwhile_nothing_is_created(online):
    booking, code = held_with_code(online)
    other = factories.UsagerFactory(territory=online.territory, organisations=[online.organisation])
    agent = booking.agent
    book_rdv(  # an agent books the held agent at that time anyway
        Context.system(online.territory, online.organisation),
        BookingRequest(
            motif=online.motif, starts_at=booking.starts_at, agents=[agent], usagers=[other], lieu=online.lieu
        ),
        override=True,
    )
    error = refused("slot_taken", services.confirm_booking, booking, code, holder_key="visiteur-1")
    assert error.message == "Ce créneau vient d'être réservé, choisissez-en un autre."
    booking.refresh_from_db()
    assert booking.status == BookingStatus.SLOT_TAKEN
    assert not Usager.objects.filter(email=PERSON["email"]).exists()
    assert not ManageLink.objects.exists()


def test_upcoming_rdvs_are_limited_per_email_and_motif(online):
    booking, code = held_with_code(online)
    services.confirm_booking(booking, code, holder_key="visiteur-1")
    # Same e-mail, another visitor: refused before the code is sent.
    second = online.hold(at(TUESDAY, 11), holder_key="visiteur-2")
    error = refused("contact_limit", services.submit_details, second, PERSON, holder_key="visiteur-2")
    assert "1 rendez-vous à venir pour ce motif" in error.message
    # Same phone, other e-mail: refused too.
    refused(
        "contact_limit",
        services.submit_details,
        second,
        {**PERSON, "email": "autre@usager.fr", "phone": "+33 6 12 34 56 78"},
        holder_key="visiteur-2",
    )
    # Once cancelled, the contact may book again.
    Rdv.objects.update(status="excused")
    services.submit_details(second, PERSON, holder_key="visiteur-2")


def test_only_upcoming_rdvs_of_the_motif_count_for_the_contact_limit(online, frozen):
    usager = factories.UsagerFactory(
        territory=online.territory, email=PERSON["email"], organisations=[online.organisation]
    )
    system = Context.system(online.territory, online.organisation)
    for motif, start in [
        (online.motif, at(NOW.date(), 9)),  # past once the clock moves
        (online.motif, at(TUESDAY, 9)),  # counts
        (online.prescripteur_motif, at(TUESDAY, 11)),  # another motif
    ]:
        request = BookingRequest(
            motif=motif, starts_at=start, agents=[online.agent], usagers=[usager], lieu=online.lieu
        )
        book_rdv(system, request)
    frozen.move_to(at(NOW.date(), 10))
    assert services.upcoming_for_contact(online.motif, PERSON["email"], "") == 1


def test_the_contact_count_finds_each_path_once_and_only_upcoming_rdvs_of_the_motif(online, frozen):
    """Own e-mail or phone, a relative whose responsible has the contact, an online booking made
    with the contact for someone else: each counts, a RDV found by several paths counts once, and
    cancelled RDVs, other motifs and other contacts do not."""
    system = Context.system(online.territory, online.organisation)
    email, phone = "contact@usager.fr", "+33 6 11 22 33 44"
    org = [online.organisation]
    own = factories.UsagerFactory(territory=online.territory, email=email, organisations=org)
    by_phone = factories.UsagerFactory(territory=online.territory, email="", phone=phone, organisations=org)
    child = factories.UsagerFactory(territory=online.territory, email="", phone="", responsible=own, organisations=org)
    stranger = factories.UsagerFactory(territory=online.territory, email="autre@usager.fr", organisations=org)

    def book(usager, hour, minute=0, motif=None, agent=None):
        request = BookingRequest(
            motif=motif or online.motif,
            starts_at=at(TUESDAY, hour, minute),
            agents=[agent or online.agent],
            usagers=[usager],
            lieu=online.lieu,
        )
        return book_rdv(system, request)

    def count(email="", phone=""):
        return services.upcoming_for_contact(online.motif, email, phone)

    assert count(email=email) == 0 and count() == 0
    book(own, 9)
    assert count(email=email) == 1 and count(phone=phone) == 0
    book(by_phone, 9, 30)
    assert count(phone=phone) == 1 and count(email=email, phone=phone) == 2
    book(child, 10)
    assert count(email=email) == 2
    both = book(own, 10, 30)
    Participation.objects.create(rdv=both, usager=child)  # found through two usagers: counted once
    assert count(email=email) == 3
    for_stranger = book(stranger, 11)
    held = online.hold(at(TUESDAY, 11, 30), holder_key="visiteur-9")
    OnlineBooking.objects.filter(pk=held.pk).update(rdv=for_stranger, contact_email=email, contact_phone="")
    assert count(email=email) == 4
    assert count(email="autre@usager.fr") == 1
    book(own, 9, motif=online.prescripteur_motif, agent=online.agent2)  # another motif
    assert count(email=email) == 4
    Rdv.objects.filter(pk=both.pk).update(status="revoked")
    assert count(email=email) == 3
    frozen.move_to(at(TUESDAY, 10, 45))  # the RDVs of 09:00 to 10:30 have started
    assert count(email=email) == 1 and count(phone=phone) == 0


def test_the_contact_limit_is_checked_again_at_confirmation(online):
    first, first_code = held_with_code(online, holder_key="visiteur-1")
    second, second_code = held_with_code(online, at(TUESDAY, 11), holder_key="visiteur-2")
    services.confirm_booking(first, first_code, holder_key="visiteur-1")
    assert SlotHold.objects.filter(holder_key="visiteur-2").exists()
    refused("contact_limit", services.confirm_booking, second, second_code, holder_key="visiteur-2")
    second.refresh_from_db()
    assert second.status == BookingStatus.ABANDONED
    assert not SlotHold.objects.filter(holder_key="visiteur-2").exists()  # the refused visitor's slot is free again


def test_bookings_are_limited_per_ip_and_day(online):
    online.territory.online_max_bookings_per_ip_per_day = 1
    online.territory.save()
    first, code = held_with_code(online, holder_key="visiteur-1")
    services.confirm_booking(first, code, holder_key="visiteur-1", ip="203.0.113.7")
    other = {**PERSON, "email": "karim@usager.fr", "phone": "", "first_name": "Karim"}
    second, code = held_with_code(online, at(TUESDAY, 11), holder_key="visiteur-2", person=other)
    error = refused("ip_limit", services.confirm_booking, second, code, holder_key="visiteur-2", ip="203.0.113.7")
    assert "depuis cette connexion" in error.message
    third, code = held_with_code(
        online, at(TUESDAY, 11), holder_key="visiteur-3", person={**other, "email": "lucie@usager.fr"}
    )
    assert services.confirm_booking(third, code, holder_key="visiteur-3", ip="198.51.100.2").rdv is not None


def test_an_ip_refused_stays_refused_until_its_day_window_ends(online, frozen):
    online.territory.online_max_bookings_per_ip_per_day = 1
    online.territory.save()
    first, code = held_with_code(online, holder_key="visiteur-1")
    services.confirm_booking(first, code, holder_key="visiteur-1", ip="203.0.113.7")
    frozen.move_to(NOW + timedelta(hours=15, minutes=30))  # 22:30 UTC, the same UTC day
    other = {**PERSON, "email": "karim@usager.fr", "phone": "", "first_name": "Karim"}
    second, code = held_with_code(online, at(TUESDAY, 11), holder_key="visiteur-2", person=other)
    refused("ip_limit", services.confirm_booking, second, code, holder_key="visiteur-2", ip="203.0.113.7")
    frozen.move_to(NOW + timedelta(hours=17))  # the next UTC day
    third, code = held_with_code(online, at(TUESDAY, 11), holder_key="visiteur-3", person=other)
    assert services.confirm_booking(third, code, holder_key="visiteur-3", ip="203.0.113.7").rdv is not None


# Files ---------------------------------------------------------------------------------------------


def test_a_verified_email_with_the_same_names_reuses_the_usagers_file(online):
    existing = factories.UsagerFactory(
        territory=online.territory, first_name="Jeanne", last_name="DUPONT", email="jeanne@usager.fr", organisations=[]
    )
    booking, code = held_with_code(online)
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    assert booking.usager == existing
    assert existing.organisation_links.filter(organisation=online.organisation).exists()


@pytest.mark.parametrize(
    "existing",
    [
        {"first_name": "Jeanne", "last_name": "Dupont", "email": "autre@usager.fr"},  # other e-mail
        {"first_name": "Paul", "last_name": "Dupont", "email": "jeanne@usager.fr"},  # other person, same e-mail
        {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@usager.fr"},  # other last name
        {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@usager.fr", "birth_date": "1970-01-01"},
    ],
)
def test_any_doubt_creates_a_new_file(online, existing):
    file = factories.UsagerFactory(territory=online.territory, organisations=[online.organisation], **existing)
    booking, code = held_with_code(online, person={**PERSON, "birth_date": "1990-05-04"})
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    assert booking.usager != file
    assert Usager.objects.count() == 2


def test_a_file_with_a_birth_date_or_of_another_espace_is_never_reused_without_it(online):
    same = {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@usager.fr"}
    elsewhere = factories.UsagerFactory(territory=factories.TerritoryFactory(name="Autre espace"), **same)
    dated = factories.UsagerFactory(
        territory=online.territory, organisations=[online.organisation], birth_date="1970-01-01", **same
    )
    booking, code = held_with_code(online)  # no birth date typed
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    assert booking.usager not in (elsewhere, dated)
    assert booking.usager.territory == online.territory


def test_a_file_with_the_same_birth_date_is_reused(online):
    existing = factories.UsagerFactory(
        territory=online.territory,
        organisations=[online.organisation],
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne@usager.fr",
        birth_date="1990-05-04",
    )
    booking, code = held_with_code(online, person={**PERSON, "birth_date": "1990-05-04"})
    assert services.confirm_booking(booking, code, holder_key="visiteur-1").usager == existing


def test_a_relatives_file_is_never_reused_for_the_person_booking(online):
    responsible = factories.UsagerFactory(territory=online.territory, organisations=[online.organisation])
    relative = factories.UsagerFactory(
        territory=online.territory,
        organisations=[online.organisation],
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne@usager.fr",
        responsible=responsible,
    )
    booking, code = held_with_code(online)
    assert services.confirm_booking(booking, code, holder_key="visiteur-1").usager != relative


def test_only_the_holder_confirms_and_only_once_a_code_was_sent(online):
    booking, code = held_with_code(online)
    refused("not_found", services.confirm_booking, booking, code, holder_key="intrus")
    held = online.hold(at(TUESDAY, 11), holder_key="visiteur-2")
    refused("booking_closed", services.confirm_booking, held, code, holder_key="visiteur-2")


def test_two_files_matching_the_person_are_a_doubt_too(online):
    files = [
        factories.UsagerFactory(
            territory=online.territory,
            organisations=[online.organisation],
            first_name="Jeanne",
            last_name="Dupont",
            email="jeanne@usager.fr",
        )
        for _ in range(2)
    ]
    booking, code = held_with_code(online)
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    assert booking.usager not in files
    assert Usager.objects.count() == 3


def test_booking_for_a_relative_creates_the_relatives_file_under_the_responsible(online):
    booking, code = held_with_code(
        online, relative={"first_name": "Léo", "last_name": "Dupont", "birth_date": "2019-02-03"}
    )
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    relative = booking.rdv.participations.get().usager
    assert (relative.first_name, relative.responsible.first_name) == ("Léo", "Jeanne")
    assert relative.email == "" and relative.responsible.email == "jeanne@usager.fr"
    confirmation = [m for m in deliver_emails() if "confirmé" in m.subject]
    assert [m.to for m in confirmation] == [["jeanne@usager.fr"]]
    assert "pour Léo DUPONT" in confirmation[0].body


# Prescripteurs ---------------------------------------------------------------------------------------


def test_no_booking_for_a_relative_by_a_prescripteur_or_where_the_espace_hides_responsibles(online):
    relative = {"first_name": "Léo", "last_name": "Dupont"}
    booking = online.hold(at(TUESDAY, 10), motif=online.prescripteur_motif, kind=ActorKind.PRESCRIPTEUR)
    services.submit_prescripteur(
        booking, {"name": "Sam", "structure": "CCAS", "email": "sam@ccas.fr"}, holder_key="visiteur-1"
    )
    refused(
        "relative_not_allowed", services.submit_details, booking, PERSON, holder_key="visiteur-1", relative=relative
    )
    online.territory.hidden_usager_fields = ["responsible"]
    online.territory.save()
    booking = online.hold(at(TUESDAY, 10), holder_key="visiteur-2")
    refused(
        "relative_not_allowed", services.submit_details, booking, PERSON, holder_key="visiteur-2", relative=relative
    )
    assert not [m for m in deliver_emails() if "code" in m.subject.lower()]


def test_a_prescripteur_books_for_a_beneficiary_who_is_notified_with_a_copy_to_the_prescripteur(online):
    booking = online.hold(at(TUESDAY, 10), motif=online.prescripteur_motif, kind=ActorKind.PRESCRIPTEUR)
    services.submit_prescripteur(
        booking,
        {"name": "Sam Social", "structure": "CCAS de Valence", "email": "sam@ccas.fr", "phone": ""},
        holder_key="visiteur-1",
    )
    services.submit_details(booking, {**PERSON, "email": "benef@exemple.fr"}, holder_key="visiteur-1")
    code = last_code("sam@ccas.fr")  # the code goes to the prescripteur
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")

    rdv = booking.rdv
    assert rdv.created_by == CreatedBy.PRESCRIPTEUR
    assert (booking.prescripteur_name, booking.prescripteur_structure) == ("Sam Social", "CCAS de Valence")
    assert rdv.participations.get().usager.email == "benef@exemple.fr"
    confirmations = {m.to[0]: m for m in deliver_emails() if "confirmé" in m.subject}
    assert set(confirmations) == {"benef@exemple.fr", "sam@ccas.fr"}
    assert "Sam Social (CCAS de Valence) a pris pour vous ce rendez-vous" in confirmations["benef@exemple.fr"].body
    assert "Copie de la confirmation" in confirmations["sam@ccas.fr"].body


def test_a_prescripteur_must_give_an_email_for_the_code(online):
    booking = online.hold(at(TUESDAY, 10), motif=online.prescripteur_motif, kind=ActorKind.PRESCRIPTEUR)
    with pytest.raises(DomainError) as caught:
        services.submit_prescripteur(
            booking, {"name": "Sam", "structure": "CCAS", "email": "", "phone": "0612345678"}, holder_key="visiteur-1"
        )
    assert caught.value.message == "Indiquez une adresse e-mail pour recevoir le code."
    with pytest.raises(DomainError) as caught:
        services.submit_details(booking, PERSON, holder_key="visiteur-1")
    assert caught.value.code == "prescripteur_missing"


@pytest.mark.django_db(transaction=True)
def test_the_prescripteur_step_locks_the_booking_in_its_own_transaction():
    online = build_online("prescripteur-transaction")
    booking = online.hold(at(TUESDAY, 10), motif=online.prescripteur_motif, kind=ActorKind.PRESCRIPTEUR)
    # outside any transaction (as in a view): its select_for_update needs its own (PostgreSQL says so)
    services.submit_prescripteur(
        booking, {"name": "Sam", "structure": "CCAS", "email": "sam@ccas.fr", "phone": ""}, holder_key="visiteur-1"
    )
    booking.refresh_from_db()
    assert booking.prescripteur_email == "sam@ccas.fr"


def test_a_prescripteur_name_and_structure_may_fill_their_whole_length(online):
    limit = OnlineBooking._meta.get_field("prescripteur_name").max_length
    booking = online.hold(at(TUESDAY, 10), motif=online.prescripteur_motif, kind=ActorKind.PRESCRIPTEUR)
    booking = services.submit_prescripteur(
        booking, {"name": "N" * limit, "structure": "S" * limit, "email": "sam@ccas.fr"}, holder_key="visiteur-1"
    )
    assert (len(booking.prescripteur_name), len(booking.prescripteur_structure)) == (limit, limit)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"name": " "}, "name_required"),
        ({"name": "N" * 301}, "too_long"),
        ({"structure": ""}, "structure_required"),
        ({"structure": "S" * 301}, "too_long"),
        ({"email": "pas-une-adresse"}, "invalid_email"),
        ({"phone": "12"}, "invalid_phone"),
    ],
)
def test_bad_prescripteur_input_is_refused_and_saves_nothing(online, data, code):
    booking = online.hold(at(TUESDAY, 10), motif=online.prescripteur_motif, kind=ActorKind.PRESCRIPTEUR)
    with pytest.raises(DomainError) as caught:
        services.submit_prescripteur(
            booking, {"name": "Sam", "structure": "CCAS", "email": "sam@ccas.fr", **data}, holder_key="visiteur-1"
        )
    assert caught.value.code == code
    booking.refresh_from_db()
    assert (booking.prescripteur_name, booking.prescripteur_email) == ("", "")


def test_an_usager_booking_has_no_prescripteur_step(online):
    booking = online.hold(at(TUESDAY, 10))
    with pytest.raises(DomainError) as caught:
        services.submit_prescripteur(
            booking, {"name": "Sam", "structure": "CCAS", "email": "sam@ccas.fr"}, holder_key="visiteur-1"
        )
    assert caught.value.code == "not_prescripteur"
    booking.refresh_from_db()
    assert booking.prescripteur_email == ""


# What the usager receives ------------------------------------------------------------------------------


def test_the_confirmation_email_has_the_facts_the_instructions_the_ics_and_the_link_but_no_contexte(online):
    booking, code = held_with_code(online)
    booking = services.confirm_booking(booking, code, holder_key="visiteur-1")
    Rdv.objects.filter(pk=booking.rdv_id).update(context=MARKER)
    booking.rdv.refresh_from_db()
    services._email_confirmation(booking, booking.manage_token)  # written again with a Contexte now set
    messages = [m for m in deliver_emails() if "confirmé" in m.subject]
    assert len(messages) == 2
    for message in messages:
        assert message.subject == "Rendez-vous confirmé le mardi 9 mars 2027"
        assert "mardi 9 mars 2027 à 10 h 00" in message.body
        assert "MDS Centre, 1 place de la Mairie 26000 Valence" in message.body
        assert "openstreetmap.org" in message.body
        assert "Apportez votre pièce d'identité." in message.body
        assert f"http://testserver/r/{booking.manage_token}" in message.body
        html = message.alternatives[0][0]
        assert "<strong>pièce d'identité</strong>" in html
        name, content, mimetype = message.attachments[0]
        assert (name, mimetype) == ("rendez-vous.ics", "text/calendar")
        for text in (message.body, html, content if isinstance(content, str) else content.decode()):
            assert MARKER not in text
            assert "Agent1" not in text and "Agent2" not in text


@pytest.mark.parametrize(
    ("location_type", "line"),
    [
        (LocationType.PHONE, "Rendez-vous par téléphone : le service vous appellera."),
        (LocationType.VISIO, "Rendez-vous en visioconférence : le lien vous sera communiqué par le service."),
        (LocationType.HOME, "Rendez-vous à domicile."),
    ],
)
def test_the_confirmation_says_how_a_rdv_without_lieu_takes_place(location_type, line):
    assert services.place_lines(Rdv(motif=Motif(location_type=location_type))) == [line]
