"""Settings shared by every environment. Values that differ come from environment variables."""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "dsfr",
    "widget_tweaks",
    "django_htmx",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "rdv.core",
    "rdv.territories",
    "rdv.accounts",
    "rdv.usagers",
    "rdv.motifs",
    "rdv.agendas",
    "rdv.bookings",
    "rdv.online",
    "rdv.outbox",
    "rdv.sms",
    "rdv.webhooks",
    "rdv.notifications",
    "rdv.retention",
    "rdv.api",
    "ninja",  # after rdv.api, whose template of the docs page (lang="fr") wins
    "rdv.www",
    "rdv.ops",
]

MIDDLEWARE = [
    # Outermost: every response gets its request id and its latency counted (rdv.core.middleware).
    "rdv.core.middleware.RequestIdMiddleware",
    "rdv.core.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rdv.api.middleware.ApiMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rdv.www.context_processors.navigation",
            ],
        },
    },
]


def database(url: str) -> dict:
    settings = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        # WAL + immediate transactions: readers never block the writer, writers are serialised.
        settings.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    prepare_statements(settings, os.environ.get("DATABASE_PREPARE_THRESHOLD", ""))
    return settings


def prepare_statements(settings: dict, threshold: str) -> None:
    """PostgreSQL: the values bound by the server (psycopg's server-side binding) and each query text
    prepared on a connection once it has run `threshold` times there: PostgreSQL then no longer
    parses and plans it at every run (under the load test's mix, about a quarter less of PostgreSQL's CPU).
    « off » or empty: Django's default (values inlined by psycopg, nothing prepared), as a connection
    pooler in transaction mode that does not follow prepared statements needs (PgBouncer before 1.21).
    Production turns it on (config/settings/prod.py); the PostgreSQL test run too (.ci/run)."""
    threshold = threshold.strip().lower()
    if settings["ENGINE"] != "django.db.backends.postgresql" or threshold in ("", "off"):
        return
    if not (threshold.isascii() and threshold.isdigit()):  # « ² » is a digit to Python, not to int()
        raise ImproperlyConfigured(
            f"DATABASE_PREPARE_THRESHOLD={threshold!r}: a whole number of runs (0 or more) or « off »."
        )
    settings.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=int(threshold))


DATABASES = {"default": database(os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
# Optional PostgreSQL streaming replica: the public pages of free slots read from it
# (rdv.core.db.ReplicaRouter, docs/adr/0017-read-replica.md); without it everything reads the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = database(os.environ["DATABASE_REPLICA_URL"])
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # A replica that does not answer costs a page at most this long, then is left alone for
        # REPLICA_RETRY_SECONDS (its reads go to the primary meanwhile).
        DATABASES["replica"].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", int(os.environ.get("REPLICA_CONNECT_TIMEOUT", "2"))
        )
REPLICA_RETRY_SECONDS = float(os.environ.get("REPLICA_RETRY_SECONDS", "30"))
DATABASE_ROUTERS = ["rdv.core.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Agent"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rdv.accounts.backends.AgentBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2  # reset links last two hours

# Brute-force protection: 5 failures for one e-mail from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "rdv.accounts.backends.axes_username"  # e-mails are case-insensitive
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client's address behind the reverse proxies of TRUSTED_PROXIES (rate limits and axes alike).
AXES_CLIENT_IP_CALLABLE = "rdv.core.ratelimit.axes_client_ip"
# Addresses or networks (CIDR) of the reverse proxies / load balancers in front of the web processes:
# their X-Forwarded-For is believed, nobody else's. Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
CSRF_FAILURE_VIEW = "rdv.www.views.errors.csrf_failure"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Rendez-vous Public <ne-pas-repondre@rdv.example.fr>")
# A silent SMTP server must not block a worker: every socket operation gives up after this.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))

# Caches. "slots": the slot cache of the public pages (rdv.online.slotcache, docs/adr/0016-slot-cache.md):
# memory of each process by default; SLOT_CACHE_URL shares it between processes: file:///a/folder
# (the web processes of one host, no other service) or redis://… (every host). Correctness never
# depends on it: entries are validated against version rows of the database, and the booking
# re-check never reads it. SLOT_CACHE_ENABLED=0 turns it off.
SLOT_CACHE_ENABLED = os.environ.get("SLOT_CACHE_ENABLED", "1") != "0"
SLOT_CACHE_MAX_AGE = int(os.environ.get("SLOT_CACHE_MAX_AGE", "60"))  # seconds; see rdv.online.slotcache


def slot_cache_config(url: str, max_entries: int, name: str = "slots") -> dict:
    """The Django cache `name` for SLOT_CACHE_URL (empty: each process' memory): the slot cache, and
    the agenda's rendered columns (`fragments`, in a folder of its own or under its own key prefix)."""
    options = {"MAX_ENTRIES": max_entries}
    if url.startswith("file://"):
        folder = url[7:] if name == "slots" else f"{url[7:].rstrip('/')}/{name}"
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": folder,
            "OPTIONS": options,
        }
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": name}
    if url:
        raise ImproperlyConfigured("SLOT_CACHE_URL must be file:///a/folder, redis://… or empty.")
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name, "OPTIONS": options}


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "slots": slot_cache_config(
        os.environ.get("SLOT_CACHE_URL", ""), int(os.environ.get("SLOT_CACHE_MAX_ENTRIES", "5000"))
    ),
    # The agenda's columns, rendered, by signature (rdv.www.agenda_grid.column_signature): about
    # 10 kB each; an entry is never stale, its key being a digest of everything it shows. In each
    # process' memory, or Redis when SLOT_CACHE_URL is redis://…: never a folder (a view reads and
    # writes dozens of columns, and the folder backend lists its folder at every write).
    "fragments": slot_cache_config(
        os.environ.get("SLOT_CACHE_URL", "") if os.environ.get("SLOT_CACHE_URL", "").startswith("redis") else "",
        int(os.environ.get("FRAGMENT_CACHE_MAX_ENTRIES", "3000")),
        name="fragments",
    ),
}

