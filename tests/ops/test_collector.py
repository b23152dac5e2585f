"""The garbage collector's tuning of the web processes (rdv.core.collector, config/gunicorn.py)."""

import gc
import importlib

import pytest

from rdv.core import collector


@pytest.fixture
def restored_collector():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_web_processes_freeze_what_they_loaded_and_collect_less_often(monkeypatch, restored_collector):
    monkeypatch.setenv("GC_THRESHOLD", "")
    import config.gunicorn

    hooks = importlib.reload(config.gunicorn)
    gc.unfreeze()
    hooks.post_worker_init(worker=None)
    assert gc.get_threshold() == collector.DEFAULT_THRESHOLD == (50_000, 50, 100)
    assert gc.get_freeze_count() > 10_000  # the modules, models and settings loaded so far


def test_gc_threshold_sets_the_thresholds(monkeypatch, restored_collector):
    monkeypatch.setenv("GC_THRESHOLD", "700,10,10")
    import config.gunicorn

    hooks = importlib.reload(config.gunicorn)
    hooks.post_worker_init(worker=None)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("value", ["50000", "a,b,c", "1,2,3,4", "1,-2,3", "1.5,2,3"])
def test_a_bad_gc_threshold_stops_the_start_with_a_clear_message(value):
    with pytest.raises(ValueError, match="GC_THRESHOLD must be three non-negative integers"):
        collector.threshold_from(value)


def test_blank_means_the_default():
    assert collector.threshold_from("  ") == collector.DEFAULT_THRESHOLD
    assert collector.threshold_from(" 100, 5 ,5") == (100, 5, 5)
