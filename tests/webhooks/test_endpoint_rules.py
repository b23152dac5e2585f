"""The endpoint services' bounds and state changes (issue 19, mutation testing of
rdv.webhooks.services): secret length, grace period, switching off and on again, backfill of an
inactive endpoint."""

from datetime import UTC, timedelta

import pytest
import time_machine

from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.webhooks import services
from rdv.webhooks.models import WebhookEndpoint
from tests.online.fixtures import NOW, build_online

URL = "https://si.exemple.fr/hooks"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def ctx(world):
    return Context.system(world.territory, world.organisation)


def create(world, **kwargs):
    return services.create_endpoint(ctx(world), organisation=world.organisation, target_url=URL, **kwargs)


@pytest.mark.parametrize("length, accepted", [(15, False), (16, True), (200, True), (201, False)])
def test_a_chosen_secret_counts_16_to_200_characters(world, length, accepted):
    secret = "s" * length
    if accepted:
        assert create(world, secret=secret).secret == secret
        rotated = services.rotate_secret(ctx(world), WebhookEndpoint.objects.get(), secret="r" * length)
        assert rotated.secret == "r" * length
    else:
        with pytest.raises(DomainError, match="de 16 à 200 caractères"):
            create(world, secret=secret)
        assert not WebhookEndpoint.objects.exists()


def test_a_secret_with_a_space_is_refused_and_an_empty_one_is_generated(world):
    with pytest.raises(DomainError, match="ne doit pas contenir d'espace"):
        create(world, secret="une cle secrete assez longue")
    generated = create(world, secret="")
    assert len(generated.secret) >= 40


@pytest.mark.parametrize("hours, accepted", [(-1, False), (0, True), (720, True), (721, False)])
def test_the_grace_period_lasts_0_to_720_hours(world, hours, accepted):
    hook = create(world, secret="une-cle-secrete-de-test-assez-longue")
    if not accepted:
        with pytest.raises(DomainError, match="de 0 à 720 heures"):
            services.rotate_secret(ctx(world), hook, grace_hours=hours)
        return
    rotated = services.rotate_secret(ctx(world), hook, grace_hours=hours)
    if hours:
        assert rotated.previous_secret == "une-cle-secrete-de-test-assez-longue"
        assert rotated.previous_secret_until == NOW.astimezone(UTC) + timedelta(hours=hours)  # 720 h, not 30 days
    else:  # no grace: the old secret stops signing at once
        assert (rotated.previous_secret, rotated.previous_secret_until) == ("", None)
    assert rotated.signing_secrets(NOW) == [rotated.secret] + ([rotated.previous_secret] if hours else [])


def test_switching_off_keeps_the_reason_and_switching_on_again_starts_afresh(world):
    hook = create(world)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(
        active=False, disabled_reason="Le serveur a répondu « 410 Gone ».", consecutive_failures=7,
        failing_since=NOW, alerted_at=NOW,
    )  # fmt: skip
    hook = services.update_endpoint(ctx(world), hook, target_url=URL, subscriptions=["rdv"], active=False)
    assert hook.disabled_reason == "Le serveur a répondu « 410 Gone »."  # still off: its reason stays
    assert (hook.consecutive_failures, hook.alerted_at) == (7, NOW)
    hook = services.update_endpoint(ctx(world), hook, target_url=URL, subscriptions=["rdv"], active=True)
    hook.refresh_from_db()
    assert (hook.active, hook.disabled_reason, hook.consecutive_failures, hook.failing_since, hook.alerted_at) == (
        True, "", 0, None, None,
    )  # fmt: skip
    hook = services.update_endpoint(ctx(world), hook, target_url=URL, subscriptions=["rdv"], active=False)
    assert hook.disabled_reason == "Désactivé par un administrateur."


def test_changing_an_active_endpoint_keeps_its_health(world):
    hook = create(world)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(consecutive_failures=4, failing_since=NOW, alerted_at=NOW)
    services.update_endpoint(ctx(world), hook, target_url=URL, subscriptions=["rdv", "lieu"], active=True)
    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.failing_since, hook.alerted_at, hook.subscriptions) == (
        4, NOW, NOW, ["rdv", "lieu"],
    )  # fmt: skip


def test_an_inactive_or_deleted_endpoint_gets_no_backfill(world):
    hook = create(world, subscriptions=["lieu"], active=False)
    assert services.backfill(hook.pk) == 0
    assert services.backfill(987654) == 0
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=True)
    assert services.backfill(hook.pk) == 2  # the two lieux of the organisation