# Task queue (django-tasks, database backend): workers are `manage.py db_worker` processes.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
TASK_RESULTS_KEEP_DAYS = int(os.environ.get("TASK_RESULTS_KEEP_DAYS", "7"))

# Delivery outbox (rdv.outbox, docs/adr/0007-delivery-outbox.md).
# A worker holds a claimed message this long; past it, another worker may send it (at least once).
# Keep it well above the longest send (EMAIL_TIMEOUT applies to each SMTP step).
OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", "300"))
# Exponential backoff with jitter: delay after the n-th failure = base × factor^(n-1), capped,
# ± jitter. E-mail: 10 attempts over about 42 hours (1, 3, 9, 27, 81, 243 min, then 12 h).
OUTBOX_RETRY = {
    "default": {
        "max_attempts": int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "10")),
        "base_seconds": float(os.environ.get("OUTBOX_RETRY_BASE_SECONDS", "60")),
        "factor": float(os.environ.get("OUTBOX_RETRY_FACTOR", "3")),
        "max_seconds": float(os.environ.get("OUTBOX_RETRY_MAX_SECONDS", str(12 * 3600))),
        "jitter": float(os.environ.get("OUTBOX_RETRY_JITTER", "0.2")),
    },
    "email": {"max_attempts": int(os.environ.get("OUTBOX_EMAIL_MAX_ATTEMPTS", "10"))},
    # Webhooks: 21 attempts over about 3 days (30 s, 1, 2, 4 … 128 min, then every 6 h).
    "webhook": {
        "max_attempts": int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "21")),
        "base_seconds": float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30")),
        "factor": float(os.environ.get("WEBHOOK_RETRY_FACTOR", "2")),
        "max_seconds": float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", str(6 * 3600))),
    },
}
# Webhooks (rdv.webhooks): destinations, timeout, alerting, secret rotation, backfill pace.
WEBHOOK_REQUIRE_HTTPS = os.environ.get("WEBHOOK_REQUIRE_HTTPS", "0") == "1"
WEBHOOK_ALLOW_LOOPBACK = os.environ.get("WEBHOOK_ALLOW_LOOPBACK", "0") == "1"
WEBHOOK_ALLOW_PRIVATE = os.environ.get("WEBHOOK_ALLOW_PRIVATE", "0") == "1"
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_ALERT_AFTER_FAILURES = int(os.environ.get("WEBHOOK_ALERT_AFTER_FAILURES", "5"))
WEBHOOK_SECRET_GRACE_HOURS = int(os.environ.get("WEBHOOK_SECRET_GRACE_HOURS", "72"))
WEBHOOK_BACKFILL_PER_SECOND = float(os.environ.get("WEBHOOK_BACKFILL_PER_SECOND", "10"))
OUTBOX_SWEEP_SECONDS = float(os.environ.get("OUTBOX_SWEEP_SECONDS", "60"))
OUTBOX_SWEEP_BUDGET_SECONDS = float(os.environ.get("OUTBOX_SWEEP_BUDGET_SECONDS", "50"))
OUTBOX_KEEP_SENT_DAYS = int(os.environ.get("OUTBOX_KEEP_SENT_DAYS", "30"))
OUTBOX_MESSAGE_ID_DOMAIN = os.environ.get("OUTBOX_MESSAGE_ID_DOMAIN", "")

