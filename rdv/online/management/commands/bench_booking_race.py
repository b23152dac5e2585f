"""The booking race: N visitors confirm the same free slot at the same instant, through the real
code path of the online booking (rdv.online.services), in a throwaway database.

    python manage.py bench_booking_race --parallel 50 --json

Two rounds on one espace with one online motif and exactly one free slot:
1. N visitors hold the slot at once (`hold_slot`): exactly one hold;
2. the hold released, N visitors who each completed their details and received a code (as if their
   holds had expired) confirm at once (`confirm_booking` with their code: code check, fairness
   limits, usager file, `book_rdv` and its re-check, the database's no-double-booking guarantee).

Prints {"attempts": N, "succeeded": 1, "slot_taken": N - 1, "errors": 0, "rdv_rows_for_slot": 1,
"seconds": …, …} and exits non-zero unless exactly one booking succeeded and nothing crashed.
PostgreSQL is the real test (row locks, exclusion constraint); on SQLite (serialised writers) it
runs with at most 8 threads.
"""

import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dtime

from django.core.management.base import BaseCommand
from django.db import connection, connections
from django.utils import timezone

from rdv.core.benchmarks import throwaway_database

SQLITE_MAX_THREADS = 8
CODE = "424242"


class Command(BaseCommand):
    help = "Course à la réservation : N réservations simultanées d'un même créneau (base jetable)."

    def add_arguments(self, parser):
        parser.add_argument("--parallel", type=int, default=50, help="visitors booking at once")
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def handle(self, *args, **options):
        parallel = max(2, options["parallel"])
        if connection.vendor == "sqlite":
            parallel = min(parallel, SQLITE_MAX_THREADS)
            name = os.path.join(tempfile.gettempdir(), f"rdv-bench-race-{os.getpid()}.sqlite3")
        else:
            name = f"test_bench_booking_race_{os.getpid()}"
        # Never the test database of a running test suite: a name of its own.
        connection.settings_dict.setdefault("TEST", {})["NAME"] = name
        with throwaway_database():
            result = run_race(parallel)
        result["database"] = connection.vendor
        self.stdout.write(json.dumps(result) if options["json"] else json.dumps(result, indent=2))
        if (
            result["succeeded"] != 1
            or result["errors"] > 0
            or result["rdv_rows_for_slot"] != 1
            or result["hold_rows"] != 1
        ):
            sys.exit(1)


def _in_threads(count: int, work) -> tuple[list, float]:
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(index):
        from rdv.core.errors import DomainError

        try:
            barrier.wait(timeout=60)
            work(index)
            outcomes[index] = "ok"
        except DomainError as error:
            outcomes[index] = error.code
        except Exception as error:
            outcomes[index] = f"crash: {error!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes, time.perf_counter() - started


def build() -> dict:
    from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService
    from rdv.agendas.models import Lieu, PlageOuverture
    from rdv.motifs.models import BookableBy, Motif
    from rdv.territories.models import Organisation, Service, Territory, TerritoryService

    territory = Territory.objects.create(name="Espace de la course", online_max_upcoming_per_contact=5)
    organisation = Organisation.objects.create(territory=territory, name="Organisation de la course")
    service = Service.objects.get_or_create(name="Service social")[0]
    TerritoryService.objects.create(territory=territory, service=service)
    agent = Agent.objects.create(email="course@exemple.fr", first_name="Agent", last_name="Course")
    AgentRole.objects.create(agent=agent, organisation=organisation, access_level=AccessLevel.BASIC)
    AgentService.objects.create(agent=agent, territory=territory, service=service)
    motif = Motif.objects.create(
        organisation=organisation,
        service=service,
        name="Accueil",
        default_duration_minutes=30,
        bookable_online=True,
        bookable_by=BookableBy.EVERYONE,
    )
    lieu = Lieu.objects.create(organisation=organisation, name="Accueil", address="1 rue de la Course")
    tz = territory.zone
    day = timezone.localdate(timezone=tz) + timedelta(days=3)
    plage = PlageOuverture.objects.create(  # one 30-minute plage: one free slot
        organisation=organisation, agent=agent, lieu=lieu, first_date=day, start_time=dtime(10), end_time=dtime(10, 30)
    )
    plage.motifs.add(motif)
    start = datetime.combine(day, dtime(10), tzinfo=tz)
    return {"organisation": organisation, "motif": motif, "lieu": lieu, "agent": agent, "start": start}


def run_race(parallel: int) -> dict:
    from rdv.bookings.models import CANCELLED_STATUSES, Rdv, SlotHold
    from rdv.core.context import Context
    from rdv.online import services
    from rdv.online.models import BookingStatus, OnlineBooking

    data = build()
    organisation, motif, lieu, start = data["organisation"], data["motif"], data["lieu"], data["start"]
    ctx = Context.public(organisation)

    # Round 1: N visitors hold the slot at once.
    hold_outcomes, hold_seconds = _in_threads(
        parallel,
        lambda i: services.hold_slot(ctx, motif=motif, lieu=lieu, starts_at=start, holder_key=f"visiteur-{i}"),
    )
    holds = SlotHold.objects.count()
    SlotHold.objects.all().delete()
    OnlineBooking.objects.all().delete()

    # Round 2: N visitors with a valid code confirm at once (their holds expired).
    now = timezone.now()
    bookings = []
    for i in range(parallel):
        booking = OnlineBooking.objects.create(
            holder_key=f"visiteur-{i}",
            status=BookingStatus.CODE_SENT,
            organisation=organisation,
            motif=motif,
            lieu=lieu,
            agent=data["agent"],
            starts_at=start,
            ends_at=start + timedelta(minutes=motif.default_duration_minutes),
            hold_expires_at=now,
            details={
                "person": {
                    "first_name": "Visiteur",
                    "last_name": f"Numéro {i}",
                    "email": f"visiteur{i}@exemple.fr",
                    "phone": "",
                    "birth_date": None,
                },
                "custom": {},
            },
            contact_email=f"visiteur{i}@exemple.fr",
            code_expires_at=now + services.CODE_VALIDITY,
        )
        booking.code_hash = services._code_hash(booking, CODE)
        booking.save(update_fields=["code_hash"])
        bookings.append(booking)

    outcomes, seconds = _in_threads(
        parallel,
        lambda i: services.confirm_booking(bookings[i], CODE, holder_key=f"visiteur-{i}", ip=f"198.51.100.{i % 250}"),
    )
    rows = Rdv.objects.filter(motif=motif, starts_at=start).exclude(status__in=CANCELLED_STATUSES).count()
    errors = [o for o in outcomes + hold_outcomes if o not in ("ok", "slot_taken")]
    return {
        "attempts": parallel,
        "succeeded": outcomes.count("ok"),
        "slot_taken": outcomes.count("slot_taken"),
        "errors": len(errors),
        "rdv_rows_for_slot": rows,
        "seconds": round(seconds, 3),
        "hold_attempts": parallel,
        "holds_succeeded": hold_outcomes.count("ok"),
        "hold_rows": holds,
        "hold_seconds": round(hold_seconds, 3),
        "error_samples": sorted(set(errors))[:5],
    }
