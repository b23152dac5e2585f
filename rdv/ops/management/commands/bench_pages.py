"""Benchmark of the main agent pages on a synthetic espace at scale, in a throwaway database.

    python manage.py bench_pages --json
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rdv python manage.py bench_pages --json

Builds one espace with 200 agents, 18,000 RDVs in a month (each with its usagers and agent) and
50,000 usagers (plus an espace journal), then requests the main pages through Django's test client
as an agent of the organisation (also espace admin, for the journal): the agenda, the RDV list, the
CSV export of the month, « Trouver un créneau », the usager list and a search, the journal (first
pages and the 500th); and, as a member of the public (no account), the public week of free times of
the motif (open online) at one lieu; through the API with the agent's token, the free slots of the
motif over 31 days. Prints one JSON object: per page p50/p95 in milliseconds (wall clock), the
CPU time of this process (Django's share, without the database's), the number of SQL queries and
the size of the response in bytes; for the public week, `public_week_slot_cache`: the page and the
selector alone, cold and warm with the slot cache, and the hit rate of a read/booking mix; and the
machine's load average (the figures mean little on a busy machine). The database is created for
the run and destroyed after it (PostgreSQL when DATABASE_URL says so; ANALYZE runs after the data
is loaded, as autovacuum would).
"""

import json
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.context import personal_context
from rdv.accounts.services import create_api_token
from rdv.core.benchmarks import throwaway_database
from rdv.ops.management.commands.bench_slots import percentile

FIRST_NAMES = [
    "Alice", "Amandine", "Benoît", "Camille", "Chloé", "Claire", "David", "Élodie", "Émile", "Fatima",
    "François", "Gaëlle", "Hélène", "Hugo", "Inès", "Jean", "Jules", "Karim", "Léa", "Louis",
    "Manon", "Marc", "Mathilde", "Nadia", "Noé", "Océane", "Paul", "Quentin", "Rose", "Sami",
    "Sophie", "Théo", "Valérie", "Yanis", "Zoé",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
]  # fmt: skip
MORNING, AFTERNOON = (dtime(9), dtime(12)), (dtime(13, 30), dtime(17))


class Command(BaseCommand):
    help = "Mesure les pages principales des agents sur un espace synthétique à grande échelle (base jetable)."

    def add_arguments(self, parser):
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--rdvs", type=int, default=18_000, help="RDVs in the month")
        parser.add_argument("--usagers", type=int, default=50_000)
        parser.add_argument("--journal", type=int, default=50_000, help="entries of the espace journal")
        parser.add_argument("--repeats", type=int, default=10)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--only", default="", help="comma-separated page names (default: every page)")
        parser.add_argument("--json", action="store_true", help="print JSON on one line")

    def handle(self, *args, **options):
        with throwaway_database(), override_settings(DEBUG=False):  # as in production; queries are counted explicitly
            result = self._run(options)
        result["database"] = connection.vendor
        self.stdout.write(json.dumps(result) if options["json"] else json.dumps(result, indent=2))

    def _run(self, options) -> dict:
        rng = random.Random(options["seed"])  # noqa: S311 - synthetic data, not security
        started = time.perf_counter()
        data = build_espace(rng, options["agents"], options["rdvs"], options["usagers"], options["journal"])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        build_ms = round((time.perf_counter() - started) * 1000)

        wanted = [name.strip() for name in options["only"].split(",") if name.strip()]
        figures = measure_pages(data, options["repeats"], wanted)
        slot_cache = measure_slot_cache(data, options["repeats"], rng) if not wanted or "public_week" in wanted else {}
        return {
            "agents": options["agents"],
            "rdvs": data["rdv_count"],
            "usagers": options["usagers"],
            "journal_entries": options["journal"],
            "month": data["first_day"].strftime("%Y-%m"),
            "repeats": options["repeats"],
            "build_ms": build_ms,
            "load_average": [round(value, 2) for value in os.getloadavg()],  # the machine is shared
            "pages": figures,
            "public_week_slot_cache": slot_cache,
        }


