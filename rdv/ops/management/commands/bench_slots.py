"""Benchmark of the availability engine on a synthetic espace, in a throwaway database.

    python manage.py bench_slots --agents 200 --days 31 --json

Prints one JSON object with percentiles in milliseconds, query counts, slots found and the
number of mismatches between the engine and the brute-force reference of the test suite.
"""

import json
import random
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rdv.core.benchmarks import throwaway_database


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


class Command(BaseCommand):
    help = "Mesure le calcul des créneaux sur un espace synthétique (base jetable)."

    def add_arguments(self, parser):
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--days", type=int, default=31)
        parser.add_argument("--repeats", type=int, default=20)
        parser.add_argument("--booked", type=float, default=0.3, help="share of slots booked")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--reference-agents", type=int, default=20, help="agents compared with the reference")
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def handle(self, *args, **options):
        with throwaway_database():
            result = self._run(options)
        result["database"] = connection.vendor
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(json.dumps(result, indent=2))

    def _run(self, options) -> dict:
        from rdv.bookings.availability import find_slots, next_availability_by_lieu

        rng = random.Random(options["seed"])  # noqa: S311 - synthetic data, not security
        build_started = time.perf_counter()
        data = build_espace(rng, options["agents"], options["days"], options["booked"])
        build_ms = (time.perf_counter() - build_started) * 1000
        motif, first_day, last_day, now = data["motif"], data["first_day"], data["last_day"], data["now"]

        def month_view():
            return find_slots([motif], first_day, last_day, now=now, online=True)[motif.pk]

        with CaptureQueriesContext(connection) as queries:
            slots = month_view()
        queries_month_view = len(queries)
        month_times = []
        for _ in range(options["repeats"]):
            started = time.perf_counter()
            month_view()
            month_times.append((time.perf_counter() - started) * 1000)

        next_times = []
        for _ in range(options["repeats"]):
            started = time.perf_counter()
            found = next_availability_by_lieu([motif], now=now)
            next_times.append((time.perf_counter() - started) * 1000)

        search_times = []
        agent_ids = data["agent_ids"]
        for i in range(options["repeats"]):
            subset = agent_ids[i % len(agent_ids) :][:5] or agent_ids[:5]
            started = time.perf_counter()
            find_slots([motif], first_day, first_day + timedelta(days=6), now=now, agent_ids=subset)
            search_times.append((time.perf_counter() - started) * 1000)

        mismatches = compare_with_reference(motif, first_day, last_day, now, agent_ids[: options["reference_agents"]])
        return {
            "agents": options["agents"],
            "days": options["days"],
            "repeats": options["repeats"],
            "rdvs": data["rdv_count"],
            "plages": data["plage_count"],
            "build_ms": round(build_ms),
            "month_view_p50_ms": percentile(month_times, 50),
            "month_view_p95_ms": percentile(month_times, 95),
            "next_availability_p50_ms": percentile(next_times, 50),
            "next_availability_p95_ms": percentile(next_times, 95),
            "next_availability_lieux": len(found),
            "agent_search_p50_ms": percentile(search_times, 50),
            "agent_search_p95_ms": percentile(search_times, 95),
            "queries_month_view": queries_month_view,
            "slots_found": len(slots),
            "distinct_start_times": len({slot.start for slot in slots}),
            "reference_agents": min(options["reference_agents"], len(agent_ids)),
            "reference_mismatches": mismatches,
        }


