"""Webhooks with real parts: `db_worker` and `run_scheduler` processes, a real HTTP receiver on
127.0.0.1, the test database (committed data). A worker killed while its POST is in flight: the
event is delivered again by another worker after the lease, with the same `webhook-id`."""

import pytest

from rdv.bookings.services import BookingRequest, book_rdv
from rdv.core.context import Context
from rdv.outbox.harness import child_environment, wait_until
from rdv.outbox.models import Channel, Delivery, Status
from rdv.webhooks import services
from tests import factories
from tests.online.fixtures import TUESDAY, at, build_online
from tests.outbox import conftest as outbox_fixtures

pytestmark = pytest.mark.django_db(transaction=True)

real_queue = outbox_fixtures.real_queue
processes = outbox_fixtures.processes
SECRET = "une-cle-secrete-de-test-assez-longue"
FAST = {
    "OUTBOX_LEASE_SECONDS": 15,
    "WEBHOOK_RETRY_BASE_SECONDS": 0.5,
    "WEBHOOK_RETRY_FACTOR": 2,
    "WEBHOOK_RETRY_MAX_SECONDS": 2,
    "OUTBOX_SWEEP_SECONDS": 1,
    "SCHEDULER_LOCK_RETRY_SECONDS": 0.5,
    "WEBHOOK_TIMEOUT_SECONDS": 120,
    "WEBHOOK_ALLOW_LOOPBACK": 1,
}
WAIT = 90


def test_a_worker_killed_mid_delivery_leaves_the_event_to_another_worker_with_the_same_id(
    real_queue, processes, receiver
):
    world = build_online()
    receiver.secret = SECRET
    receiver.delays = [300]  # the first POST stalls: the worker is killed while waiting for the answer
    ctx = Context.system(world.territory, world.organisation)
    services.create_endpoint(ctx, organisation=world.organisation, target_url=receiver.url, secret=SECRET)
    usager = factories.UsagerFactory(territory=world.territory, organisations=[world.organisation])
    book_rdv(
        ctx,
        BookingRequest(
            motif=world.motif, starts_at=at(TUESDAY, 10), agents=[world.agent], usagers=[usager], lieu=world.lieu
        ),
    )
    delivery = Delivery.objects.get(channel=Channel.WEBHOOK)
    env = child_environment(**FAST)
    first = processes.worker(env, "worker-a")
    wait_until(lambda: len(receiver.received) == 1, WAIT, message="the first POST reached the receiver")
    assert Delivery.objects.get(pk=delivery.pk).status == Status.SENDING
    first.kill()  # SIGKILL while the POST is in flight

    processes.worker(env, "worker-b")
    processes.scheduler(env)  # its sweep hands the expired lease to worker B
    wait_until(
        lambda: Delivery.objects.get(pk=delivery.pk).status == Status.SENT, WAIT, message="delivered by worker B"
    )
    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert ids == [str(delivery.message_id)] * 2
    assert all(request.standard_ok and request.lapin_ok for request in receiver.received)
    assert Delivery.objects.get(pk=delivery.pk).attempts == 2
