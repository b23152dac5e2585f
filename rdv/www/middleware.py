"""Middleware of the web pages."""

from django.conf import settings

from rdv.www.views.errors import not_found


class ProductNotFoundMiddleware:
    """Development only (config.settings.dev, DEBUG): a refused or unknown page (404) shows the
    product's French « Page introuvable », as in production, instead of Django's English debug page.

    With DEBUG, Django turns every Http404 into its debug page before any middleware sees the
    response; this one, the innermost, replaces it. The console still names the refused path
    (Django's « Not Found: » log line); a developer who wants the debug page starts the server with
    DJANGO_DEBUG_404=1 (see the README)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and settings.DEBUG and not getattr(response, "product_page", False):
            return not_found(request)
        return response