# SMS (rdv.sms, docs/sms.md): providers by name -> {"backend": "console" | "file" | "brevo" | dotted
# path, "label": shown to espace admins, "options": {...}}. Production sets SMS_PROVIDERS to a JSON
# object in the environment, e.g.
# {"brevo": {"backend": "brevo", "label": "Brevo", "options": {"api_key": "..."}}, ...}.
SMS_PROVIDERS = (
    json.loads(os.environ["SMS_PROVIDERS"])
    if os.environ.get("SMS_PROVIDERS")
    else {"console": {"backend": "console", "label": "Console (développement)"}}
)
# The provider of espaces that chose none (default: the first of SMS_PROVIDERS).
SMS_DEFAULT_PROVIDER = os.environ.get("SMS_DEFAULT_PROVIDER", "")
# The sender name shown on phones (at most 11 letters and digits).
SMS_SENDER = os.environ.get("SMS_SENDER", "RDV")
# Providers over HTTP give up after this many seconds per socket operation.
SMS_TIMEOUT_SECONDS = float(os.environ.get("SMS_TIMEOUT_SECONDS", "5"))
# Where the `file` backend appends its JSON lines when its options name no path.
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(BASE_DIR / "sms.jsonl"))

# Periodic jobs (`manage.py run_scheduler`, APScheduler): each one enqueues its task for the
# workers. "seconds": every N seconds (and once at start); "cron": crontab line in TIME_ZONE.
# No confirmation SMS for an online booking more than this many hours ahead (the e-mail and the
# reminders suffice; SMS is the costly channel).
ONLINE_CONFIRMATION_SMS_MAX_HOURS = int(os.environ.get("ONLINE_CONFIRMATION_SMS_MAX_HOURS", "48"))
REMINDER_SWEEP_SECONDS = float(os.environ.get("REMINDER_SWEEP_SECONDS", "300"))
SCHEDULED_TASKS = [
    {"task": "rdv.outbox.tasks.deliver_due", "seconds": OUTBOX_SWEEP_SECONDS},
    {"task": "rdv.outbox.tasks.purge_sent_deliveries", "cron": "15 3 * * *"},
    {"task": "rdv.core.tasks.prune_task_results", "cron": "30 3 * * *"},
    {"task": "rdv.core.tasks.purge_rate_counters", "cron": "45 3 * * *"},
    {"task": "rdv.api.tasks.purge_api_records", "cron": "50 3 * * *"},
    {"task": "rdv.online.tasks.purge_online_bookings", "seconds": 3600},
    {"task": "rdv.notifications.tasks.send_reminders", "seconds": REMINDER_SWEEP_SECONDS},
    # Data retention (RGPD, rdv.retention, docs/operations.md): old RDVs first (their usagers may then
    # become inactive), the review of inactive usagers, then the journal.
    {"task": "rdv.retention.tasks.purge_old_rdvs", "cron": "0 4 * * *"},
    {"task": "rdv.retention.tasks.review_inactive_usagers", "cron": "20 4 * * *"},
    {"task": "rdv.retention.tasks.purge_old_audit_entries", "cron": "40 4 * * *"},
]
# Data retention (RGPD): RDVs are deleted this many days after they ended, journal entries after
# AUDIT_RETENTION_DAYS; usagers without activity (no RDV, no change) for USAGER_INACTIVITY_DAYS are
# flagged for review, then deleted USAGER_DELETION_REVIEW_DAYS later unless there was activity
# meanwhile or an admin kept them. Deletions run in transactions of RETENTION_BATCH_SIZE rows; a run
# starts no new batch after RETENTION_RUN_BUDGET_SECONDS (a first run over years of data goes on the
# next night instead of holding a worker for hours).
RDV_RETENTION_DAYS = int(os.environ.get("RDV_RETENTION_DAYS", "730"))
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "365"))
USAGER_INACTIVITY_DAYS = int(os.environ.get("USAGER_INACTIVITY_DAYS", "730"))
USAGER_DELETION_REVIEW_DAYS = int(os.environ.get("USAGER_DELETION_REVIEW_DAYS", "30"))
RETENTION_BATCH_SIZE = int(os.environ.get("RETENTION_BATCH_SIZE", "500"))
RETENTION_RUN_BUDGET_SECONDS = float(os.environ.get("RETENTION_RUN_BUDGET_SECONDS", "3600"))
# How often a standby scheduler tries to take the leader lock, and the leader checks it still holds it.
SCHEDULER_LOCK_RETRY_SECONDS = float(os.environ.get("SCHEDULER_LOCK_RETRY_SECONDS", "10"))

