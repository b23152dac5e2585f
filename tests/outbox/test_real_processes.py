"""The outbox with real parts: `db_worker` and `run_scheduler` processes, a local SMTP server on
127.0.0.1, the test database (committed data: transactional tests). Leases and backoff are
short through the settings' environment variables; every wait polls with a generous timeout."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from rdv.accounts import services as account_services
from rdv.outbox.channels import email_message_id
from rdv.outbox.harness import child_environment, wait_until
from rdv.outbox.models import Delivery, Status
from rdv.outbox.services import enqueue_email
from tests.conftest import build_world
from tests.helpers import as_agent, log_in, page_text

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {
    # Long enough that a slow send on a loaded machine keeps its lease (a lost lease is a second,
    # legitimate attempt); the kill test waits for it to expire.
    "OUTBOX_LEASE_SECONDS": 15,
    "OUTBOX_RETRY_BASE_SECONDS": 0.5,
    "OUTBOX_RETRY_FACTOR": 2,
    "OUTBOX_RETRY_MAX_SECONDS": 2,
    "OUTBOX_SWEEP_SECONDS": 1,
    "SCHEDULER_LOCK_RETRY_SECONDS": 0.5,
}
WAIT = 90  # seconds: generous for a loaded 2-core machine; polling returns as soon as it is true


def status_of(delivery) -> str:
    return Delivery.objects.values_list("status", flat=True).get(pk=delivery.pk)


def test_a_worker_killed_mid_send_leaves_the_message_to_another_worker_after_the_lease(
    real_queue, smtp_server, processes
):
    server = smtp_server(stall_first=True)
    env = child_environment(server.port, EMAIL_TIMEOUT=120, **FAST)
    delivery = enqueue_email(to="camille@exemple.fr", subject="Bonjour", text="Texte")
    first = processes.worker(env, "worker-a")
    assert server.stalled.wait(WAIT), "the first worker never reached the SMTP server"
    assert status_of(delivery) == Status.SENDING
    first.kill()  # SIGKILL in the middle of the SMTP conversation

    processes.worker(env, "worker-b")
    processes.scheduler(env)  # its periodic sweep hands the expired lease to worker B
    wait_until(lambda: status_of(delivery) == Status.SENT, WAIT, message="the message sent by worker B")

    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert server.counts() == {email_message_id(delivery): 1}
    # What django-tasks alone would have done: the killed worker's task stays RUNNING forever.
    assert DBTaskResult.objects.filter(task_path="rdv.outbox.tasks.deliver", status="RUNNING").count() == 1


def test_a_message_refused_for_a_while_is_sent_after_retries(real_queue, smtp_server, processes):
    server = smtp_server(refuse_first=2)
    env = child_environment(server.port, **FAST)
    delivery = enqueue_email(to="camille@exemple.fr", subject="Bonjour", text="Texte")
    processes.worker(env)
    wait_until(lambda: status_of(delivery) == Status.SENT, WAIT, message="the message sent")

    delivery.refresh_from_db()
    assert delivery.attempts >= 3
    # Every attempt but the last was refused (an attempt may also fail without reaching the server
    # on a loaded machine: a connection timeout, retried the same way).
    assert server.refused == 2 <= delivery.attempts - 1
    assert delivery.last_error == ""
    assert server.counts() == {email_message_id(delivery): 1}


def test_a_permanent_refusal_is_abandoned_after_one_attempt_and_shown_to_the_espace_admin(
    real_queue, smtp_server, processes
):
    world = build_world("alice")
    server = smtp_server(refuse_recipients=["inconnu@exemple.fr"])
    account_services.invite_agent(
        as_agent(world.territory_admin, world.territory),
        "inconnu@exemple.fr",
        [world.service],
        {world.organisation: "basic"},
    )
    delivery = Delivery.objects.get()
    processes.worker(child_environment(server.port, **FAST))
    wait_until(lambda: status_of(delivery) == Status.ABANDONED, WAIT, message="the message abandoned")

    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("SMTP 550")
    assert server.counts() == {}
    page = page_text(
        log_in(Client(), world.territory_admin).get(reverse("espace_deliveries", args=[world.territory.pk]))
    )
    assert "inconnu@exemple.fr" in page
    assert "SMTP 550 5.1.1 Adresse inconnue" in page
    assert "abandonné" in page


def test_a_rolled_back_change_sends_nothing(real_queue, smtp_server, processes):
    server = smtp_server()
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_email(to="annule@exemple.fr", subject="Jamais", text="Texte")
        raise RuntimeError("the change fails after writing its message")
    assert not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()
    witness = enqueue_email(to="temoin@exemple.fr", subject="Témoin", text="Texte")
    processes.worker(child_environment(server.port, **FAST))
    wait_until(lambda: status_of(witness) == Status.SENT, WAIT, message="the witness sent")
    assert server.counts() == {email_message_id(witness): 1}


def test_four_workers_send_500_messages_once_each(real_queue, smtp_server, processes, postgres_only):
    server = smtp_server()
    with transaction.atomic():
        deliveries = [enqueue_email(to=f"u{n}@exemple.fr", subject=f"Message {n}", text="Texte") for n in range(500)]
    env = child_environment(server.port, **FAST)
    for n in range(4):
        processes.worker(env, f"worker-{n}")
    unsent = Delivery.objects.exclude(status=Status.SENT)
    wait_until(lambda: not unsent.exists(), 180, interval=0.5, message="500 messages sent")

    counts = server.counts()
    expected = {email_message_id(delivery) for delivery in deliveries}
    assert set(counts) == expected  # 0 lost
    assert sum(counts.values()) == 500  # 0 duplicates
    assert Delivery.objects.filter(status=Status.SENT, attempts=1).count() == 500


def test_two_schedulers_never_both_run_and_the_standby_takes_over(real_queue, processes):
    env = child_environment(None, **FAST)
    first = processes.scheduler(env, "scheduler-1")
    wait_until(lambda: "Planificateur actif" in first.output(), WAIT, message="the first scheduler active")
    second = processes.scheduler(env, "scheduler-2")
    wait_until(lambda: "attend" in second.output(), WAIT, message="the second scheduler waiting")
    assert "Planificateur actif" not in second.output()

    first.kill()  # a crash: the lock goes with the process (session or file), no expiry to wait for
    wait_until(lambda: "Planificateur actif" in second.output(), WAIT, message="the standby taking over")
    sweeps = DBTaskResult.objects.filter(task_path="rdv.outbox.tasks.deliver_due")
    wait_until(lambda: sweeps.count() >= 1, WAIT, message="a sweep enqueued by the new leader")
