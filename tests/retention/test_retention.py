"""The nightly data retention jobs (issue 22, RGPD): old RDVs and journal entries deleted, inactive
usager files flagged then deleted after review, each deletion announced to the information systems
(`destroyed`, `webhook_reason` « rgpd »), each run journaled per espace with its counts."""

import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from rdv.bookings import services as booking_services
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.core.audit import log_action
from rdv.core.context import Context
from rdv.core.models import AuditLog
from rdv.notifications.models import Reminder
from rdv.online.models import BookingStatus, ManageLink, OnlineBooking
from rdv.outbox.models import Delivery
from rdv.outbox.services import enqueue_email
from rdv.retention import services
from rdv.usagers import services as usager_services
from rdv.usagers.models import Usager
from rdv.webhooks.models import WebhookEvent
from tests.helpers import as_agent
from tests.retention.conftest import DAY, MARKER, NOW, TWO_YEARS, aged

REVIEW = timedelta(days=30)
YEAR = timedelta(days=365)


def bodies(model: str) -> list[dict]:
    events = WebhookEvent.objects.filter(model=model).select_related("delivery").order_by("pk")
    return [json.loads(event.delivery.text) for event in events]


def run_entries(action: str, territory) -> list[AuditLog]:
    return list(AuditLog.objects.filter(action=action, territory=territory).order_by("pk"))


# RDVs -----------------------------------------------------------------------------------------------


def test_a_rdv_ended_more_than_two_years_ago_is_deleted_and_a_younger_one_is_kept(place):
    usager = place.usager()
    old = place.rdv(NOW - TWO_YEARS - DAY - timedelta(minutes=30), [usager])  # ended 2 years + 1 day ago
    young = place.rdv(NOW - TWO_YEARS + DAY - timedelta(minutes=30), [usager])  # ended 2 years - 1 day ago
    report = services.purge_old_rdvs()
    assert not Rdv.objects.filter(pk=old.pk).exists()
    assert Rdv.objects.filter(pk=young.pk).exists()
    assert report.counts["rdvs_deleted"] == 1
    assert not Participation.objects.filter(rdv_id=old.pk).exists()
    assert not RdvAgent.objects.filter(rdv_id=old.pk).exists()
    assert Participation.objects.filter(rdv=young, usager=usager).exists()


def test_the_retention_boundary_is_exclusive(place):
    """A RDV that ended exactly two years ago is not *older* than two years: the next night deletes it."""
    usager = place.usager()
    boundary = place.rdv(NOW - TWO_YEARS - timedelta(minutes=1), [usager], minutes=1)  # ends at the boundary
    just_over = place.rdv(NOW - TWO_YEARS - timedelta(minutes=2), [usager], minutes=1)  # a minute earlier
    services.purge_old_rdvs()
    assert list(Rdv.objects.values_list("pk", flat=True)) == [boundary.pk]
    assert not Rdv.objects.filter(pk=just_over.pk).exists()
    services.purge_old_rdvs(now=NOW + timedelta(seconds=1))
    assert not Rdv.objects.exists()


def test_the_retention_is_a_setting(place, settings):
    settings.RDV_RETENTION_DAYS = 10
    usager = place.usager()
    eleven = place.rdv(NOW - timedelta(days=11), [usager])
    nine = place.rdv(NOW - timedelta(days=9), [usager])
    services.purge_old_rdvs()
    assert not Rdv.objects.filter(pk=eleven.pk).exists()
    assert Rdv.objects.filter(pk=nine.pk).exists()


