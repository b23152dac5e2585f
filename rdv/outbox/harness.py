"""Real parts for the outbox benchmark and the real-process tests: a local SMTP server on
127.0.0.1 that can refuse, stall or accept, counting what it accepted by Message-ID, and worker
and scheduler processes started against a given database.

aiosmtpd (a development dependency) is imported only when a server is started.
"""

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalSMTPServer:
    """An SMTP server on 127.0.0.1 for tests and benchmarks.

    - `refuse_seconds`: every message gets `451` (temporary) for that long after `start()`;
    - `refuse_first`: the first N messages get `451` whenever they come (deterministic on a loaded
      machine, where a worker may start after `refuse_seconds` are over);
    - `refuse_recipients`: these addresses get `550` (permanent) at RCPT;
    - `stall_first`: the first message's DATA is never answered (until `stop()`), as a server
      that hangs; `stalled` is set once a client waits on it.
    Accepted messages are counted by Message-ID, with the time they arrived.
    """

    def __init__(
        self, refuse_seconds: float = 0, refuse_recipients=(), stall_first: bool = False, refuse_first: int = 0
    ):
        self.refuse_seconds = refuse_seconds
        self.refuse_first = refuse_first
        self.refuse_recipients = {address.lower() for address in refuse_recipients}
        self.stall_first = stall_first
        self.stalled = threading.Event()
        self.port = free_port()
        self.received: list[tuple[str, float]] = []  # (Message-ID, time.time())
        self.refused = 0
        self._lock = threading.Lock()
        self._controller = None
        self._refuse_until = 0.0
        self._release = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse_recipients:
            with self._lock:
                self.refused += 1
            return "550 5.1.1 Adresse inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stall_first and not self.stalled.is_set():
            self.stalled.set()
            await self._release.wait()
            return "421 4.3.0 Arrêt du serveur"
        if time.time() < self._refuse_until or self.refused < self.refuse_first:
            with self._lock:
                self.refused += 1
            return "451 4.3.0 Service temporairement indisponible"
        message_id = message_from_bytes(envelope.content).get("Message-ID", "")
        with self._lock:
            self.received.append((message_id, time.time()))
        return "250 OK"

    def start(self) -> "LocalSMTPServer":
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        self._release = asyncio.Event()
        self._refuse_until = time.time() + self.refuse_seconds
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.loop.call_soon_threadsafe(self._release.set)
            self._controller.stop()
            self._controller = None

    def counts(self) -> Counter:
        with self._lock:
            return Counter(message_id for message_id, _ in self.received)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def database_url() -> str:
    """The URL of the database this process uses (a test database included), for child processes."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    if connection.vendor == "postgresql":
        user = params.get("USER") or "postgres"
        password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
        host = params.get("HOST") or "127.0.0.1"
        port = params.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"
    raise NotImplementedError(connection.vendor)


def child_environment(smtp_port: int | None = None, **overrides) -> dict[str, str]:
    """Environment of a worker or scheduler process: this database, the real task queue and SMTP
    towards `smtp_port`. The test settings record tasks without running them, so children of a
    test process use the development settings."""
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if module.endswith(".test"):
        module = "config.settings.dev"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        # A worker closes its connection after each task unless connections persist (README).
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE") or "600",
    }
    if smtp_port is not None:
        env.update(
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port),
                "EMAIL_USE_TLS": "",
            }
        )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class Process:
    """A `manage.py` child process with its output in a file (read it when a test fails)."""

    def __init__(self, args: list[str], env: dict[str, str], name: str):
        self.name = name
        self.log = Path(tempfile.mkstemp(prefix=f"rdv-{name}-", suffix=".log")[1])
        with open(self.log, "wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
                [sys.executable, str(BASE_DIR / "manage.py"), *args],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash or an OOM kill."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.unlink(missing_ok=True)


def start_worker(env: dict[str, str], name: str = "worker") -> Process:
    return Process(
        ["db_worker", "--queue-name", "*", "--interval", "0.1", "--no-startup-delay", "--no-reload"], env, name
    )


def start_scheduler(env: dict[str, str], name: str = "scheduler") -> Process:
    return Process(["run_scheduler"], env, name)


def wait_until(predicate, timeout: float, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns a true value (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout} s waiting for {message}")
        time.sleep(interval)
