"""Who may see and change motifs. Views answer 404 when a predicate is false.

- espace admin: every motif of every organisation of the espace (espace pages);
- organisation admin: the motifs of their organisation (organisation pages);
- basic agent: reads the list of their organisation's motifs;
- anybody else: nothing.
"""

from rdv.accounts.perms import is_organisation_admin


def can_manage_organisation_motifs(agent, organisation) -> bool:
    return is_organisation_admin(agent, organisation)
