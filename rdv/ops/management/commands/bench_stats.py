"""Benchmark of the statistics dashboards on 1,000,000 RDVs, in a throwaway PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rdv python manage.py bench_stats --json

Builds one espace (Europe/Paris) with 10 organisations, 4 services, 5 motifs per organisation and
`--rdvs` RDVs (default 1,000,000) spread over two years around today (18 months back, 6 months
ahead), with realistic statuses, channels and lead times, inserted by the database itself
(INSERT … SELECT generate_series: seconds, not the ORM row by row), plus 24 months of SMS counters;
then ANALYZE and VACUUM, as autovacuum would. Then, for the espace dashboard (its admin) and an
organisation's (the same agent, admin there) over the default period (12 weeks back to 4 weeks
ahead) and over a year, times each of the dashboard's queries (p50 over `--repeats`, in ms), the
whole dashboard (rdv.bookings.stats.dashboard) and the page through Django's test client, counts
the queries, and prints the EXPLAIN (ANALYZE, BUFFERS) of the heaviest query. Prints one JSON
object. PostgreSQL only (generate_series). The figures mean little on a busy machine: the load
average is printed with them.
"""

import json
import os
import statistics
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from rdv.core.benchmarks import throwaway_database

QUERY_NAMES = ("weeks_motifs_statuses_channels", "motif_names", "lead_time", "sms")
ORGANISATIONS = 10
SERVICES = ("Service social", "PMI (Protection Maternelle et Infantile)", "Insertion", "Secrétariat")
MOTIFS_PER_ORGANISATION = 5

# One RDV per row of generate_series: organisation and motif from the motif table (a motif belongs
# to its organisation), the start on a working hour within [-540, +180] days of today, the status
# by whether it is past, the channel, and the lead time (0 to 60 days, mostly short).
FILL_SQL = """
WITH motifs AS (
    SELECT id, organisation_id, (row_number() OVER (ORDER BY id)) - 1 AS k FROM motifs_motif
), rows AS (
    SELECT g,
           date_trunc('day', now()) - interval '540 days'
             + (floor(random() * 720)) * interval '1 day'
             + (8 + floor(random() * 9)) * interval '1 hour'
             + (floor(random() * 4) * 15) * interval '1 minute' AS starts_at,
           random() AS r_status, random() AS r_channel, random() AS r_lead
    FROM generate_series(1, %(count)s) AS g
)
INSERT INTO bookings_rdv (organisation_id, motif_id, starts_at, ends_at, status, created_by, created_at,
                          updated_at, address, cancel_reason, collective, context, visio_url)
SELECT m.organisation_id, m.id, r.starts_at, r.starts_at + interval '30 minutes',
       CASE WHEN r.starts_at < now() THEN
            CASE WHEN r.r_status < 0.70 THEN 'seen' WHEN r.r_status < 0.78 THEN 'noshow'
                 WHEN r.r_status < 0.88 THEN 'excused' WHEN r.r_status < 0.93 THEN 'revoked' ELSE 'unknown' END
            ELSE CASE WHEN r.r_status < 0.90 THEN 'unknown' WHEN r.r_status < 0.97 THEN 'excused' ELSE 'revoked' END
       END,
       CASE WHEN r.r_channel < 0.60 THEN 'agent' WHEN r.r_channel < 0.95 THEN 'usager' ELSE 'prescripteur' END,
       r.starts_at - (r.r_lead * r.r_lead * 60) * interval '1 day',
       now(), '', '', false, '', ''
FROM rows r JOIN motifs m ON m.k = r.g %% %(motifs)s
"""


class Command(BaseCommand):
    help = "Mesure les tableaux de bord de statistiques sur 1 million de rendez-vous (base PostgreSQL jetable)."

    def add_arguments(self, parser):
        parser.add_argument("--rdvs", type=int, default=1_000_000)
        parser.add_argument("--repeats", type=int, default=7)
        parser.add_argument("--json", action="store_true", help="print JSON on one line")
        parser.add_argument("--no-plan", action="store_true", help="without the EXPLAIN of the heaviest query")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_stats needs PostgreSQL: set DATABASE_URL=postgres://…")
        with throwaway_database(), override_settings(DEBUG=False):
            result = self._run(options)
        result["database"] = connection.vendor
        plan = result.pop("plan", None)
        self.stdout.write(json.dumps(result) if options["json"] else json.dumps(result, indent=2))
        if plan:
            self.stdout.write(plan)

    def _run(self, options) -> dict:
        started = time.perf_counter()
        data = build(options["rdvs"])
        build_ms = round((time.perf_counter() - started) * 1000)
        result = {
            "rdvs": options["rdvs"],
            "organisations": ORGANISATIONS,
            "build_ms": build_ms,
            "repeats": options["repeats"],
            "load_average": [round(value, 2) for value in os.getloadavg()],  # the machine is shared
            "dashboards": {},
        }
        heaviest = (0.0, "", "")
        for name, ctx, url, first, last in scenarios(data):
            figures, slowest = measure(ctx, url, first, last, data["agent"], options["repeats"])
            result["dashboards"][name] = figures
            if slowest[0] > heaviest[0]:
                heaviest = (slowest[0], f"{name}.{slowest[1]}", slowest[2])
        if not options["no_plan"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + heaviest[2])
                lines = [row[0] for row in cursor.fetchall()]
            result["plan"] = f"\nEXPLAIN (ANALYZE, BUFFERS) of the heaviest query ({heaviest[1]}):\n" + "\n".join(lines)
        return result


