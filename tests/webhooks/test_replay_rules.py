"""« Renvoyer les échecs d'une période » at the service level (issue 19, mutation testing): only the
failed events of this endpoint written in [since, until) get a fresh series of attempts."""

from datetime import timedelta

import pytest
import time_machine
from django_tasks import default_task_backend

from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.outbox.models import Delivery, Status
from rdv.webhooks import events, services
from tests.online.fixtures import NOW, build_online

SECRET = "une-cle-secrete-de-test-assez-longue"
SINCE, UNTIL = NOW, NOW + timedelta(days=1)


@pytest.fixture
def world(db):
    return build_online()


def test_only_the_failed_events_of_the_period_and_of_this_endpoint_are_replayed(world):
    ctx = Context.system(world.territory, world.organisation)
    with time_machine.travel(NOW - timedelta(days=2), tick=False) as clock:
        hook, other = (
            services.create_endpoint(ctx, organisation=world.organisation, target_url=url, secret=SECRET)
            for url in ("https://si.exemple.fr/hooks", "https://autre.exemple.fr/hooks")
        )
        rows = {}
        for name, at, status, endpoint in [
            ("before", SINCE - timedelta(seconds=1), Status.ABANDONED, hook),
            ("at_since", SINCE, Status.ABANDONED, hook),
            ("failing", SINCE + timedelta(hours=1), Status.FAILING, hook),
            ("cancelled", SINCE + timedelta(hours=2), Status.CANCELLED, hook),
            ("sent", SINCE + timedelta(hours=3), Status.SENT, hook),
            ("other_endpoint", SINCE + timedelta(hours=4), Status.ABANDONED, other),
            ("at_until", UNTIL, Status.ABANDONED, hook),
        ]:
            clock.move_to(at)
            event = events.write_events([endpoint], "Lieu", "updated", world.lieu.pk, reason=None)[0]
            next_attempt = at if status == Status.FAILING else None
            Delivery.objects.filter(pk=event.delivery_id).update(
                status=status, attempts=3, next_attempt_at=next_attempt
            )
            rows[name] = event.delivery_id
        assert services.replay_failed(ctx, hook, since=SINCE, until=UNTIL) == 3
    replayed = {name for name, pk in rows.items() if Delivery.objects.get(pk=pk).attempts == 0}
    assert replayed == {"at_since", "failing", "cancelled"}
    assert Delivery.objects.get(pk=rows["at_since"]).status == Status.PENDING


def test_a_reversed_period_or_an_inactive_endpoint_is_refused(world):
    ctx = Context.system(world.territory, world.organisation)
    hook = services.create_endpoint(
        ctx, organisation=world.organisation, target_url="https://si.exemple.fr/hooks", secret=SECRET
    )
    with pytest.raises(DomainError, match="La fin de la période doit suivre son début"):
        services.replay_failed(ctx, hook, since=UNTIL, until=SINCE)
    services.update_endpoint(ctx, hook, target_url=hook.target_url, subscriptions=hook.subscriptions, active=False)
    hook.refresh_from_db()
    with pytest.raises(DomainError, match="réactivez-le"):
        services.replay_failed(ctx, hook, since=SINCE, until=UNTIL)


def woken() -> list[int]:
    """The deliveries a worker was asked to try (the `deliver` tasks enqueued)."""
    return [result.args[0] for result in default_task_backend.results if result.task.name == "deliver"]


def test_a_replayed_event_wakes_a_worker_and_an_empty_period_replays_nothing(world):
    ctx = Context.system(world.territory, world.organisation)
    with time_machine.travel(SINCE + timedelta(hours=1), tick=False):
        hook = services.create_endpoint(
            ctx, organisation=world.organisation, target_url="https://si.exemple.fr/hooks", secret=SECRET
        )
        event = events.write_events([hook], "Lieu", "updated", world.lieu.pk, reason=None)[0]
        Delivery.objects.filter(pk=event.delivery_id).update(status=Status.ABANDONED, next_attempt_at=None)
        default_task_backend.results.clear()
        assert services.replay_failed(ctx, hook, since=event.created_at, until=event.created_at) == 0  # empty
        assert woken() == []
        services.replay_event(ctx, event)
        assert woken() == [event.delivery_id]
        with pytest.raises(DomainError, match="déjà en cours d'envoi"):  # pending again: nothing to replay
            services.replay_event(ctx, event)
        assert woken() == [event.delivery_id]
