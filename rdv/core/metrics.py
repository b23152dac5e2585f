"""Prometheus metrics (prometheus-client), served by /metrics.

Two kinds:

- Request latency, a histogram by route (the resolved URL name, never the raw path: no ids nor
  tokens in labels), method and status class, recorded by `rdv.core.middleware.MetricsMiddleware`
  in each web process. With several processes (gunicorn workers), set PROMETHEUS_MULTIPROC_DIR in
  the environment before the server starts: each process writes its values to files there and a
  scrape, answered by any worker, adds them up (prometheus-client's multiprocess mode). Without it
  (runserver, tests) the values live in the process.
- Figures read from the database at scrape time (queue depth, deliveries of the last hour, bookings
  per minute, scheduler heartbeat): whoever answers the scrape computes them, so they are right
  whatever the number of processes. Core imports no other app: the apps register their figures
  with `register_gauges` (rdv.outbox, rdv.bookings in their AppConfig.ready).
"""

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # no URL pattern answered (404 before any view, redirects of CommonMiddleware)
STATIC = "static"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# No `*_created` series next to each histogram (the text format shows them as extra gauges).
disable_created_metrics()

REQUEST_LATENCY = Histogram(
    "rdv_http_request_duration_seconds",
    "Time to answer a request, by route (URL name), method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def route_of(request) -> str:
    """The label of a request's route: its URL name with namespace (`public:manage`), the pattern
    when it has no name (never the values), `static` for static files, `unmatched` otherwise."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or UNMATCHED
    static_url = "/" + settings.STATIC_URL.lstrip("/") if settings.STATIC_URL else ""
    if static_url and request.path.startswith(static_url):
        return STATIC
    return UNMATCHED


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    method = method.upper() if method.upper() in METHODS else "other"
    REQUEST_LATENCY.labels(route=route, method=method, status=status_class(status)).observe(seconds)


# Figures from the database ----------------------------------------------------------------------


@dataclass
class Gauge:
    """One gauge family as an app reports it (core turns it into Prometheus' types): `samples` maps
    label values (in the order of `labels`) to the value."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    samples: dict[tuple[str, ...], float] = field(default_factory=dict)


GaugeProvider = Callable[[datetime], Iterable[Gauge]]
_PROVIDERS: dict[str, GaugeProvider] = {}


def register_gauges(name: str, provider: GaugeProvider) -> GaugeProvider:
    """Add (or replace) a function called at each scrape with the current time."""
    _PROVIDERS[name] = provider
    return provider


def _scheduler_gauges(now: datetime) -> Iterable[Gauge]:
    from rdv.core.health import SCHEDULER, last_beat, seconds_since

    age = seconds_since(last_beat(SCHEDULER), now)
    gauge = Gauge("rdv_scheduler_heartbeat_age_seconds", "Seconds since the leader scheduler's last heartbeat.")
    if age is not None:  # absent until a scheduler has beaten once (alert on absent() too)
        gauge.samples[()] = age
    yield gauge


register_gauges("scheduler", _scheduler_gauges)


def _replica_gauges(now: datetime) -> Iterable[Gauge]:
    from rdv.core.health import replica_state

    state = replica_state()
    if state is None:  # no replica configured: no replica figures
        return
    yield Gauge("rdv_replica_up", "1 when the read replica answered the scrape.", samples={(): float(state["ok"])})
    lag = Gauge("rdv_replica_lag_seconds", "Seconds the read replica is behind the primary (0: caught up).")
    if state["lag_seconds"] is not None:
        lag.samples[()] = state["lag_seconds"]
    yield lag


register_gauges("replica", _replica_gauges)


class DatabaseCollector:
    """Computes the registered gauges at each scrape; `rdv_database_up` is 0 when the database
    failed to answer one of them (the others are still served)."""

    def collect(self):
        now = timezone.now()
        up = 1
        for name, provider in _PROVIDERS.items():
            try:
                gauges = list(provider(now))
            except DatabaseError as error:
                logger.error("Metrics: the %s figures failed (%s).", name, type(error).__name__)
                up = 0
                continue
            for gauge in gauges:
                family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
                for values, value in sorted(gauge.samples.items()):
                    family.add_metric(list(values), value)
                yield family
        yield GaugeMetricFamily("rdv_database_up", "1 when the database answered the scrape's queries.", value=up)


def multiprocess_dir() -> str:
    return os.environ.get(MULTIPROCESS_ENV, "")


class _Scrape:
    """What one scrape exposes: the request metrics, then the database figures."""

    def __init__(self, *sources):
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def render() -> tuple[bytes, str]:
    """The scrape's body and content type."""
    if multiprocess_dir():
        # Every process' files, added up (this process' in-memory registry would count it twice).
        requests = CollectorRegistry()
        MultiProcessCollector(requests, path=multiprocess_dir())
    else:
        requests = REGISTRY  # the histogram, plus prometheus-client's process and GC metrics
    # The classic text format (0.0.4), what prometheus-client's own server answers by default.
    return generate_latest(_Scrape(requests, DatabaseCollector())), CONTENT_TYPE_PLAIN_0_0_4


def child_exit(server, worker) -> None:
    """gunicorn hook (`child_exit = rdv.core.metrics.child_exit` in its config): drops the files of
    live gauges of a dead worker (none today; harmless and future-proof)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, multiprocess_dir())