def build_espace(rng: random.Random, agent_count: int, days: int, booked: float) -> dict:
    from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService
    from rdv.agendas.models import Absence, Lieu, PlageOuverture
    from rdv.bookings.models import Rdv, RdvAgent
    from rdv.motifs.models import Motif
    from rdv.territories.models import Organisation, Service, Territory, TerritoryService

    territory = Territory.objects.create(name="Espace de mesure")
    organisation = Organisation.objects.create(territory=territory, name="Organisation de mesure")
    service = Service.objects.get_or_create(name="Service social")[0]
    TerritoryService.objects.create(territory=territory, service=service)
    motifs = [
        Motif.objects.create(
            organisation=organisation,
            service=service,
            name=f"Motif {i}",
            default_duration_minutes=duration,
            bookable_online=True,
        )
        for i, duration in enumerate([30, 45, 60])
    ]
    lieux = [
        Lieu.objects.create(organisation=organisation, name=f"Lieu {i}", address=f"{i} rue de la Paix")
        for i in range(2)
    ]
    agents = Agent.objects.bulk_create(
        Agent(email=f"bench{i}@exemple.fr", first_name="Agent", last_name=f"{i:04d}") for i in range(agent_count)
    )
    AgentRole.objects.bulk_create(
        AgentRole(agent=a, organisation=organisation, access_level=AccessLevel.BASIC) for a in agents
    )
    AgentService.objects.bulk_create(AgentService(agent=a, territory=territory, service=service) for a in agents)

    today = timezone.localdate()
    # The month after the current one, so that "now" is before every slot but delays still apply.
    first_day = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last_day = first_day + timedelta(days=days - 1)
    series_start = first_day - timedelta(days=first_day.weekday())
    plages = []
    for index, agent in enumerate(agents):
        lieu = lieux[index % 2]
        for start, end in ((dtime(9), dtime(12)), (dtime(13, 30), dtime(17))):
            plages.append(
                PlageOuverture(
                    organisation=organisation,
                    agent=agent,
                    lieu=lieu,
                    first_date=series_start,
                    start_time=start,
                    end_time=end,
                    recurrence="weekly",
                    recurrence_interval=1,
                    recurrence_weekdays=[0, 1, 2, 3, 4],
                )
            )
    plages = PlageOuverture.objects.bulk_create(plages)
    through = PlageOuverture.motifs.through
    through.objects.bulk_create(through(plageouverture=p, motif=m) for p in plages for m in motifs)

    # ~`booked` of the half-hour slots of each working day get a RDV.
    rdvs, links = [], []
    paris = timezone.get_default_timezone()
    day = first_day
    while day <= last_day:
        if day.weekday() < 5:
            for agent in agents:
                for start_local in _half_hours(day):
                    if rng.random() < booked:
                        starts_at = datetime.combine(day, start_local, tzinfo=paris).astimezone(UTC)
                        rdv = Rdv(
                            organisation=organisation,
                            motif=motifs[0],
                            lieu=lieux[0],
                            starts_at=starts_at,
                            ends_at=starts_at + timedelta(minutes=30),
                        )
                        rdvs.append(rdv)
                        links.append((rdv, agent))
        day += timedelta(days=1)
    Rdv.objects.bulk_create(rdvs, batch_size=2000)
    RdvAgent.objects.bulk_create(
        (RdvAgent(rdv=rdv, agent=agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at) for rdv, agent in links),
        batch_size=2000,
    )
    absences = []
    for agent in rng.sample(agents, max(1, agent_count // 10)):
        start = first_day + timedelta(days=rng.randrange(days - 3))
        absences.append(
            Absence(
                organisation=organisation,
                agent=agent,
                title="Congés",
                first_date=start,
                start_time=dtime(8),
                end_date=start + timedelta(days=2),
                end_time=dtime(18),
            )
        )
    Absence.objects.bulk_create(absences)
    now = datetime.combine(first_day - timedelta(days=1), dtime(10), tzinfo=paris).astimezone(UTC)
    return {
        "motif": motifs[0],
        "first_day": first_day,
        "last_day": last_day,
        "now": now,
        "agent_ids": [a.pk for a in agents],
        "rdv_count": len(rdvs),
        "plage_count": len(plages),
    }


def _half_hours(day):
    for start, end in ((dtime(9), dtime(12)), (dtime(13, 30), dtime(17))):
        current = datetime.combine(day, start)
        while (current + timedelta(minutes=30)).time() <= end:
            yield current.time()
            current += timedelta(minutes=30)


def compare_with_reference(motif, first_day, last_day, now, agent_ids) -> int:
    """Engine vs the brute-force reference (rdv.availability.reference, minute by minute) on the
    same loaded data, for a subset of agents: the number of differing slots."""
    from rdv.availability import reference
    from rdv.bookings.availability import find_slots, load_inputs

    inputs = load_inputs([motif], first_day, last_day, now=now, agent_ids=agent_ids, online=True)
    engine = find_slots([motif], first_day, last_day, now=now, agent_ids=agent_ids, online=True)[motif.pk]

    def instant(value: int) -> datetime:
        return datetime.fromtimestamp(value, UTC)

    earliest, latest = inputs.windows[motif.pk]
    expected = reference.reference_slots(
        [(agent, lieu, instant(s), instant(e)) for agent, lieu, s, e in inputs.openings[motif.pk]],
        {agent: [(instant(s), instant(e)) for s, e in busy] for agent, busy in inputs.busy.items()},
        inputs.rules[motif.pk].duration,
        instant(earliest),
        instant(latest),
    )
    got = {(s.start, s.lieu_id): (s.end, s.agent_ids) for s in engine}
    keys = set(got) | set(expected)
    return sum(1 for key in keys if got.get(key) != expected.get(key))
