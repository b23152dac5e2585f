"""gunicorn settings of `make serve-prod` (scripts/serve-prod) and of production.

No gunicorn access log: it would write raw URLs (tokens of manage links, calendar feeds and query
strings included); the product writes its own access line with tokens masked (LOG_FORMAT=json,
docs/operations.md). Metrics of every worker process are summed from PROMETHEUS_MULTIPROC_DIR.
"""

import os

from rdv.core import collector
from rdv.core.metrics import child_exit  # noqa: F401 - gunicorn reads the hook by its name

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# gunicorn's own advice, 2 × cores + 1: while one process computes a long page (an agents' week), the
# others still answer the short ones (the public week page), the kernel sharing the cores between them.
workers = int(os.environ.get("WEB_PROCESSES") or 2 * (os.cpu_count() or 1) + 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
accesslog = None
errorlog = "-"
GC_THRESHOLD = collector.threshold_from(os.environ.get("GC_THRESHOLD", ""))  # read at start: a bad value stops it


def post_worker_init(worker) -> None:
    """Once the application is loaded in a web process: the garbage collector's tuning
    (rdv.core.collector; GC_THRESHOLD, docs/operations.md)."""
    collector.tune_after_load(GC_THRESHOLD)
