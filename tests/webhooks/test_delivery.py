"""Webhook deliveries to a real HTTP receiver on 127.0.0.1 (issue 19): signatures, retries and order,
a worker dying mid-delivery, 410, the alert e-mail, SSRF refusals, redirects, timeouts, secret
rotation, test events, backfill and replay."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from rdv.bookings.services import BookingRequest, book_rdv, cancel_rdv, move_rdv
from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.outbox import services as outbox
from rdv.outbox.models import AttemptOutcome, Channel, Delivery, DeliveryAttempt, Status
from rdv.usagers.models import UsagerOrganisation
from rdv.webhooks import services
from rdv.webhooks.models import WebhookEndpoint, WebhookEvent
from rdv.webhooks.sender import send_webhook
from tests import factories
from tests.helpers import deliver_emails
from tests.online.fixtures import NOW, TUESDAY, at, build_online

SECRET = "une-cle-secrete-de-test-assez-longue"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def system(world):
    return Context.system(world.territory, world.organisation)


@pytest.fixture
def hook(world, receiver):
    receiver.secret = SECRET
    return services.create_endpoint(
        system(world), organisation=world.organisation, target_url=receiver.url, secret=SECRET
    )


def book(world, start):
    usager = factories.UsagerFactory(territory=world.territory, first_name="Jeanne", last_name="Dupont")
    UsagerOrganisation.objects.create(usager=usager, organisation=world.organisation)
    request = BookingRequest(
        motif=world.motif, starts_at=start, agents=[world.agent], usagers=[usager], lieu=world.lieu
    )
    return book_rdv(system(world), request)


def webhook_rows():
    return Delivery.objects.filter(channel=Channel.WEBHOOK).order_by("id")


def test_every_event_arrives_signed_both_ways(world, hook, receiver):
    rdv = book(world, at(TUESDAY, 10))
    move_rdv(system(world), rdv, at(TUESDAY, 11))
    assert outbox.run_due_deliveries() == {Status.SENT: 2}
    assert len(receiver.received) == 2
    for request, row in zip(receiver.received, webhook_rows(), strict=True):
        assert request.standard_ok and request.lapin_ok
        assert request.path == "/hooks"
        assert request.headers["content-type"] == "application/json; charset=utf-8"
        assert request.headers["webhook-id"] == str(row.message_id)
        assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
        assert request.body == row.text.encode()
    assert [b["meta"]["event"] for b in receiver.bodies()] == ["created", "updated"]
    attempt = DeliveryAttempt.objects.filter(delivery=webhook_rows().first()).get()
    assert (attempt.outcome, attempt.status_code, attempt.response_excerpt) == (
        AttemptOutcome.SENT,
        200,
        '{"ok": true}',
    )


def test_a_receiver_down_for_a_while_gets_every_event_once_up_in_order_per_record(world, hook, receiver, frozen):
    receiver.status = 503
    first = book(world, at(TUESDAY, 10))
    second = book(world, at(TUESDAY, 9))
    move_rdv(system(world), first, at(TUESDAY, 11))
    cancel_rdv(system(world), first, reason="Empêchement")
    for _ in range(4):  # four hours of outage: every attempt refused, later events held back
        outbox.run_due_deliveries()
        frozen.shift(timedelta(hours=1))
    assert {(r.json["data"]["id"], r.json["meta"]["event"]) for r in receiver.received} == {
        (first.pk, "created"),
        (second.pk, "created"),
    }
    receiver.status = 200
    for _ in range(12):
        frozen.shift(timedelta(hours=6))
        outbox.run_due_deliveries()
    assert set(webhook_rows().values_list("status", flat=True)) == {Status.SENT}
    delivered = [(r.json["data"]["id"], r.json["meta"]["event"], r.json["data"]["status"]) for r in receiver.accepted()]
    assert len(delivered) == 4  # each event accepted once
    assert [d for d in delivered if d[0] == first.pk] == [  # the events of one RDV never overtake each other
        (first.pk, "created", "unknown"),
        (first.pk, "updated", "unknown"),
        (first.pk, "updated", "revoked"),
    ]
    assert [d for d in delivered if d[0] == second.pk] == [(second.pk, "created", "unknown")]
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0 and hook.failing_since is None


def test_a_worker_dying_mid_delivery_delivers_again_with_the_same_webhook_id(world, hook, receiver, frozen, settings):
    book(world, at(TUESDAY, 10))
    row = outbox.claim()
    send_webhook(row)  # the POST arrives… and the worker dies before recording the outcome
    frozen.shift(timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1))
    assert outbox.run_due_deliveries() == {Status.SENT: 1}
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 2 and ids[0] == ids[1] == str(row.message_id)


def test_410_gone_disables_the_endpoint_cancels_its_events_and_tells_the_admins(world, hook, receiver):
    admin = factories.AgentFactory(email="admin-espace@exemple.fr")
    factories.TerritoryRoleFactory(agent=admin, territory=world.territory)
    receiver.status = 410
    first = book(world, at(TUESDAY, 10))
    move_rdv(system(world), first, at(TUESDAY, 11))
    outbox.run_due_deliveries()
    hook.refresh_from_db()
    assert not hook.active and "410" in hook.disabled_reason
    statuses = list(webhook_rows().values_list("status", flat=True))
    assert statuses == [Status.ABANDONED, Status.CANCELLED]
    assert len(receiver.received) == 1
    book(world, at(TUESDAY, 9))
    assert webhook_rows().count() == 2  # no new event for a disabled endpoint
    sent = deliver_emails()
    alerts = [m for m in sent if "Webhook désactivé" in m.subject]
    assert [m.to for m in alerts] == [["admin-espace@exemple.fr"]]
    assert "410 Gone" in alerts[0].body and receiver.url in alerts[0].body


def test_repeated_failures_send_one_alert_then_a_success_rearms_it(world, hook, receiver, frozen, settings):
    settings.WEBHOOK_ALERT_AFTER_FAILURES = 3
    espace_admin = factories.AgentFactory(email="admin-espace@exemple.fr")
    factories.TerritoryRoleFactory(agent=espace_admin, territory=world.territory)
    organisation_admin = factories.AgentFactory(email="admin-mds@exemple.fr")
    factories.AgentRoleFactory(agent=organisation_admin, organisation=world.organisation, access_level="admin")
    receiver.status = 500
    for hour in (9, 10, 11):
        book(world, at(TUESDAY, hour))
    for _ in range(4):
        outbox.run_due_deliveries()
        frozen.shift(timedelta(hours=1))
    hook.refresh_from_db()
    assert hook.consecutive_failures >= 6 and hook.failing_since == NOW and hook.alerted_at is not None
    # The alert e-mails were written at the third failure and sent by the runs above: one each in all
    # (not deliver_emails(): it would also run every webhook retry of the next three days).
    alerts = [m for m in mail.outbox if "Webhook en échec" in m.subject]
    assert sorted(m.to[0] for m in alerts) == ["admin-espace@exemple.fr", "admin-mds@exemple.fr"]
    receiver.status = 200
    frozen.shift(timedelta(hours=6))
    outbox.run_due_deliveries()
    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.failing_since, hook.alerted_at) == (0, None, None)


def test_loopback_private_and_link_local_destinations_are_refused_in_production(world, receiver, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.WEBHOOK_REQUIRE_HTTPS = True
    for url in (
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.1.10/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://0.0.0.0/hooks",
    ):
        with pytest.raises(DomainError, match="réseau privé ou local"):
            services.create_endpoint(system(world), organisation=world.organisation, target_url=url)
    with pytest.raises(DomainError, match="https://"):
        services.create_endpoint(system(world), organisation=world.organisation, target_url="http://si.exemple.fr/h")
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_that_now_resolves_to_loopback_is_refused_at_send_time(world, hook, receiver, settings):
    book(world, at(TUESDAY, 10))
    settings.WEBHOOK_ALLOW_LOOPBACK = False  # e.g. a name re-pointed to an internal address
    assert outbox.run_due_deliveries() == {Status.ABANDONED: 1}
    assert receiver.received == []
    row = webhook_rows().get()
    assert "réseau privé ou local" in row.last_error


def test_redirects_are_not_followed(world, hook, receiver):
    receiver.status, receiver.location = 302, "http://127.0.0.1:9/ailleurs"
    book(world, at(TUESDAY, 10))
    assert outbox.run_due_deliveries() == {Status.FAILING: 1}
    row = webhook_rows().get()
    assert row.last_error == "HTTP 302 : redirection non suivie"
    assert len(receiver.received) == 1


def test_a_slow_receiver_times_out_and_is_retried(world, hook, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    book(world, at(TUESDAY, 10))
    assert outbox.run_due_deliveries() == {Status.FAILING: 1}
    row = webhook_rows().get()
    assert row.last_error == "Pas de réponse en 0.3 s."
    assert row.next_attempt_at > NOW


def test_during_a_rotation_both_secrets_sign(world, hook, receiver, frozen):
    hook = services.rotate_secret(system(world), hook, grace_hours=24)
    new_secret = hook.secret
    assert new_secret != SECRET and hook.previous_secret == SECRET
    book(world, at(TUESDAY, 10))
    receiver.secret = new_secret  # a receiver already switched: the Standard Webhooks header verifies
    outbox.run_due_deliveries()
    request = receiver.received[-1]
    assert request.standard_ok and not request.lapin_ok
    assert len(request.headers["webhook-signature"].split()) == 2
    receiver.secret = SECRET  # a receiver not switched yet: both headers verify during the grace period
    move_rdv(system(world), hook.organisation.rdvs.get(), at(TUESDAY, 11))
    outbox.run_due_deliveries()
    assert receiver.received[-1].standard_ok and receiver.received[-1].lapin_ok
    frozen.shift(timedelta(hours=25))  # the grace period is over: only the new secret signs
    receiver.secret = new_secret
    cancel_rdv(system(world), hook.organisation.rdvs.get())
    outbox.run_due_deliveries()
    request = receiver.received[-1]
    assert request.standard_ok and request.lapin_ok
    assert len(request.headers["webhook-signature"].split()) == 1


def test_the_test_event_is_signed_and_carries_no_personal_data(world, hook, receiver):
    services.send_test_event(system(world), hook)
    outbox.run_due_deliveries()
    request = receiver.received[-1]
    assert request.standard_ok and request.lapin_ok
    assert request.json["meta"]["model"] == "Test" and request.json["meta"]["webhook_reason"] == "test"
    assert request.json["data"]["organisation"]["id"] == world.organisation.pk


def test_backfill_sends_created_for_every_existing_record_paced(world, receiver, frozen, settings):
    settings.WEBHOOK_BACKFILL_PER_SECOND = 2
    book(world, at(TUESDAY, 10))
    book(world, at(TUESDAY, 11))
    receiver.secret = SECRET
    hook = services.create_endpoint(
        system(world),
        organisation=world.organisation,
        target_url=receiver.url,
        secret=SECRET,
        subscriptions=["rdv", "lieu"],
    )
    assert services.backfill(hook.pk) == 4  # 2 RDVs, 2 lieux
    events = WebhookEvent.objects.filter(endpoint=hook).select_related("delivery").order_by("id")
    assert [(e.model, e.event, e.reason) for e in events] == [("Rdv", "created", "backfill")] * 2 + [
        ("Lieu", "created", "backfill")
    ] * 2
    assert [e.delivery.next_attempt_at - NOW for e in events] == [timedelta(seconds=s) for s in (0, 0.5, 1, 1.5)]
    assert outbox.run_due_deliveries() == {Status.SENT: 1}  # the others are not due yet
    frozen.shift(timedelta(seconds=2))
    assert outbox.run_due_deliveries() == {Status.SENT: 3}
    assert all(r.json["meta"]["webhook_reason"] is None for r in receiver.received)


def test_a_failed_event_is_replayed_with_the_same_webhook_id(world, hook, receiver):
    receiver.status = 400
    book(world, at(TUESDAY, 10))
    row = webhook_rows().get()
    Delivery.objects.filter(pk=row.pk).update(attempts=20)  # the last attempt of about three days
    outbox.run_due_deliveries()
    row.refresh_from_db()
    assert row.status == Status.ABANDONED
    receiver.status = 200
    services.replay_event(system(world), WebhookEvent.objects.get())
    assert outbox.run_due_deliveries() == {Status.SENT: 1}
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {str(row.message_id)}
    with pytest.raises(DomainError):  # sent and not replayed again meanwhile: replay works on finished rows
        Delivery.objects.filter(pk=row.pk).update(status=Status.SENDING, next_attempt_at=NOW)
        services.replay_event(system(world), WebhookEvent.objects.get())


def test_the_retry_policy_spans_about_three_days_in_bounded_attempts(settings):
    policy = outbox.retry_policy(Channel.WEBHOOK)
    nominal = [outbox.retry_delay(Channel.WEBHOOK, n, rand=0.5) for n in range(1, policy.max_attempts)]
    total = sum(nominal, timedelta())
    assert policy.max_attempts == 21
    assert nominal[0] == timedelta(seconds=30) and max(nominal) == timedelta(hours=6)
    assert timedelta(days=2.5) <= total <= timedelta(days=3.5)
