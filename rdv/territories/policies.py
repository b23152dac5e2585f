"""Who may administer an espace: its settings, service activations and organisations.

Every policy module of the project has one style: `scope(ctx)`-like functions give the rows a
context may see, `can_<verb>(ctx, obj)` predicates answer one question without side effect. The
contexts come from rdv.core.context; service functions call these predicates before they write.
"""

from django.db.models import Q

from rdv.core.context import Context
from rdv.core.models import AuditLog
from rdv.territories.models import Organisation, SectorCode


def can_administer(ctx: Context) -> bool:
    """Espace administration (settings, services, organisations, agents, espace motifs, custom
    fields): espace admins of the context's espace, and the system."""
    return ctx.is_territory_admin


def can_change_organisation(ctx: Context, organisation: Organisation) -> bool:
    return can_administer(ctx) and ctx.in_territory(organisation)


def can_manage_sector_codes(ctx: Context, organisation: Organisation) -> bool:
    """The sectorisation of an organisation (its postal and INSEE codes): the espace admins of its
    espace, and the admins of that organisation."""
    if can_change_organisation(ctx, organisation):
        return True
    return ctx.is_organisation_admin and ctx.organisation.pk == organisation.pk


def sector_codes_scope(ctx: Context, organisation: Organisation):
    """The sector codes of `organisation` the context may see and change."""
    if not can_manage_sector_codes(ctx, organisation):
        return SectorCode.objects.none()
    return SectorCode.objects.filter(organisation=organisation)


def organisations_scope(ctx: Context):
    if not can_administer(ctx):
        return Organisation.objects.none()
    return Organisation.objects.filter(territory=ctx.territory)


# Entries about usager files that the espace journal shows: exports and deletions (RGPD), which name
# no one (rdv.retention writes them with a neutral « Usager n° … »).
USAGER_ACTIONS_IN_JOURNAL = ("usager.exported", "usager.deleted")


def journal_scope(ctx: Context):
    """The espace journal. Usager files keep their own history (shown on the file, to the agents
    who may see it): their personal data stays out of the espace-wide journal, but for the exports
    and deletions of files, which the admins must be able to account for."""
    if not can_administer(ctx):
        return AuditLog.objects.none()
    return AuditLog.objects.for_territory(ctx.territory).exclude(
        Q(object_type="usagers.Usager") & ~Q(action__in=USAGER_ACTIONS_IN_JOURNAL)
    )