def pages(data: dict) -> dict[str, tuple[str, dict]]:
    """The pages measured: name -> (path, query parameters)."""
    organisation, territory = data["organisation"], data["territory"]
    first_day, last_day = data["first_day"], data["last_day"]
    month = {"du": first_day.isoformat(), "au": last_day.isoformat()}
    usagers = reverse("usager_list", args=[organisation.pk])
    journal = reverse("espace_journal", args=[territory.pk])
    return {
        "agenda_week_12_agents": (
            reverse("agenda", args=[organisation.pk]),
            {"vue": "semaine", "date": first_day.isoformat(), "agents": ",".join(map(str, data["agent_ids"][:12]))},
        ),
        "rdv_list_month": (reverse("rdv_list", args=[organisation.pk]), month),
        "rdv_csv_month": (reverse("rdv_list", args=[organisation.pk]), {**month, "format": "csv"}),
        "slot_search": (
            reverse("slot_search", args=[organisation.pk]),
            {"motif": data["motif"].pk, "start_date": first_day.isoformat()},
        ),
        "usager_list": (usagers, {}),
        "usager_list_page_500": (usagers, {"apres": data["usager_cursor"]}),
        "usager_search": (usagers, {"q": "dupont"}),
        "journal": (journal, {}),
        "journal_page_500": (journal, {"apres": data["journal_cursor"]}),
        "public_week": (
            reverse("public:week"),
            {"motif": data["motif"].pk, "lieu": data["lieu"].pk, "semaine": first_day.isoformat()},
        ),
        "api_slots_31_days": (
            f"/api/v1/organisations/{organisation.pk}/motifs/{data['motif'].pk}/slots",
            {"start_date": first_day.isoformat(), "end_date": (first_day + timedelta(days=30)).isoformat()},
        ),
    }


PUBLIC_PAGES = {"public_week"}  # requested without an account
API_PAGES = {"api_slots_31_days"}  # requested with the agent's API token


def measure_pages(data: dict, repeats: int, wanted=()) -> dict[str, dict]:
    """Figures of the pages named in `wanted` (every page when empty), as the espace's agent."""
    client = Client(HTTP_HOST="localhost")  # an ALLOWED_HOSTS default of every settings module
    client.force_login(data["agent"])
    public = Client(HTTP_HOST="localhost")
    _, secret = create_api_token(personal_context(data["agent"]), name="Benchmark")
    api = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {secret}")
    measured = pages(data)

    def client_of(name):
        return public if name in PUBLIC_PAGES else api if name in API_PAGES else client

    # Measure the pages, not the limits.
    with override_settings(PUBLIC_RATE_LIMITS={"pages": (10_000, 60)}, API_RATE_LIMIT=10_000):
        return {name: measure(client_of(name), *measured[name], repeats) for name in wanted or measured}


def _get(client: Client, path: str, params: dict) -> tuple[int, int]:
    response = client.get(path, params)
    content = response.streaming_content if response.streaming else [response.content]
    size = sum(len(chunk) for chunk in content)
    return response.status_code, size


def measure(client: Client, path: str, params: dict, repeats: int) -> dict:
    """One request counting the queries (also warms the caches), then `repeats` timed ones."""
    reset_queries()  # each request empties the log anyway (request_started): start from zero
    with CaptureQueriesContext(connection) as queries:
        status, size = _get(client, path, params)
    query_count = len(queries.captured_queries)  # read now: the next request empties the log
    if status != 200:
        raise RuntimeError(f"{path} {params}: HTTP {status}")
    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        _get(client, path, params)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "python_cpu_p50_ms": percentile(cpu, 50),  # this process only (not the database's work)
        "queries": query_count,
        "bytes": size,
    }


