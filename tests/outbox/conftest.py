"""Fixtures for the outbox: real task queue, local SMTP servers and child processes that are
always stopped, whatever the test does."""

import pytest

from rdv.outbox import harness


@pytest.fixture
def real_queue(settings):
    """Tasks go to the database queue (as in production) instead of the test settings' recorder."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def smtp_server():
    """`smtp_server(**options)` starts a LocalSMTPServer on 127.0.0.1, stopped after the test."""
    servers = []

    def start(**options):
        server = harness.LocalSMTPServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def processes(request):
    """`processes.worker(env)` / `processes.scheduler(env)` start children that are stopped (and
    their output printed on failure) at the end of the test."""

    class Processes:
        def __init__(self):
            self.started = []

        def worker(self, env, name="worker"):
            process = harness.start_worker(env, name)
            self.started.append(process)
            return process

        def scheduler(self, env, name="scheduler"):
            process = harness.start_scheduler(env, name)
            self.started.append(process)
            return process

    children = Processes()
    yield children
    for process in children.started:
        if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
            print(f"--- output of {process.name} ---\n{process.output()[-5000:]}")
        process.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
