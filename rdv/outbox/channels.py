"""Channel senders: one small function per channel, found through a registry.

A sender is given a claimed `Delivery` row and either returns the provider's id of the message
or raises `TemporaryError` (try again later) or `PermanentError` (never retry). It must not
touch the database: the outbox records the outcome. E-mail is registered here; the SMS channel
(a provider call) and the webhook channel (an HTTP POST with signature headers) register theirs
the same way.
"""

import base64
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.validators import validate_email

from rdv.outbox.models import Channel, Delivery


@dataclass(frozen=True)
class SendReport:
    """What a sender may return instead of a plain provider id: what the other side answered,
    kept in the attempt's log row (e.g. an HTTP status and the start of the response body)."""

    provider_id: str = ""
    status_code: int | None = None
    response_excerpt: str = ""


class DeliveryError(Exception):
    """A send failed; `str(error)` is stored as the delivery's last error (after redaction).
    `status_code` / `response_excerpt`: what the other side answered, if it did."""

    def __init__(self, message: str = "", *, status_code: int | None = None, response_excerpt: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.response_excerpt = response_excerpt


class TemporaryError(DeliveryError):
    pass


class PermanentError(DeliveryError):
    pass


Sender = Callable[[Delivery], "str | SendReport"]
_SENDERS: dict[str, Sender] = {}
# Called after an attempt's outcome is recorded (outside the lease): (delivery, status, report)
# where status is a Status value or "lease_lost" and report the SendReport or DeliveryError.
OutcomeHook = Callable[[Delivery, str, object], None]
_OUTCOME_HOOKS: dict[str, list[OutcomeHook]] = {}


def on_outcome(channel: str) -> Callable[[OutcomeHook], OutcomeHook]:
    """Register a function told of every recorded attempt of the channel (e.g. webhooks mark an
    endpoint failing after repeated failures)."""

    def decorator(hook: OutcomeHook) -> OutcomeHook:
        hooks = _OUTCOME_HOOKS.setdefault(channel, [])
        if hook not in hooks:
            hooks.append(hook)
        return hook

    return decorator


def outcome_hooks(channel: str) -> list[OutcomeHook]:
    return list(_OUTCOME_HOOKS.get(channel, ()))


def register(channel: str) -> Callable[[Sender], Sender]:
    def decorator(sender: Sender) -> Sender:
        _SENDERS[channel] = sender
        return sender

    return decorator


def sender_for(channel: str) -> Sender:
    try:
        return _SENDERS[channel]
    except KeyError:
        raise ValueError(f"No sender registered for channel {channel!r}") from None


def has_sender(channel: str) -> bool:
    return channel in _SENDERS


# E-mail ---------------------------------------------------------------------------------------


def message_id_domain() -> str:
    configured = getattr(settings, "OUTBOX_MESSAGE_ID_DOMAIN", "")
    if configured:
        return configured
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


def email_message_id(delivery: Delivery) -> str:
    """The `Message-ID` header: stable across attempts, so a receiver can drop duplicates."""
    return f"<{delivery.message_id}@{message_id_domain()}>"


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"SMTP {code} {text}".strip()


def _smtp_error(code: int, reply: bytes | str) -> DeliveryError:
    message = _reply(code, reply)
    return PermanentError(message) if 500 <= code < 600 else TemporaryError(message)


@register(Channel.EMAIL)
def send_email(delivery: Delivery) -> str:
    """Send through Django's e-mail backend (SMTP in production, with `EMAIL_TIMEOUT`).

    Permanent: an invalid address, a recipient or the content refused with a 5xx reply.
    Everything else is temporary, including 5xx replies about our own set-up (authentication,
    sender, greeting), which must not abandon every message while someone fixes the settings.
    """
    try:
        validate_email(delivery.recipient)
    except ValidationError:
        raise PermanentError("Adresse e-mail invalide.") from None
    message_id = email_message_id(delivery)
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        headers={**(delivery.headers or {}), "Message-ID": message_id},
    )
    if delivery.html:
        message.attach_alternative(delivery.html, "text/html")
    for attachment in delivery.attachments or []:
        message.attach(
            attachment["filename"],
            base64.b64decode(attachment["content_base64"]),
            attachment.get("mimetype") or "application/octet-stream",
        )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise _smtp_error(code, reply) from None
    except smtplib.SMTPDataError as error:
        raise _smtp_error(error.smtp_code, error.smtp_error) from None
    except smtplib.SMTPResponseException as error:  # authentication, sender, greeting: our set-up
        raise TemporaryError(_reply(error.smtp_code, error.smtp_error)) from None
    except (BadHeaderError, UnicodeError) as error:
        raise PermanentError(f"Message invalide : {error}") from None
    except (smtplib.SMTPException, OSError) as error:  # disconnections, timeouts, refused connections
        raise TemporaryError(f"{type(error).__name__}: {error}") from None
    return message_id
