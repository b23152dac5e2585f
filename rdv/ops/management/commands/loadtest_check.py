"""After a load test or a fault drill (scripts/loadtest, scripts/fault-drill): the database's side of
the figures, as JSON: double bookings, overbooked collective RDVs, bookings the clients saw confirmed
but missing, deliveries created since the start and not sent.

    python manage.py loadtest_check --since 2026-11-27T00:10:00+00:00 --bookings results.json
    python manage.py loadtest_check --since … --due      # deliveries still to send (drain loop)
"""

import json
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rdv.ops import loadtest


class Command(BaseCommand):
    help = "Vérifie la base après un test de charge : doubles réservations, réservations et envois perdus."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="ISO 8601 instant the run started")
        parser.add_argument("--bookings", help="JSON written by the locust clients (confirmed booking ids)")
        parser.add_argument("--due", action="store_true", help="only print the number of deliveries not finished")

    def handle(self, *args, since, bookings=None, due=False, **options):
        try:
            start = datetime.fromisoformat(since)
        except ValueError as error:
            raise CommandError(f"--since : instant ISO 8601 invalide ({since}).") from error
        deliveries = loadtest.delivery_summary(start)
        if due:
            by_status = deliveries["by_status"]
            self.stdout.write(str(sum(by_status.get(s, 0) for s in ("pending", "sending", "failing"))))
            return
        seen = json.loads(Path(bookings).read_text()).get("confirmed", []) if bookings else []
        self.stdout.write(
            json.dumps(
                {
                    "double_bookings": loadtest.double_bookings(),
                    "overbooked_rdvs": loadtest.overbooked_rdvs(),
                    "bookings": loadtest.lost_bookings(seen),
                    "online_rdvs_created": loadtest.online_bookings_since(start),
                    "deliveries": deliveries,
                }
            )
        )
