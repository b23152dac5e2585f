"""The API's common behaviour: tokens, errors, pagination, rate limit, idempotency, the journal."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from rdv.accounts.context import personal_context
from rdv.accounts.models import ApiToken
from rdv.accounts.services import create_api_token, revoke_api_token
from rdv.api.models import ApiCall, IdempotencyRecord
from rdv.api.tasks import purge
from rdv.core.errors import DomainError
from tests import factories
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_no_token_wrong_token_revoked_or_expired_token_get_401_in_french(alice, api):
    for client in (api(None), ApiClient("rdvp_" + "x" * 43), ApiClient("n'importe quoi")):
        response = client.get("/api/v1/organisations")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert "Jeton" in response.json()["message"]
        assert response["WWW-Authenticate"] == "Bearer"
    ctx = personal_context(alice.agent)
    token, secret = create_api_token(ctx, name="SI")
    assert ApiClient(secret).get("/api/v1/organisations").status_code == 200
    revoke_api_token(ctx, token)
    assert ApiClient(secret).get("/api/v1/organisations").status_code == 401
    expiring, secret = create_api_token(ctx, name="SI 2", expires_on=timezone.localdate() + datetime.timedelta(days=2))
    assert ApiClient(secret).get("/api/v1/organisations").status_code == 200
    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert ApiClient(secret).get("/api/v1/organisations").status_code == 401


def test_a_deactivated_agent_s_token_opens_nothing(alice, api):
    client = api(alice.agent)
    alice.agent.is_active = False
    alice.agent.save()
    assert client.get("/api/v1/organisations").status_code == 401


def test_the_secret_is_stored_hashed_and_shown_once(alice):
    token, secret = create_api_token(personal_context(alice.agent), name="SI")
    assert secret.startswith("rdvp_") and len(secret) == 48
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.token_hash, stored.prefix, stored.name)
    assert stored.prefix == secret[:12]


def test_token_names_and_expiry_dates_are_checked(alice):
    ctx = personal_context(alice.agent)
    for name, expires_on, field in (
        ("", None, "name"),
        ("x" * 101, None, "name"),
        ("SI", timezone.localdate(), "expires_on"),
        ("SI", timezone.localdate() + datetime.timedelta(days=367), "expires_on"),
    ):
        with pytest.raises(DomainError) as refusal:
            create_api_token(ctx, name=name, expires_on=expires_on)
        assert refusal.value.field == field
    assert not ApiToken.objects.exists()


def test_an_agent_cannot_revoke_another_agent_s_token(alice):
    token, _ = create_api_token(personal_context(alice.agent), name="SI")
    with pytest.raises(DomainError):
        revoke_api_token(personal_context(alice.territory_admin), token)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_organisations_lists_only_the_agent_s_organisations_with_the_meta_block(alice, bob, api):
    response = api(alice.territory_admin).get("/api/v1/organisations")
    assert response.status_code == 200
    data = response.json()
    assert [o["id"] for o in data["organisations"]] == [alice.organisation.pk]
    assert data["organisations"][0]["territory_id"] == alice.territory.pk
    assert data["meta"] == {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": 1, "total_count": 1}


def test_another_espace_s_organisation_is_404_as_an_unknown_one(alice, bob, api):
    client = api(alice.territory_admin)
    for organisation_id in (bob.organisation.pk, 999_999, 2**70):
        response = client.get(f"/api/v1/organisations/{organisation_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert client.get(f"/api/v1/organisations/{alice.organisation.pk}").status_code == 200


def test_pagination_walks_every_row_once(alice, api):
    for _ in range(5):
        factories.MotifFactory(organisation=alice.organisation, service=alice.service)
    client = api(alice.agent)
    seen, page = [], 1
    while page:
        response = client.get(f"/api/v1/organisations/{alice.organisation.pk}/motifs", {"page": page, "per_page": 2})
        data = response.json()
        assert data["meta"]["total_count"] == 5 and data["meta"]["total_pages"] == 3
        assert data["meta"]["current_page"] == page
        assert data["meta"]["prev_page"] == (page - 1 or None)
        seen += [m["id"] for m in data["motifs"]]
        page = data["meta"]["next_page"]
    assert len(seen) == len(set(seen)) == 5
    beyond = client.get(f"/api/v1/organisations/{alice.organisation.pk}/motifs", {"page": 4, "per_page": 2})
    assert beyond.status_code == 404 and beyond.json()["code"] == "page_not_found"


@pytest.mark.parametrize("query", [{"page": 0}, {"page": "abc"}, {"per_page": 101}, {"per_page": 0}])
def test_bad_pagination_parameters_are_422_with_the_field(alice, api, query):
    response = api(alice.agent).get(f"/api/v1/organisations/{alice.organisation.pk}/motifs", query)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][0]["field"] == next(iter(query))
    assert body["errors"][0]["message"][0].isupper()


@override_settings(API_RATE_LIMIT=3)
def test_the_rate_limit_is_per_token_with_headers_and_retry_after(alice, api):
    client, other = api(alice.agent), api(alice.agent)
    for remaining in (2, 1, 0):
        response = client.get("/api/v1/organisations")
        assert response.status_code == 200
        assert response["RateLimit-Limit"] == "3" and response["RateLimit-Remaining"] == str(remaining)
    refused = client.get("/api/v1/organisations")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert other.get("/api/v1/organisations").status_code == 200


def test_every_authenticated_call_is_journaled_without_the_secret(alice, api):
    client = api(alice.agent)
    client.get("/api/v1/organisations")
    client.get("/api/v1/organisations/999999")
    calls = list(ApiCall.objects.order_by("pk").values_list("method", "path", "agent_id", "status"))
    assert calls == [
        ("GET", "/api/v1/organisations", alice.agent.pk, 200),
        ("GET", "/api/v1/organisations/999999", alice.agent.pk, 404),
    ]
    assert not any(client.secret in str(row) for row in ApiCall.objects.values())


def test_old_calls_and_idempotency_keys_are_purged(alice, api):
    api(alice.agent).get("/api/v1/organisations")
    token = ApiToken.objects.get()
    IdempotencyRecord.objects.create(token=token, key="k", fingerprint="f", status=200)
    now = timezone.now()
    assert purge(now + datetime.timedelta(days=364)) == (0, 1)
    assert purge(now + datetime.timedelta(days=366)) == (1, 0)


def test_the_openapi_schema_and_the_docs_page_are_public(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/organisations/{organisation_id}/motifs" in paths
    assert client.get("/api/v1/docs").status_code == 200


def test_django_s_own_refusals_answer_in_the_api_s_json_shape(alice, api):
    client = api(alice.agent)
    not_allowed = client.post("/api/v1/organisations", "{pas du json")
    assert not_allowed.status_code == 405
    assert not_allowed.json()["code"] == "method_not_allowed" and "GET" in not_allowed["Allow"]
    for response in (client.get("/api/v1/nulle-part"), api(None).get("/api/v1/nulle-part")):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_too_many_parameters_is_a_json_400_not_a_500(alice, api):
    query = "&".join(f"p{i}=1" for i in range(1100))
    response = api(alice.agent).get(f"/api/v1/organisations/{alice.organisation.pk}/motifs?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    "query", [{"active": "yes"}, {"active": "1"}, {"service_id": "1.0"}, {"service_id": "0"}, {"page": "1e3"}]
)
def test_only_what_the_schema_says_is_accepted(alice, api, query):
    response = api(alice.agent).get(f"/api/v1/organisations/{alice.organisation.pk}/motifs", query)
    assert response.status_code == 422, query


def test_last_use_is_written_at_most_once_a_minute(alice):
    import time_machine

    from rdv.accounts.services import authenticate_api_token

    token, secret = create_api_token(personal_context(alice.agent), name="SI")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert authenticate_api_token(secret).last_used_at == start
    for seconds, expected in ((30, start), (60, start), (61, start + datetime.timedelta(seconds=61))):
        with time_machine.travel(start + datetime.timedelta(seconds=seconds), tick=False):
            authenticate_api_token(secret)
        token.refresh_from_db()
        assert token.last_used_at == expected, seconds


def test_a_name_of_100_characters_is_accepted(alice):
    token, _ = create_api_token(personal_context(alice.agent), name="x" * 100)
    assert len(token.name) == 100


def test_secrets_that_cannot_be_tokens_cost_no_query(alice, django_assert_num_queries):
    from rdv.accounts.services import authenticate_api_token

    _, secret = create_api_token(personal_context(alice.agent), name="SI")
    for garbage in ("", "x" * 48, "rdvp_" + "x" * 96, secret[5:]):
        with django_assert_num_queries(0):
            assert authenticate_api_token(garbage) is None
    with django_assert_num_queries(1):  # 100 characters with the prefix: looked up (and unknown)
        assert authenticate_api_token("rdvp_" + "x" * 95) is None


def test_the_system_context_cannot_create_a_token(alice):
    from rdv.core.context import Context

    with pytest.raises(DomainError) as refusal:
        create_api_token(Context.system(alice.territory), name="SI")
    assert refusal.value.code == "forbidden"
