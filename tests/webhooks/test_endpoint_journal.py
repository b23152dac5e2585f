"""Every change to a webhook endpoint is written to the journal, without its secret (issue 19,
mutation testing: dropping any log_action call of rdv.webhooks.services makes this fail)."""

import json
from datetime import timedelta

import pytest
import time_machine

from rdv.core.context import Context
from rdv.core.models import AuditLog
from rdv.outbox.models import Delivery, Status
from rdv.webhooks import events, services
from rdv.webhooks.models import WebhookEndpoint
from tests.online.fixtures import NOW, build_online

SECRET = "une-cle-secrete-de-test-assez-longue"
NEW_SECRET = "une-autre-cle-secrete-assez-longue"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def journal(endpoint) -> list[tuple[str, dict]]:
    entries = AuditLog.objects.filter(object_type="webhooks.WebhookEndpoint", object_id=str(endpoint.pk))
    return [(entry.action, entry.changes) for entry in entries.order_by("id")]


def test_every_change_of_an_endpoint_is_journaled_without_its_secret(world, django_capture_on_commit_callbacks):
    ctx = Context.system(world.territory, world.organisation)
    hook = services.create_endpoint(
        ctx, organisation=world.organisation, target_url="https://si.exemple.fr/hooks", secret=SECRET
    )
    services.update_endpoint(ctx, hook, target_url="https://si.exemple.fr/hooks", subscriptions=["rdv", "absence",
        "plage_ouverture"])  # fmt: skip
    services.update_endpoint(ctx, hook, target_url="https://si.exemple.fr/v2", subscriptions=["lieu"])
    services.rotate_secret(ctx, hook, secret=NEW_SECRET, grace_hours=24)
    services.end_grace_period(ctx, hook)
    services.end_grace_period(ctx, hook)  # nothing left to end
    services.send_test_event(ctx, hook)
    with django_capture_on_commit_callbacks():
        services.start_backfill(ctx, WebhookEndpoint.objects.get(pk=hook.pk))
    event = events.write_events([hook], "Lieu", "updated", world.lieu.pk, reason=None)[0]
    Delivery.objects.filter(pk=event.delivery_id).update(status=Status.ABANDONED, next_attempt_at=None)
    services.replay_event(ctx, event)
    assert services.replay_failed(ctx, hook, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1)) == 0
    Delivery.objects.filter(pk=event.delivery_id).update(status=Status.ABANDONED, next_attempt_at=None)
    assert services.replay_failed(ctx, hook, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1)) == 1
    services.delete_endpoint(ctx, hook)

    entries = journal(hook)
    assert [action for action, _ in entries] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.grace_ended",
        "webhook.test_sent",
        "webhook.backfill_started",
        "webhook.replayed",
        "webhook.replayed",
        "webhook.deleted",
    ]
    created, updated = entries[0][1], entries[1][1]
    assert created["url"] == "https://si.exemple.fr/hooks" and created["actif"] is True
    assert updated == {
        "url": ["https://si.exemple.fr/hooks", "https://si.exemple.fr/v2"],
        "éléments déclencheurs": ["rdv, absence, plage_ouverture", "lieu"],
    }
    assert entries[2][1] == {"période de transition (heures)": 24}
    assert entries[7][1] == {"événements renvoyés": 1}
    text = json.dumps(entries)
    assert SECRET not in text and NEW_SECRET not in text
