"""Every refusal of the API as one JSON shape, with a stable code and a French message:

    {"code": "slot_taken", "message": "Ce créneau n’est plus disponible.", "errors": []}

`errors` lists the fields at fault (`{"field": "starts_at", "message": "…"}`) for 422 answers.
Domain refusals (`DomainError`) keep their code; the status follows it (STATUS_OF_CODE).
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from rdv.core.errors import DomainError

logger = logging.getLogger("rdv.api")


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldError] = []


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}


NOT_FOUND_MESSAGE = "Cette ressource n’existe pas, ou vous n’y avez pas accès."
FORBIDDEN_MESSAGE = "Vos droits ne permettent pas cette action."

# Domain codes that are not « the input is invalid » (422).
STATUS_OF_CODE = {
    "forbidden": 403,
    "not_found": 404,
    "slot_taken": 409,
    "rdv_cancelled": 409,
    "duplicate": 409,
    "conflict": 409,
    "too_many": 409,
    "full": 409,  # a collective RDV at capacity
}

# pydantic's error types, in French (the rest: « Valeur invalide. »).
FRENCH_VALIDATION = {
    "missing": "Ce champ est obligatoire.",
    "int_parsing": "Un nombre entier est attendu.",
    "int_type": "Un nombre entier est attendu.",
    "int_from_float": "Un nombre entier est attendu.",
    "bool_parsing": "true ou false est attendu.",
    "bool_type": "true ou false est attendu.",
    "string_type": "Une chaîne de caractères est attendue.",
    "string_too_long": "Ce texte est trop long.",
    "string_too_short": "Ce texte est trop court.",
    "datetime_parsing": "Une date et heure ISO 8601 est attendue (2027-03-09T10:00:00+01:00).",
    "datetime_type": "Une date et heure ISO 8601 est attendue (2027-03-09T10:00:00+01:00).",
    "datetime_from_date_parsing": "Une date et heure ISO 8601 est attendue (2027-03-09T10:00:00+01:00).",
    "timezone_aware": "Indiquez le fuseau horaire (2027-03-09T10:00:00+01:00).",
    "date_parsing": "Une date AAAA-MM-JJ est attendue.",
    "time_parsing": "Une heure HH:MM est attendue.",
    "time_type": "Une heure HH:MM est attendue.",
    "date_type": "Une date AAAA-MM-JJ est attendue.",
    "date_from_datetime_parsing": "Une date AAAA-MM-JJ est attendue.",
    "date_from_datetime_inexact": "Une date AAAA-MM-JJ est attendue.",
    "greater_than_equal": "Cette valeur est trop petite.",
    "greater_than": "Cette valeur est trop petite.",
    "less_than_equal": "Cette valeur est trop grande.",
    "less_than": "Cette valeur est trop grande.",
    "literal_error": "Cette valeur n’est pas permise.",
    "enum": "Cette valeur n’est pas permise.",
    "list_type": "Une liste est attendue.",
    "dict_type": "Un objet JSON est attendu.",
    "model_type": "Un objet JSON est attendu.",
    "model_attributes_type": "Un objet JSON est attendu.",
    "extra_forbidden": "Ce champ n’est pas connu.",
    "json_invalid": "Le corps n’est pas un JSON valide.",
    "value_error": "Valeur invalide.",
}


def _field(loc) -> str:
    # ninja's locations start with the parameter's origin ("body", "query", "path") and the name of
    # the argument that holds the body: keep what the client sent.
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "form", "cookie"):
        parts = parts[1:]
        if len(parts) > 1 and parts[0] in ("payload", "data", "filters"):
            parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(errors: list[dict]) -> list[dict]:
    return [
        {"field": _field(error.get("loc", ())), "message": FRENCH_VALIDATION.get(error.get("type"), "Valeur invalide.")}
        for error in errors
    ]


def body(code: str, message: str, errors: list[dict] | None = None) -> dict:
    return {"code": code, "message": message, "errors": errors or []}


def install(api) -> None:
    """The exception handlers of the API: every refusal in the shape above, never an HTML page."""

    def respond(request, status: int, content: dict, headers=None):
        response = api.create_response(request, content, status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return respond(request, exc.status, body(exc.code, exc.message, exc.errors), exc.headers)

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        status = STATUS_OF_CODE.get(exc.code, 422)
        message = NOT_FOUND_MESSAGE if status == 404 else exc.message
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
        return respond(request, status, body(exc.code, message, errors))

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        return respond(
            request, 422, body("invalid", "Certaines valeurs sont invalides.", validation_errors(exc.errors))
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return respond(
            request,
            401,
            body("unauthenticated", "Jeton d’API absent, invalide, expiré ou révoqué (Authorization: Bearer …)."),
            {"WWW-Authenticate": "Bearer"},
        )

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, body("not_found", NOT_FOUND_MESSAGE))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return respond(request, 413, body("too_large", "Le corps de la requête est trop volumineux."))

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        # Too many parameters, a malformed header…: Django's own 400, in the API's shape.
        return respond(request, 400, body("bad_request", "La requête est mal formée (trop de paramètres ?)."))

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, body("server_error", "Erreur inattendue : l’équipe technique est prévenue."))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if exc.status_code == 400:
            return respond(request, 400, body("bad_request", "Le corps de la requête n’est pas un JSON valide."))
        return respond(request, exc.status_code, body("error", str(exc.message)))
