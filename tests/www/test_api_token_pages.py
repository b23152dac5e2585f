"""« Jetons d’API » (issue 21): the logged-in agent creates personal API tokens (the secret shown
once, only its hash kept), sees them with their use, and revokes them; nobody else's, bad input
refused in French without a change."""

import datetime
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.context import personal_context
from rdv.accounts.models import ApiToken, hash_token
from rdv.accounts.services import API_TOKENS_PER_AGENT, create_api_token, revoke_api_token
from rdv.api.models import ApiCall
from rdv.core.models import AuditLog
from tests.helpers import log_in, page_text

URL = "/mon-compte/api/"
ONCE = "Copiez-le maintenant : il ne sera plus affiché."
SECRET_INPUT = re.compile(r'<input[^>]*id="jeton-secret"[^>]*>')


def secret_of(response) -> str:
    """The secret shown in the read-only field of the answer to a creation."""
    field = SECRET_INPUT.search(page_text(response))
    assert field, "no secret field on the page"
    return re.search(r'value="([^"]+)"', field.group(0)).group(1)


def revoke_url(token) -> str:
    return reverse("api_token_revoke", args=[token.pk])


def api_get(secret: str, path: str = "/api/v1/organisations"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")


def row(text: str, token) -> str:
    """The table row of `token` in the page's HTML."""
    start = text.index(f'<tr id="jeton-{token.pk}">')
    return text[start : text.index("</tr>", start)]


def tokens_state() -> list:
    return list(ApiToken.objects.order_by("pk").values_list("pk", "name", "expires_at", "revoked_at"))


def test_the_page_has_its_address_and_a_header_link(alice):
    assert reverse("agent_api_tokens") == URL
    response = log_in(Client(), alice.agent).get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "<h1>Jetons d’API</h1>" in text
    assert re.search(rf'<a class="fr-btn[^"]*"\s+href="{URL}"\s+aria-current="page">Jetons d’API</a>', text)
    # What a token is for, its rights, secrecy and the documentation.
    assert "système d’information de votre organisation" in text
    assert "vos propres droits" in text
    assert "Gardez-le secret" in text
    assert 'href="/api/v1/docs"' in text
    assert "Aucun jeton pour l’instant." in text
    assert re.search(r'<input[^>]*type="date"[^>]*name="expires_on"|<input[^>]*name="expires_on"[^>]*type="date"', text)


def test_anonymous_visitors_are_sent_to_the_login_page(alice):
    token, _ = create_api_token(personal_context(alice.agent), name="SI")
    client = Client()
    for method, url in (("get", URL), ("post", URL), ("get", revoke_url(token)), ("post", revoke_url(token))):
        response = getattr(client, method)(url, {"name": "Pirate", "confirmer": "1"})
        assert response.status_code == 302 and response["Location"].startswith("/connexion/"), url
    assert ApiToken.objects.get().revoked_at is None
    assert ApiToken.objects.count() == 1


def test_creating_a_token_shows_its_secret_once_and_keeps_only_its_hash(alice):
    client = log_in(Client(), alice.agent)
    created = client.post(URL, {"name": "Logiciel de suivi", "expires_on": ""})
    assert created.status_code == 302  # post/redirect/get: a reload creates nothing
    response = client.get(created["Location"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    text = page_text(response)
    assert ONCE in text
    assert '<label class="fr-label" for="jeton-secret">' in text
    secret = secret_of(response)
    assert re.fullmatch(r"rdvp_[A-Za-z0-9_-]{43}", secret)
    assert re.search(r'<input[^>]*id="jeton-secret"[^>]*readonly', text)

    token = ApiToken.objects.get()
    assert (token.agent_id, token.name, token.expires_at, token.revoked_at) == (
        alice.agent.pk,
        "Logiciel de suivi",
        None,
        None,
    )
    assert token.token_hash == hash_token(secret)
    assert all(secret not in str(value) for value in ApiToken.objects.values().get().values())
    entry = AuditLog.objects.get(action="api_token.created")
    assert entry.actor_id == alice.agent.pk
    assert secret not in str(entry.changes) and secret not in entry.object_repr

    assert "api_token_secret" not in client.session  # shown once, then gone from the session too
    again = client.get(URL)
    assert again["Cache-Control"] == "no-store"
    text = page_text(again)
    assert secret not in text and ONCE not in text
    assert f"<code>{secret[:12]}…</code>" in text
    line = row(text, token)
    assert "Logiciel de suivi" in line and "Actif" in line and "Jamais" in line and "Sans expiration" in line


def test_the_secret_opens_the_api_with_the_agent_s_rights_until_revoked(alice, bob):
    client = log_in(Client(), alice.agent)
    secret = secret_of(client.post(URL, {"name": "SI"}, follow=True))
    response = api_get(secret)
    assert response.status_code == 200
    assert [o["id"] for o in response.json()["organisations"]] == [alice.organisation.pk]
    assert api_get(secret, f"/api/v1/organisations/{bob.organisation.pk}").status_code == 404

    token = ApiToken.objects.get()
    # The page shows the use.
    line = row(page_text(client.get(URL)), token)
    assert "Jamais" not in line
    assert re.search(r"<td>2</td>", line)  # two calls in the last 30 days

    # « Révoquer » leads to a confirmation; neither the GET nor a POST without it changes anything.
    confirmation = client.get(revoke_url(token))
    assert confirmation.status_code == 200
    text = page_text(confirmation)
    assert "Révoquer le jeton « SI » ?" in text
    assert 'name="csrfmiddlewaretoken"' in text and 'name="confirmer" value="1"' in text
    assert client.post(revoke_url(token)).status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_get(secret).status_code == 200

    response = client.post(revoke_url(token), {"confirmer": "1"})
    assert response.status_code == 302 and response["Location"] == URL
    text = page_text(client.get(URL))
    assert "Le jeton « SI » est révoqué : il n’ouvre plus l’accès à l’API." in text
    line = row(text, token)
    assert "Révoqué" in line and "Révoquer" not in line
    assert api_get(secret).status_code == 401
    entry = AuditLog.objects.get(action="api_token.revoked")
    assert entry.actor_id == alice.agent.pk

    # Twice: said, not journaled again.
    response = client.post(revoke_url(token), {"confirmer": "1"}, follow=True)
    assert "Le jeton « SI » est déjà révoqué." in page_text(response)
    assert AuditLog.objects.filter(action="api_token.revoked").count() == 1


def test_another_agent_s_token_is_a_404_and_stays_usable(alice, bob):
    theirs, secret = create_api_token(personal_context(bob.agent), name="SI de Bob")
    colleague, _ = create_api_token(personal_context(alice.territory_admin), name="SI de l’admin")
    client = log_in(Client(), alice.agent)
    for token in (theirs, colleague):
        assert client.get(revoke_url(token)).status_code == 404
        assert client.post(revoke_url(token), {"confirmer": "1"}).status_code == 404
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0
    assert api_get(secret).status_code == 200
    text = page_text(client.get(URL))
    assert "SI de Bob" not in text and theirs.prefix not in text and colleague.prefix not in text
    assert not AuditLog.objects.filter(action="api_token.revoked").exists()


@pytest.mark.parametrize(
    "path", ["/mon-compte/api/999999/revoquer/", "/mon-compte/api/99999999999999999999999/revoquer/"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_or_out_of_range_ids_are_a_404(alice, path, method):
    create_api_token(personal_context(alice.agent), name="SI")
    before = tokens_state()
    response = getattr(log_in(Client(), alice.agent), method)(path, {"confirmer": "1"})
    assert response.status_code == 404
    assert tokens_state() == before


def _in(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Donnez un nom au jeton (l’outil qui l’utilisera, par exemple)."),
        ({"name": "   "}, "Donnez un nom au jeton (l’outil qui l’utilisera, par exemple)."),
        ({}, "Donnez un nom au jeton (l’outil qui l’utilisera, par exemple)."),
        ({"name": "x" * 101}, "Le nom du jeton ne doit pas dépasser 100 caractères."),
        ({"name": "SI", "expires_on": _in(0)}, "La date d’expiration doit être dans le futur."),
        ({"name": "SI", "expires_on": _in(-3)}, "La date d’expiration doit être dans le futur."),
        ({"name": "SI", "expires_on": _in(367)}, "Un jeton expire au plus tard dans un an."),
        ({"name": "SI", "expires_on": "2026-02-30"}, "Saisissez une date valide, par exemple 31/12/2026."),
        ({"name": "SI", "expires_on": "demain"}, "Saisissez une date valide, par exemple 31/12/2026."),
        ({"name": "SI", "expires_on": "9999-12-31"}, "Saisissez une date entre 1900 et 2200."),
    ],
)
def test_bad_input_gets_a_french_error_on_the_field_and_creates_nothing(alice, data, message):
    response = log_in(Client(), alice.agent).post(URL, data)
    assert response.status_code == 400
    text = page_text(response)
    assert "Le jeton n’a pas été créé" in text
    assert message in text
    field = "name" if "nom" in message else "expires_on"
    assert re.search(rf'id="id_{field}-desc-error"[^>]*>.*?{re.escape(message)}', text, re.S), field
    assert ONCE not in text
    assert not ApiToken.objects.exists()
    assert not AuditLog.objects.filter(action="api_token.created").exists()


def test_an_expiry_date_within_a_year_is_kept_and_shown(alice):
    client = log_in(Client(), alice.agent)
    last_day = timezone.localdate() + timedelta(days=366)
    assert client.post(URL, {"name": "Un an", "expires_on": last_day.isoformat()}).status_code == 302
    token = ApiToken.objects.get()
    assert timezone.localtime(token.expires_at) == timezone.make_aware(
        datetime.datetime.combine(last_day, datetime.time())
    )
    assert f"{last_day:%d/%m/%Y} à 00:00" in row(page_text(client.get(URL)), token)


def test_the_twenty_first_active_token_is_refused_until_one_is_revoked(alice):
    ctx = personal_context(alice.agent)
    tokens = [create_api_token(ctx, name=f"SI {n}")[0] for n in range(API_TOKENS_PER_AGENT)]
    client = log_in(Client(), alice.agent)
    response = client.post(URL, {"name": "Un de trop"})
    assert response.status_code == 400
    assert "Vous avez déjà 20 jetons actifs : révoquez-en un d’abord." in page_text(response)
    assert ApiToken.objects.count() == API_TOKENS_PER_AGENT
    client.post(revoke_url(tokens[0]), {"confirmer": "1"})
    assert client.post(URL, {"name": "Un de trop"}).status_code == 302
    assert ApiToken.objects.count() == API_TOKENS_PER_AGENT + 1


def test_expired_and_revoked_tokens_are_marked_without_a_revoke_button(alice):
    ctx = personal_context(alice.agent)
    expired, _ = create_api_token(ctx, name="Ancien", expires_on=timezone.localdate() + timedelta(days=2))
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    revoked, _ = create_api_token(ctx, name="Fuité")
    revoke_api_token(ctx, revoked)
    active, _ = create_api_token(ctx, name="Actuel")
    text = page_text(log_in(Client(), alice.agent).get(URL))
    assert "Expiré" in row(text, expired) and "Révoquer" not in row(text, expired)
    assert "Révoqué" in row(text, revoked) and "Révoquer" not in row(text, revoked)
    assert "Actif" in row(text, active) and revoke_url(active) in row(text, active)
    # Newest first.
    assert text.index("Actuel") < text.index("Fuité") < text.index("Ancien")


def test_the_calls_of_the_last_30_days_are_counted_per_token(alice):
    ctx = personal_context(alice.agent)
    busy, _ = create_api_token(ctx, name="Occupé")
    quiet, _ = create_api_token(ctx, name="Calme")
    now = timezone.now()
    for age in (timedelta(minutes=1), timedelta(days=3), timedelta(days=29)):
        ApiCall.objects.create(created_at=now - age, agent=alice.agent, token=busy, method="GET", path="/", status=200)
    ApiCall.objects.create(
        created_at=now - timedelta(days=31), agent=alice.agent, token=quiet, method="GET", path="/", status=200
    )
    text = page_text(log_in(Client(), alice.agent).get(URL))
    assert "<td>3</td>" in row(text, busy)
    assert "<td>0</td>" in row(text, quiet)


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_the_page_runs_the_same_number_of_queries_for_1_or_10_tokens(alice):
    ctx = personal_context(alice.agent)
    client = log_in(Client(), alice.agent)
    token, _ = create_api_token(ctx, name="SI 0")
    ApiCall.objects.create(agent=alice.agent, token=token, method="GET", path="/", status=200)
    one = _page_queries(client)
    for n in range(1, 10):
        token, _ = create_api_token(ctx, name=f"SI {n}")
        ApiCall.objects.create(agent=alice.agent, token=token, method="GET", path="/", status=200)
        if n % 2:
            revoke_api_token(ctx, token)
    assert _page_queries(client) == one
    assert one <= 7, one  # session, agent, 2 for the rights, the tokens with their calls, 2 menus


def test_other_methods_are_refused(alice):
    token, _ = create_api_token(personal_context(alice.agent), name="SI")
    client = log_in(Client(), alice.agent)
    assert client.put(URL).status_code == 405
    assert client.delete(revoke_url(token)).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None
