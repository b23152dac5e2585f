"""Who may see and change usager files (see rdv.territories.policies for the style).

- members of an organisation (basic agents and admins) see the files of their organisation, and
  those of the whole espace when the espace makes usagers visible espace-wide; they change the
  files of their organisation and create files there;
- an usager or a prescripteur booking online creates the file of the person booked for;
- espace admins manage the custom fields of the espace.
"""

from rdv.core.context import Context
from rdv.territories.policies import can_administer
from rdv.usagers.models import CustomField, Usager, UsagerOrganisation


def scope(ctx: Context):
    """The usager files this context may read."""
    if not ctx.is_member:
        return Usager.objects.none()
    return Usager.objects.visible_from(ctx.organisation)


def members_scope(ctx: Context):
    """The files of the context's organisation (those it may change)."""
    if not ctx.is_member:
        return Usager.objects.none()
    return Usager.objects.in_organisation(ctx.organisation)


def can_create(ctx: Context) -> bool:
    """Members, and the public online (whose context always names the organisation)."""
    return ctx.is_member or ctx.is_public


def is_member_of_organisation(ctx: Context, usager: Usager) -> bool:
    return (
        ctx.organisation is not None
        and UsagerOrganisation.objects.filter(usager=usager, organisation=ctx.organisation).exists()
    )


def can_edit(ctx: Context, usager: Usager) -> bool:
    return ctx.is_member and is_member_of_organisation(ctx, usager)


def can_see(ctx: Context, usager: Usager) -> bool:
    return scope(ctx).filter(pk=usager.pk).exists()


def can_add_to_organisation(ctx: Context, usager: Usager) -> bool:
    """Attach an usager to the context's organisation (booking them there attaches them too): a
    member, for a file they may read; an usager online, for themselves and their relatives."""
    if ctx.is_member:
        return can_see(ctx, usager)
    if ctx.is_public and ctx.usager is not None and ctx.in_territory(usager):
        return ctx.usager.pk in (usager.pk, usager.responsible_id)
    return False


def can_manage_custom_fields(ctx: Context) -> bool:
    return can_administer(ctx)


def can_manage_custom_field(ctx: Context, field: CustomField) -> bool:
    return can_manage_custom_fields(ctx) and ctx.in_territory(field)


def custom_fields_scope(ctx: Context):
    if not can_manage_custom_fields(ctx):
        return CustomField.objects.none()
    return CustomField.objects.for_territory(ctx.territory)
