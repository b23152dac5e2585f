"""Benchmark of the delivery outbox with real processes, in a throwaway database.

    python manage.py bench_outbox --messages 1000 --workers 4 --json

Starts a local SMTP server on 127.0.0.1 that refuses every message (451) for the first
`--refuse-seconds`, then accepts; starts `--workers` `db_worker` processes; writes the messages
through `enqueue_email` (batches of 50 per transaction); waits until none is left to send. Prints
one JSON object: messages, sent, lost (written but never accepted by the server: must be 0),
duplicates (accepted more than once, counted by Message-ID), abandoned, max_delay_s (from
writing to acceptance), throughput_per_s (messages / seconds from the first write to the last
acceptance) and the settings used. Needs aiosmtpd (requirements-dev.txt).
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from rdv.core.benchmarks import throwaway_database_for_workers

BATCH = 50


class Command(BaseCommand):
    help = "Mesure l'envoi de messages par la file d'envoi (serveur SMTP local, vrais workers, base jetable)."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=1000)
        parser.add_argument("--workers", type=int, default=4)
        parser.add_argument("--refuse-seconds", type=float, default=3.0, help="451 for every message at first")
        parser.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def handle(self, *args, **options):
        if options["messages"] < 1 or options["workers"] < 1:
            raise CommandError("--messages et --workers doivent être au moins 1.")
        with throwaway_database_for_workers("outbox"):
            result = self._run(options)
        result["database"] = connection.vendor
        self.stdout.write(json.dumps(result) if options["json"] else json.dumps(result, indent=2))

    def _run(self, options) -> dict:
        from rdv.outbox.harness import LocalSMTPServer, child_environment, start_worker, wait_until
        from rdv.outbox.models import Delivery, Status
        from rdv.outbox.services import enqueue_email

        retry = {
            "OUTBOX_RETRY_BASE_SECONDS": 0.5,
            "OUTBOX_RETRY_FACTOR": 2,
            "OUTBOX_RETRY_MAX_SECONDS": 2,
            "OUTBOX_LEASE_SECONDS": 30,
        }
        count = options["messages"]
        with LocalSMTPServer(refuse_seconds=options["refuse_seconds"]) as server:
            env = child_environment(server.port, **retry)
            workers = [start_worker(env, f"bench-worker-{n}") for n in range(options["workers"])]
            try:
                written_at: dict[str, float] = {}
                started = time.time()
                for first in range(0, count, BATCH):
                    with transaction.atomic():
                        for n in range(first, min(first + BATCH, count)):
                            delivery = enqueue_email(
                                to=f"usager-{n}@exemple.fr", subject=f"Message {n}", text="Bonjour.\n"
                            )
                            written_at[f"<{delivery.message_id}@"] = time.time()
                    # Each batch is visible to the workers as soon as it commits.
                pending = Delivery.objects.exclude(status__in=(Status.SENT, Status.ABANDONED))
                wait_until(
                    lambda: not pending.exists(),
                    timeout=options["timeout"],
                    interval=0.2,
                    message="every message sent",
                )
            finally:
                for worker in workers:
                    worker.stop()
            received = list(server.received)
            refused = server.refused
        ids = server.counts()
        by_prefix = {message_id.split("@", 1)[0] + "@": message_id for message_id in ids}
        delays = []
        for prefix, at in written_at.items():
            message_id = by_prefix.get(prefix)
            if message_id is not None:
                first_accepted = min(t for m, t in received if m == message_id)
                delays.append(first_accepted - at)
        last = max((t for _, t in received), default=started)
        return {
            "messages": count,
            "sent": Delivery.objects.filter(status=Status.SENT).count(),
            "lost": count - sum(1 for prefix in written_at if prefix in by_prefix),
            "duplicates": sum(n - 1 for n in ids.values()),
            "abandoned": Delivery.objects.filter(status=Status.ABANDONED).count(),
            "refusals_451": refused,
            "max_delay_s": round(max(delays, default=0.0), 2),
            "throughput_per_s": round(count / max(last - started, 1e-6), 1),
            "workers": options["workers"],
            "refuse_seconds": options["refuse_seconds"],
            "retry": retry,
            "finished_at": timezone.now().isoformat(),
        }
