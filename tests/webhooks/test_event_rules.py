"""The event rules one by one (issue 19, mutation testing): which audit actions stand for which
events, which organisations hear of a record, which endpoints get a body, and how each delivery
outcome moves the endpoint's health (failure count, one alert at the threshold, 410)."""

import json
from types import SimpleNamespace

import pytest
import time_machine

from rdv.accounts.models import AccessLevel
from rdv.core.audit import log_action
from rdv.core.context import Context
from rdv.outbox import services as outbox
from rdv.outbox.channels import SendReport, TemporaryError
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from rdv.usagers.models import UsagerOrganisation
from rdv.webhooks import events, services
from rdv.webhooks.models import WebhookEndpoint, WebhookEvent
from tests import factories
from tests.online.fixtures import NOW, build_online

SECRET = "une-cle-secrete-de-test-assez-longue"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


def endpoint(world, url="https://si.exemple.fr/hooks", organisation=None, **kwargs):
    organisation = organisation or world.organisation
    return services.create_endpoint(
        Context.system(organisation.territory, organisation),
        organisation=organisation,
        target_url=url,
        secret=SECRET,
        **kwargs,
    )


# events_of: audit action → (model, event) ---------------------------------------------------------


RECORD = SimpleNamespace(pk=1)


@pytest.mark.parametrize(
    "action, expected",
    [
        ("rdv.created", ("Rdv", "created")),
        ("rdv.moved", ("Rdv", "updated")),
        ("rdv.cancelled", ("Rdv", "updated")),  # a cancelled RDV stays: updated, with its status
        ("rdv.deleted", ("Rdv", "destroyed")),  # only the retention rules (RGPD) delete a RDV
        ("rdv.participant_deleted", ("Rdv", "updated")),
        ("plage.created", ("PlageOuverture", "created")),
        ("plage.updated", ("PlageOuverture", "updated")),
        ("plage.deleted", ("PlageOuverture", "destroyed")),
        ("absence.deleted", ("Absence", "destroyed")),
        ("usager.created", ("User", "created")),
        ("usager.deleted", ("User", "destroyed")),  # RGPD: on request or after inactivity
        ("motif.duplicated", ("Motif", "created")),
        ("motif.archived", ("Motif", "updated")),
        ("lieu.created", ("Lieu", "created")),
        ("organisation.updated", ("Organisation", "updated")),
    ],
)
def test_each_audit_action_stands_for_one_event_of_its_model(action, expected):
    assert events.events_of(action, RECORD) == [(*expected, RECORD)]


@pytest.mark.parametrize(
    "action",
    [
        "rdv.arrived",
        "rdv.arrival_undone",
        "rdv.manage_link_revoked",
        "webhook.created",
        "agent.updated",
        "usager.exported",
        "usager.retention_kept",
        "retention.rdvs_purged",
    ],
)
def test_actions_no_information_system_follows_stand_for_no_event(action):
    assert events.events_of(action, RECORD) == []  # agent.*: only for an Agent record


def test_an_agent_action_stands_for_the_agent_and_its_roles_in_the_espace(world):
    elsewhere = factories.OrganisationFactory()  # another espace
    role_here = world.agent.roles.get(organisation=world.organisation)
    factories.AgentRoleFactory(agent=world.agent, organisation=elsewhere)
    assert events.events_of("agent.intervenant_added", world.agent, world.territory.pk) == [
        ("Agent", "created", world.agent),
        ("AgentRole", "created", role_here),
    ]
    assert [e[:2] for e in events.events_of("agent.updated", world.agent, world.territory.pk)] == [
        ("Agent", "updated"),
        ("AgentRole", "updated"),
    ]
    assert len(events.events_of("agent.updated", world.agent, None)) == 3  # no espace: every role


