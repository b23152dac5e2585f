"""The open-data feed of an espace's next free slots (issue 21), for partner maps and portals:
`/donnees/espaces/<id>/prochaines-disponibilites.json` and `.csv`. No account, read-only, cached
(rdv.online.opendata: a snapshot in the database, at most 60 s old), `Cache-Control: public,
max-age=60`, readable from any site's scripts (CORS `*`), rate-limited per IP (scope "opendata"
of rdv.www.public.limits). Errors are JSON (or plain text for the CSV) with a French message.
Documented in docs/api.md (« Open availability feed »)."""

import csv
import io

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from rdv.core.ratelimit import Decision
from rdv.online import opendata
from rdv.www.public.limits import check

MAX_ID = 2**63 - 1
CACHE_CONTROL = f"public, max-age={int(opendata.FEED_MAX_AGE.total_seconds())}"
NOT_FOUND = "Cet espace n'existe pas."


def _too_many(decision: Decision) -> str:
    return f"Trop de demandes : réessayez dans {decision.retry_after} secondes."


def _headers(response: HttpResponse, *, cache: bool = True) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"  # partner maps fetch it from their visitors' browsers
    response["Cache-Control"] = CACHE_CONTROL if cache else "no-store"
    response.product_page = True  # rdv.www.middleware.ProductNotFoundMiddleware leaves a 404 as is
    return response


def _error(status: int, code: str, message: str, *, as_json: bool, decision: Decision | None = None):
    if as_json:
        response = JsonResponse(
            {"error": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    if decision is not None:
        for name, value in decision.headers().items():
            response[name] = value
    return _headers(response, cache=status == 404)


def _feed_or_error(request, territory_id: int, *, as_json: bool):
    decision = check(request, "opendata")
    if not decision.allowed:
        return None, _error(429, "too_many_requests", _too_many(decision), as_json=as_json, decision=decision)
    feed = opendata.availability_feed(territory_id) if territory_id <= MAX_ID else None
    if feed is None:
        return None, _error(404, "not_found", NOT_FOUND, as_json=as_json)
    return feed, None


@require_safe
def feed_json(request, territory_id: int):
    feed, error = _feed_or_error(request, territory_id, as_json=True)
    if error is not None:
        return error
    body = {
        "territory_id": feed.territory.pk,
        "territory_name": feed.territory.name,
        "generated_at": feed.generated_at_iso,
        "count": len(feed.rows),
        "rows": feed.rows,
    }
    return _headers(JsonResponse(body, json_dumps_params={"ensure_ascii": False}))


def csv_text(rows: list[dict]) -> str:
    """A header row, then one line per row (RFC 4180: commas, quotes when needed, CRLF); a null is
    an empty field."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=opendata.FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({name: "" if row.get(name) is None else row[name] for name in opendata.FIELDS})
    return out.getvalue()


@require_safe
def feed_csv(request, territory_id: int):
    feed, error = _feed_or_error(request, territory_id, as_json=False)
    if error is not None:
        return error
    response = HttpResponse(csv_text(feed.rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="prochaines-disponibilites-{feed.territory.pk}.csv"'
    return _headers(response)
