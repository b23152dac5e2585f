"""What every call to /api/v1/ goes through before its view (ApiMiddleware):

1. the personal token of `Authorization: Bearer …` is looked up once (`request.api_token`; the
   views' auth then only checks it is there);
2. the token's rate limit (`API_RATE_LIMIT` calls per minute): `RateLimit-*` headers on every
   answer, 429 with `Retry-After` beyond;
3. `Idempotency-Key` on a POST: the same key and body replay the first answer without a second
   change; another body with the same key is refused (422); while the first runs, 409;
4. the call is journaled (method, path, agent, token, status, duration; kept a year).
"""

import hashlib
import json
import re
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from rdv.accounts.services import authenticate_api_token
from rdv.api.errors import body
from rdv.api.models import ApiCall, IdempotencyRecord
from rdv.core.ratelimit import hit

PREFIX = "/api/v1/"


def _json(status: int, content: dict, headers=None) -> HttpResponse:
    response = HttpResponse(json.dumps(content, ensure_ascii=False), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


class Idempotency:
    """The record of one POST with an Idempotency-Key, or the answer that replaces the view."""

    def __init__(self, request):
        self.record = None
        self.answer = None
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return
        if not key.strip() or len(key) > 255 or "\x00" in key:
            self.answer = _json(
                422, body("idempotency_key_invalid", "L’en-tête Idempotency-Key doit avoir de 1 à 255 caractères.")
            )
            return
        fingerprint = _fingerprint(request)
        token = request.api_token
        for _ in range(2):
            try:
                with transaction.atomic():
                    self.record = IdempotencyRecord.objects.create(token=token, key=key, fingerprint=fingerprint)
                return
            except IntegrityError:
                previous = IdempotencyRecord.objects.filter(token=token, key=key).first()
                if previous is None:
                    continue
                if previous.created_at < timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS):
                    previous.delete()
                    continue
                self.answer = self._replay(previous, fingerprint)
                return

    @staticmethod
    def _replay(previous: IdempotencyRecord, fingerprint: str) -> HttpResponse:
        if previous.fingerprint != fingerprint:
            return _json(
                422,
                body(
                    "idempotency_key_reused",
                    "Cette clé d’idempotence a déjà servi pour une autre requête : utilisez une nouvelle clé.",
                ),
            )
        if previous.status is None:
            return _json(
                409, body("idempotency_in_progress", "La première requête avec cette clé est encore en cours.")
            )
        response = HttpResponse(bytes(previous.body), status=previous.status, content_type=previous.content_type)
        response["Idempotent-Replayed"] = "true"
        return response

    def keep(self, response) -> None:
        if self.record is None:
            return
        if response.status_code >= 500:
            self.forget()
            return
        IdempotencyRecord.objects.filter(pk=self.record.pk).update(
            status=response.status_code,
            content_type=response.get("Content-Type", "application/json")[:100],
            body=response.content,
        )

    def forget(self) -> None:
        if self.record is not None:
            IdempotencyRecord.objects.filter(pk=self.record.pk).delete()


# A NUL character, escaped in a JSON string (an odd number of backslashes before u0000).
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _holds_nul(request) -> bool:
    """PostgreSQL stores no NUL character in text: refuse it in the path, the query or a JSON body."""
    if (
        "\x00" in request.path
        or "\x00" in request.META.get("QUERY_STRING", "")
        or "%00" in request.META.get("QUERY_STRING", "")
    ):
        return True
    return bool(JSON_NUL.search(request.body)) if request.method in ("POST", "PUT", "PATCH") else False


GENERIC_ERRORS = {
    404: ("not_found", "Cette adresse n’existe pas dans l’API (voir /api/v1/docs)."),
    405: ("method_not_allowed", "Cette méthode n’est pas permise sur cette adresse (voir /api/v1/docs)."),
    413: ("too_large", "Le corps de la requête est trop volumineux."),
}


def _as_json(response):
    """Django's own refusals (an unknown path, a method not allowed…) in the API's JSON shape."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
        return response
    code, message = GENERIC_ERRORS.get(response.status_code, ("error", "La requête n’a pas pu aboutir."))
    answer = _json(response.status_code, body(code, message))
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in response:
            answer[name] = response[name]
    return answer


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        started = time.monotonic()
        secret = _bearer(request)
        request.api_token = authenticate_api_token(secret) if secret else None
        if request.api_token is None:
            return _as_json(self.get_response(request))
        response = _as_json(self._respond(request))
        ApiCall.objects.create(
            agent_id=request.api_token.agent_id,
            token=request.api_token,
            method=request.method[:10],
            path=request.path.replace("\x00", "\ufffd")[:300],
            status=response.status_code,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return response

    def _respond(self, request):
        decision = hit(f"api-token:{request.api_token.pk}", limit=settings.API_RATE_LIMIT, period=60)
        if not decision.allowed:
            return _json(
                429,
                body("rate_limited", "Trop de requêtes pour ce jeton : réessayez dans quelques secondes."),
                decision.headers(),
            )
        if _holds_nul(request):
            return _json(422, body("nul_character", "Le caractère NUL (\\u0000) n’est pas permis dans une requête."))
        idempotency = Idempotency(request)
        if idempotency.answer is not None:
            response = idempotency.answer
        else:
            try:
                response = self.get_response(request)
            except BaseException:
                idempotency.forget()
                raise
            idempotency.keep(response)
        for name, value in decision.headers().items():
            response[name] = value
        return response
