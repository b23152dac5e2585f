"""Who may see and change motifs. Views answer 404 when a predicate is false.

- espace admin: every motif of every organisation of the espace (espace pages);
- organisation admin: the motifs of their organisation (organisation pages);
- basic agent: reads the list of their organisation's motifs;
- anybody else: nothing.
"""

from rdv.accounts.perms import can_access_organisation, is_organisation_admin, is_territory_admin


def can_manage_territory_motifs(agent, territory) -> bool:
    return is_territory_admin(agent, territory)


def can_view_organisation_motifs(agent, organisation) -> bool:
    return can_access_organisation(agent, organisation)


def can_manage_organisation_motifs(agent, organisation) -> bool:
    return is_organisation_admin(agent, organisation)


def can_manage_motif(agent, motif) -> bool:
    organisation = motif.organisation
    return is_territory_admin(agent, organisation.territory) or is_organisation_admin(agent, organisation)
