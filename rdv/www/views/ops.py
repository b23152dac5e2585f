"""Operations endpoints (docs/operations.md): /healthz for load balancers and uptime checks, /metrics
for Prometheus. Thin: the figures come from rdv.core.health and rdv.core.metrics."""

import hmac
from ipaddress import ip_address

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from rdv.core import health, metrics

# A request that went through a proxy carries one of these: it is not « from this machine » even
# when the proxy connects over loopback.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


@require_safe
def healthz(request):
    """No authentication, no personal data, a few indexed queries. 200 when ok or degraded (the
    site answers; something needs a look), 503 when the database does not answer."""
    report = health.report()
    response = JsonResponse(report, status=503 if report["status"] == health.DOWN else 200)
    response["Cache-Control"] = "no-store"
    return response


def from_loopback(request) -> bool:
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        return ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def bearer_matches(request, token: str) -> bool:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(secret.strip().encode(), token.encode())


@require_safe
def metrics_view(request):
    """Prometheus text format. Loopback (not proxied) always; otherwise only with
    `Authorization: Bearer <METRICS_TOKEN>` when that setting is set. Anyone else: 404."""
    if not (from_loopback(request) or bearer_matches(request, settings.METRICS_TOKEN)):
        raise Http404
    body, content_type = metrics.render()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
