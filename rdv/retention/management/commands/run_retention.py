"""Run the data retention jobs now (they also run every night: SCHEDULED_TASKS), or only count what
they would delete. Output: one JSON line per job."""

import json

from django.core.management.base import BaseCommand

from rdv.retention import services

JOBS = {
    "rdvs": services.purge_old_rdvs,
    "usagers": services.review_inactive_usagers,
    "audit": services.purge_old_audit_entries,
}


class Command(BaseCommand):
    help = "Data retention (RGPD): delete old RDVs, review inactive usagers, delete old journal entries."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be done; change nothing.")
        parser.add_argument("--only", choices=sorted(JOBS), action="append", help="Run only this job (repeatable).")
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per transaction.")

    def handle(self, *args, dry_run=False, only=None, batch_size=None, **options):
        if dry_run:
            self.stdout.write(json.dumps({"dry_run": True, **services.preview()}, sort_keys=True))
            return
        for name, job in JOBS.items():
            if only and name not in only:
                continue
            report = job(batch_size=batch_size)
            line = {
                "job": name,
                **report.counts,
                "batches": report.batches,
                "seconds": report.seconds,
                "finished": report.finished,
            }
            self.stdout.write(json.dumps(line, sort_keys=True))
