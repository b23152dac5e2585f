"""From a RDV change to the usagers' messages, in the change's transaction (an audit listener, as
the webhooks): booked by an agent, moved, cancelled (by the service or by the usager), a cancellation
undone (« de nouveau confirmé »), a participant added to or removed from a collective RDV. A move
that keeps the time and the lieu (only the agents changed) tells the usagers nothing and keeps their
reminders. Online bookings are confirmed by e-mail by rdv.online itself (with the prescripteur's
copy) and by SMS from here when the RDV is at most `ONLINE_CONFIRMATION_SMS_MAX_HOURS` (48) ahead;
their later moves and cancellations come through here.

Rules, as on the established platform: nothing for a RDV that has started; nothing when the motif is
« visible et non notifié » or « invisible »; e-mail only to usagers who accept e-mails and have an
address; a relative's messages go to the responsible usager. A move or a cancellation cancels the
reminders still waiting (a moved RDV gets reminders for its new time from the scheduler).
"""

from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from rdv.bookings.models import CANCELLED_STATUSES, CreatedBy, Rdv, RdvStatus
from rdv.motifs.models import Visibility
from rdv.notifications.messages import rdv_email, rdv_sms
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from rdv.outbox.services import enqueue_email
from rdv.sms.services import InvalidMobile, enqueue_sms

KINDS = {
    "rdv.created": "created",
    "rdv.moved": "moved",
    "rdv.cancelled": "cancelled",
    "rdv.participant_added": "created",
    "rdv.participant_removed": "cancelled",
}
STALE_REMINDER_ERROR = "Rappel retiré : le rendez-vous a été déplacé ou annulé."
# What a move may change that the usagers read (rdv.bookings.services._describe's names): a move of
# the agents alone tells them nothing.
USAGER_FACTS = ("starts_at", "ends_at", "lieu")
# The journal's labels of the statuses a cancellation leaves (rdv.bookings.services._set_status).
CANCELLED_LABELS = frozenset(RdvStatus(status).label for status in CANCELLED_STATUSES)


def notifiable(rdv: Rdv, now=None) -> bool:
    return rdv.motif.visibility == Visibility.VISIBLE_AND_NOTIFIED and rdv.starts_at > (now or timezone.now())


def recipient_of(person):
    """Who receives the messages about `person`'s RDVs: their responsible usager for a relative."""
    return person.responsible if person.responsible_id else person


def usager_kind(entry, rdv: Rdv) -> str | None:
    """The usagers' message a change of `rdv` calls for (a key of messages.SUBJECTS), or None."""
    changes = entry.changes or {}
    if entry.action == "rdv.moved":
        return "moved" if any(name in changes for name in USAGER_FACTS) else None
    if entry.action == "rdv.status_changed":
        # Back to « à venir » from a cancellation; the other status changes tell the usagers nothing.
        was = (changes.get("status") or [None])[0]
        return "restored" if rdv.status == RdvStatus.UNKNOWN and was in CANCELLED_LABELS else None
    return KINDS.get(entry.action)


def on_action(entry, obj, related=None) -> None:
    if not isinstance(obj, Rdv):
        return
    rdv = obj
    kind = usager_kind(entry, rdv)
    if kind is None:
        return
    if entry.action in ("rdv.moved", "rdv.cancelled"):
        cancel_waiting_reminders(rdv)
    if not notifiable(rdv):
        return
    if entry.action == "rdv.created" and rdv.created_by != CreatedBy.AGENT:
        # rdv.online confirms by e-mail (with the prescripteur's copy); the SMS comes from here, and
        # only for a RDV close enough: a confirmation SMS for a RDV weeks ahead costs without helping.
        if rdv.starts_at - timezone.now() <= timedelta(hours=settings.ONLINE_CONFIRMATION_SMS_MAX_HOURS):
            for participation in rdv.participations.select_related("usager__responsible").order_by("pk"):
                notify_usager("created", rdv, participation.usager, email=False)
        return
    if entry.action.startswith("rdv.participant_"):
        people = [(related or {}).get("usager")]
    else:
        people = [p.usager for p in rdv.participations.select_related("usager__responsible").order_by("pk")]
    for person in people:
        if person is not None:
            notify_usager(kind, rdv, person)


def notify_usager(kind: str, rdv: Rdv, person, *, purpose: str = Purpose.RDV_NOTIFICATION, email: bool = True):
    """Write the messages of `kind` about `rdv` for `person` (to them or their responsible usager):
    an e-mail if they accept e-mails and have an address, an SMS if they accept SMS and have a
    mobile number (a cancellation by the usager themselves gets no SMS, as on the established
    platform). Returns the e-mail's delivery or None."""
    recipient = recipient_of(person)
    cancelled_by_usager = rdv.status == RdvStatus.EXCUSED
    if recipient.notify_by_sms and recipient.phone and not (kind == "cancelled" and cancelled_by_usager):
        with suppress(InvalidMobile):  # a landline: no SMS
            enqueue_sms(
                territory=rdv.organisation.territory,
                organisation=rdv.organisation,
                to=recipient.phone,
                text=rdv_sms(kind, rdv, person),
                purpose=purpose,
                about=rdv,
                expires_at=rdv.starts_at,
            )
    if not (email and recipient.notify_by_email and recipient.email):
        return None
    message = rdv_email(
        kind,
        rdv,
        to=recipient.email,
        recipient=recipient,
        person=person,
        cancelled_by_usager=cancelled_by_usager,
    )
    return enqueue_email(
        to=message.to,
        subject=message.subject,
        text=message.text,
        html=message.html,
        attachments=message.attachments,
        purpose=purpose,
        about=rdv,
        territory=rdv.organisation.territory,
        organisation=rdv.organisation,
        expires_at=rdv.starts_at,  # never sent once the RDV has started, whatever the retries
    )


def cancel_waiting_reminders(rdv: Rdv) -> int:
    return Delivery.objects.filter(
        purpose=Purpose.REMINDER,
        content_type=ContentType.objects.get_for_model(Rdv),
        object_id=rdv.pk,
        channel__in=(Channel.EMAIL, Channel.SMS),
        status__in=(Status.PENDING, Status.FAILING),
    ).update(status=Status.CANCELLED, next_attempt_at=None, last_error=STALE_REMINDER_ERROR)
