"""/api/v1/espaces/{id}/webhook_endpoints: espace admins manage the webhooks of their espace's
organisations (rdv.webhooks.services); the secret shows at creation and rotation only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.core.models import AuditLog
from rdv.webhooks.models import WebhookEndpoint
from tests.api.people import person, unchanged

pytestmark = pytest.mark.django_db

SECRET = "une-cle-secrete-de-test-assez-longue"


def url(world, endpoint_id=None, action=None):
    base = f"/api/v1/espaces/{world.territory.pk}/webhook_endpoints"
    if endpoint_id is not None:
        base += f"/{endpoint_id}"
    return base + (f"/{action}" if action else "")


def new(world, **extra):
    return {"organisation_id": world.organisation.pk, "target_url": "https://si.exemple.fr/hooks", **extra}


def test_an_espace_admin_creates_reads_changes_rotates_and_deletes(alice, api):
    client = api(alice.territory_admin)
    created = client.post(url(alice), new(alice, subscriptions=["rdv", "user"], usager_fields=["first_name"]))
    assert created.status_code == 201, created.json()
    assert created["Cache-Control"] == "no-store"
    record = created.json()["webhook_endpoint"]
    stored = WebhookEndpoint.objects.get()
    assert record["secret"] == stored.secret and len(stored.secret) >= 32
    assert record["secret_hint"].endswith(stored.secret[-4:])
    assert record["subscriptions"] == ["rdv", "user"] and record["usager_fields"] == ["first_name"]
    assert record["organisation_id"] == alice.organisation.pk and record["active"] is True

    read = client.get(url(alice, stored.pk)).json()["webhook_endpoint"]
    listed = client.get(url(alice)).json()["webhook_endpoints"]
    assert "secret" not in read and stored.secret not in str(read) and stored.secret not in str(listed)
    assert [e["id"] for e in listed] == [stored.pk]

    changed = client.patch(url(alice, stored.pk), {"active": False, "subscriptions": ["absence"]})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["webhook_endpoint"]["target_url"] == "https://si.exemple.fr/hooks"  # unchanged
    assert changed.json()["webhook_endpoint"]["subscriptions"] == ["absence"]
    assert changed.json()["webhook_endpoint"]["active"] is False
    assert "secret" not in changed.json()["webhook_endpoint"]

    old = stored.secret
    rotated = client.post(url(alice, stored.pk, "rotate_secret"), {"grace_hours": 24})
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    stored.refresh_from_db()
    assert rotated.json()["webhook_endpoint"]["secret"] == stored.secret != old
    assert stored.previous_secret == old
    assert rotated.json()["webhook_endpoint"]["previous_secret_valid_until"] is not None

    assert client.delete(url(alice, stored.pk)).status_code == 204
    assert not WebhookEndpoint.objects.exists()
    entries = AuditLog.objects.filter(object_type="webhooks.WebhookEndpoint").order_by("pk")
    assert [(e.action, e.actor_id) for e in entries] == [
        (action, alice.territory_admin.pk)
        for action in ("webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted")
    ]
    assert not any(secret in str(e.changes) for e in entries for secret in (old, stored.secret))


def test_a_chosen_secret_and_a_chosen_rotation(alice, api):
    client = api(alice.territory_admin)
    record = client.post(url(alice), new(alice, secret=SECRET)).json()["webhook_endpoint"]
    assert record["secret"] == SECRET
    rotated = client.post(url(alice, record["id"], "rotate_secret"), {"secret": SECRET + "-2", "grace_hours": 0})
    assert rotated.json()["webhook_endpoint"]["secret"] == SECRET + "-2"
    assert rotated.json()["webhook_endpoint"]["previous_secret_valid_until"] is None


@pytest.mark.parametrize("who", ["agent", "organisation_admin", "nord_agent", "bob_agent", "bob_admin"])
def test_anyone_but_the_espace_s_admins_gets_404(alice, bob, api, who):
    client = api(alice.territory_admin)
    endpoint_id = client.post(url(alice), new(alice, secret=SECRET)).json()["webhook_endpoint"]["id"]
    outsider = api(person(who, alice, bob))
    with unchanged("webhooks.WebhookEndpoint"):
        for response in (
            outsider.get(url(alice)),
            outsider.get(url(alice, endpoint_id)),
            outsider.post(url(alice), new(alice, target_url="https://autre.exemple.fr/")),
            outsider.patch(url(alice, endpoint_id), {"active": False}),
            outsider.post(url(alice, endpoint_id, "rotate_secret")),
            outsider.delete(url(alice, endpoint_id)),
        ):
            assert response.status_code == 404, response.json()
            assert SECRET not in response.content.decode()


def test_another_espace_s_endpoint_and_organisation_stay_out_of_reach(alice, bob, api):
    bob_endpoint = api(bob.territory_admin).post(url(bob), new(bob)).json()["webhook_endpoint"]["id"]
    client = api(alice.territory_admin)
    with unchanged("webhooks.WebhookEndpoint"):
        assert client.get(url(alice, bob_endpoint)).status_code == 404
        assert client.patch(url(alice, bob_endpoint), {"active": False}).status_code == 404
        assert client.post(url(alice, bob_endpoint, "rotate_secret")).status_code == 404
        refused = client.post(url(alice), new(alice, organisation_id=bob.organisation.pk))
        assert refused.status_code == 404 and refused.json()["errors"][0]["field"] == "organisation_id"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"target_url": ""}, "target_url"),
        ({"target_url": "ftp://si.exemple.fr/"}, "target_url"),
        ({"target_url": "https://10.0.0.1/hooks"}, "target_url"),
        ({"target_url": "https://si.exemple.fr/" + "x" * 100_000}, "target_url"),
        ({"subscriptions": []}, "subscriptions"),
        ({"subscriptions": ["user_profile"]}, "subscriptions.0"),
        ({"usager_fields": ["nir"]}, "usager_fields.0"),
        ({"secret": "court"}, "secret"),
        ({"secret": "une clé avec des espaces dedans"}, "secret"),
        ({"organisation_id": 2**70}, "organisation_id"),
        ({"organisation_id": "alice"}, "organisation_id"),
        ({"trigger": False}, "trigger"),
        ({"backfill": "yes"}, "backfill"),
    ],
)
def test_bad_input_is_422_with_the_field_and_changes_nothing(alice, api, extra, field):
    client = api(alice.territory_admin)
    with unchanged("webhooks.WebhookEndpoint"):
        response = client.post(url(alice), new(alice, **extra))
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == field


def test_duplicates_bad_rotations_and_ids_are_4xx(alice, api):
    client = api(alice.territory_admin)
    endpoint_id = client.post(url(alice), new(alice, secret=SECRET)).json()["webhook_endpoint"]["id"]
    with unchanged("webhooks.WebhookEndpoint"):
        duplicate = client.post(url(alice), new(alice))
        assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate"
        same = client.post(url(alice, endpoint_id, "rotate_secret"), {"secret": SECRET})
        assert same.status_code == 422 and same.json()["errors"][0]["field"] == "secret"
        long_grace = client.post(url(alice, endpoint_id, "rotate_secret"), {"grace_hours": 10_000})
        assert long_grace.status_code == 422 and long_grace.json()["errors"][0]["field"] == "grace_hours"
        assert client.post(url(alice, endpoint_id, "rotate_secret"), {"grace_hours": -1}).status_code == 422
        assert client.patch(url(alice, endpoint_id), {"subscriptions": None}).status_code == 422
        assert client.patch(url(alice, endpoint_id), {"secret": "x" * 20}).status_code == 422
        for endpoint in (2**63, 2**70, 0, 999_999):
            assert client.get(url(alice, endpoint)).status_code == 404
            assert client.delete(url(alice, endpoint)).status_code == 404
        assert client.get(f"/api/v1/espaces/{2**70}/webhook_endpoints").status_code == 404


def test_a_page_costs_the_same_queries_whatever_its_size(alice, api):
    client = api(alice.territory_admin)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(alice)).status_code == 200
        return len(captured)

    client.post(url(alice), new(alice))
    queries()  # the token records its use at most once a minute
    few = queries()
    for n in range(15):
        organisation = alice.other_organisation if n % 2 else alice.organisation
        assert (
            client.post(
                url(alice), new(alice, organisation_id=organisation.pk, target_url=f"https://si{n}.exemple.fr/")
            ).status_code
            == 201
        )
    assert queries() == few <= 6
    filtered = client.get(url(alice), {"organisation_id": alice.other_organisation.pk}).json()
    assert filtered["meta"]["total_count"] == 7
