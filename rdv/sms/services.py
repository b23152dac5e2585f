"""Sending SMS through the outbox, within each espace's monthly budget, and the espace's SMS settings.

    enqueue_sms(territory=…, organisation=…, to="06 12 34 56 78", text="…", purpose=…, about=rdv)

The text is made GSM-7 (`gsm.to_gsm`), its segments counted and stored with the row
(`Delivery.headers`: segments, encoding, month, provider, fallback, sender). The budget is checked
against the espace's monthly counter (`SmsMonthlyUsage`, locked for the check): over it the SMS is
written as cancelled (« Budget SMS du mois épuisé ») and counted as refused; crossing the warning
threshold sends one e-mail to the espace admins per month. The outbox sender (`rdv.sms.channel`)
sends through the provider named in the row and falls back to the second one on a temporary failure.
"""

import logging
from datetime import date, datetime

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.dates import MONTHS
from rdv.core.errors import DomainError
from rdv.outbox import services as outbox
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from rdv.sms import gsm, providers
from rdv.sms.models import SmsMonthlyUsage, SmsSettings

logger = logging.getLogger(__name__)

BUDGET_EXHAUSTED = "Budget SMS du mois épuisé"
# Metropolitan France and the overseas departments and collectivities with French mobile numbers.
FRENCH_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"})
MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
BUDGET_MAX = 10_000_000


class InvalidMobile(DomainError, ValueError):
    """Not a French mobile number: no SMS can go there."""

    MESSAGE = (
        "Ce numéro n'est pas un numéro de téléphone mobile français valide (métropole ou outre-mer) : "
        "aucun SMS ne peut y être envoyé."
    )

    def __init__(self):
        super().__init__("invalid_mobile", self.MESSAGE, field="to")


# National forms (« 0692… ») are read in these regions in turn: metropolitan France first, then the
# overseas departments whose numbers also start with 0 (La Réunion, Mayotte, Guadeloupe…).
NATIONAL_REGIONS = ("FR", "RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")


def _french_mobile(number) -> bool:
    return (
        phonenumbers.is_valid_number(number)
        and phonenumbers.region_code_for_number(number) in FRENCH_REGIONS
        and phonenumbers.number_type(number) in MOBILE_TYPES
    )