def build(count: int) -> dict:
    from rdv.accounts.models import AccessLevel, Agent, AgentRole, TerritoryRole
    from rdv.motifs.models import Motif
    from rdv.sms.models import SmsMonthlyUsage
    from rdv.territories.models import Organisation, Service, Territory, TerritoryService

    territory = Territory.objects.create(name="Espace du banc d'essai", time_zone="Europe/Paris")
    services = [Service.objects.get_or_create(name=name)[0] for name in SERVICES]
    TerritoryService.objects.bulk_create(
        [TerritoryService(territory=territory, service=service) for service in services], ignore_conflicts=True
    )
    organisations = Organisation.objects.bulk_create(
        [Organisation(territory=territory, name=f"Organisation {index + 1:02d}") for index in range(ORGANISATIONS)]
    )
    Motif.objects.bulk_create(
        [
            Motif(
                organisation=organisation,
                service=services[index % len(services)],
                name=f"Motif {index + 1}",
                color="#000091",
                default_duration_minutes=30,
                location_type="public_office",
            )
            for organisation in organisations
            for index in range(MOTIFS_PER_ORGANISATION)
        ]
    )
    agent = Agent.objects.create_user(email="banc@exemple.fr", password="banc-d-essai-2026")
    TerritoryRole.objects.create(agent=agent, territory=territory)
    AgentRole.objects.create(agent=agent, organisation=organisations[0], access_level=AccessLevel.ADMIN)
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL, {"count": count, "motifs": ORGANISATIONS * MOTIFS_PER_ORGANISATION})
    today = timezone.localdate()
    month = today.replace(day=1)
    usages = []
    for _ in range(24):
        usages.append(
            SmsMonthlyUsage(territory=territory, month=month, messages_accepted=9_000, segments_accepted=11_000)
        )
        month = (month - timedelta(days=1)).replace(day=1)
    SmsMonthlyUsage.objects.bulk_create(usages)
    with connection.cursor() as cursor:
        # VACUUM sets the visibility map that index-only scans need; it cannot run in a transaction
        # (the tests' database): ANALYZE alone there.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    return {"territory": territory, "organisation": organisations[0], "agent": agent}


def scenarios(data: dict):
    """(name, context, page URL, first day, last day) of each dashboard measured."""
    from rdv.accounts.context import organisation_context, territory_context
    from rdv.bookings import stats

    agent, territory, organisation = data["agent"], data["territory"], data["organisation"]
    first, last = stats.default_period(timezone.localdate())
    year = (last - timedelta(days=364), last)
    espace_ctx = territory_context(agent, territory.pk)
    organisation_ctx = organisation_context(agent, organisation.pk)
    espace_url = reverse("espace_stats", args=[territory.pk])
    organisation_url = reverse("organisation_stats", args=[organisation.pk])
    return [
        ("espace_default_period", espace_ctx, espace_url, first, last),
        ("espace_one_year", espace_ctx, espace_url, *year),
        ("organisation_default_period", organisation_ctx, organisation_url, first, last),
        ("organisation_one_year", organisation_ctx, organisation_url, *year),
    ]


def _p50_ms(function, repeats: int, clock=time.perf_counter) -> float:
    """The median of `repeats` runs, in ms: wall clock, or this process's CPU time (Django's share,
    without the database's) with clock=time.process_time."""
    timings = []
    for _ in range(repeats):
        started = clock()
        function()
        timings.append((clock() - started) * 1000)
    return round(statistics.median(timings), 1)


def measure(ctx, url: str, first: date, last: date, agent, repeats: int) -> tuple[dict, tuple]:
    """Figures of one dashboard, and (p50, name, SQL) of its slowest query."""
    from rdv.bookings import stats

    filters = stats.Filters(first_day=first, last_day=last)
    with CaptureQueriesContext(connection) as captured:
        rows = stats.dashboard(ctx, filters)
    sqls = [query["sql"] for query in captured.captured_queries]
    names = QUERY_NAMES[: len(sqls)]

    def run(sql):
        def execute():
            with connection.cursor() as cursor:
                cursor.execute(sql)
                cursor.fetchall()

        return execute

    queries = {name: _p50_ms(run(sql), repeats) for name, sql in zip(names, sqls, strict=True)}
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    params = {"du": first.isoformat(), "au": last.isoformat()}
    client.get(url, params)  # warm the session
    page_queries = []

    def count(execute, sql, params, many, context):
        page_queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    slowest = max(queries, key=queries.get)
    figures = {
        "period": [first.isoformat(), last.isoformat()],
        "rdvs_counted": rows.total,
        "queries_p50_ms": queries,
        "queries_total_p50_ms": round(sum(queries.values()), 1),
        "dashboard_p50_ms": _p50_ms(lambda: stats.dashboard(ctx, filters), repeats),
        "dashboard_queries": len(sqls),
        "page_p50_ms": _p50_ms(lambda: client.get(url, params), repeats),
        "page_python_cpu_p50_ms": _p50_ms(lambda: client.get(url, params), repeats, clock=time.process_time),
        "page_queries": len(page_queries),
    }
    return figures, (queries[slowest], slowest, sqls[names.index(slowest)])
