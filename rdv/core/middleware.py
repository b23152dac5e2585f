"""Middleware of every request (outermost in settings.MIDDLEWARE): request id and access line,
latency metrics."""

import logging
import re
import time
import uuid

from django.conf import settings

from rdv.core.logging import ACCESS_LOGGER, mask_path, request_id_var
from rdv.core.metrics import observe_request, route_of

access_logger = logging.getLogger(ACCESS_LOGGER)

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept when it is a sane token (a proxy's or a client's); anything else is replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def request_id_from(request) -> str:
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")  # (not request.headers: built on first use)
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id (X-Request-ID in, or a new one), available to every log record of
    the request (`rdv.core.logging`) and returned in the X-Request-ID response header. With
    LOG_FORMAT=json, writes one access line per request: method, path with its tokens masked and
    without query string, route name, status, duration, and the CPU time the request took in this
    thread (duration minus CPU is time spent waiting: for the database, or for a core)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request)
        request.request_id = request_id
        context = request_id_var.set(request_id)
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if settings.LOG_FORMAT == "json":
                self.log_access(
                    request, response, time.perf_counter() - started, cpu_seconds=time.thread_time() - cpu_started
                )
            return response
        finally:
            request_id_var.reset(context)

    @staticmethod
    def log_access(request, response, seconds: float, *, cpu_seconds: float | None = None) -> None:
        prefix = request.path[: len(request.path) - len(request.path_info)]  # SCRIPT_NAME, if any
        path = prefix + mask_path(request.path_info, getattr(request, "resolver_match", None))
        access_logger.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "method": request.method,
                "path": path,
                "route": route_of(request),
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "cpu_ms": None if cpu_seconds is None else round(cpu_seconds * 1000, 1),
            },
        )


class MetricsMiddleware:
    """Records each request's latency in the histogram by route name, method and status class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        observe_request(
            route=route_of(request),
            method=request.method or "",
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
