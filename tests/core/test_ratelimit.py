import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

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
