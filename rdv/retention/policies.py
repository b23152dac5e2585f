"""Who may exercise an usager's rights (RGPD) and review the files flagged for deletion.

- The export of an usager's data and the deletion of their file on request belong to the admins
  of an organisation the usager belongs to. A file shared with other organisations holds their
  RDVs too: then only an admin who also administers the espace may export or delete it.
- The files flagged as inactive (rdv.retention.services.review_inactive_usagers) are listed to the
  admins of the organisations they belong to, who may keep them.
"""

from rdv.core.context import Context
from rdv.usagers import policies as usager_policies
from rdv.usagers.models import Usager, UsagerOrganisation

SHARED_FILE_MESSAGE = (
    "Cet usager fait aussi partie d’autres organisations de l’espace : seul un administrateur de "
    "l’espace peut exporter ou supprimer l’ensemble de ses données."
)


def can_review(ctx: Context) -> bool:
    """Organisation admins (and the system)."""
    return ctx.is_organisation_admin


def rights_scope(ctx: Context):
    """The files whose data this context may export or delete (subject to `can_exercise_rights`):
    those of its organisation, for its admins. Anything else is a 404 on the pages."""
    if not can_review(ctx):
        return Usager.objects.none()
    return usager_policies.members_scope(ctx)


def review_scope(ctx: Context):
    """The files of the context's organisation flagged for deletion, for its admins."""
    return rights_scope(ctx).filter(retention_flagged_at__isnull=False)


def organisation_ids(usager: Usager) -> set[int]:
    return set(UsagerOrganisation.objects.filter(usager=usager).values_list("organisation_id", flat=True))


def can_exercise_rights(ctx: Context, usager: Usager, member_of: set[int] | None = None) -> bool:
    """Export the usager's data or delete their file: an admin of an organisation the usager
    belongs to, if it is the only one or if the admin also administers the espace. `member_of`:
    the ids of the usager's organisations when the caller has them already (no query)."""
    if not can_review(ctx) or not ctx.in_territory(usager):
        return False
    member_of = organisation_ids(usager) if member_of is None else set(member_of)
    if ctx.organisation.pk not in member_of:
        return False
    return member_of == {ctx.organisation.pk} or ctx.is_territory_admin


def can_keep(ctx: Context, usager: Usager) -> bool:
    """Keep a file flagged as inactive: an admin of an organisation it belongs to."""
    return can_review(ctx) and ctx.in_territory(usager) and usager_policies.is_member_of_organisation(ctx, usager)
