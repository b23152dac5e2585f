"""What the espace's SMS page reads: this month's counter, per provider, scoped by the context."""

from dataclasses import dataclass, field
from datetime import date

from rdv.core.context import Context
from rdv.sms import providers, services
from rdv.sms.models import SmsMonthlyUsage, SmsSettings


@dataclass(frozen=True)
class ProviderCount:
    name: str
    label: str
    messages: int
    segments: int


@dataclass(frozen=True)
class MonthSummary:
    month: date
    month_label: str
    budget: int  # 0: no budget
    warning_percent: int
    messages_accepted: int = 0
    segments_accepted: int = 0
    messages_refused: int = 0
    segments_refused: int = 0
    messages_undelivered: int = 0
    segments_undelivered: int = 0
    by_provider: list[ProviderCount] = field(default_factory=list)

    @property
    def percent_used(self) -> int | None:
        return self.segments_accepted * 100 // self.budget if self.budget else None

    @property
    def segments_sent(self) -> int:
        return sum(row.segments for row in self.by_provider)

    @property
    def messages_sent(self) -> int:
        return sum(row.messages for row in self.by_provider)


def sms_settings(ctx: Context) -> SmsSettings | None:
    """The espace's SMS settings (the defaults, unsaved, until first needed), None for who may not
    see them."""
    if not services.can_manage_sms(ctx):
        return None
    return SmsSettings.objects.filter(territory=ctx.territory).first() or SmsSettings(territory=ctx.territory)


def month_summary(ctx: Context, month: date | None = None) -> MonthSummary | None:
    """This month's (or `month`'s) counter of the context's espace, for its admins."""
    config = sms_settings(ctx)
    if config is None:
        return None
    month = month or services.month_of(ctx.territory)
    usage = SmsMonthlyUsage.objects.filter(territory=ctx.territory, month=month).first()
    common = {
        "month": month,
        "month_label": services.month_label(month),
        "budget": config.monthly_segment_budget,
        "warning_percent": config.warning_percent,
    }
    if usage is None:
        return MonthSummary(**common)
    by_provider = [
        ProviderCount(name, providers.provider_label(name), int(row.get("messages", 0)), int(row.get("segments", 0)))
        for name, row in sorted((usage.sent_by_provider or {}).items())
    ]
    return MonthSummary(
        **common,
        messages_accepted=usage.messages_accepted,
        segments_accepted=usage.segments_accepted,
        messages_refused=usage.messages_refused,
        segments_refused=usage.segments_refused,
        messages_undelivered=usage.messages_undelivered,
        segments_undelivered=usage.segments_undelivered,
        by_provider=by_provider,
    )