def test_deleting_a_rdv_deletes_what_hangs_on_it_and_nothing_else(place):
    usager = place.usager(email="jeanne@exemple.fr")
    old = place.rdv(NOW - TWO_YEARS - 3 * DAY, [usager])
    kept = place.rdv(NOW - DAY, [usager])
    for rdv in (old, kept):
        OnlineBooking.objects.create(
            organisation=place.organisation,
            motif=place.motif,
            agent=place.agent,
            starts_at=rdv.starts_at,
            ends_at=rdv.ends_at,
            hold_expires_at=rdv.starts_at,
            status=BookingStatus.CONFIRMED,
            details={"first_name": "Jeanne"},
            contact_email="jeanne@exemple.fr",
            rdv=rdv,
            usager=usager,
        )
        ManageLink.objects.create(rdv=rdv, usager=usager, token_hash=f"hash-{rdv.pk}")
        Reminder.objects.create(rdv=rdv, usager=usager, kind="first", starts_at=rdv.starts_at)
        enqueue_email(to=usager.email, subject="Rappel", text="…", about=rdv, territory=place.territory)
    services.purge_old_rdvs()
    for model in (OnlineBooking, ManageLink, Reminder):
        assert list(model.objects.values_list("rdv_id", flat=True)) == [kept.pk], model
    rdv_type = ContentType.objects.get_for_model(Rdv)
    assert list(Delivery.objects.filter(content_type=rdv_type).values_list("object_id", flat=True)) == [kept.pk]
    assert Usager.objects.filter(pk=usager.pk).exists()  # the file is not the RDV's: reviewed on its own


def test_rdv_deletions_write_destroyed_webhooks_with_the_rgpd_reason(place):
    endpoint = place.endpoint(subscriptions=["rdv"])
    usager = place.usager(first_name="Jeanne", last_name="Dupont")
    old = place.rdv(NOW - TWO_YEARS - DAY, [usager])
    place.rdv(NOW - DAY, [usager])
    services.purge_old_rdvs()
    (event,) = WebhookEvent.objects.filter(endpoint=endpoint)
    assert (event.model, event.event, event.record_id, event.reason) == ("Rdv", "destroyed", old.pk, "rgpd")
    body = json.loads(event.delivery.text)
    assert body["meta"]["event"] == "destroyed"
    assert body["meta"]["webhook_reason"] == "rgpd"
    # Built before the row went: the record as it was, participants included.
    assert body["data"]["id"] == old.pk
    assert [user["last_name"] for user in body["data"]["users"]] == ["Dupont"]
    assert body["data"]["context"] == MARKER


def test_a_change_still_sends_no_reason(place):
    """Only retention deletions carry « rgpd »: an ordinary change keeps `webhook_reason` null."""
    place.endpoint(subscriptions=["rdv"])
    rdv = place.rdv(NOW + DAY, [place.usager()])
    booking_services.update_rdv(Context.system(place.territory, place.organisation), rdv, context="Autre")
    (body,) = bodies("Rdv")
    assert (body["meta"]["event"], body["meta"]["webhook_reason"]) == ("updated", None)


def test_the_purge_runs_in_batches_until_nothing_is_left(place):
    usager = place.usager()
    for days in range(5):
        place.rdv(NOW - TWO_YEARS - (days + 1) * DAY, [usager])
    recent = place.rdv(NOW - DAY, [usager])
    report = services.purge_old_rdvs(batch_size=2)
    assert report.batches == 3  # 2 + 2 + 1
    assert report.counts["rdvs_deleted"] == 5
    assert list(Rdv.objects.values_list("pk", flat=True)) == [recent.pk]
    assert run_entries("retention.rdvs_purged", place.territory)[0].changes["rdvs_deleted"] == 5


def test_a_run_stops_at_its_time_budget_and_the_next_one_goes_on(place, settings, caplog):
    settings.RETENTION_RUN_BUDGET_SECONDS = 0  # every run stops after its first batch
    usager = place.usager()
    for days in range(3):
        place.rdv(NOW - TWO_YEARS - (days + 1) * DAY, [usager])
    with caplog.at_level(logging.INFO, logger="rdv.retention.services"):
        first = services.purge_old_rdvs(batch_size=2)
    assert (first.counts["rdvs_deleted"], first.batches, first.finished) == (2, 1, False)
    assert '"finished": false' in caplog.text
    second = services.purge_old_rdvs(batch_size=2)
    assert (second.counts["rdvs_deleted"], second.finished) == (1, False)
    third = services.purge_old_rdvs(batch_size=2)
    assert (third.counts["rdvs_deleted"], third.batches, third.finished) == (0, 0, True)
    assert not Rdv.objects.exists()


