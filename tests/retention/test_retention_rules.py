"""The retention rules the journeys of test_retention.py and test_usager_rights.py do not reach
(found by mutation testing, mutation/retention-*.toml and mutation/by_hand.py): the selectors'
texts, export and deletion preview; the messages and online bookings that go with a RDV or a file
and those that stay; the time budget, batches and dry run of the jobs; a file booked during its
deletion; the rights services' own checks and transactions; concurrent runs and a participant
joining during a deletion (PostgreSQL)."""

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction

from rdv.accounts.models import AccessLevel
from rdv.bookings.models import Participation, ParticipationStatus, Rdv
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.motifs.models import LocationType
from rdv.online.models import BookingStatus, OnlineBooking
from rdv.outbox.models import Delivery
from rdv.outbox.services import enqueue_email
from rdv.retention import selectors, services
from rdv.usagers.models import Usager
from tests import factories
from tests.helpers import as_agent
from tests.retention.conftest import DAY, NOW, TWO_YEARS, aged, build_place, rows_locked_elsewhere

REVIEW = 30 * DAY


def _flagged(place, count: int) -> list[Usager]:
    usagers = [aged(place.usager(), NOW - TWO_YEARS - DAY) for _ in range(count)]
    Usager.objects.filter(pk__in=[usager.pk for usager in usagers]).update(retention_flagged_at=NOW - REVIEW)
    return usagers


def test_a_review_at_its_time_budget_deletes_a_first_batch_and_the_next_run_goes_on(place, settings):
    settings.RETENTION_RUN_BUDGET_SECONDS = 0  # every run stops after its first batch of deletions
    _flagged(place, 3)
    first = services.review_inactive_usagers(batch_size=2)
    assert (first.counts["usagers_deleted"], first.finished) == (2, False)
    assert Usager.objects.count() == 1
    second = services.review_inactive_usagers(batch_size=2)
    assert (second.counts["usagers_deleted"], second.finished) == (1, False)
    third = services.review_inactive_usagers(batch_size=2)
    assert (third.counts["usagers_deleted"], third.finished) == (0, True)
    assert not Usager.objects.exists()


def test_files_active_again_are_unflagged_in_batches(place):
    active_again = _flagged(place, 3)
    Usager.objects.filter(pk__in=[usager.pk for usager in active_again]).update(updated_at=NOW - DAY)
    report = services.review_inactive_usagers(batch_size=2)
    assert (report.counts["usagers_unflagged"], report.batches) == (3, 2)  # 2 + 1, nothing else to do
    assert not Usager.objects.filter(retention_flagged_at__isnull=False).exists()


def test_a_batch_size_below_one_is_one(place):
    usager = place.usager()
    for days in (1, 2):
        place.rdv(NOW - TWO_YEARS - days * DAY, [usager])
    report = services.purge_old_rdvs(batch_size=-5)  # `run_retention --batch-size -5`
    assert (report.counts["rdvs_deleted"], report.batches) == (2, 2)
    assert not Rdv.objects.exists()


def test_the_dry_run_counts_only_the_flagged_files_active_again_as_unflagged(place):
    active_again = _flagged(place, 1)[0]
    Usager.objects.filter(pk=active_again.pk).update(updated_at=NOW - DAY)
    place.usager(), place.usager()  # active, never flagged
    (still_inactive,) = _flagged(place, 1)  # flagged 30 days ago: deleted by the next run
    assert services.preview() == {
        "rdvs_deleted": 0,
        "usagers_unflagged": 1,
        "usagers_deleted": 1,
        "usagers_flagged": 0,
        "audit_entries_deleted": 0,
    }
    assert Usager.objects.filter(pk=still_inactive.pk).exists()


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (730, "2 ans"),
        (365, "1 an"),
        (1095, "3 ans"),
        (30, "30 jours"),
        (2, "2 jours"),
        (1, "1 jour"),
        (366, "366 jours"),
        (400, "400 jours"),
    ],
)
def test_the_retention_periods_are_said_in_years_when_whole(days, text):
    assert selectors.days_text(days) == text


