"""Who may see and change RDVs. Views answer 404 when a RDV is outside the scope.

In an organisation where the agent has a basic or admin access level (intervenants never log in):
- admins see every RDV of the organisation;
- agents of a secretariat service (`Service.is_secretariat`) see every RDV of the organisation (they
  book for every service; motifs "ouverts au secrétariat" can also be given to them as agents);
- other agents see the RDVs whose motif belongs to one of their services, and the RDVs they take
  part in as agent.
Everything else (other organisations, other espaces) is outside: 404.

Whoever sees a RDV may change it (move, cancel, status, participants, arrival), as on the
established platform.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from rdv.accounts.models import AccessLevel, AgentRole, AgentService
from rdv.accounts.perms import role_in
from rdv.bookings.models import Rdv, RdvAgent


def is_secretariat(agent) -> bool:
    return AgentService.objects.filter(agent=agent, service__is_secretariat=True).exists()


@dataclass(frozen=True)
class RdvScope:
    """What one agent may see in one organisation, computed once per request."""

    agent: object
    organisation: object
    role: AgentRole | None
    sees_all: bool

    @property
    def allowed(self) -> bool:
        return self.role is not None and self.role.access_level in (AccessLevel.BASIC, AccessLevel.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.allowed and self.role.access_level == AccessLevel.ADMIN

    def condition(self) -> Q:
        """The filter on Rdv rows (an empty result when not allowed)."""
        if not self.allowed:
            return Q(pk__in=[])
        in_organisation = Q(organisation=self.organisation)
        if self.sees_all:
            return in_organisation
        own_services = Q(motif__service_id__in=AgentService.objects.filter(agent=self.agent).values("service_id"))
        taking_part = Q(Exists(RdvAgent.objects.filter(rdv_id=OuterRef("pk"), agent=self.agent)))
        return in_organisation & (own_services | taking_part)

    def rdvs(self) -> QuerySet:
        return Rdv.objects.filter(self.condition())


def rdv_scope(agent, organisation) -> RdvScope:
    role = role_in(agent, organisation)
    allowed = role is not None and role.access_level in (AccessLevel.BASIC, AccessLevel.ADMIN)
    sees_all = allowed and (role.access_level == AccessLevel.ADMIN or is_secretariat(agent))
    return RdvScope(agent, organisation, role, sees_all)


def rdvs_visible_to(agent, organisation) -> QuerySet:
    """The RDVs of `organisation` that `agent` may see (none when the agent has no right there)."""
    return rdv_scope(agent, organisation).rdvs()


def can_see_rdv(agent, rdv: Rdv) -> bool:
    return rdvs_visible_to(agent, rdv.organisation).filter(pk=rdv.pk).exists()


def can_edit_rdv(agent, rdv: Rdv) -> bool:
    """Whoever sees the RDV may change it."""
    return can_see_rdv(agent, rdv)
