import os

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-use-in-production"  # noqa: F405

# Refused and unknown pages (404) show the product's French page, as in production. Developers who
# want Django's debug 404 (URL patterns tried, the exception) start the server with DJANGO_DEBUG_404=1.
if os.environ.get("DJANGO_DEBUG_404") != "1":
    MIDDLEWARE = [*MIDDLEWARE, "rdv.www.middleware.ProductNotFoundMiddleware"]  # noqa: F405

# Webhooks may go to a receiver on this machine (e.g. http://127.0.0.1:9000/) in development.
WEBHOOK_ALLOW_LOOPBACK = True