def test_the_export_gives_the_lieu_s_address_on_site_and_the_rdv_s_address_at_home(place):
    usager = place.usager()
    on_site = place.rdv(NOW - DAY, [usager])
    at_home = place.rdv(NOW + DAY, [usager])
    place.motif.__class__.objects.filter(pk=place.motif.pk).update(location_type=LocationType.PUBLIC_OFFICE)
    home = factories.MotifFactory(
        organisation=place.organisation, service=place.world.service, name="Visite", location_type=LocationType.HOME
    )
    # At home, even booked at a lieu: the address is the RDV's own.
    Rdv.objects.filter(pk=at_home.pk).update(motif=home, address="3 rue des Lilas, Valence")
    Rdv.objects.filter(pk=on_site.pk).update(address="ignorée sur place")
    rdvs = selectors.usager_export(Usager.objects.get(pk=usager.pk))["rendez-vous"]
    assert [(rdv["identifiant"], rdv["adresse"]) for rdv in rdvs] == [
        (on_site.pk, place.lieu.address),
        (at_home.pk, "3 rue des Lilas, Valence"),
    ]


def test_the_export_gives_the_usager_s_own_status_in_collective_rdvs_only(place):
    usager = place.usager()
    individual = place.rdv(NOW - DAY, [usager])
    collective = place.rdv(NOW - 2 * DAY, [usager, place.usager()], collective=True)
    Participation.objects.filter(usager=usager).update(status=ParticipationStatus.EXCUSED)
    rdvs = selectors.usager_export(usager)["rendez-vous"]
    assert [(rdv["identifiant"], rdv["statut de l’usager"]) for rdv in rdvs] == [
        (collective.pk, ParticipationStatus.EXCUSED.label),
        (individual.pk, None),
    ]


def test_the_export_is_dated_now_in_the_espace_s_time(place):
    data = selectors.usager_export(place.usager())
    assert data["export"]["date"] == "2027-03-09T08:00:00+01:00"


def test_the_export_holds_the_usager_s_own_rdvs_only(place):
    usager, other = place.usager(), place.usager()
    own = place.rdv(NOW - DAY, [usager])
    place.rdv(NOW + DAY, [other], context="Rendez-vous d’un autre usager")
    rdvs = selectors.usager_export(usager)["rendez-vous"]
    assert [rdv["identifiant"] for rdv in rdvs] == [own.pk]


def test_the_deletion_preview_splits_the_rdvs_deleted_from_those_left_for_admins_only(place):
    usager, other = place.usager(), place.usager()
    ended_now = place.rdv(NOW - timedelta(minutes=30), [usager], minutes=30)  # ends at this very moment
    alone = place.rdv(NOW + DAY, [usager])
    shared = place.rdv(NOW + 2 * DAY, [usager, other], collective=True)
    place.usager(responsible=usager)
    preview = selectors.deletion_preview(as_agent(place.world.organisation_admin, place.organisation), usager)
    assert (preview.deleted, preview.left, preview.relatives) == ([ended_now, alone], [shared], 1)
    assert preview.upcoming_deleted == [alone]
    nothing = selectors.deletion_preview(as_agent(place.world.agent, place.organisation), usager)
    assert (nothing.deleted, nothing.left, nothing.relatives) == ([], [], 0)


def _held(delivery: Delivery) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk).update(lease_owner="worker-1")  # a worker is sending it
    return delivery


def test_a_rdv_purge_keeps_the_messages_a_worker_holds_and_those_about_other_records(place):
    usager = place.usager(email="jeanne@exemple.fr")
    old = place.rdv(NOW - TWO_YEARS - DAY, [usager])
    about_old = enqueue_email(to=usager.email, subject="Rappel", text="…", about=old, territory=place.territory)
    sending = _held(enqueue_email(to=usager.email, subject="Rappel", text="…", about=old, territory=place.territory))
    # A message about the usager's file whose id happens to be the RDV's.
    about_file = enqueue_email(to=usager.email, subject="Fiche", text="…", about=usager, territory=place.territory)
    Delivery.objects.filter(pk=about_file.pk).update(object_id=old.pk)
    services.purge_old_rdvs()
    assert not Rdv.objects.exists()
    assert set(Delivery.objects.values_list("pk", flat=True)) == {sending.pk, about_file.pk}
    assert about_old.pk not in set(Delivery.objects.values_list("pk", flat=True))


