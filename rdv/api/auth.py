"""The API's authentication: a personal token (`Authorization: Bearer rdvp_…`), looked up once by
ApiMiddleware. The token acts with exactly its agent's rights: each view builds the agent's
context with the same functions as the pages (rdv.accounts.context), in the espace's time zone."""

from django.utils import timezone
from ninja.security import HttpBearer

from rdv.accounts.context import organisation_context, territory_context
from rdv.api.errors import NOT_FOUND_MESSAGE, ApiError
from rdv.core.context import Context


class TokenAuth(HttpBearer):
    openapi_description = "Jeton personnel d’API créé dans « Mon compte » (Authorization: Bearer rdvp_…)."

    def __call__(self, request):
        return getattr(request, "api_token", None)

    def authenticate(self, request, token):  # pragma: no cover - __call__ decides
        return None


def _activate(ctx: Context) -> Context:
    timezone.activate(ctx.territory.zone)
    return ctx


def organisation_ctx(request, organisation_id: int) -> Context:
    """The token's agent in this organisation (a basic agent or an admin of it), or 404."""
    ctx = organisation_context(request.auth.agent, organisation_id)
    if ctx is None:
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)
    return _activate(ctx)


def espace_ctx(request, territory_id: int) -> Context:
    """The token's agent as an administrator of this espace, or 404."""
    ctx = territory_context(request.auth.agent, territory_id)
    if ctx is None:
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)
    return _activate(ctx)


def one(queryset, pk: int):
    """The object `pk` of `queryset` (a policy scope), or 404: outside the rights reads as absent.
    An id beyond the database's integer range is absent too (a URL holds any number of digits)."""
    if not isinstance(pk, int) or not -(2**63) <= pk < 2**63:
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ApiError(404, "not_found", NOT_FOUND_MESSAGE)
    return obj