def normalise_mobile(raw: str) -> str:
    """E.164 form of a French mobile number, metropolitan or overseas, typed in any usual way
    (« 06 12 34 56 78 », « 0692 12 34 56 », « +687 75 12 34 »); InvalidMobile otherwise
    (landlines and foreign numbers included)."""
    raw = (raw or "").strip()
    for region in NATIONAL_REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            raise InvalidMobile() from None
        if _french_mobile(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if raw.startswith("+") or raw.startswith("00"):
            break  # an international form means the same in every region
    raise InvalidMobile()


def month_of(territory) -> date:
    """The first day of the espace's calendar month now."""
    return timezone.localdate(timezone=territory.zone).replace(day=1)


def month_label(month: date) -> str:
    return f"{MONTHS[month.month - 1]} {month.year}"


def settings_for(territory) -> SmsSettings:
    """The espace's SMS settings, created with the defaults the first time."""
    config, _ = SmsSettings.objects.get_or_create(territory=territory)
    return config


def providers_for(config: SmsSettings) -> tuple[str, str]:
    """(provider, fallback) names for the espace: a name no longer configured falls back to the
    platform's default provider / to no fallback."""
    primary = config.provider if config.provider in settings.SMS_PROVIDERS else providers.default_provider_name()
    if config.provider and config.provider != primary:
        logger.warning(
            "SMS provider %r of espace %s is not configured; using %r.", config.provider, config.territory_id, primary
        )
    fallback = config.fallback_provider
    if fallback not in settings.SMS_PROVIDERS or fallback == primary:
        fallback = ""
    return primary, fallback


def _locked_usage(territory, month: date) -> SmsMonthlyUsage:
    SmsMonthlyUsage.objects.get_or_create(territory=territory, month=month)
    return SmsMonthlyUsage.objects.select_for_update().get(territory=territory, month=month)


def admin_emails(territory) -> list[str]:
    """The active espace admins' addresses."""
    emails = territory.admin_roles.filter(agent__is_active=True).values_list("agent__email", flat=True)
    return sorted({email for email in emails if email})


def _warn_admins(config: SmsSettings, usage: SmsMonthlyUsage) -> None:
    """One e-mail per admin: the espace crossed its warning threshold this month."""
    territory = config.territory
    budget = config.monthly_segment_budget
    percent = usage.segments_accepted * 100 // budget
    url = settings.SITE_URL + reverse("espace_settings_sms", args=[territory.pk])
    subject = f"SMS : {percent} % du budget du mois atteint pour l'espace {territory.name}"
    text = (
        "Bonjour,\n\n"
        f"L'espace {territory.name} a utilisé {usage.segments_accepted} segments SMS sur un budget de "
        f"{budget} pour {month_label(usage.month)} ({percent} %, seuil d'alerte : {config.warning_percent} %).\n\n"
        "Une fois le budget atteint, les SMS ne sont plus envoyés jusqu'à la fin du mois "
        "(les e-mails continuent de partir).\n\n"
        f"Pour consulter la consommation ou modifier le budget : {url}\n\n"
        "Ce message est envoyé une seule fois par mois.\n"
    )
    for email in admin_emails(territory):
        outbox.enqueue_email(
            to=email, subject=subject, text=text, purpose=Purpose.OTHER, about=config, territory=territory
        )
    config.warned_for_month = usage.month
    SmsSettings.objects.filter(pk=config.pk).update(warned_for_month=usage.month)


@transaction.atomic
def enqueue_sms(
    *,
    territory,
    organisation=None,
    to: str,
    text: str,
    purpose: str,
    about=None,
    expires_at: datetime | None = None,
) -> Delivery:
    """Write one SMS to send, in the caller's transaction (outbox). Raises InvalidMobile for a
    number that is not a French mobile, DomainError("empty_sms") for an empty text. Over the
    espace's monthly budget the row is written cancelled (« Budget SMS du mois épuisé ») and
    nothing is sent: callers need not check the budget themselves."""
    recipient = normalise_mobile(to)
    text = gsm.to_gsm(text or "").strip()
    if not text:
        raise DomainError("empty_sms", "Le texte du SMS est vide.", field="text")
    encoding, count = gsm.segments(text)
    config = settings_for(territory)
    month = month_of(territory)
    usage = _locked_usage(territory, month)  # serialises the budget check of the espace's month
    config.refresh_from_db()
    primary, fallback = providers_for(config)
    headers = {
        "segments": count,
        "encoding": encoding,
        "length": gsm.length(text),
        "month": month.isoformat(),
        "provider": primary,
        "fallback": fallback,
        "sender": settings.SMS_SENDER,
    }
    budget = config.monthly_segment_budget
    if budget and usage.segments_accepted + count > budget:
        usage.messages_refused += 1
        usage.segments_refused += count
        usage.save(update_fields=["messages_refused", "segments_refused"])
        return Delivery.objects.create(
            channel=Channel.SMS,
            purpose=purpose,
            recipient=recipient,
            text=text,
            headers={**headers, "refused": "budget"},
            status=Status.CANCELLED,
            next_attempt_at=None,
            last_error=BUDGET_EXHAUSTED,
            expires_at=expires_at,
            about=about,
            territory=territory,
            organisation=organisation,
        )
    usage.messages_accepted += 1
    usage.segments_accepted += count
    usage.save(update_fields=["messages_accepted", "segments_accepted"])
    delivery = outbox.enqueue(
        channel=Channel.SMS,
        recipient=recipient,
        text=text,
        headers=headers,
        purpose=purpose,
        about=about,
        territory=territory,
        organisation=organisation,
        expires_at=expires_at,
    )
    if budget and config.warned_for_month != month and usage.segments_accepted * 100 >= budget * config.warning_percent:
        _warn_admins(config, usage)
    return delivery


def record_outcome(delivery: Delivery, *, provider: str = "", sent: bool) -> None:
    """Count a sent SMS for its provider, or an accepted one abandoned, in the month it was
    accepted (called by the outbox after each recorded attempt; see rdv.sms.channel)."""
    headers = delivery.headers or {}
    if delivery.territory_id is None or not headers.get("month"):
        return
    count = int(headers.get("segments") or 1)
    month = date.fromisoformat(headers["month"])
    with transaction.atomic():
        usage = _locked_usage(delivery.territory, month)
        if sent:
            by_provider = dict(usage.sent_by_provider or {})
            row = dict(by_provider.get(provider) or {"messages": 0, "segments": 0})
            row["messages"] += 1
            row["segments"] += count
            by_provider[provider] = row
            usage.sent_by_provider = by_provider
            usage.save(update_fields=["sent_by_provider"])
        else:
            usage.messages_undelivered += 1
            usage.segments_undelivered += count
            usage.save(update_fields=["messages_undelivered", "segments_undelivered"])


# Settings page -------------------------------------------------------------------------------


def can_manage_sms(ctx: Context) -> bool:
    """The espace's SMS settings and counter: its admins (and the system)."""
    return ctx.is_territory_admin


@transaction.atomic
def update_sms_settings(
    ctx: Context,
    *,
    monthly_segment_budget: int,
    warning_percent: int,
    provider: str,
    fallback_provider: str,
) -> dict:
    """Save the espace's SMS budget, warning threshold and providers; returns the changes (field
    -> [old, new]), logged as « territory.sms_settings_updated ». A new budget or threshold lets the
    warning e-mail go again this month when the new threshold is crossed."""
    require(can_manage_sms(ctx))
    if isinstance(monthly_segment_budget, bool) or not isinstance(monthly_segment_budget, int):
        raise DomainError("budget_invalid", budget_message(), field="monthly_segment_budget")
    if not 0 <= monthly_segment_budget <= BUDGET_MAX:
        raise DomainError("budget_invalid", budget_message(), field="monthly_segment_budget")
    if isinstance(warning_percent, bool) or not isinstance(warning_percent, int) or not 1 <= warning_percent <= 100:
        raise DomainError(
            "warning_percent_invalid",
            "Le seuil d'alerte : saisissez un pourcentage entier entre 1 et 100.",
            field="warning_percent",
        )
    names = providers.provider_names()
    if provider and provider not in names:
        raise DomainError("provider_unknown", "Choisissez un fournisseur proposé.", field="provider")
    if fallback_provider and fallback_provider not in names:
        raise DomainError(
            "provider_unknown", "Choisissez un fournisseur de secours proposé.", field="fallback_provider"
        )
    if fallback_provider and fallback_provider == (provider or providers.default_provider_name()):
        raise DomainError(
            "fallback_same_as_provider",
            "Le fournisseur de secours doit être différent du fournisseur principal.",
            field="fallback_provider",
        )
    settings_for(ctx.territory)
    config = SmsSettings.objects.select_for_update().get(territory=ctx.territory)
    values = {
        "monthly_segment_budget": monthly_segment_budget,
        "warning_percent": warning_percent,
        "provider": provider,
        "fallback_provider": fallback_provider,
    }
    changes = {}
    for name, value in values.items():
        old = getattr(config, name)
        if old != value:
            changes[name] = [old, value]
            setattr(config, name, value)
    if not changes:
        return changes
    fields = list(changes)
    if {"monthly_segment_budget", "warning_percent"} & set(changes):
        config.warned_for_month = None
        fields.append("warned_for_month")
    config.save(update_fields=fields)
    log_action(ctx.actor, "territory.sms_settings_updated", config, changes, territory=ctx.territory)
    return changes


def budget_message() -> str:
    return (
        f"Le budget mensuel : saisissez un nombre entier de segments entre 0 et {BUDGET_MAX:,}".replace(",", " ")
        + " (0 : pas de budget)."
    )
