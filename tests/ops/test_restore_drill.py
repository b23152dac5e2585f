"""The backup and restore drill (scripts/restore-drill) on the test database: dump, restore into a
fresh database, same row count in every table."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from tests import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_with_the_same_counts(postgres_only):
    factories.UsagerFactory.create_batch(3)
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    result = subprocess.run(
        ["scripts/restore-drill"], cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["ok"] is True
    assert figures["tables"] > 40 and figures["rows"] >= 3
