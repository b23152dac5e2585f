"""The webhook benchmark (`manage.py bench_webhooks`) with real worker processes and a receiver that
refuses everything at first: every event delivered once, in order per record, signatures valid."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_a_receiver_down_then_up_gets_every_event_once_in_order(db, tmp_path):
    if connection.vendor == "postgresql":
        database = settings.DATABASES["default"]
        url = f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/postgres"
    else:
        url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_webhooks", "--events", "120", "--workers", "2", "--json"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["database"] == connection.vendor
    assert (report["events"], report["delivered"], report["lost"]) == (120, 120, 0)
    assert (report["duplicates"], report["out_of_order"], report["bad_signatures"]) == (0, 0, 0)
    assert report["refusals_503"] > 0  # the outage happened while events flowed