# API (/api/v1): calls per minute and per token; how long an Idempotency-Key is remembered; how long
# the journal of calls is kept.
API_RATE_LIMIT = int(os.environ.get("API_RATE_LIMIT", "300"))
API_IDEMPOTENCY_HOURS = int(os.environ.get("API_IDEMPOTENCY_HOURS", "24"))
API_CALLS_KEEP_DAYS = int(os.environ.get("API_CALLS_KEEP_DAYS", "365"))

# Product settings
SITE_NAME = "Rendez-vous Public"
# Absolute base URL used in e-mails (links must work outside the request cycle).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
AGENT_INVITATION_VALIDITY = timedelta(days=int(os.environ.get("AGENT_INVITATION_VALIDITY_DAYS", "7")))
# Where espace admins reach the platform's operators (a missing service, a question): a web page
# (https://…) or an e-mail address (mailto:…).
SUPPORT_URL = os.environ.get("SUPPORT_URL", "mailto:support@rdv.example.fr")
# Sites allowed to embed the public pages (espace settings) may be http://localhost or
# http://127.0.0.1 when True (and whenever DEBUG is on); https only otherwise.
EMBEDDING_ALLOW_LOCAL_HTTP = False

DSFR_MARK_OPTIONAL_FIELDS = True
# django-dsfr's components (alerts, notices, tables…) render their content with mark_safe unless
# this is False: content is escaped like any template value (markup on purpose: format_html).
DSFR_CONTENT_IS_SAFE = False

# Content Security Policy (django-csp): no inline or third-party script anywhere; inline styles only
# for motif colours and htmx's indicator style; DSFR icons and fonts come as data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Logs (docs/operations.md): plain text by default; LOG_FORMAT=json writes one JSON object per line
# with the request id, and one access line per request. Paths are logged with their tokens masked:
# the URL parameters named here (and any token-looking segment of an unknown path).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
MASKED_URL_KWARGS = ["token", "uidb64", "booking_id"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "rdv.core.logging.RequestContextFilter"}},
    "formatters": {"json": {"()": "rdv.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's records reach the root handler (and its masking filter) once: not through Django's
        # default console handler as well (DEBUG), nor runserver's own unmasked request lines.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},  # one line per job run otherwise
    },
}

# Health and metrics (docs/operations.md). /healthz says « degraded » when a due message has waited
# longer than this, or when the scheduler has not beaten for this long (it beats every
# SCHEDULER_HEARTBEAT_SECONDS while it holds the leader lock).
HEALTH_QUEUE_MAX_LAG_SECONDS = float(os.environ.get("HEALTH_QUEUE_MAX_LAG_SECONDS", "300"))
HEALTH_SCHEDULER_MAX_SILENCE_SECONDS = float(os.environ.get("HEALTH_SCHEDULER_MAX_SILENCE_SECONDS", "180"))
# /healthz and /metrics report the read replica the operator configured (tests have a mirror alias).
HEALTH_REPLICA = bool(os.environ.get("DATABASE_REPLICA_URL"))
HEALTH_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("HEALTH_REPLICA_MAX_LAG_SECONDS", "30"))
SCHEDULER_HEARTBEAT_SECONDS = float(os.environ.get("SCHEDULER_HEARTBEAT_SECONDS", "30"))
# /metrics answers loopback requests (not proxied); others only with `Authorization: Bearer <token>`
# when this is set, else 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Error reporting (optional): sentry-sdk, only when SENTRY_DSN is set (rdv.core.sentry scrubs events).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from rdv.core.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", ""),
        release=os.environ.get("SENTRY_RELEASE", ""),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

SILENCED_SYSTEM_CHECKS = ["auth.W004"]  # e-mail uniqueness is a case-insensitive constraint