def measure_slot_cache(data: dict, repeats: int, rng: random.Random, reads: int = 200, bookings: int = 20) -> dict:
    """The public week page with the slot cache (rdv.online.slotcache): cold (the cache emptied
    before each request), warm (entries valid); the selector alone cold, warm and with the cache
    off (the uncached slot function); then a mix of `reads` week reads across 4 weeks
    interleaved with `bookings` bookings (each invalidates its agent's week), with the hit rate."""
    from rdv.core.context import Context
    from rdv.online import slotcache
    from rdv.online.selectors import monday_of, week_of_free_times
    from rdv.usagers.models import Usager

    public = Client(HTTP_HOST="localhost")
    path = reverse("public:week")
    mondays = [monday_of(data["first_day"]) + timedelta(days=7 * week) for week in range(4)]

    def params(monday):
        return {"motif": data["motif"].pk, "lieu": data["lieu"].pk, "semaine": monday.isoformat()}

    def timed(before=None) -> tuple[float, float, int]:
        if before:
            before()
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            status, _ = _get(public, path, params(mondays[0]))
            elapsed = ((time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status}")
        return *elapsed, len(queries.captured_queries)

    def figures(samples) -> dict:
        return {
            "p50_ms": percentile([s[0] for s in samples], 50),
            "p95_ms": percentile([s[0] for s in samples], 95),
            "python_cpu_p50_ms": percentile([s[1] for s in samples], 50),
            "queries": max(s[2] for s in samples),
        }

    def selector(before=None) -> tuple[float, float, int]:
        """The selector alone (rdv.online.selectors.week_of_free_times), without the page around it."""
        if before:
            before()
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            week_of_free_times(data["motif"], mondays[0], lieu=data["lieu"], holder_key="bench-visitor")
            elapsed = ((time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000)
        return *elapsed, len(queries.captured_queries)

    with override_settings(PUBLIC_RATE_LIMITS={"pages": (10_000, 60)}):
        timed()  # the session, the templates
        cold = [timed(slotcache.clear) for _ in range(repeats)]
        warm = [timed() for _ in range(repeats)]
        selector_cold = [selector(slotcache.clear) for _ in range(repeats)]
        selector_warm = [selector() for _ in range(repeats)]
        with override_settings(SLOT_CACHE_ENABLED=False):
            selector_off = [selector() for _ in range(repeats)]
        ctx = Context.system(data["territory"], data["organisation"])
        motif, lieu = data["motif"], data["lieu"]
        usager = Usager.objects.filter(territory=data["territory"]).first()
        before = slotcache.counts()
        booked = 0
        every = max(1, reads // max(1, bookings))
        for index in range(reads):
            monday = rng.choice(mondays)
            status, _ = _get(public, path, params(monday))
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
            if index % every == every - 1 and booked < bookings:
                booked += _book_one(rng, motif, lieu, monday, ctx, usager)
        after = slotcache.counts()
    mix = {key: int(after[key] - before[key]) for key in after}
    total = sum(mix.values())
    return {
        "cold": figures(cold),
        "warm": figures(warm),
        "selector_cold": figures(selector_cold),
        "selector_warm": figures(selector_warm),
        "selector_cache_off": figures(selector_off),
        "mix": {
            "reads": reads,
            "weeks": len(mondays),
            "bookings": booked,
            **mix,
            "hit_rate": round(mix["hit"] / total, 3) if total else None,
        },
    }


def _book_one(rng, motif, lieu, monday, ctx, usager) -> int:
    """Book one free slot of the week (the first free agent of a random free time): 1 if booked."""
    from rdv.accounts.models import Agent
    from rdv.agendas.calendar import holiday_zone
    from rdv.bookings.availability import find_slots
    from rdv.bookings.services import BookingRequest, book_rdv
    from rdv.core.errors import DomainError

    territory = motif.organisation.territory
    slots = find_slots(
        [motif],
        monday,
        monday + timedelta(days=6),
        online=True,
        lieu_ids=[lieu.pk],
        holiday_zone=holiday_zone(territory),
        tz=territory.zone,
    )[motif.pk]
    if not slots:
        return 0
    slot = rng.choice(slots)
    try:
        book_rdv(
            ctx,
            BookingRequest(
                motif=motif,
                starts_at=slot.start,
                agents=[Agent.objects.get(pk=slot.agent_ids[0])],
                usagers=[usager],
                lieu=lieu,
            ),
        )
    except DomainError:
        return 0
    return 1


def _working_half_hours(first_day: date, last_day: date):
    day = first_day
    while day <= last_day:
        if day.weekday() < 5:
            for start, end in (MORNING, AFTERNOON):
                current = datetime.combine(day, start)
                while (current + timedelta(minutes=30)).time() <= end:
                    yield current
                    current += timedelta(minutes=30)
        day += timedelta(days=1)


def build_espace(rng: random.Random, agent_count: int, rdv_count: int, usager_count: int, journal: int) -> dict:
    from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, TerritoryRole
    from rdv.agendas.models import Lieu, PlageOuverture
    from rdv.bookings.models import Participation, Rdv, RdvAgent, RdvStatus
    from rdv.core.models import AuditLog
    from rdv.motifs.models import Motif
    from rdv.territories.models import Organisation, Service, Territory, TerritoryService
    from rdv.territories.selectors import JOURNAL_ORDER
    from rdv.usagers.models import Usager, UsagerOrganisation
    from rdv.usagers.selectors import SEARCH_ORDER

    territory = Territory.objects.create(name="Espace de mesure")
    organisation = Organisation.objects.create(territory=territory, name="Organisation de mesure")
    service = Service.objects.get_or_create(name="Service social")[0]
    TerritoryService.objects.create(territory=territory, service=service)
    motifs = [
        Motif.objects.create(
            organisation=organisation, service=service, name=f"Motif {i}", default_duration_minutes=duration
        )
        for i, duration in enumerate([30, 45, 60])
    ]
    # The first motif is open online to everyone: the public week page shows its free times.
    Motif.objects.filter(pk=motifs[0].pk).update(bookable_online=True, bookable_by="everyone")
    lieux = [
        Lieu.objects.create(organisation=organisation, name=f"Lieu {i}", address=f"{i} rue de la Paix")
        for i in range(2)
    ]
    agents = Agent.objects.bulk_create(
        Agent(email=f"bench{i}@exemple.fr", first_name=rng.choice(FIRST_NAMES), last_name=f"Agent {i:04d}")
        for i in range(agent_count)
    )
    AgentRole.objects.bulk_create(
        AgentRole(agent=a, organisation=organisation, access_level=AccessLevel.BASIC) for a in agents
    )
    AgentService.objects.bulk_create(AgentService(agent=a, territory=territory, service=service) for a in agents)
    viewer = agents[0]
    TerritoryRole.objects.create(agent=viewer, territory=territory)

    today = timezone.localdate()
    first_day = (today.replace(day=1) + timedelta(days=32)).replace(day=1)  # next month: all in the future
    last_day = (first_day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    series_start = first_day - timedelta(days=first_day.weekday())
    plages = PlageOuverture.objects.bulk_create(
        PlageOuverture(
            organisation=organisation,
            agent=agent,
            lieu=lieux[index % 2],
            first_date=series_start,
            start_time=start,
            end_time=end,
            recurrence="weekly",
            recurrence_interval=1,
            recurrence_weekdays=[0, 1, 2, 3, 4],
        )
        for index, agent in enumerate(agents)
        for start, end in (MORNING, AFTERNOON)
    )
    through = PlageOuverture.motifs.through
    through.objects.bulk_create(through(plageouverture=p, motif=m) for p in plages for m in motifs)

    usagers = []
    for i in range(usager_count):
        usager = Usager(
            territory=territory,
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            birth_date=date(1940, 1, 1) + timedelta(days=rng.randrange(25_000)),
            email=f"usager{i}@exemple.fr",
            phone=f"+336{i:08d}",
            city="Valence",
        )
        usager.refresh_search_fields()
        usagers.append(usager)
    usagers = Usager.objects.bulk_create(usagers, batch_size=2000)
    UsagerOrganisation.objects.bulk_create(
        (UsagerOrganisation(usager=u, organisation=organisation) for u in usagers), batch_size=2000
    )

    # `rdv_count` distinct (agent, half-hour) pairs of the month's working days: no overlap.
    paris = timezone.get_default_timezone()
    starts = list(_working_half_hours(first_day, last_day))
    cells = rng.sample(range(len(starts) * agent_count), min(rdv_count, len(starts) * agent_count))
    statuses = [RdvStatus.UNKNOWN] * 8 + [RdvStatus.SEEN, RdvStatus.EXCUSED, RdvStatus.REVOKED, RdvStatus.NOSHOW]
    rdvs, agent_of = [], []
    for cell in sorted(cells):
        starts_at = starts[cell // agent_count].replace(tzinfo=paris).astimezone(UTC)
        status = rng.choice(statuses)
        rdvs.append(
            Rdv(
                organisation=organisation,
                motif=motifs[0],
                lieu=lieux[cell % 2],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
                status=status,
                context="Première demande, dossier en cours" if cell % 3 == 0 else "",
                cancel_reason="Empêchement" if status == RdvStatus.EXCUSED else "",
            )
        )
        agent_of.append(agents[cell % agent_count])
    rdvs = Rdv.objects.bulk_create(rdvs, batch_size=2000)
    RdvAgent.objects.bulk_create(
        (
            RdvAgent(
                rdv=rdv,
                agent=agent,
                starts_at=rdv.starts_at,
                ends_at=rdv.ends_at,
                blocks_agenda=rdv.status not in (RdvStatus.EXCUSED, RdvStatus.REVOKED),
            )
            for rdv, agent in zip(rdvs, agent_of, strict=True)
        ),
        batch_size=2000,
    )
    participations = []
    for index, rdv in enumerate(rdvs):
        chosen = rng.sample(usagers, 2 if index % 10 == 0 else 1)  # one RDV in ten with two usagers
        participations.extend(Participation(rdv=rdv, usager=usager) for usager in chosen)
    Participation.objects.bulk_create(participations, batch_size=2000)

    object_types = ["bookings.Rdv", "agendas.PlageOuverture", "motifs.Motif", "accounts.Agent", "usagers.Usager"]
    AuditLog.objects.bulk_create(
        (
            AuditLog(
                actor=agents[i % agent_count],
                actor_repr=str(agents[i % agent_count]),
                action="update",
                object_type=object_types[i % len(object_types)],
                object_id=str(i),
                object_repr=f"Objet {i}",
                changes={"duration_minutes": [30, 45]},
                territory=territory,
                organisation=organisation,
            )
            for i in range(journal)
        ),
        batch_size=2000,
    )
    # The 500th page of 50 of each list starts after its 24,950th row (keyset pages: ?apres=<id>);
    # smaller runs take their last page. One journal entry in five is an usager's: not listed.
    usager_position = min(usager_count, 500 * 50) - 50
    journal_position = min(journal * 4 // 5, 500 * 50) - 50
    usager_cursor = (
        Usager.objects.in_organisation(organisation)
        .order_by(*SEARCH_ORDER)
        .values_list("pk", flat=True)[usager_position - 1]
    )
    journal_cursor = (
        AuditLog.objects.for_territory(territory)
        .exclude(object_type="usagers.Usager")
        .order_by(*JOURNAL_ORDER)
        .values_list("pk", flat=True)[journal_position - 1]
    )
    return {
        "usager_cursor": usager_cursor,
        "journal_cursor": journal_cursor,
        "territory": territory,
        "organisation": organisation,
        "agent": viewer,
        "motif": motifs[0],
        "lieu": lieux[0],
        "agent_ids": [a.pk for a in agents],
        "first_day": first_day,
        "last_day": last_day,
        "rdv_count": len(rdvs),
    }
