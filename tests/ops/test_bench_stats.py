"""The statistics benchmark (make bench-stats) fills its espace in SQL and measures both dashboards
on it: the RDVs inserted are whole (each in its motif's organisation, valid statuses and channels,
created before or when they start) and every dashboard is measured with its query counts (the
timings themselves are not asserted). PostgreSQL only (generate_series)."""

from django.db.models import F

from rdv.bookings.models import CreatedBy, Rdv, RdvStatus
from rdv.ops.management.commands import bench_stats


def test_the_statistics_benchmark_fills_its_espace_and_measures_both_dashboards(db, postgres_only):
    data = bench_stats.build(3_000)

    assert Rdv.objects.count() == 3_000
    assert not Rdv.objects.exclude(organisation_id=F("motif__organisation_id")).exists()
    assert set(Rdv.objects.values_list("status", flat=True).distinct()) <= set(RdvStatus.values)
    assert set(Rdv.objects.values_list("created_by", flat=True).distinct()) == set(CreatedBy.values)
    assert not Rdv.objects.filter(created_at__gt=F("starts_at")).exists()

    for name, ctx, url, first, last in bench_stats.scenarios(data):
        figures, slowest = bench_stats.measure(ctx, url, first, last, data["agent"], repeats=1)
        espace = name.startswith("espace")
        assert figures["dashboard_queries"] == (4 if espace else 3), name
        assert figures["page_queries"] == (13 if espace else 11), name
        assert figures["rdvs_counted"] > 0, name
        assert set(figures["queries_p50_ms"]) == set(bench_stats.QUERY_NAMES[: 4 if espace else 3])
        assert slowest[2].startswith("SELECT")
