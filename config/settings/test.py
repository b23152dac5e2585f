import os
import tempfile

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks are recorded, never run: tests send what is due with rdv.outbox.services.run_due_deliveries()
# (real-process tests switch to the database backend and start real workers).
TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
SITE_URL = "http://testserver"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
AXES_ENABLED = True
EMBEDDING_ALLOW_LOCAL_HTTP = True  # as in development (DEBUG is off in tests)
# Tests have no collected STATIC_ROOT: WhiteNoise looks it up lazily instead of warning
# "No directory at: …/staticfiles/" (the live server serves static files from the apps).
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: concurrency tests need SQLite's real locking (BEGIN
    # IMMEDIATE + busy timeout), which shared-cache in-memory databases do not honour.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"rdv-test-{os.getpid()}.sqlite3")
    }

# The webhook tests run a real HTTP receiver on 127.0.0.1 (refused in production settings).
WEBHOOK_ALLOW_LOOPBACK = True

# SMS go to a file (one JSON line each) that tests read; tests that need several providers set
# their own SMS_PROVIDERS (tests/sms/conftest.py).
SMS_PROVIDERS = {"file": {"backend": "file", "label": "Fichier (tests)"}}
SMS_DEFAULT_PROVIDER = "file"
SMS_FILE_PATH = os.path.join(tempfile.gettempdir(), f"rdv-test-sms-{os.getpid()}.jsonl")

# The read replica is a test mirror of the default database: the router's choices run in every test
# (a scope's reads go through the "replica" connection to the same test database). Tests inside a
# transaction (pytest-django's `db`) always read the primary, as any transaction does.
# tests/replica/ points the "replica" connection at a real streaming replica (REPLICA_TEST_URL).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
