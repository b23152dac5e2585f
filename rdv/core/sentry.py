"""Optional error reporting with sentry-sdk: initialised by the settings only when SENTRY_DSN is set.

Nothing personal nor secret leaves: `send_default_pii=False` (no user, IP address, cookies), no
request bodies (`max_request_body_size="never"`, and `before_send` drops them anyway), no local
variables of stack frames (they hold usagers' data), and `before_send` masks the tokens of URLs
(manage links, calendar feeds, invitations…) in the request, the messages, the exceptions and the
breadcrumbs, and drops query strings.
"""

from typing import Any

# Request headers worth keeping (the SDK already drops Authorization, Cookie and the forwarding
# headers without send_default_pii; this keeps only what helps to reproduce).
KEPT_HEADERS = frozenset({"accept", "accept-language", "content-type", "content-length", "host", "user-agent"})


def init_sentry(*, dsn: str, environment: str = "", release: str = "", traces_sample_rate: float = 0.0) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
    )


def _scrub_request(request: dict) -> None:
    from rdv.core.logging import MASK, mask_url

    for key in ("data", "cookies", "query_string"):
        request.pop(key, None)
    if isinstance(request.get("url"), str):
        request["url"] = mask_url(request["url"])
    headers = request.get("headers")
    if isinstance(headers, dict):
        kept = {name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS}
        referer = next((value for name, value in headers.items() if name.lower() == "referer"), None)
        if isinstance(referer, str):
            kept["Referer"] = mask_url(referer)
        request["headers"] = kept
    if "env" in request and isinstance(request["env"], dict):
        request["env"] = {name: (MASK if name == "REMOTE_ADDR" else value) for name, value in request["env"].items()}


def _scrub_strings(value: Any) -> Any:
    from rdv.core.logging import scrub_text

    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list):
        return [_scrub_strings(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrub_strings(item) for item in value)
    if isinstance(value, dict):
        return {key: _scrub_strings(item) for key, item in value.items()}
    return value


def before_send(event: dict, hint: dict | None = None) -> dict:
    """Scrub an event (error or transaction) before it leaves the process."""
    from rdv.core.logging import current_request_id, mask_url, scrub_text

    if isinstance(event.get("request"), dict):
        _scrub_request(event["request"])
    # (The transaction's name is the route's pattern, « /r/{token}/annuler/ »: no value to mask.)
    if isinstance(event.get("message"), str):
        event["message"] = scrub_text(event["message"])
    if isinstance(event.get("logentry"), dict):
        event["logentry"] = _scrub_strings(event["logentry"])
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = scrub_text(exception["value"])
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        before_breadcrumb(crumb, None)
    if isinstance(event.get("extra"), dict):
        event["extra"] = _scrub_strings(event["extra"])
    for span in event.get("spans") or []:
        if isinstance(span.get("description"), str):
            span["description"] = scrub_text(span["description"])
        data = span.get("data")
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            data["url"] = mask_url(data["url"])
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def before_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    from rdv.core.logging import mask_url, scrub_text

    if isinstance(crumb.get("message"), str):
        crumb["message"] = scrub_text(crumb["message"])
    data = crumb.get("data")
    if isinstance(data, dict):
        for key in ("http.query", "http.fragment"):
            data.pop(key, None)
        if isinstance(data.get("url"), str):
            data["url"] = mask_url(data["url"])
        crumb["data"] = _scrub_strings(data)
    return crumb
