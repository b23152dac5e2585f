"""Who may see and change usager files. Plain predicates; views answer 404 when one is false."""

from rdv.accounts.perms import can_access_organisation
from rdv.territories.models import Organisation
from rdv.usagers.models import Usager, UsagerOrganisation


def is_member(usager: Usager, organisation: Organisation) -> bool:
    return UsagerOrganisation.objects.filter(usager=usager, organisation=organisation).exists()


def can_add_usager_to_organisation(agent, organisation: Organisation, usager: Usager) -> bool:
    return (
        can_access_organisation(agent, organisation)
        and usager.territory_id == organisation.territory_id
        and organisation.territory.usagers_visible_territory_wide
        and not is_member(usager, organisation)
    )