def test_an_accepted_invitation_stands_for_the_new_agent_only_once_accepted(world):
    accepted = SimpleNamespace(accepted_by_id=world.agent.pk, accepted_by=world.agent)
    assert [e[:2] for e in events.events_of("invitation.accepted", accepted, world.territory.pk)] == [
        ("Agent", "created"),
        ("AgentRole", "created"),
    ]
    assert events.events_of("invitation.accepted", SimpleNamespace(accepted_by_id=None), world.territory.pk) == []
    assert events.events_of("invitation.created", accepted, world.territory.pk) == []


# organisation_ids: who hears of a record ------------------------------------------------------------


def test_the_organisations_that_hear_of_a_record(world):
    elsewhere = factories.OrganisationFactory()
    factories.AgentRoleFactory(agent=world.agent, organisation=elsewhere)
    person = factories.UsagerFactory(territory=world.territory)
    UsagerOrganisation.objects.create(usager=person, organisation=world.organisation)
    UsagerOrganisation.objects.create(usager=person, organisation=world.other_organisation)
    assert events.organisation_ids("Organisation", world.organisation, None) == [world.organisation.pk]
    assert sorted(events.organisation_ids("User", person, None)) == sorted(
        [world.organisation.pk, world.other_organisation.pk]
    )
    in_espace = events.organisation_ids("Agent", world.agent, world.territory.pk)
    assert elsewhere.pk not in in_espace and world.organisation.pk in in_espace
    assert elsewhere.pk in events.organisation_ids("Agent", world.agent, None)
    assert events.organisation_ids("Lieu", world.lieu, None) == [world.organisation.pk]
    assert events.organisation_ids("Lieu", SimpleNamespace(organisation_id=None), None) == []


def test_an_espace_whose_only_endpoint_is_inactive_costs_one_query_per_change(world, django_assert_num_queries):
    endpoint(world, active=False)
    # the journal entry, « any active endpoint in this espace? », the open-data feed's stale mark and
    # the slot cache's version bump (rdv.online.slotcache)
    with django_assert_num_queries(4):
        log_action("Système", "lieu.updated", world.lieu, {"name": ["a", "b"]})
    assert not WebhookEvent.objects.exists()


def test_an_ignored_action_writes_nothing_even_with_endpoints(world):
    endpoint(world, subscriptions=list(events.SUBSCRIPTIONS))
    rdv_like = world.lieu  # any record: the action decides
    for action in ("rdv.arrived", "webhook.updated", "delivery.retried"):
        log_action("Système", action, rdv_like, {})
    assert not WebhookEvent.objects.exists()
    log_action("Système", "lieu.updated", world.lieu, {})
    assert list(WebhookEvent.objects.values_list("model", "event")) == [("Lieu", "updated")]


def test_a_record_without_id_is_skipped(world):
    endpoint(world, subscriptions=["lieu"])
    unsaved = type(world.lieu)(organisation=world.organisation, name="Pas encore enregistré")
    log_action("Système", "lieu.updated", unsaved, {}, territory=world.territory)
    assert not WebhookEvent.objects.exists()


def test_an_endpoint_subscribing_to_several_models_gets_each_of_its_models_only(world):
    hook = endpoint(world, subscriptions=["lieu", "motif"])
    other = endpoint(world, url="https://autre.exemple.fr/h", organisation=world.other_organisation)
    log_action("Système", "lieu.updated", world.lieu, {})
    log_action("Système", "motif.updated", world.motif, {})
    log_action("Système", "organisation.updated", world.organisation, {})
    assert list(WebhookEvent.objects.filter(endpoint=hook).order_by("id").values_list("model", flat=True)) == [
        "Lieu",
        "Motif",
    ]
    assert not WebhookEvent.objects.filter(endpoint=other).exists()


def test_write_events_of_a_vanished_record_writes_nothing(world):
    hook = endpoint(world, subscriptions=["lieu"])
    assert events.write_events([hook], "Lieu", "updated", 987654, reason=None) == []
    assert not Delivery.objects.filter(channel=Channel.WEBHOOK).exists()


