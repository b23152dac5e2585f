"""Benchmark of webhook deliveries with real processes, in a throwaway database.

    python manage.py bench_webhooks --events 1000 --workers 4 --json

Starts a local HTTP receiver on 127.0.0.1 that refuses every request (503) for `--refuse-seconds`
from the first request on, then accepts (and checks both signatures); starts `--workers` `db_worker`
processes; makes the changes through the service functions (lieux created then renamed, four
events per lieu, batches of 25 changes per transaction), so each event goes through the audit
log, the webhook listener and the outbox as in production; waits until none is left to send.
Prints one JSON object: events, delivered (distinct webhook-ids accepted), lost (written but never
accepted: must be 0), duplicates (accepted more than once, by webhook-id), out_of_order (an event
of a lieu accepted before an earlier event of the same lieu: must be 0), bad_signatures,
max_delay_s (from writing to the first acceptance), throughput_per_s and the settings used.
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from rdv.core.benchmarks import throwaway_database_for_workers

EVENTS_PER_RECORD = 4  # created, then three renames
BATCH = 25
SECRET = "cle-secrete-du-banc-d-essai-webhooks"


class Command(BaseCommand):
    help = "Mesure l'envoi des webhooks (récepteur HTTP local, vrais workers, base jetable)."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1000)
        parser.add_argument("--workers", type=int, default=4)
        parser.add_argument("--refuse-seconds", type=float, default=3.0, help="503 for every request at first")
        parser.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def handle(self, *args, **options):
        if options["events"] < EVENTS_PER_RECORD or options["workers"] < 1:
            raise CommandError(f"--events doit être au moins {EVENTS_PER_RECORD} et --workers au moins 1.")
        with throwaway_database_for_workers("webhooks"):
            result = self._run(options)
        result["database"] = connection.vendor
        self.stdout.write(json.dumps(result) if options["json"] else json.dumps(result, indent=2))

    def _run(self, options) -> dict:
        from rdv.agendas.services import create_lieu, update_lieu
        from rdv.core.context import Context
        from rdv.outbox.harness import child_environment, start_worker, wait_until
        from rdv.outbox.models import Channel, Delivery, Status
        from rdv.territories.models import Organisation, Territory
        from rdv.webhooks.models import WebhookEvent
        from rdv.webhooks.receiver import LocalReceiver
        from rdv.webhooks.services import create_endpoint

        retry = {
            "WEBHOOK_RETRY_BASE_SECONDS": 0.5,
            "WEBHOOK_RETRY_FACTOR": 2,
            "WEBHOOK_RETRY_MAX_SECONDS": 2,
            "OUTBOX_LEASE_SECONDS": 30,
            "WEBHOOK_ALLOW_LOOPBACK": 1,
        }
        records = options["events"] // EVENTS_PER_RECORD
        territory = Territory.objects.create(name="Banc d'essai webhooks")
        organisation = Organisation.objects.create(territory=territory, name="Organisation du banc")
        ctx = Context.system(territory, organisation)
        with LocalReceiver(secret=SECRET, refuse_seconds=options["refuse_seconds"]) as receiver:
            create_endpoint(
                ctx, organisation=organisation, target_url=receiver.url, secret=SECRET, subscriptions=["lieu"]
            )
            env = child_environment(**retry)
            workers = [start_worker(env, f"bench-webhook-worker-{n}") for n in range(options["workers"])]
            try:
                started = time.time()
                lieux = []
                for first in range(0, records, BATCH):
                    with transaction.atomic():
                        for n in range(first, min(first + BATCH, records)):
                            data = {"name": f"Lieu {n} v0", "address": f"{n} rue du Banc 26000 Valence"}
                            lieux.append(create_lieu(ctx, data))
                for version in range(1, EVENTS_PER_RECORD):
                    for first in range(0, records, BATCH):
                        with transaction.atomic():
                            for lieu in lieux[first : first + BATCH]:
                                n = int(lieu.name.split()[1])
                                update_lieu(ctx, lieu, {"name": f"Lieu {n} v{version}", "address": lieu.address})
                                lieu.name = f"Lieu {n} v{version}"
                webhook_rows = Delivery.objects.filter(channel=Channel.WEBHOOK)
                pending = webhook_rows.exclude(status__in=(Status.SENT, Status.ABANDONED, Status.CANCELLED))
                wait_until(
                    lambda: not pending.exists(), timeout=options["timeout"], interval=0.2, message="every event sent"
                )
            finally:
                for worker in workers:
                    worker.stop()
            accepted = receiver.accepted()
            refused = receiver.refused
            bad_signatures = receiver.bad_signatures
        written = {
            str(message_id): created_at.timestamp()
            for message_id, created_at in WebhookEvent.objects.values_list("delivery__message_id", "created_at")
        }
        first_acceptance: dict[str, float] = {}
        versions_seen: dict[int, int] = {}
        out_of_order = 0
        for request in accepted:
            if request.webhook_id in first_acceptance:
                continue
            first_acceptance[request.webhook_id] = request.at
            record_id, version = request.record_id, request.version
            if version < versions_seen.get(record_id, -1):
                out_of_order += 1
            versions_seen[record_id] = max(version, versions_seen.get(record_id, -1))
        delays = [first_acceptance[i] - at for i, at in written.items() if i in first_acceptance]
        last = max((r.at for r in accepted), default=started)
        return {
            "events": len(written),
            "delivered": sum(1 for i in written if i in first_acceptance),
            "lost": sum(1 for i in written if i not in first_acceptance),
            "duplicates": len(accepted) - len(first_acceptance),
            "out_of_order": out_of_order,
            "bad_signatures": bad_signatures,
            "abandoned": Delivery.objects.filter(channel=Channel.WEBHOOK, status=Status.ABANDONED).count(),
            "refusals_503": refused,
            "max_delay_s": round(max(delays, default=0.0), 2),
            "throughput_per_s": round(len(written) / max(last - started, 1e-6), 1),
            "workers": options["workers"],
            "refuse_seconds": options["refuse_seconds"],
            "retry": retry,
            "finished_at": timezone.now().isoformat(),
        }
