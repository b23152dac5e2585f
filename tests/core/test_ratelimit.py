import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from config.settings.base import prepare_statements
from rdv.core.models import RateCounter
from rdv.core.ratelimit import hit, peek, purge_rate_counters

T0 = datetime(2026, 3, 9, 10, 0, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_hits_are_allowed_up_to_the_limit_then_refused_until_the_window_ends():
    decisions = [hit("k", limit=3, period=60, now=T0) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1]
    assert refused.retry_after == 30  # the window of 10:00:00 ends at 10:01:00
    assert refused.headers() == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "30",
        "Retry-After": "30",
    }
    assert "Retry-After" not in decisions[0].headers()
    assert hit("k", limit=3, period=60, now=T0 + timedelta(seconds=30)).allowed  # next window
    assert hit("other", limit=3, period=60, now=T0).allowed  # keys are apart


@pytest.mark.django_db
def test_peek_does_not_count_and_purge_deletes_old_windows():
    hit("k", limit=1, period=60, now=T0)
    assert not peek("k", limit=1, period=60, now=T0).allowed
    assert peek("k", limit=2, period=60, now=T0).allowed
    assert RateCounter.objects.get().count == 1
    hit("old", limit=1, period=60, now=datetime(2020, 1, 1, tzinfo=UTC))
    assert purge_rate_counters() == 2  # both windows started more than two days ago
    assert not RateCounter.objects.exists()


@pytest.mark.django_db
def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        hit("k", limit=1, period=0)
    with pytest.raises(ValueError):
        hit("k", limit=-1, period=10)


@pytest.mark.django_db
def test_limits_periods_keys_and_retry_after_at_their_bounds():
    nothing = hit("zero", limit=0, period=1, now=T0)  # a limit of 0 refuses everything, and is allowed
    assert (nothing.allowed, nothing.remaining) == (False, 0)
    for limit, period in ((-1, 60), (1, 0), (1, -1)):
        with pytest.raises(ValueError):
            hit("bad", limit=limit, period=period, now=T0)
    hit("k" * 250, limit=5, period=60, now=T0)  # keys are cut at the column's 200 characters
    assert RateCounter.objects.get(key__startswith="kkk").key == "k" * 200
    last_moment = T0.replace(second=59, microsecond=500_000)  # half a second before the window ends
    assert hit("late", limit=5, period=60, now=last_moment).retry_after == 1


@pytest.mark.django_db(transaction=True)
def test_a_hit_of_its_own_is_counted_on_every_database():
    """Outside any transaction (the pages' limits): PostgreSQL gets the one string with SET LOCAL,
    SQLite its plain upsert."""
    assert [hit("own", limit=2, period=60, now=T0).allowed for _ in range(3)] == [True, True, False]
    assert RateCounter.objects.get(key="own").count == 3


@pytest.mark.django_db(transaction=True)
def test_a_hit_of_its_own_commits_without_waiting_for_the_disk_and_one_in_a_transaction_rolls_back_with_it():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: synchronous_commit")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit')")
        (usual,) = cursor.fetchone()
    assert usual != "off"
    with CaptureQueriesContext(connection) as queries:
        assert [hit("page", limit=5, period=60, now=T0).remaining for _ in range(2)] == [4, 3]
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2
    assert all(
        sql.startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO core_ratecounter") for sql in statements
    )
    # SET LOCAL holds for the implicit transaction of its one query string, and no longer.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF; SELECT current_setting('synchronous_commit')")
        cursor.nextset()
        assert cursor.fetchone() == ("off",)
        cursor.execute("SELECT current_setting('synchronous_commit')")
        assert cursor.fetchone() == (usual,)
    # Inside a transaction, the hit is the caller's: a plain upsert, rolled back with it.
    with pytest.raises(RuntimeError), transaction.atomic():
        with CaptureQueriesContext(connection) as inside:
            hit("page", limit=5, period=60, now=T0)
        raise RuntimeError
    assert [query["sql"].startswith("INSERT INTO core_ratecounter") for query in inside.captured_queries] == [True]
    assert RateCounter.objects.get(key="page").count == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threshold", ["off", "1"])
def test_a_hit_of_its_own_is_one_query_string_whoever_binds_the_values(threshold):
    """Django's default cursor inlines the values; with prepared statements (DATABASE_PREPARE_THRESHOLD,
    production's setting) the server binds them, and one string of two statements needs a cursor
    that inlines them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: server-side binding")
    wrapper, usual = connections["default"], connections["default"].settings_dict
    options = {
        key: value
        for key, value in usual.get("OPTIONS", {}).items()
        if key not in ("server_side_binding", "prepare_threshold")
    }
    changed = {**usual, "OPTIONS": options}
    prepare_statements(changed, threshold)
    wrapper.close()  # the next query connects with the changed options
    wrapper.settings_dict = changed
    try:
        with CaptureQueriesContext(wrapper) as queries:
            remaining = [hit("bound", limit=5, period=60, now=T0).remaining for _ in range(3)]
        assert remaining == [4, 3, 2]
        assert [query["sql"].startswith("SET LOCAL synchronous_commit TO OFF; INSERT") for query in queries] == [
            True
        ] * 3
        with wrapper.cursor() as cursor:
            assert (type(cursor.cursor).__name__ == "ServerBindingCursor") == (threshold != "off")
        assert RateCounter.objects.get(key="bound").count == 3
    finally:
        wrapper.close()
        wrapper.settings_dict = usual


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_all_counted():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    allowed = []

    def worker():
        try:
            for _ in range(5):
                allowed.append(hit("race", limit=20, period=3600, now=T0).allowed)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert RateCounter.objects.get(key="race").count == 40
    assert allowed.count(True) == 20


@pytest.mark.django_db
def test_a_daily_limit_in_a_time_zone_resets_at_its_midnight_not_at_midnight_utc():
    from zoneinfo import ZoneInfo

    reunion = ZoneInfo("Indian/Reunion")  # UTC+4: its day starts at 20:00 UTC the day before
    late = datetime(2026, 3, 9, 19, 30, tzinfo=UTC)  # 23:30 in La Réunion, 9 March
    assert hit("ip", limit=1, period=86400, now=late, day_in=reunion).allowed
    refused = hit("ip", limit=1, period=86400, now=late + timedelta(minutes=20), day_in=reunion)
    assert not refused.allowed and refused.retry_after == 10 * 60  # until midnight in La Réunion
    assert hit("ip", limit=1, period=86400, now=late + timedelta(minutes=31), day_in=reunion).allowed  # 10 March there
    # Across the Paris DST change (29 March 2026: a 23-hour day), the window is the calendar day.
    paris = ZoneInfo("Europe/Paris")
    morning = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    hit("dst", limit=1, period=86400, now=morning, day_in=paris)
    refused = hit("dst", limit=1, period=86400, now=morning, day_in=paris)
    assert refused.retry_after == 14 * 3600  # 10:00 CEST → midnight is 14 hours away