def test_a_second_run_deletes_nothing_and_writes_nothing(place):
    place.endpoint(subscriptions=["rdv"])
    usager = place.usager()
    place.rdv(NOW - TWO_YEARS - DAY, [usager])
    place.rdv(NOW - DAY, [usager])
    services.purge_old_rdvs()
    events, entries = WebhookEvent.objects.count(), AuditLog.objects.count()
    report = services.purge_old_rdvs()
    assert report.counts["rdvs_deleted"] == 0 and report.batches == 0
    assert Rdv.objects.count() == 1
    assert (WebhookEvent.objects.count(), AuditLog.objects.count()) == (events, entries)


def test_each_run_is_journaled_per_espace_with_its_counts_and_logged(place, other_place, caplog):
    for days in (1, 2):
        place.rdv(NOW - TWO_YEARS - days * DAY, [place.usager()])
    other_place.rdv(NOW - TWO_YEARS - DAY, [other_place.usager()])
    with caplog.at_level(logging.INFO, logger="rdv.retention.services"):
        services.purge_old_rdvs()
    (mine,) = run_entries("retention.rdvs_purged", place.territory)
    (theirs,) = run_entries("retention.rdvs_purged", other_place.territory)
    assert mine.changes == {"rdvs_deleted": 2, "retention_days": 730}
    assert theirs.changes == {"rdvs_deleted": 1, "retention_days": 730}
    assert mine.actor is None and mine.actor_repr == "Conservation des données (RGPD)"
    deleted = AuditLog.objects.filter(action="rdv.deleted", territory=place.territory)
    assert deleted.count() == 2
    (line,) = [record.getMessage() for record in caplog.records if record.getMessage().startswith("retention run")]
    logged = json.loads(line.removeprefix("retention run "))
    assert (logged["job"], logged["rdvs_deleted"], logged["espaces"], logged["batches"]) == ("rdvs", 3, 2, 1)


def test_the_espace_admin_sees_the_run_in_the_journal(place, client):
    place.rdv(NOW - TWO_YEARS - DAY, [place.usager()])
    services.purge_old_rdvs()
    client.force_login(place.world.territory_admin, backend="rdv.accounts.backends.AgentBackend")
    page = client.get(f"/espace/{place.territory.pk}/journal/").content.decode()
    assert "Conservation des données : anciens rendez-vous supprimés" in page
    assert "Rendez-vous supprimé (RGPD)" in page


def test_a_rdv_booked_through_the_service_is_deleted_two_years_after_it_ended(place):
    """The whole life: booked by an agent (journal, agent link), ended, deleted two years later."""
    usager = place.usager()
    start = NOW + DAY
    with time_machine.travel(NOW, tick=False):
        rdv = booking_services.book_rdv(
            as_agent(place.world.territory_admin, place.organisation),
            booking_services.BookingRequest(
                motif=place.motif, starts_at=start, agents=[place.agent], usagers=[usager], lieu=place.lieu
            ),
            override=True,
        )
    end = rdv.ends_at
    with time_machine.travel(end + TWO_YEARS - DAY, tick=False):
        assert services.purge_old_rdvs().counts["rdvs_deleted"] == 0
    with time_machine.travel(end + TWO_YEARS + timedelta(seconds=1), tick=False):
        assert services.purge_old_rdvs().counts["rdvs_deleted"] == 1
    assert not Rdv.objects.filter(pk=rdv.pk).exists()


# The journal ------------------------------------------------------------------------------------------


def _entry(place, when, action="motif.created"):
    with time_machine.travel(when, tick=False):
        return log_action("Test", action, place.motif)


def test_journal_entries_older_than_a_year_are_deleted(place):
    old = _entry(place, NOW - YEAR - DAY)
    young = _entry(place, NOW - YEAR + DAY)
    boundary = _entry(place, NOW - YEAR)
    report = services.purge_old_audit_entries()
    assert not AuditLog.objects.filter(pk=old.pk).exists()
    assert AuditLog.objects.filter(pk__in=[young.pk, boundary.pk]).count() == 2
    assert report.counts["audit_entries_deleted"] == 1
    (entry,) = run_entries("retention.audit_purged", place.territory)
    assert entry.changes == {"audit_entries_deleted": 1, "retention_days": 365}