def test_deleting_a_file_keeps_the_messages_of_other_espaces_and_those_a_worker_holds(place, other_place):
    usager = place.usager(email="jeanne@exemple.fr", phone="+33612345678")
    to_her = [
        enqueue_email(to=usager.email, subject="Rappel", text="…", territory=place.territory),
        enqueue_email(to=usager.phone, subject="Rappel", text="…", territory=place.territory),
    ]
    sending = _held(enqueue_email(to=usager.email, subject="Rappel", text="…", territory=place.territory))
    elsewhere = enqueue_email(to=usager.email, subject="Rappel", text="…", territory=other_place.territory)
    services.delete_usager(as_agent(place.world.organisation_admin, place.organisation), usager)
    left = set(Delivery.objects.values_list("pk", flat=True))
    assert left >= {sending.pk, elsewhere.pk}
    assert not left & {delivery.pk for delivery in to_her}


def test_deleting_a_file_deletes_what_the_visitor_typed_online(place):
    usager = place.usager(email="jeanne@exemple.fr")
    OnlineBooking.objects.create(  # a booking left unfinished: no RDV
        organisation=place.organisation,
        motif=place.motif,
        agent=place.agent,
        starts_at=NOW + DAY,
        ends_at=NOW + DAY + timedelta(minutes=30),
        hold_expires_at=NOW,
        status=BookingStatus.CONFIRMED,
        details={"first_name": "Jeanne", "notes": "Préfère le matin"},
        contact_email="jeanne@exemple.fr",
        usager=usager,
    )
    services.delete_usager(as_agent(place.world.organisation_admin, place.organisation), usager)
    assert not OnlineBooking.objects.exists()


@pytest.fixture
def booked_meanwhile(place, monkeypatch):
    """Files that get a RDV booked while they are being deleted (the ProtectedError of a
    participation the deletion did not see); each file is tried once at most."""
    files, tried, current = set(), [], {}
    erase_usager, erase_rdvs = services._erase_usager, services._erase_rdvs

    def erase_tried_once(actor, usager, **options):
        if usager.pk in files:
            assert usager.pk not in tried, "a file that could not be deleted was tried again"
            tried.append(usager.pk)
        current["pk"] = usager.pk
        return erase_usager(actor, usager, **options)

    def erase_then_book(actor, rdvs, *, why):
        erase_rdvs(actor, rdvs, why=why)
        if current.get("pk") in files:
            place.rdv(NOW + DAY, [Usager.objects.get(pk=current["pk"])])

    monkeypatch.setattr(services, "_erase_usager", erase_tried_once)
    monkeypatch.setattr(services, "_erase_rdvs", erase_then_book)
    return files


def test_a_file_booked_during_its_review_deletion_is_kept_and_the_review_goes_on(place, booked_meanwhile, caplog):
    booked, _idle = _flagged(place, 2)
    booked_meanwhile.add(booked.pk)
    with caplog.at_level(logging.WARNING, logger="rdv.retention.services"):
        report = services.review_inactive_usagers(batch_size=2)
    # One batch of two files: the first one kept, the next one still deleted in the same batch.
    assert (report.counts["usagers_deleted"], report.batches) == (1, 1)
    assert list(Usager.objects.values_list("pk", flat=True)) == [booked.pk]
    assert not Rdv.objects.exists()  # the booking and the deletion were both rolled back
    assert f"usager {booked.pk} became active during its deletion" in caplog.text
    assert not AuditLog.objects.filter(action="usager.deleted", object_id=str(booked.pk)).exists()


def test_a_file_booked_during_its_deletion_on_request_is_a_clear_error(place, booked_meanwhile):
    usager = place.usager()
    rdv = place.rdv(NOW + 2 * DAY, [usager])
    booked_meanwhile.add(usager.pk)
    with pytest.raises(DomainError) as caught:
        services.delete_usager(as_agent(place.world.organisation_admin, place.organisation), usager)
    assert caught.value.code == "changed_meanwhile"
    assert Usager.objects.filter(pk=usager.pk).exists()
    assert list(Rdv.objects.values_list("pk", flat=True)) == [rdv.pk]


def _services_refuse(ctx, usager) -> None:
    for call in (
        lambda: services.export_usager(ctx, usager, format="json"),
        lambda: services.delete_usager(ctx, usager),
        lambda: services.keep_usager(ctx, usager),
    ):
        with pytest.raises(DomainError):
            call()
    assert Usager.objects.filter(pk=usager.pk, retention_flagged_at__isnull=False).exists()
    assert not AuditLog.objects.filter(action__startswith="usager.", object_id=str(usager.pk)).exists()