def test_the_origin_of_an_event_is_kept_for_the_log_and_the_reason_in_the_body(world):
    hook = endpoint(world, subscriptions=["lieu"])
    (rgpd,) = events.write_events([hook], "Lieu", "updated", world.lieu.pk, reason="rgpd")
    (backfill,) = events.write_events([hook], "Lieu", "created", world.lieu.pk, reason=None, origin="backfill")
    (change,) = events.write_events([hook], "Lieu", "updated", world.lieu.pk, reason=None)
    assert (rgpd.reason, backfill.reason, change.reason) == ("rgpd", "backfill", "")
    assert json.loads(rgpd.delivery.text)["meta"]["webhook_reason"] == "rgpd"
    assert json.loads(backfill.delivery.text)["meta"]["webhook_reason"] is None


def test_endpoints_of_two_espaces_get_each_its_own_wall_clock(world):
    reunion = factories.TerritoryFactory(time_zone="Indian/Reunion")
    far = factories.OrganisationFactory(territory=reunion)
    here = endpoint(world, subscriptions=["organisation"])
    there = endpoint(world, organisation=far, subscriptions=["organisation"])
    written = events.write_events([here, there], "Organisation", "updated", world.organisation.pk, reason=None)
    assert [w.endpoint_id for w in written] == [here.pk, there.pk]
    assert json.loads(written[0].delivery.text)["meta"]["timestamp"] == "2027-03-08T08:00:00+01:00"
    assert json.loads(written[1].delivery.text)["meta"]["timestamp"] == "2027-03-08T11:00:00+04:00"


# on_delivery_outcome: the endpoint's health -----------------------------------------------------


def delivery_of(hook):
    return outbox.enqueue(
        channel=Channel.WEBHOOK,
        recipient=hook.target_url,
        text="{}",
        headers={"endpoint_id": hook.pk},
        purpose=Purpose.WEBHOOK,
    )


def failure(status_code=500):
    return TemporaryError(f"HTTP {status_code}", status_code=status_code)


def health(hook):
    hook.refresh_from_db()
    return hook.consecutive_failures, hook.failing_since, hook.alerted_at is not None, hook.active


def alerts():
    """The alert e-mails written so far (not sent: sending would also run the webhook rows)."""
    rows = Delivery.objects.filter(channel=Channel.EMAIL, purpose=Purpose.WEBHOOK_ALERT)
    return sorted((subject.split(" :")[0], to) for subject, to in rows.values_list("subject", "recipient"))


@pytest.fixture
def admins(world):
    espace_admin = factories.AgentFactory(email="admin-espace@exemple.fr")
    factories.TerritoryRoleFactory(agent=espace_admin, territory=world.territory)
    organisation_admin = factories.AgentFactory(email="admin-mds@exemple.fr")
    factories.AgentRoleFactory(
        agent=organisation_admin, organisation=world.organisation, access_level=AccessLevel.ADMIN
    )
    # Not told: a basic agent, an admin of the other organisation, a former admin, an admin elsewhere.
    factories.AgentRoleFactory(organisation=world.organisation, access_level=AccessLevel.BASIC)
    factories.AgentRoleFactory(organisation=world.other_organisation, access_level=AccessLevel.ADMIN)
    gone = factories.AgentFactory(email="parti@exemple.fr", is_active=False)
    factories.TerritoryRoleFactory(agent=gone, territory=world.territory)
    factories.AgentRoleFactory(agent=gone, organisation=world.organisation, access_level=AccessLevel.ADMIN)
    factories.TerritoryRoleFactory(territory=factories.TerritoryFactory())
    return ["admin-espace@exemple.fr", "admin-mds@exemple.fr"]