def test_the_journal_purge_works_in_batches_and_twice_deletes_nothing(place, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    for days in range(5):
        _entry(place, NOW - timedelta(days=31 + days))
    kept = _entry(place, NOW - timedelta(days=29))
    report = services.purge_old_audit_entries(batch_size=2)
    assert (report.batches, report.counts["audit_entries_deleted"]) == (3, 5)
    assert AuditLog.objects.filter(pk=kept.pk).exists()
    again = services.purge_old_audit_entries(batch_size=2)
    assert (again.batches, again.counts["audit_entries_deleted"]) == (0, 0)


# Inactive usager files -----------------------------------------------------------------------------------


def test_an_inactive_usager_is_flagged_then_deleted_after_the_review_period(place):
    endpoint = place.endpoint(subscriptions=["user"])
    usager = aged(place.usager(last_name="Oubliée"), NOW - TWO_YEARS - DAY)
    active = aged(place.usager(), NOW - TWO_YEARS + DAY)
    first = services.review_inactive_usagers()
    usager.refresh_from_db()
    assert usager.retention_flagged_at == NOW
    assert Usager.objects.get(pk=active.pk).retention_flagged_at is None
    assert first.counts == {"usagers_unflagged": 0, "usagers_deleted": 0, "usagers_flagged": 1}
    with time_machine.travel(NOW + REVIEW - timedelta(minutes=1), tick=False):
        assert services.review_inactive_usagers().counts["usagers_deleted"] == 0
    assert Usager.objects.filter(pk=usager.pk).exists()
    with time_machine.travel(NOW + REVIEW, tick=False):
        report = services.review_inactive_usagers()
    assert report.counts["usagers_deleted"] == 1
    assert not Usager.objects.filter(pk=usager.pk).exists()
    # The information system hears of it, with the record as it was.
    (event,) = WebhookEvent.objects.filter(endpoint=endpoint, model="User")
    body = json.loads(event.delivery.text)
    assert (body["meta"]["event"], body["meta"]["webhook_reason"]) == ("destroyed", "rgpd")
    assert (body["data"]["id"], body["data"]["last_name"]) == (usager.pk, "Oubliée")
    # The journal names no one.
    deleted = AuditLog.objects.get(action="usager.deleted")
    assert deleted.object_repr == f"Usager n° {usager.pk}"
    assert "Oubliée" not in json.dumps(deleted.changes)
    assert deleted.changes["deletion"] == services.USAGER_INACTIVE


@pytest.mark.parametrize(
    ("age", "flagged"),
    [(TWO_YEARS + DAY, True), (TWO_YEARS + timedelta(seconds=1), True), (TWO_YEARS, False), (TWO_YEARS - DAY, False)],
    ids=["2y+1d", "2y+1s", "exactly 2y", "2y-1d"],
)
def test_inactivity_is_counted_from_the_last_change(place, age, flagged):
    usager = aged(place.usager(), NOW - age)
    services.review_inactive_usagers()
    usager.refresh_from_db()
    assert (usager.retention_flagged_at is not None) is flagged


def test_a_rdv_is_activity_past_or_upcoming(place):
    old_file = NOW - TWO_YEARS - 30 * DAY
    recent_rdv, upcoming, only_old_rdv, booked_recently = (place.usager() for _ in range(4))
    place.rdv(NOW - 100 * DAY, [recent_rdv])
    place.rdv(NOW + 10 * DAY, [upcoming])
    place.rdv(NOW - TWO_YEARS - 10 * DAY, [only_old_rdv])
    place.rdv(NOW - TWO_YEARS - 11 * DAY, [booked_recently])  # an old RDV written into the file lately
    for usager in (recent_rdv, upcoming, only_old_rdv, booked_recently):
        aged(usager, old_file)  # files and participations written long ago
    Participation.objects.filter(usager=booked_recently).update(created_at=NOW - DAY)
    services.review_inactive_usagers()
    flagged = set(Usager.objects.filter(retention_flagged_at__isnull=False).values_list("pk", flat=True))
    assert flagged == {only_old_rdv.pk}


def test_joining_another_organisation_is_activity(place):
    usager = aged(place.usager(), NOW - TWO_YEARS - DAY)
    place.territory.usagers_visible_territory_wide = True
    place.territory.save()
    usager_services.add_usager_to_organisation(Context.system(place.territory, place.world.other_organisation), usager)
    services.review_inactive_usagers()
    assert Usager.objects.get(pk=usager.pk).retention_flagged_at is None


def test_a_responsible_with_an_active_relative_is_kept(place):
    parent = aged(place.usager(), NOW - TWO_YEARS - DAY)
    child = place.usager(responsible=parent)
    place.rdv(NOW + DAY, [child])
    aged(child, NOW - TWO_YEARS - DAY)
    lonely_child = aged(place.usager(responsible=aged(place.usager(), NOW - DAY)), NOW - TWO_YEARS - DAY)
    services.review_inactive_usagers()
    flagged = set(Usager.objects.filter(retention_flagged_at__isnull=False).values_list("pk", flat=True))
    assert flagged == {lonely_child.pk}  # the child of an active responsible is reviewed on its own


def test_a_flagged_usager_who_becomes_active_is_kept(place):
    changed = aged(place.usager(), NOW - TWO_YEARS - DAY)
    booked = aged(place.usager(), NOW - TWO_YEARS - DAY)
    idle = aged(place.usager(), NOW - TWO_YEARS - DAY)
    services.review_inactive_usagers()
    assert Usager.objects.filter(retention_flagged_at=NOW).count() == 3
    with time_machine.travel(NOW + 10 * DAY, tick=False):
        ctx = Context.system(place.territory, place.organisation)
        usager_services.update_usager(ctx, changed, {"phone": "0612345678"})
        place.rdv(NOW + 20 * DAY, [booked])
    with time_machine.travel(NOW + REVIEW, tick=False):
        report = services.review_inactive_usagers()
    assert report.counts == {"usagers_unflagged": 2, "usagers_deleted": 1, "usagers_flagged": 0}
    assert set(Usager.objects.values_list("pk", flat=True)) >= {changed.pk, booked.pk}
    assert not Usager.objects.filter(pk=idle.pk).exists()
    assert Usager.objects.filter(pk__in=[changed.pk, booked.pk], retention_flagged_at__isnull=True).count() == 2


def test_an_admin_keeps_a_flagged_file_for_another_inactivity_period(place):
    usager = aged(place.usager(), NOW - TWO_YEARS - DAY)
    services.review_inactive_usagers()
    with time_machine.travel(NOW + 5 * DAY, tick=False):
        assert services.keep_usager(as_agent(place.world.organisation_admin, place.organisation), usager) is True
    usager.refresh_from_db()
    assert usager.retention_flagged_at is None and usager.retention_kept_at == NOW + 5 * DAY
    assert usager.updated_at == NOW - TWO_YEARS - DAY  # keeping is not a change of the file
    with time_machine.travel(NOW + REVIEW, tick=False):
        assert services.review_inactive_usagers().counts["usagers_deleted"] == 0
    with time_machine.travel(NOW + 5 * DAY + TWO_YEARS - DAY, tick=False):
        assert services.review_inactive_usagers().counts["usagers_flagged"] == 0
    with time_machine.travel(NOW + 5 * DAY + TWO_YEARS + DAY, tick=False):
        assert services.review_inactive_usagers().counts["usagers_flagged"] == 1
    kept = AuditLog.objects.get(action="usager.retention_kept")
    assert kept.object_id == str(usager.pk)


def test_the_review_of_usagers_runs_in_batches_and_is_idempotent(place):
    for _ in range(5):
        aged(place.usager(), NOW - TWO_YEARS - DAY)
    first = services.review_inactive_usagers(batch_size=2)
    assert (first.counts["usagers_flagged"], first.batches) == (5, 3)
    assert services.review_inactive_usagers(batch_size=2).counts == {
        "usagers_unflagged": 0,
        "usagers_deleted": 0,
        "usagers_flagged": 0,
    }
    with time_machine.travel(NOW + REVIEW, tick=False):
        deleted = services.review_inactive_usagers(batch_size=2)
        assert (deleted.counts["usagers_deleted"], deleted.batches) == (5, 3)
        entries = AuditLog.objects.filter(action="usager.deleted").count()
        again = services.review_inactive_usagers(batch_size=2)
    assert again.counts == {"usagers_unflagged": 0, "usagers_deleted": 0, "usagers_flagged": 0}
    assert AuditLog.objects.filter(action="usager.deleted").count() == entries == 5
    entries = run_entries("retention.usagers_reviewed", place.territory)  # none for the runs without work
    assert [(entry.changes.get("usagers_flagged"), entry.changes.get("usagers_deleted")) for entry in entries] == [
        (5, None),
        (None, 5),
    ]


def test_deleting_a_responsible_detaches_the_relatives(place):
    parent = aged(place.usager(), NOW - TWO_YEARS - DAY)
    child = aged(place.usager(responsible=parent), NOW - TWO_YEARS - DAY)
    services.review_inactive_usagers()
    Usager.objects.filter(pk=child.pk).update(retention_flagged_at=NOW + DAY)  # flagged a day later
    with time_machine.travel(NOW + REVIEW, tick=False):
        services.review_inactive_usagers()
    assert not Usager.objects.filter(pk=parent.pk).exists()
    child.refresh_from_db()
    assert child.responsible_id is None and child.retention_flagged_at is not None
    assert child.updated_at == NOW - TWO_YEARS - DAY  # detaching is no activity: reviewed on its own
    with time_machine.travel(NOW + DAY + REVIEW, tick=False):
        services.review_inactive_usagers()
    assert not Usager.objects.exists()


def test_the_command_runs_the_jobs_or_only_counts(place, capsys):
    usager = place.usager()
    place.rdv(NOW - TWO_YEARS - DAY, [usager])
    aged(usager, NOW - TWO_YEARS - 2 * DAY)
    _entry(place, NOW - YEAR - DAY)
    call_command("run_retention", "--dry-run")
    preview = json.loads(capsys.readouterr().out)
    assert preview == {
        "dry_run": True,
        "rdvs_deleted": 1,
        "usagers_unflagged": 0,
        "usagers_deleted": 0,
        "usagers_flagged": 1,
        "audit_entries_deleted": 1,
    }
    assert Rdv.objects.count() == 1
    call_command("run_retention")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["job"], line.get("rdvs_deleted"), line.get("usagers_flagged")) for line in lines] == [
        ("rdvs", 1, None),
        ("usagers", None, 1),
        ("audit", None, None),
    ]
    assert not Rdv.objects.exists() and Usager.objects.filter(retention_flagged_at=timezone.now()).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_never_take_the_same_rdvs(postgres_only, alice):
    """A run skips the RDVs another run holds (SKIP LOCKED): no RDV is journaled or announced twice."""
    from tests.retention.conftest import build_place, rows_locked_elsewhere

    place = build_place(alice)
    usager = place.usager()
    held = [place.rdv(NOW - TWO_YEARS - (days + 1) * DAY, [usager]) for days in range(2)]
    free = [place.rdv(NOW - TWO_YEARS - (days + 3) * DAY, [usager]) for days in range(2)]
    with rows_locked_elsewhere(Rdv.objects.filter(pk__in=[rdv.pk for rdv in held])):
        report = services.purge_old_rdvs()
    assert report.counts["rdvs_deleted"] == 2
    assert not Rdv.objects.filter(pk__in=[rdv.pk for rdv in free]).exists()
    assert set(Rdv.objects.values_list("pk", flat=True)) == {rdv.pk for rdv in held}
    assert services.purge_old_rdvs().counts["rdvs_deleted"] == 2
    assert AuditLog.objects.filter(action="rdv.deleted").count() == 4
