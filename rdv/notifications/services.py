"""What an usager changes from the link in their e-mails: how they want to be told."""

from django.core import signing
from django.db import transaction

from rdv.core.audit import log_action
from rdv.notifications.messages import PREFERENCES_SALT
from rdv.usagers.models import Usager

PREFERENCES_MAX_AGE = 60 * 60 * 24 * 365  # a link from an e-mail of the last year


def usager_from_token(token: str) -> Usager | None:
    """The usager of a preferences link (signed, not older than a year), or None."""
    if not token or len(token) > 300:
        return None
    try:
        data = signing.loads(token, salt=PREFERENCES_SALT, max_age=PREFERENCES_MAX_AGE)
    except signing.BadSignature:
        return None
    usager_id = data.get("u") if isinstance(data, dict) else None
    if not isinstance(usager_id, int):
        return None
    return Usager.objects.select_related("territory").filter(pk=usager_id).first()


@transaction.atomic
def set_preferences(usager: Usager, *, by_email: bool, by_sms: bool) -> dict:
    usager = Usager.objects.select_for_update().get(pk=usager.pk)
    changes = {}
    if usager.notify_by_email != by_email:
        changes["notify_by_email"] = [usager.notify_by_email, by_email]
    if usager.notify_by_sms != by_sms:
        changes["notify_by_sms"] = [usager.notify_by_sms, by_sms]
    if changes:
        usager.notify_by_email, usager.notify_by_sms = by_email, by_sms
        usager.save(update_fields=["notify_by_email", "notify_by_sms", "updated_at"])
        log_action("L'usager (lien des e-mails)", "usager.updated", usager, changes)
    return changes