def test_the_admins_are_told_once_at_the_threshold_and_again_only_after_a_success(world, admins, settings):
    settings.WEBHOOK_ALERT_AFTER_FAILURES = 3
    hook = endpoint(world)
    row = delivery_of(hook)
    events.on_delivery_outcome(row, Status.FAILING, failure())
    events.on_delivery_outcome(row, Status.FAILING, failure())
    assert health(hook) == (2, NOW, False, True)
    assert alerts() == []
    events.on_delivery_outcome(row, Status.FAILING, failure())
    assert health(hook) == (3, NOW, True, True)
    assert alerts() == [("Webhook en échec", email) for email in admins]
    events.on_delivery_outcome(row, Status.ABANDONED, failure())
    assert health(hook)[0] == 4 and len(alerts()) == 2  # no second alert
    events.on_delivery_outcome(row, "lease_lost", None)  # another worker owns the row: nothing changes
    assert health(hook)[0] == 4
    events.on_delivery_outcome(row, Status.SENT, SendReport(status_code=200))
    assert health(hook) == (0, None, False, True)
    for _ in range(3):
        events.on_delivery_outcome(row, Status.FAILING, failure())
    assert len(alerts()) == 4  # told again


def test_410_gone_disables_the_endpoint_once_and_cancels_only_its_waiting_events(world, admins):
    hook = endpoint(world)
    other = endpoint(world, url="https://autre.exemple.fr/hooks")
    waiting = events.write_events([hook, other], "Lieu", "updated", world.lieu.pk, reason=None, record=world.lieu)
    done = events.write_events([hook], "Lieu", "created", world.lieu.pk, reason=None, record=world.lieu)[0]
    Delivery.objects.filter(pk=done.delivery_id).update(status=Status.SENT, next_attempt_at=None)
    failing = events.write_events([hook], "Lieu", "created", world.lieu.pk, reason=None, record=world.lieu)[0]
    Delivery.objects.filter(pk=failing.delivery_id).update(status=Status.FAILING)
    events.on_delivery_outcome(waiting[0].delivery, Status.ABANDONED, failure(410))
    assert health(hook)[3] is False and "410 Gone" in hook.disabled_reason
    statuses = dict(Delivery.objects.filter(channel=Channel.WEBHOOK).values_list("pk", "status"))
    assert statuses == {
        waiting[0].delivery_id: Status.CANCELLED,
        waiting[1].delivery_id: Status.PENDING,  # the other endpoint's
        done.delivery_id: Status.SENT,
        failing.delivery_id: Status.CANCELLED,
    }
    assert alerts() == [("Webhook désactivé", email) for email in admins]
    events.on_delivery_outcome(waiting[0].delivery, Status.ABANDONED, failure(410))  # already disabled
    assert len(alerts()) == 2
    assert WebhookEndpoint.objects.get(pk=other.pk).active


def test_an_outcome_without_endpoint_changes_nothing(world):
    hook = endpoint(world)
    orphan = outbox.enqueue(channel=Channel.WEBHOOK, recipient=hook.target_url, text="{}", purpose=Purpose.WEBHOOK)
    events.on_delivery_outcome(orphan, Status.FAILING, failure())
    deleted = delivery_of(hook)
    WebhookEndpoint.objects.filter(pk=hook.pk).delete()
    events.on_delivery_outcome(deleted, Status.FAILING, failure())  # deleted meanwhile: no error
    assert not WebhookEndpoint.objects.exists()


def test_an_agent_change_in_an_espace_without_active_endpoint_costs_one_query(world, django_assert_num_queries):
    endpoint(world, subscriptions=["agent"], active=False)
    # the journal entry, « any active endpoint? » (no roles loaded), then the slot cache's version bump
    with django_assert_num_queries(3):
        log_action("Système", "agent.updated", world.agent, {}, territory=world.territory)


def test_an_action_no_information_system_follows_costs_no_query_even_with_endpoints(world, django_assert_num_queries):
    endpoint(world, subscriptions=list(events.SUBSCRIPTIONS))
    with django_assert_num_queries(1):  # the journal entry only
        log_action("Système", "delivery.retried", world.lieu, {}, territory=world.territory)


def test_a_long_disabling_reason_keeps_its_first_300_characters(world):
    hook = endpoint(world)
    events.disable(hook, "x" * 299 + "yz" + "…" * 50)
    hook.refresh_from_db()
    assert hook.disabled_reason == "x" * 299 + "y"
