"""The error pages (400, 403, 404, 413, 429, 500), French and DSFR, rendered WITHOUT a request
context: no context processor, session or database is touched, so they still show while the
database is down (an agent then reads « Erreur inattendue », not a bare English page)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.template.loader import render_to_string

TITLES = {
    400: "Demande incorrecte",
    403: "Accès refusé",
    404: "Page introuvable",
    413: "Envoi trop volumineux",
    429: "Trop de demandes",
    500: "Erreur inattendue",
}


def error_page(status: int, **context) -> HttpResponse:
    html = render_to_string(
        f"errors/{status}.html",
        {"title": TITLES[status], "status": status, "SITE_NAME": settings.SITE_NAME, **context},
    )
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return error_page(413)
    return error_page(400)


def permission_denied(request, exception=None):
    return error_page(403)


def csrf_failure(request, reason=""):
    return error_page(403, csrf=True)


def not_found(request, exception=None):
    response = error_page(404)
    response.product_page = True  # rdv.www.middleware.ProductNotFoundMiddleware leaves it as is
    return response


def server_error(request):
    return error_page(500)


def too_many_requests(retry_after: int, headers: dict) -> HttpResponse:
    response = error_page(429, minutes=max(1, round(retry_after / 60)))
    for name, value in headers.items():
        response[name] = value
    return response
