"""The REST API for information systems and partners: /api/v1 (docs/api.md, docs/adr/0014-api.md).

Thin views over the same policies, selectors and service functions as the pages; ApiMiddleware
authenticates, rate-limits, applies Idempotency-Key and journals every call.
"""

from ninja import NinjaAPI

from rdv.api import errors
from rdv.api.auth import TokenAuth
from rdv.api.routes import (
    absences,
    agents,
    lieux,
    motifs,
    organisations,
    plages,
    rdvs,
    services,
    slots,
    usagers,
    webhook_endpoints,
)

api = NinjaAPI(
    title="Rendez-vous Public — API",
    version="1",
    description=(
        "API des systèmes d’information et des partenaires : organisations, motifs, lieux, agents, "
        "usagers, plages, absences, rendez-vous, créneaux libres et webhooks. Authentification par "
        "jeton personnel (`Authorization: Bearer rdvp_…`), créé dans « Mon compte » ; le jeton agit "
        "avec les droits de son agent. Voir docs/api.md."
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

for module in (
    organisations,
    motifs,
    slots,
    rdvs,
    usagers,
    agents,
    lieux,
    absences,
    plages,
    webhook_endpoints,
    services,
):
    api.add_router("", module.router)