def test_an_espace_admin_acts_on_a_file_from_an_organisation_it_belongs_to_only(place):
    """The espace admin, acting in another organisation of the espace (where they are admin too),
    may not export, delete or keep a file that is not of that organisation (the pages give a 404)."""
    (usager,) = _flagged(place, 1)
    factories.AgentRoleFactory(
        agent=place.world.territory_admin, organisation=place.world.other_organisation, access_level=AccessLevel.ADMIN
    )
    _services_refuse(as_agent(place.world.territory_admin, place.world.other_organisation), usager)


def test_an_admin_of_another_organisation_may_not_keep_a_flagged_file(place):
    (usager,) = _flagged(place, 1)
    other_admin = factories.AgentFactory(email="nord-admin@exemple.fr")
    factories.AgentRoleFactory(
        agent=other_admin, organisation=place.world.other_organisation, access_level=AccessLevel.ADMIN
    )
    _services_refuse(as_agent(other_admin, place.world.other_organisation), usager)


@pytest.mark.django_db(transaction=True)
def test_the_rights_services_hold_their_own_transaction(alice):
    """Called outside any transaction (a command, a shell): the row locks need one of their own,
    which PostgreSQL enforces (select_for_update outside a transaction is an error there)."""
    place = build_place(alice)
    admin = as_agent(place.world.organisation_admin, place.organisation)
    kept, deleted = _flagged(place, 2)
    assert services.keep_usager(admin, kept) is True
    assert Usager.objects.get(pk=kept.pk).retention_flagged_at is None
    services.delete_usager(admin, deleted)
    assert not Usager.objects.filter(pk=deleted.pk).exists()
    services.export_usager(admin, kept, format="json")
    assert AuditLog.objects.filter(action="usager.exported", object_id=str(kept.pk)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviews_at_once_never_delete_the_same_usagers(postgres_only, alice):
    """A review skips the files another run holds (SKIP LOCKED): no file is deleted, journaled or
    announced twice, and the run does not wait."""
    place = build_place(alice)
    held = _flagged(place, 2)
    _flagged(place, 2)  # free
    with rows_locked_elsewhere(Usager.objects.filter(pk__in=[usager.pk for usager in held])):
        report = services.review_inactive_usagers()
    assert report.counts["usagers_deleted"] == 2
    assert set(Usager.objects.values_list("pk", flat=True)) == {usager.pk for usager in held}
    assert services.review_inactive_usagers().counts["usagers_deleted"] == 2
    assert AuditLog.objects.filter(action="usager.deleted").count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_participant_joining_during_a_deletion_keeps_the_collective_rdv(postgres_only, alice):
    """The deletion locks the usager's RDVs before it tells the RDVs they are alone in (deleted)
    from those shared (kept): a participant who joins meanwhile is waited for, then counted."""
    from django.db import connection

    from rdv.bookings import services as booking_services
    from rdv.bookings.models import Participation
    from rdv.core.context import Context

    place = build_place(alice)
    jeanne, other = place.usager(), place.usager()
    collective = place.rdv(NOW + DAY, [jeanne], collective=True)
    joined, release, outcome = threading.Event(), threading.Event(), {}

    def join():  # the other usager joins; the transaction commits once the deletion waits for it
        try:
            with transaction.atomic():
                booking_services.add_participant(Context.system(place.territory, place.organisation), collective, other)
                joined.set()
                release.wait(10)
        finally:
            connections.close_all()

    def delete():
        try:
            services.delete_usager(as_agent(place.world.organisation_admin, place.organisation), jeanne)
        except Exception as exc:  # reported below
            outcome["error"] = exc
        finally:
            connections.close_all()

    joining, deleting = threading.Thread(target=join), threading.Thread(target=delete)
    joining.start()
    assert joined.wait(10)
    deleting.start()
    try:
        for _ in range(200):  # until the deletion waits for the RDV's lock
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                    [connection.settings_dict["NAME"]],
                )
                if cursor.fetchone()[0]:
                    break
            deleting.join(0.05)
    finally:
        release.set()
        joining.join()
        deleting.join()
    assert "error" not in outcome, outcome
    assert not Usager.objects.filter(pk=jeanne.pk).exists()
    assert list(Participation.objects.filter(rdv=collective).values_list("usager_id", flat=True)) == [other.pk]
