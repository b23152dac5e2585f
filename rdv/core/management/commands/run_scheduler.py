"""The scheduler: enqueues the periodic tasks of `settings.SCHEDULED_TASKS` for the workers.

    python manage.py run_scheduler

While it leads, it writes a heartbeat row every SCHEDULER_HEARTBEAT_SECONDS (/healthz reports
its age). Run one or two per deployment (a second one is a standby): only the holder of the leader lock
(`rdv.core.leader`) schedules anything, so no job ever runs twice; a standby takes over within
`SCHEDULER_LOCK_RETRY_SECONDS` when the leader stops or dies.
"""

import logging
import signal
import threading

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

from rdv.core.health import SCHEDULER, beat, process_holder
from rdv.core.leader import leader_lock

logger = logging.getLogger("rdv.scheduler")
LOCK_NAME = "rdv-scheduler"


def enqueue_task(path: str) -> None:
    close_old_connections()
    result = import_string(path).enqueue()
    logger.info("Tâche périodique %s mise en file (%s).", path, result.id)


def heartbeat(holder: str) -> None:
    """The leader's sign of life, read by /healthz and /metrics."""
    close_old_connections()
    try:
        beat(SCHEDULER, holder=holder)
    except Exception:
        logger.exception("Signe de vie du planificateur non enregistré.")


def trigger_for(job: dict):
    zone = timezone.get_default_timezone()
    if "cron" in job:
        return CronTrigger.from_crontab(job["cron"], timezone=zone)
    return IntervalTrigger(seconds=job["seconds"], timezone=zone)


class Command(BaseCommand):
    help = "Planificateur : met en file les tâches périodiques (un seul actif à la fois, verrou de leader)."

    def handle(self, *args, **options):
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        stop = threading.Event()
        scheduler = BlockingScheduler(timezone=timezone.get_default_timezone())

        def on_signal(signum, frame):
            stop.set()
            if scheduler.running:
                scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        lock = leader_lock(LOCK_NAME)
        retry = settings.SCHEDULER_LOCK_RETRY_SECONDS
        waiting_said = False
        while not stop.is_set() and not lock.acquire():
            if not waiting_said:
                self.stdout.write("Un autre planificateur est actif : celui-ci attend (relève automatique).")
                waiting_said = True
            stop.wait(retry)
        if stop.is_set():
            return
        self.lost_lock = False
        try:
            self.stdout.write("Planificateur actif (verrou de leader obtenu).")
            self.stdout.flush()
            for job in settings.SCHEDULED_TASKS:
                first_run = timezone.now() if "seconds" in job else None
                scheduler.add_job(
                    enqueue_task,
                    trigger_for(job),
                    args=[job["task"]],
                    id=job["task"],
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=3600,
                    next_run_time=first_run,
                )

            def check_lock():
                if not lock.held():
                    logger.error("Verrou de leader perdu : arrêt du planificateur.")
                    self.lost_lock = True
                    scheduler.shutdown(wait=False)

            scheduler.add_job(check_lock, IntervalTrigger(seconds=retry), id="leader-lock-check")
            scheduler.add_job(
                heartbeat,
                IntervalTrigger(seconds=settings.SCHEDULER_HEARTBEAT_SECONDS),
                args=[process_holder()],
                id="heartbeat",
                coalesce=True,
                max_instances=1,
                next_run_time=timezone.now(),
            )
            scheduler.start()
        finally:
            lock.release()
        if self.lost_lock:
            raise SystemExit(1)
