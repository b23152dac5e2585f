"""Logs: a request id on every record, JSON lines in production, and no secret in any line.

- `request_id`: set by `rdv.core.middleware.RequestIdMiddleware` for the time of a request (a
  context variable, so threads and async tasks each see their own); `RequestContextFilter` copies
  it onto every record that goes through the root handler.
- `LOG_FORMAT=json` (environment): one JSON object per line (python-json-logger) with timestamp,
  level, logger, message, request_id and the record's extra fields (the access line adds method,
  path, route, status, duration_ms). Otherwise plain text, as before.
- Secrets: links carry tokens (manage links /r/<token>, calendar feeds /calendrier/<token>.ics,
  invitations, password resets, notification preferences, bookings in progress). `mask_path`
  replaces the values of the URL parameters named in MASKED_URL_KWARGS, and any long random-looking
  path segment of an unknown path; query strings are never logged. The filter applies it to the
  paths found in every message (Django's own « Not Found: /r/… » lines included).
"""

import logging
import re
from contextvars import ContextVar

from django.conf import settings
from django.urls import Resolver404, resolve
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

MASK = "[masked]"
ACCESS_LOGGER = "rdv.request"  # the access line of rdv.core.middleware.RequestIdMiddleware
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# A run of URL-safe characters long enough to be a token (the shortest, manage links, are 22).
_LONG_RUN = re.compile(r"[A-Za-z0-9_-]{16,}")
# ...unless it reads like words of a route (« reservation-en-ligne », « champs-personnalises »).
_WORDS = re.compile(r"[a-z]+(?:[-_][a-z]+)*")
# A path inside a message: starts with "/" after a blank, a quote or the start; stops at a blank or
# a quote. Its query string, if any, is dropped.
_PATH_IN_TEXT = re.compile(r"(?<![\w/.:])(/[^\s\"'<>?#]*)(\?[^\s\"'<>#]*)?")


def current_request_id() -> str | None:
    return request_id_var.get()


def _masked_kwargs() -> frozenset[str]:
    return frozenset(getattr(settings, "MASKED_URL_KWARGS", ("token",)))


def mask_path(path: str, match=None) -> str:
    """`path` with its secrets replaced by [masked]: the values of the sensitive parameters of the
    route it resolves to (`match`, or resolved here), then any token-like segment left."""
    if match is None:
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        except Exception:  # a malformed path must never break logging
            match = None
    if match is not None:
        sensitive = _masked_kwargs()
        for name, value in match.kwargs.items():
            text = str(value)
            if name in sensitive and text:  # whole segments only (a token may be a short string)
                path = re.sub(rf"(?<=/){re.escape(text)}(?=[/.]|$)", MASK, path)
    return _LONG_RUN.sub(lambda run: run.group(0) if _WORDS.fullmatch(run.group(0)) else MASK, path)


def mask_url(url: str) -> str:
    """An absolute or relative URL with its path masked and without its query string."""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)?([^?#]*)", url or "")
    if match is None:
        return ""
    origin, path = match.group(1) or "", match.group(2) or ""
    return origin + (mask_path(path) if path.startswith("/") else _LONG_RUN.sub(MASK, path))


def scrub_text(text: str) -> str:
    """Every path found in `text` masked, query strings dropped."""
    if "/" not in text:
        return text
    return _PATH_IN_TEXT.sub(lambda found: mask_path(found.group(1)), text)


class RequestContextFilter(logging.Filter):
    """Adds `request_id` to every record and masks the paths in its message. Attached to the root
    handler (settings.LOGGING), so it sees the records of every logger that propagates there."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs 4xx answers (« Not Found: … ») after the middleware has returned: such records
        # carry the request itself.
        record.request_id = request_id_var.get() or getattr(getattr(record, "request", None), "request_id", None)
        if record.name == ACCESS_LOGGER:  # written with its path masked already
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to logging's own error path
            return True
        scrubbed = scrub_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


# Record attributes never written as JSON fields: Django's log_response adds the request itself
# (its repr holds the raw path) and runserver the socket.
JSON_EXCLUDED = ("request", "server_time")


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: timestamp (ISO 8601, UTC), level, logger, message, request_id,
    then the record's extra fields (the access line's method, path, route, status, duration_ms)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, *JSON_EXCLUDED])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)
