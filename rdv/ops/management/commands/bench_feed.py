"""Benchmark of the open-data availability feed on the synthetic espace of bench_pages (200 agents,
18,000 RDVs in a month), in a throwaway database.

    python manage.py bench_feed --json
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rdv python manage.py bench_feed --json

The espace's three motifs are opened online to usagers (3 motifs × 2 lieux: 6 rows). Prints one
JSON object: the computation of the rows (`compute_rows`, cold: what a change or the 60-second
expiry costs), the JSON feed served cold (the snapshot stale before each request: recomputed and
stored) and warm (a fresh snapshot), and the CSV served warm; each with p50/p95 in milliseconds,
the number of SQL queries and, for the pages, the size of the response in bytes.
"""

import json
import os
import random
import time

from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from rdv.core.benchmarks import throwaway_database
from rdv.ops.management.commands.bench_pages import build_espace, measure
from rdv.ops.management.commands.bench_slots import percentile


class Command(BaseCommand):
    help = "Mesure le flux ouvert des prochaines disponibilités sur un espace synthétique (base jetable)."

    def add_arguments(self, parser):
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--rdvs", type=int, default=18_000, help="RDVs in the month")
        parser.add_argument("--usagers", type=int, default=2_000, help="usagers (not read by the feed)")
        parser.add_argument("--repeats", type=int, default=20)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--json", action="store_true", help="print JSON on one line")

    def handle(self, *args, **options):
        with throwaway_database(), override_settings(DEBUG=False):
            result = self._run(options)
        result["database"] = connection.vendor
        self.stdout.write(json.dumps(result) if options["json"] else json.dumps(result, indent=2))

    def _run(self, options) -> dict:
        rng = random.Random(options["seed"])  # noqa: S311 - synthetic data, not security
        started = time.perf_counter()
        data = build_feed_espace(rng, options["agents"], options["rdvs"], options["usagers"])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        build_ms = round((time.perf_counter() - started) * 1000)
        return {
            "agents": options["agents"],
            "rdvs": data["rdv_count"],
            "repeats": options["repeats"],
            "build_ms": build_ms,
            "load_average": [round(value, 2) for value in os.getloadavg()],  # the machine is shared
            **measure_feed(data["territory"], options["repeats"]),
        }


def build_feed_espace(rng: random.Random, agents: int, rdvs: int, usagers: int) -> dict:
    """bench_pages' espace with its three motifs open online to usagers."""
    from rdv.motifs.models import BookableBy, Motif

    data = build_espace(rng, agents, rdvs, usagers, journal=100)
    Motif.objects.filter(organisation=data["organisation"]).update(
        bookable_online=True, bookable_by=BookableBy.EVERYONE
    )
    return data


def measure_feed(territory, repeats: int) -> dict:
    """Figures of the rows' computation and of the feed served cold and warm."""
    from rdv.online import opendata
    from rdv.online.models import AvailabilityFeed

    def compute():
        return opendata.compute_rows(territory)

    rows = compute()  # warms the recurrence cache, as a running server's would be
    with CaptureQueriesContext(connection) as queries:
        compute()
    compute_figures = {**_timed(compute, repeats), "queries": len(queries.captured_queries)}

    client = Client(HTTP_HOST="localhost")
    json_path = reverse("public:availability_feed_json", args=[territory.pk])
    csv_path = reverse("public:availability_feed_csv", args=[territory.pk])
    with override_settings(PUBLIC_RATE_LIMITS={"opendata": (1_000_000, 60)}):  # measure the feed, not the limit

        def mark_stale():
            AvailabilityFeed.objects.filter(pk=territory.pk).update(stale=True)

        def cold():
            response = client.get(json_path)
            if response.status_code != 200:
                raise RuntimeError(f"{json_path}: HTTP {response.status_code}")

        cold()  # the espace's very first request creates its snapshot row
        mark_stale()
        reset_queries()  # each request empties the log anyway (request_started): start from zero
        with CaptureQueriesContext(connection) as queries:
            cold()
        query_count = len(queries.captured_queries)
        cold_figures = {**_timed(cold, repeats, before=mark_stale), "queries": query_count}
        warm = measure(client, json_path, {}, repeats)
        warm_csv = measure(client, csv_path, {}, repeats)
    return {
        "rows": len(rows),
        "rows_with_a_slot": sum(1 for row in rows if row["next_slot_starts_at"]),
        "compute_rows": compute_figures,
        "json_cold": cold_figures,
        "json_warm": warm,
        "csv_warm": warm_csv,
    }


def _timed(function, repeats: int, before=None) -> dict:
    """p50/p95 of `function` in milliseconds (`before` runs first each time, not timed)."""
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}
