# The front door: `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint format install migrate seed worker scheduler e2e-deps clean bench bench-outbox bench-stats api-fuzz serve-prod loadtest fault-drill replica replica-stop test-replica

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# Web server, task worker and scheduler together; Ctrl-C stops them all.
run: seed
	@echo ""
	@echo "  Site : http://$(HOST):$(PORT)/   (opérateurs : http://$(HOST):$(PORT)/superadmin/)"
	@echo "  Les e-mails s'affichent dans cette console (envoyés par le worker de tâches)."
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	export SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}"; \
	$(PY) manage.py db_worker --queue-name '*' --interval 1 & \
	$(PY) manage.py run_scheduler & \
	$(PY) manage.py runserver $(HOST):$(PORT)

# As in production: PostgreSQL (DATABASE_URL, default rdv_prod on 127.0.0.1), collectstatic, migrate,
# gunicorn web processes, delivery workers and the scheduler (scripts/serve-prod says which variables).
serve-prod: install
	scripts/serve-prod

worker: install
	$(PY) manage.py db_worker --queue-name '*'

scheduler: install
	$(PY) manage.py run_scheduler

# The whole suite: unit, integration and browser tests (browser tests need Debian's Chromium).
test: install
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "NOTE: /usr/bin/chromium is missing: browser tests (tests/e2e) will be skipped."; \
	  echo "      Install it with: sudo apt-get install -y chromium chromium-driver   (or: make e2e-deps)"; \
	fi
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not e2e" -n 2 $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint rdv --lint
	$(VENV)/bin/djlint rdv --check
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/djlint rdv --reformat --quiet || true

# Benchmarks on throwaway databases (add DATABASE_URL=postgres://... for PostgreSQL): the slot engine
# (200 agents, a month), then the main agent pages at scale (200 agents, 18,000 RDVs in a month,
# 50,000 usagers): JSON, one line each.
bench: install
	$(PY) manage.py bench_slots --agents 200 --days 31 --json
	$(PY) manage.py bench_pages --json
	$(PY) manage.py bench_feed --json

# Statistics dashboards on 1,000,000 RDVs (PostgreSQL only: DATABASE_URL=postgres://...): p50 per
# query, selector and page, query counts, EXPLAIN ANALYZE of the heaviest query.
bench-stats: install
	$(PY) manage.py bench_stats

# Delivery outbox benchmark: local SMTP server refusing the first seconds, 4 real workers.
bench-outbox: install
	$(PY) manage.py bench_outbox --messages 1000 --workers 4 --json

# Load test (locust, the realistic mix) against serve-prod with the 200-agent benchmark espace, in a
# throwaway PostgreSQL database: ONE JSON document (USERS=25, DURATION=60s; docs/operations.md).
loadtest: install
	@USERS=$(or $(USERS),25) DURATION=$(or $(DURATION),60s) scripts/loadtest

# Fault drill: kill -9 a web process, the worker and the scheduler, stop a PRIVATE PostgreSQL for 20 s,
# during a load test; JSON, exit 1 when something did not recover or was lost (run as root).
fault-drill: install
	scripts/fault-drill

# schemathesis against the live API (a throwaway database with the demo data, a real server).
api-fuzz: install
	.ci/api-fuzz

# A local PostgreSQL streaming replica of 127.0.0.1:5432 on port 5433 (scripts/replica-setup; never
# restarts the primary), the tests against it (PostgreSQL only), and its removal.
replica:
	scripts/replica-setup

replica-stop:
	scripts/replica-setup --stop

REPLICA_TEST_URL ?= postgres://postgres@127.0.0.1:5433/
test-replica: install
	@case "$${DATABASE_URL:-}" in postgres*) ;; *) echo "test-replica needs DATABASE_URL=postgres://… (the replica's primary)"; exit 2;; esac
	REPLICA_TEST_URL=$(REPLICA_TEST_URL) $(PY) -m pytest tests/replica $(PYTEST_ARGS)

e2e-deps:
	apt-get update -qq && apt-get install -y -qq chromium chromium-driver

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles .pytest_cache
