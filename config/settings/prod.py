"""Production: HTTPS only, secure cookies, sessions that expire, PostgreSQL connections that are
checked before reuse. `manage.py check --deploy` is clean with these settings (tests/ops). Every value
that differs per installation comes from an environment variable (docs/operations.md)."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# HTTPS: the reverse proxy terminates TLS and says so in X-Forwarded-Proto. HTTPS_REDIRECT=0 only for
# a local try-out of the production settings over plain HTTP (make serve-prod).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = os.environ.get("HTTPS_REDIRECT", "1") == "1"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer probes over plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
# Preloading binds the domain to HTTPS in browsers for months: the domain's owner decides (HSTS_PRELOAD=0).
SECURE_HSTS_PRELOAD = os.environ.get("HSTS_PRELOAD", "1") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
LANGUAGE_COOKIE_SECURE = SECURE_SSL_REDIRECT

# Agents' sessions end after a working day, or when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(10 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Persistent connections, checked before reuse: after a database restart the first request of each
# process reconnects instead of failing.
# The same for the optional read replica (DATABASE_REPLICA_URL).
for _database in DATABASES.values():  # noqa: F405
    _database["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
    _database["CONN_HEALTH_CHECKS"] = True
    # A query text is prepared once it has run 5 times on a connection (config/settings/base.py).
    prepare_statements(_database, os.environ.get("DATABASE_PREPARE_THRESHOLD", "5"))  # noqa: F405

# Webhooks: https only, never to private, loopback or link-local addresses (SSRF).
WEBHOOK_REQUIRE_HTTPS = True
WEBHOOK_ALLOW_LOOPBACK = False
WEBHOOK_ALLOW_PRIVATE = os.environ.get("WEBHOOK_ALLOW_PRIVATE", "0") == "1"
