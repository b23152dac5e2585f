"""The pages benchmark (make bench) builds its espace and measures every page on it: each answers 200
with the data it was built for (the timings themselves are not asserted)."""

import csv
import io
import random

from django.test import Client

from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.core.models import AuditLog
from rdv.ops.management.commands import bench_pages
from rdv.usagers.models import Usager


def test_the_pages_benchmark_builds_its_espace_and_measures_every_page(db):
    data = bench_pages.build_espace(random.Random(1), agent_count=6, rdv_count=40, usager_count=120, journal=100)
    assert Rdv.objects.count() == RdvAgent.objects.count() == data["rdv_count"] == 40
    assert Participation.objects.count() == 44  # one RDV in ten with two usagers
    assert Usager.objects.count() == 120 and AuditLog.objects.count() == 100

    figures = bench_pages.measure_pages(data, repeats=1)

    assert set(figures) == set(bench_pages.pages(data))
    for name, figure in figures.items():
        assert figure["queries"] > 0 and figure["bytes"] > 0, name
        assert 0 < figure["p50_ms"] <= figure["p95_ms"], name
    client = Client(HTTP_HOST="localhost")
    client.force_login(data["agent"])
    path, params = bench_pages.pages(data)["rdv_csv_month"]
    body = b"".join(client.get(path, params).streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(body[1:]), delimiter=";"))) == 41  # header + every RDV of the month
    path, params = bench_pages.pages(data)["usager_list_page_500"]
    deep = client.get(path, params)
    assert len(deep.context["page"]) == 50  # the last page of 50 of the 120 files


def test_the_pages_benchmark_measures_the_public_week_of_an_online_motif(db):
    data = bench_pages.build_espace(random.Random(1), agent_count=4, rdv_count=10, usager_count=120, journal=100)
    path, params = bench_pages.pages(data)["public_week"]
    response = Client(HTTP_HOST="localhost").get(path, params)  # no account
    assert response.status_code == 200
    assert response.content.decode().count('name="debut"') > 0  # free times of the week


def test_the_pages_benchmark_measures_the_slot_cache_of_the_public_week(db):
    data = bench_pages.build_espace(random.Random(1), agent_count=4, rdv_count=10, usager_count=120, journal=100)
    figures = bench_pages.measure_slot_cache(data, repeats=2, rng=random.Random(1), reads=20, bookings=4)
    assert figures["cold"]["queries"] > figures["warm"]["queries"] > 0
    assert figures["selector_warm"]["queries"] == 1 < figures["selector_cold"]["queries"]
    mix = figures["mix"]
    assert mix["hit"] + mix["partial"] + mix["miss"] == 20 and mix["bookings"] == 4 and 0 < mix["hit_rate"] < 1
    assert mix["partial"] > 0  # bookings recompute their agents only
