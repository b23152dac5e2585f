"""The outbox sender of the SMS channel and its outcome hook (registered in SmsConfig.ready()).

The sender reads everything from the claimed row (recipient, GSM-7 text, and in `headers` the
provider, fallback and sender name chosen at enqueue time) and never touches the database, as
every outbox sender. It sends through the espace's provider; on a temporary failure of that one it
tries the fallback provider in the same attempt. A permanent error (the message itself refused)
is not retried, and not sent to the fallback either: it would refuse it too.
"""

import dataclasses
import logging

from django.core.exceptions import ImproperlyConfigured

from rdv.outbox.channels import PermanentError, SendReport, TemporaryError
from rdv.outbox.models import Delivery, Status
from rdv.outbox.policies import Subject
from rdv.sms import providers, services
from rdv.sms.models import SmsSettings

logger = logging.getLogger(__name__)


def _send_with(name: str, delivery: Delivery, sender: str) -> SendReport:
    try:
        provider = providers.get_provider(name)
        result = provider.send(delivery.recipient, delivery.text, sender)
    except ImproperlyConfigured as error:  # our settings: wait for a fix, do not abandon
        raise TemporaryError(f"{name} : configuration invalide ({error})") from None
    except (TemporaryError, PermanentError) as error:
        raise type(error)(
            f"{name} : {error}", status_code=error.status_code, response_excerpt=error.response_excerpt
        ) from None
    except Exception as error:  # a bug or an unforeseen failure of one provider: try the other one
        logger.exception("SMS provider %s failed unexpectedly", name)
        raise TemporaryError(f"{name} : {type(error).__name__} {error}".strip()) from None
    return dataclasses.replace(result, provider_id=f"{name}:{result.provider_id}")


def send_sms(delivery: Delivery) -> SendReport:
    """Send one SMS; the provider id is « name:id » of the provider that took it."""
    headers = delivery.headers or {}
    primary = headers.get("provider") or providers.default_provider_name()
    fallback = headers.get("fallback") or ""
    sender = headers.get("sender") or ""
    try:
        return _send_with(primary, delivery, sender)
    except TemporaryError as first:
        if not fallback or fallback == primary:
            raise
        logger.warning("SMS delivery %s: %s failed (%s); trying fallback %s.", delivery.pk, primary, first, fallback)
        try:
            report = _send_with(fallback, delivery, sender)
        except (TemporaryError, PermanentError) as second:
            # The primary provider may recover: try again later, with both failures in the log.
            raise TemporaryError(
                f"{first} ; secours {second}",
                status_code=second.status_code,
                response_excerpt=second.response_excerpt,
            ) from None
        note = f"[{first}] "
        return SendReport(
            provider_id=report.provider_id,
            status_code=report.status_code,
            response_excerpt=(note + report.response_excerpt)[:1000],
        )


def on_sms_outcome(delivery: Delivery, status: str, report: object) -> None:
    """Count each SMS sent for the provider that took it, and each accepted SMS abandoned."""
    if status == Status.SENT and isinstance(report, SendReport):
        provider = report.provider_id.partition(":")[0]
        services.record_outcome(delivery, provider=provider, sent=True)
    elif status == Status.ABANDONED:
        services.record_outcome(delivery, sent=False)


def _admins_of_their_espace(ctx, settings_rows) -> set:
    if not ctx.is_territory_admin:
        return set()
    return {row.pk for row in settings_rows if row.territory_id == ctx.territory.pk}


# The warning e-mails are about the espace's SmsSettings: its admins see them in full on the
# outbox pages when they fail.
SETTINGS_SUBJECT = Subject(
    queryset=lambda: SmsSettings.objects.select_related("territory"),
    visible=_admins_of_their_espace,
    describe=lambda row, visible: "Alerte de budget SMS de l'espace",
)
