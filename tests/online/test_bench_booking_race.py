"""The booking race benchmark (`manage.py bench_booking_race`) on PostgreSQL: concurrent visitors of
one free slot, through the real online booking code, give exactly one RDV."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_fifty_concurrent_public_bookings_of_one_slot_give_one_rdv(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/postgres"
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_booking_race", "--parallel", "50", "--json"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["database"] == "postgresql"
    assert (report["attempts"], report["succeeded"], report["errors"], report["rdv_rows_for_slot"]) == (50, 1, 0, 1)
    assert report["slot_taken"] == 49
    assert report["holds_succeeded"] == 1 and report["hold_rows"] == 1
