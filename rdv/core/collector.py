"""Python's cyclic garbage collector in the web processes (config/gunicorn.py, `post_worker_init`).

A request allocates tens of thousands of objects (querysets, model rows, template nodes, strings),
nearly all freed at once by their reference counts. With Python's default thresholds (700, 10, 10)
the collector still runs every 700 allocations and walks everything the process has loaded (modules,
models, URL patterns, compiled templates), which is never garbage. Measured in one process (Django
test client against the load test's database, median CPU of 60 to 300 requests): agents' week 48–50
→ 42.5–43 ms, public week 3.2–3.4 → 2.9–3.2 ms.
"""

import gc

DEFAULT_THRESHOLD = (50_000, 50, 100)


def threshold_from(value: str) -> tuple[int, int, int]:
    """The collector's thresholds from GC_THRESHOLD (« 50000,50,100 »; empty: the default here;
    « 700,10,10 » is Python's own)."""
    if not value.strip():
        return DEFAULT_THRESHOLD
    try:
        parts = tuple(int(part) for part in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or any(part < 0 for part in parts):
        raise ValueError(f"GC_THRESHOLD must be three non-negative integers, such as 50000,50,100 (got {value!r}).")
    return parts  # type: ignore[return-value]


def tune_after_load(threshold: tuple[int, int, int]) -> None:
    """Collect once, then freeze what the process holds (the collector no longer scans it) and set
    `threshold`. Called once the application is loaded, before the first request."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)
