"""Who acts, where, with which rights: the request context every policy, selector and service takes.

A `Context` is built once per request (agent pages: `rdv.accounts.context`; public pages and the API
later) and never changes. It answers every rights question without another query: the policies of
each app (`rdv.<app>.policies`) read it, the services check it before they write, the selectors
scope their reads with it. See docs/adr/0008-rights.md.

core imports no other app: the tenant objects are typed loosely here.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import models

from rdv.core.errors import DomainError


class AccessLevel(models.TextChoices):
    """An agent's access level in one organisation (AgentRole.access_level)."""

    BASIC = "basic", "Agent"
    ADMIN = "admin", "Administrateur"
    INTERVENANT = "intervenant", "Intervenant"


# Levels that open the organisation's pages (intervenants never log in).
MEMBER_LEVELS = (AccessLevel.BASIC, AccessLevel.ADMIN)


class ActorKind(StrEnum):
    AGENT = "agent"  # a logged-in agent (pages, and later an API token acting as its agent)
    USAGER = "usager"  # a member of the public: online booking, tokenised links
    PRESCRIPTEUR = "prescripteur"  # a professional booking online for an usager
    SYSTEM = "system"  # operators' commands and scheduled jobs: every right within its espace


PUBLIC_KINDS = (ActorKind.USAGER, ActorKind.PRESCRIPTEUR)


@dataclass(frozen=True)
class Context:
    kind: ActorKind
    territory: Any  # the espace (Territory)
    organisation: Any = None  # the organisation of the page, None at espace level
    agent: Any = None  # the acting agent (kind AGENT)
    access_level: str | None = None  # the agent's level in `organisation`
    territory_admin: bool = False  # the agent administers `territory`
    service_ids: frozenset[int] = frozenset()  # the agent's services in `territory`
    secretariat: bool = False  # one of those services is a secretariat
    usager: Any = None  # online: the usager acting, or booked for by a prescripteur, when known
    label: str = ""  # who acts, for the journal, when no agent does

    # Who is it -------------------------------------------------------------------------------

    @property
    def is_public(self) -> bool:
        """An usager or a prescripteur: online rules apply (no override, online booking window)."""
        return self.kind in PUBLIC_KINDS

    @property
    def is_system(self) -> bool:
        return self.kind == ActorKind.SYSTEM

    @property
    def actor(self) -> Any:
        """What the journal records as the author."""
        return self.agent if self.agent is not None else (self.label or "Système")

    # Rights in the organisation ----------------------------------------------------------------

    @property
    def is_member(self) -> bool:
        """May open the organisation's pages: a basic agent or an admin of it (or the system)."""
        return self.organisation is not None and self.access_level in MEMBER_LEVELS

    @property
    def is_organisation_admin(self) -> bool:
        return self.organisation is not None and self.access_level == AccessLevel.ADMIN

    @property
    def is_territory_admin(self) -> bool:
        return self.territory_admin and self.territory is not None

    @property
    def sees_all_rdvs(self) -> bool:
        """Admins and secretariat agents see every RDV of the organisation."""
        return self.is_organisation_admin or (self.is_member and self.secretariat)

    def in_territory(self, obj: Any) -> bool:
        """`obj` (anything with a territory_id) belongs to this context's espace."""
        return self.territory is not None and getattr(obj, "territory_id", None) == self.territory.pk

    def in_organisation(self, obj: Any) -> bool:
        """`obj` (anything with an organisation_id) belongs to this context's organisation."""
        return self.organisation is not None and getattr(obj, "organisation_id", None) == self.organisation.pk

    def is_self(self, agent: Any) -> bool:
        return self.agent is not None and getattr(agent, "pk", agent) == self.agent.pk

    # Builders that need no query ----------------------------------------------------------------

    @classmethod
    def system(cls, territory: Any, organisation: Any = None, label: str = "Système") -> "Context":
        """Operators' commands and scheduled jobs: an espace admin and organisation admin without an
        agent. Never built from a request."""
        return cls(
            kind=ActorKind.SYSTEM,
            territory=territory,
            organisation=organisation,
            access_level=AccessLevel.ADMIN if organisation is not None else None,
            territory_admin=True,
            label=label,
        )

    @classmethod
    def public(
        cls, organisation: Any, *, kind: ActorKind = ActorKind.USAGER, usager: Any = None, label: str = ""
    ) -> "Context":
        """An usager or a prescripteur acting online in an organisation: no access level."""
        if kind not in PUBLIC_KINDS:
            raise ValueError(f"not a public actor: {kind}")
        default = "Usager (en ligne)" if kind == ActorKind.USAGER else "Prescripteur (en ligne)"
        return cls(
            kind=kind,
            territory=organisation.territory,
            organisation=organisation,
            usager=usager,
            label=label or (str(usager) if usager is not None else default),
        )

    @classmethod
    def operator(cls, label: str = "Opérateur de la plateforme") -> "Context":
        """Platform operators (command line, admin site) before any espace exists: they create
        espaces. No espace, so no right inside one."""
        return cls(kind=ActorKind.SYSTEM, territory=None, label=label)


FORBIDDEN_MESSAGE = "Vous n'avez pas les droits nécessaires pour cette action."


def require(allowed: bool, message: str = FORBIDDEN_MESSAGE) -> None:
    """Refuse with DomainError("forbidden") unless `allowed`: the services' rights check."""
    if not allowed:
        raise DomainError("forbidden", message)
