"""The outbox service functions, in this process: writing, claiming with a lease, outcomes,
backoff, expiry, supersession, purge, « Renvoyer ». E-mails go to Django's locmem outbox, or to a
real local SMTP server where the SMTP replies matter."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend

from rdv.accounts import services as account_services
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.outbox import channels, services
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from rdv.outbox.services import enqueue_email, run_due_deliveries
from tests.helpers import as_agent, locked_elsewhere

NOW = timezone.datetime(2027, 3, 9, 8, 0, tzinfo=timezone.get_default_timezone())


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def empty_task_recorder():
    default_task_backend.results.clear()
    yield


def wake_ups() -> list:
    """(delivery id, run_after) of the `deliver` tasks recorded by the test task backend."""
    return [
        (result.args[0], result.task.run_after)
        for result in default_task_backend.results
        if result.task.name == "deliver"
    ]


@pytest.fixture
def failing_sender(monkeypatch):
    """Replace the e-mail sender by one raising the given error (the edge of the world)."""

    def install(error):
        def sender(delivery):
            raise error

        monkeypatch.setitem(channels._SENDERS, Channel.EMAIL, sender)

    return install


def make(**kwargs):
    return enqueue_email(to=kwargs.pop("to", "camille@exemple.fr"), subject="Objet", text="Texte", **kwargs)


# Writing --------------------------------------------------------------------------------------


def test_a_message_is_written_to_send_now_and_a_worker_is_woken(db):
    delivery = make()
    assert delivery.status == Status.PENDING
    assert delivery.next_attempt_at == NOW
    assert delivery.attempts == 0
    assert wake_ups() == [(delivery.pk, None)]
    assert mail.outbox == []


def test_a_rolled_back_change_leaves_no_message(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        make()
        raise RuntimeError
    assert not Delivery.objects.exists()
    assert run_due_deliveries() == {}
    assert mail.outbox == []


def test_the_subject_is_one_line_and_the_tenant_and_object_are_kept(alice):
    delivery = enqueue_email(
        to="x@exemple.fr",
        subject="Ligne 1\nLigne 2",
        text="T",
        about=alice.organisation,
        territory=alice.territory,
        organisation=alice.organisation,
        purpose=Purpose.WAITING_ROOM,
    )
    delivery.refresh_from_db()
    assert delivery.subject == "Ligne 1 Ligne 2"
    assert delivery.about == alice.organisation
    assert (delivery.territory, delivery.organisation) == (alice.territory, alice.organisation)


def test_a_channel_without_sender_is_refused(db):
    with pytest.raises(ValueError, match="No sender"):
        services.enqueue(channel="fax", recipient="0600000000", text="T")
    assert not Delivery.objects.exists()


# Sending --------------------------------------------------------------------------------------


def test_a_sent_message_carries_its_stable_message_id(db):
    delivery = make(html="<p>Texte</p>")
    assert run_due_deliveries() == {Status.SENT: 1}
    delivery.refresh_from_db()
    message_id = f"<{delivery.message_id}@rdv.example.fr>"
    assert [m.to for m in mail.outbox] == [["camille@exemple.fr"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id
    assert mail.outbox[0].alternatives[0][0] == "<p>Texte</p>"
    assert (delivery.status, delivery.attempts, delivery.provider_id) == (Status.SENT, 1, message_id)
    assert delivery.sent_at == NOW
    assert (delivery.next_attempt_at, delivery.lease_expires_at, delivery.lease_owner) == (None, None, "")
    assert run_due_deliveries() == {}


def test_a_claim_takes_a_lease_and_nobody_else_gets_the_row_until_it_expires(db, frozen_time, settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    delivery = make()
    claimed = services.claim()
    assert claimed.pk == delivery.pk
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENDING, 1)
    assert delivery.lease_expires_at == delivery.next_attempt_at == NOW + timedelta(seconds=60)
    assert delivery.lease_owner == claimed.lease_owner != ""
    assert services.claim() is None
    assert services.deliver_one(delivery.pk) == "not_due"

    frozen_time.shift(timedelta(seconds=59))
    assert services.claim() is None
    frozen_time.shift(timedelta(seconds=1))
    again = services.claim()  # the first worker is presumed dead
    assert again.pk == delivery.pk
    assert again.attempts == 2
    assert again.lease_owner != claimed.lease_owner
    # The first worker comes back: its outcome is no longer recorded.
    assert services.send_claimed(claimed) == "lease_lost"
    assert services.send_claimed(again) == Status.SENT
    assert len(mail.outbox) == 2  # at least once: the lease expired while the first one was sending


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_worker_is_skipped_not_waited_for(postgres_only):
    first, second = make(to="a@exemple.fr"), make(to="b@exemple.fr")
    # Waiting instead of skipping fails the test (lock_timeout).
    with locked_elsewhere(lambda: Delivery.objects.select_for_update().get(pk=first.pk)):
        assert services.claim().pk == second.pk


def test_the_oldest_due_message_is_claimed_first_and_future_ones_wait(db, frozen_time):
    first = make()
    frozen_time.shift(timedelta(seconds=1))
    second = make()
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=NOW + timedelta(hours=1))
    assert services.claim().pk == second.pk
    assert services.claim() is None


def test_a_temporary_failure_is_retried_later_with_backoff(db, failing_sender, settings):
    settings.OUTBOX_RETRY = {
        "default": {"max_attempts": 3, "base_seconds": 100, "factor": 3, "max_seconds": 1000, "jitter": 0.2}
    }
    failing_sender(channels.TemporaryError("SMTP 451 plus tard"))
    delivery = make()
    assert run_due_deliveries() == {Status.FAILING: 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.FAILING, 1, "SMTP 451 plus tard")
    assert NOW + timedelta(seconds=80) <= delivery.next_attempt_at <= NOW + timedelta(seconds=120)
    assert wake_ups()[-1] == (delivery.pk, delivery.next_attempt_at)
    assert (delivery.lease_owner, delivery.lease_expires_at) == ("", None)
    assert run_due_deliveries() == {}  # not due yet


def test_after_the_last_attempt_the_message_is_abandoned(db, failing_sender, frozen_time, settings):
    settings.OUTBOX_RETRY = {
        "default": {"max_attempts": 3, "base_seconds": 10, "factor": 2, "max_seconds": 100, "jitter": 0}
    }
    failing_sender(channels.TemporaryError("SMTP 451"))
    delivery = make()
    outcomes = []
    for _ in range(3):
        outcomes.append(services.deliver_one(delivery.pk))
        frozen_time.shift(timedelta(seconds=100))
    delivery.refresh_from_db()
    assert outcomes == [Status.FAILING, Status.FAILING, Status.ABANDONED]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (Status.ABANDONED, 3, None)
    assert len(wake_ups()) == 3  # the first, then one per retry; none after abandoning


def test_a_row_beyond_a_lowered_maximum_is_abandoned_at_its_next_failure(db, failing_sender, settings):
    settings.OUTBOX_RETRY = {
        "default": {"max_attempts": 3, "base_seconds": 1, "factor": 1, "max_seconds": 1, "jitter": 0}
    }
    failing_sender(channels.TemporaryError("451"))
    delivery = make()
    Delivery.objects.filter(pk=delivery.pk).update(attempts=4)
    assert run_due_deliveries() == {Status.ABANDONED: 1}


def test_a_long_provider_id_is_cut_to_its_column(db, monkeypatch):
    monkeypatch.setitem(channels._SENDERS, Channel.EMAIL, lambda delivery: "x" * 300)
    delivery = make()
    run_due_deliveries()
    assert Delivery.objects.get(pk=delivery.pk).provider_id == "x" * 255


def test_only_unexpected_errors_are_logged_with_their_traceback(db, failing_sender, caplog):
    failing_sender(channels.TemporaryError("451"))
    make()
    run_due_deliveries()
    assert not [r for r in caplog.records if r.exc_info]
    failing_sender(KeyError("bug"))
    make()
    run_due_deliveries()
    assert [r.getMessage() for r in caplog.records if r.exc_info] == [
        f"Unexpected error while sending delivery {Delivery.objects.latest('id').pk}"
    ]


def test_a_permanent_failure_is_abandoned_at_once(db, failing_sender):
    failing_sender(channels.PermanentError("SMTP 550 inconnu"))
    delivery = make()
    assert run_due_deliveries() == {Status.ABANDONED: 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.ABANDONED, 1, "SMTP 550 inconnu")
    assert delivery.next_attempt_at is None


def test_an_unexpected_error_is_treated_as_temporary(db, failing_sender):
    failing_sender(KeyError("bug"))
    delivery = make()
    assert run_due_deliveries() == {Status.FAILING: 1}
    assert Delivery.objects.get(pk=delivery.pk).last_error == "'bug'"


@pytest.mark.parametrize("past", [timedelta(0), timedelta(seconds=1)])
def test_a_message_past_its_expiry_is_abandoned_and_the_next_one_sent(db, frozen_time, past):
    delivery = make(expires_at=NOW + timedelta(minutes=5))
    still_valid = make(to="valide@exemple.fr", expires_at=NOW + timedelta(minutes=6))
    frozen_time.shift(timedelta(minutes=5) + past)
    assert run_due_deliveries() == {Status.SENT: 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error, delivery.attempts) == (Status.ABANDONED, services.EXPIRED_ERROR, 0)
    assert [m.to for m in mail.outbox] == [["valide@exemple.fr"]]
    assert Delivery.objects.get(pk=still_valid.pk).status == Status.SENT


def test_deliver_due_stops_at_its_limit_and_budget(db, failing_sender, settings):
    for n in range(8):
        make(to=f"u{n}@exemple.fr")
    assert services.deliver_due(limit=2) == {Status.SENT: 2}
    assert services.deliver_due(budget_seconds=0) == {}
    ticks = iter(range(1, 1000))  # one second more at each look at the clock
    assert services.deliver_due(budget_seconds=3, clock=lambda: next(ticks)) == {Status.SENT: 2}
    assert services.deliver_due(budget_seconds=3600) == {Status.SENT: 4}
    # A row failing during the call is not taken again by the same call, even with no backoff.
    settings.OUTBOX_RETRY = {
        "default": {"max_attempts": 5, "base_seconds": 0, "factor": 1, "max_seconds": 0, "jitter": 0}
    }
    failing_sender(channels.TemporaryError("451"))
    make()
    assert services.deliver_due() == {Status.FAILING: 1}


# Backoff and errors ---------------------------------------------------------------------------


def test_the_delay_grows_by_the_factor_is_capped_and_jittered(settings):
    settings.OUTBOX_RETRY = {
        "default": {"max_attempts": 10, "base_seconds": 60, "factor": 3, "max_seconds": 3600, "jitter": 0.2},
        "email": {"max_attempts": 10},
    }
    delay = services.retry_delay
    assert [delay("email", n, rand=0.5).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 180, 540, 1620, 3600]
    assert delay("email", 1, rand=0.0).total_seconds() == pytest.approx(48)
    assert delay("email", 1, rand=1.0).total_seconds() == pytest.approx(72)
    assert delay("email", 9, rand=1.0).total_seconds() == pytest.approx(4320)
    settings.OUTBOX_RETRY["default"]["base_seconds"] = 0
    assert delay("email", 1).total_seconds() == 1.0


def test_the_default_email_policy_spans_about_two_days():
    policy = services.retry_policy("email")
    total = sum(services.retry_delay("email", n, rand=0.5).total_seconds() for n in range(1, policy.max_attempts))
    assert policy.max_attempts == 10
    assert 30 * 3600 < total < 60 * 3600


def test_stored_errors_hide_secrets_and_are_capped(settings):
    settings.EMAIL_HOST_PASSWORD = "motdepasse-smtp"
    text = services.safe_error(
        "auth motdepasse-smtp failed for https://user:pw@si.exemple.fr/hook?token=abc&x=1 " + "x" * 1000
    )
    assert "motdepasse-smtp" not in text
    assert "user:pw" not in text and "https://***@si.exemple.fr" in text
    assert "token=***&x=1" in text
    assert len(text) == 500  # the column's size


# The e-mail channel against a real SMTP server --------------------------------------------------


@pytest.fixture
def smtp_settings(settings, smtp_server):
    def configure(**options):
        server = smtp_server(**options)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
        return server

    return configure


def test_smtp_replies_decide_temporary_or_permanent(db, smtp_settings):
    server = smtp_settings(refuse_recipients=["inconnu@exemple.fr"], refuse_seconds=60)
    refused = make(to="inconnu@exemple.fr")
    later = make(to="camille@exemple.fr")
    assert run_due_deliveries() == {Status.ABANDONED: 1, Status.FAILING: 1}
    assert Delivery.objects.get(pk=refused.pk).last_error.startswith("SMTP 550 5.1.1")
    assert Delivery.objects.get(pk=later.pk).last_error.startswith("SMTP 451 4.3.0")
    assert server.counts() == {}


def test_an_accepted_message_reaches_the_server_with_its_message_id(db, smtp_settings):
    server = smtp_settings()
    delivery = make()
    assert run_due_deliveries() == {Status.SENT: 1}
    assert server.counts() == {channels.email_message_id(delivery): 1}


def test_an_unreachable_server_is_temporary_and_an_invalid_address_permanent(db, settings):
    from rdv.outbox.harness import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    unreachable = make()
    invalid = make(to="pas-une-adresse")
    assert run_due_deliveries() == {Status.FAILING: 1, Status.ABANDONED: 1}
    assert Delivery.objects.get(pk=unreachable.pk).last_error.startswith("ConnectionRefusedError")
    assert Delivery.objects.get(pk=invalid.pk).last_error == "Adresse e-mail invalide."


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (smtplib.SMTPSenderRefused(550, b"sender refused", "ne-pas-repondre@rdv.example.fr"), False),
        (smtplib.SMTPDataError(554, b"spam"), True),
        (smtplib.SMTPDataError(452, b"full"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.fr": (450, b"greylisted")}), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (TimeoutError("timed out"), False),
    ],
)
def test_smtp_errors_about_our_own_set_up_are_never_permanent(db, monkeypatch, error, permanent):
    def refuse(self, fail_silently=False):
        raise error

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    expected = channels.PermanentError if permanent else channels.TemporaryError
    with pytest.raises(expected) as raised:
        channels.send_email(make())
    assert type(raised.value) is expected


# Supersession, purge, « Renvoyer » --------------------------------------------------------------


def test_a_new_invitation_link_cancels_the_undelivered_old_one(alice, failing_sender):
    account_services.invite_agent(
        as_agent(alice.territory_admin, alice.territory),
        "camille@exemple.fr",
        [alice.service],
        {alice.organisation: "basic"},
    )
    failing_sender(channels.TemporaryError("451"))
    run_due_deliveries()
    invitation = alice.territory.invitations.get()
    account_services.resend_invitation(as_agent(alice.territory_admin, invitation), invitation)
    old, new = Delivery.objects.order_by("id")
    assert (old.status, old.last_error, old.next_attempt_at) == (Status.CANCELLED, services.SUPERSEDED_ERROR, None)
    assert new.status == Status.PENDING
    assert new.expires_at == Delivery.objects.get(pk=new.pk).about.expires_at


def test_without_supersede_or_without_object_older_messages_stay(alice, monkeypatch):
    first = make(about=alice.organisation, purpose=Purpose.INVITATION)
    make(about=alice.organisation, purpose=Purpose.INVITATION)
    loose = make(purpose=Purpose.INVITATION)
    make(purpose=Purpose.INVITATION, supersede=True)
    assert Delivery.objects.get(pk=first.pk).status == Status.PENDING
    assert Delivery.objects.get(pk=loose.pk).status == Status.PENDING
    make(about=alice.organisation, purpose=Purpose.INVITATION, supersede=True)
    assert Delivery.objects.get(pk=first.pk).status == Status.CANCELLED


def test_supersede_only_touches_the_same_recipient_and_channel(alice, monkeypatch):
    monkeypatch.setitem(channels._SENDERS, Channel.SMS, lambda delivery: "sms-1")
    other_agent = make(to="autre@exemple.fr", about=alice.organisation, purpose=Purpose.INVITATION)
    sms = services.enqueue(
        channel=Channel.SMS,
        recipient="camille@exemple.fr",
        text="T",
        about=alice.organisation,
        purpose=Purpose.INVITATION,
    )
    make(about=alice.organisation, purpose=Purpose.INVITATION, supersede=True)
    assert Delivery.objects.get(pk=other_agent.pk).status == Status.PENDING
    assert Delivery.objects.get(pk=sms.pk).status == Status.PENDING


def test_writing_a_message_is_all_or_nothing(db, monkeypatch):
    def broken_wake(delivery_id, run_after=None):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(services, "wake", broken_wake)
    with pytest.raises(RuntimeError):
        make()
    assert not Delivery.objects.exists()


def test_old_sent_and_cancelled_messages_are_purged_not_the_rest(db, frozen_time, settings, failing_sender):
    settings.OUTBOX_KEEP_SENT_DAYS = 30
    sent = make()
    run_due_deliveries()
    cancelled = make()
    Delivery.objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED, next_attempt_at=None)
    failing_sender(channels.PermanentError("550"))
    abandoned = make()
    run_due_deliveries()
    frozen_time.shift(timedelta(days=30))
    recent = make()
    assert services.purge_sent() == 0
    frozen_time.shift(timedelta(seconds=1))
    assert services.purge_sent() == 2
    assert set(Delivery.objects.values_list("pk", flat=True)) == {abandoned.pk, recent.pk}
    assert sent.pk not in set(Delivery.objects.values_list("pk", flat=True))


@pytest.fixture
def abandoned(alice, failing_sender, monkeypatch):
    failing_sender(channels.PermanentError("SMTP 550 inconnu"))
    delivery = make(territory=alice.territory, organisation=alice.organisation, about=alice.organisation)
    run_due_deliveries()
    monkeypatch.undo()
    return Delivery.objects.get(pk=delivery.pk)


def test_renvoyer_gives_a_fresh_series_of_attempts_and_is_logged(alice, abandoned):
    default_task_backend.results.clear()
    services.retry_delivery(as_agent(alice.territory_admin, alice.territory), abandoned)
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.attempts, abandoned.next_attempt_at) == (Status.PENDING, 0, NOW)
    assert wake_ups() == [(abandoned.pk, None)]
    entry = AuditLog.objects.get(action="delivery.retried")
    assert entry.changes == {"status": ["abandonné", "à envoyer"]}
    assert entry.territory == alice.territory
    assert entry.object_repr == f"E-mail n° {abandoned.pk}"
    assert run_due_deliveries() == {Status.SENT: 1}


def test_renvoyer_refuses_what_is_not_undelivered_expired_or_out_of_reach(alice, bob, abandoned, frozen_time):
    with pytest.raises(DomainError) as refused:
        services.retry_delivery(as_agent(bob.territory_admin, bob.territory), abandoned)
    assert refused.value.code == "forbidden"
    assert (
        services.retry_delivery(as_agent(alice.organisation_admin, alice.organisation), abandoned).status
        == Status.PENDING
    )
    with pytest.raises(DomainError) as refused:
        services.retry_delivery(as_agent(alice.territory_admin, alice.territory), abandoned)
    assert refused.value.code == "not_undelivered"
    Delivery.objects.filter(pk=abandoned.pk).update(status=Status.ABANDONED, expires_at=NOW, next_attempt_at=None)
    with pytest.raises(DomainError) as refused:
        services.retry_delivery(as_agent(alice.territory_admin, alice.territory), abandoned)
    assert refused.value.code == "expired"
    assert "09/03/2027 à 08:00" in refused.value.message
    Delivery.objects.filter(pk=abandoned.pk).update(expires_at=NOW - timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        services.retry_delivery(as_agent(alice.territory_admin, alice.territory), abandoned)
    assert "08/03/2027 à 08:00" in refused.value.message
    assert AuditLog.objects.filter(action="delivery.retried").count() == 1
    Delivery.objects.filter(pk=abandoned.pk).update(expires_at=NOW + timedelta(seconds=1))
    assert services.retry_delivery(as_agent(alice.territory_admin, alice.territory), abandoned).status == Status.PENDING


def test_renvoyer_is_all_or_nothing(alice, abandoned, monkeypatch):
    def broken_wake(delivery_id, run_after=None):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(services, "wake", broken_wake)
    with pytest.raises(RuntimeError):
        services.retry_delivery(as_agent(alice.territory_admin, alice.territory), abandoned)
    assert Delivery.objects.get(pk=abandoned.pk).status == Status.ABANDONED
    assert not AuditLog.objects.filter(action="delivery.retried").exists()
