import random

from rdv.ops.management.commands import bench_feed


def test_the_feed_benchmark_measures_the_computation_and_the_feed_cold_and_warm(db):
    data = bench_feed.build_feed_espace(random.Random(1), agents=4, rdvs=10, usagers=120)
    figures = bench_feed.measure_feed(data["territory"], repeats=2)
    assert figures["rows"] == 6  # three motifs open online × two lieux
    assert figures["rows_with_a_slot"] == 6
    assert figures["compute_rows"]["queries"] > 0
    # rate limit, snapshot, claim, the rows' queries, the new rows
    assert figures["json_cold"]["queries"] == figures["compute_rows"]["queries"] + 4
    assert figures["json_warm"]["queries"] == 2  # rate limit, snapshot
    assert figures["csv_warm"]["queries"] == 2 and figures["csv_warm"]["bytes"] > 0
    for name in ("compute_rows", "json_cold", "json_warm", "csv_warm"):
        assert 0 < figures[name]["p50_ms"] <= figures[name]["p95_ms"], name
