"""Statistics of RDVs for the dashboards of an espace (its admins) and of an organisation (its
members), computed by the database (GROUP BY, conditional counts) in a constant number of queries
whatever the period: one pass over the RDVs grouped by week and motif (statuses, channels, hence
services and motifs), one for the lead time, the motifs' names, and for an espace the SMS query.

Scope (who sees what, as on the established platform, rdv-service-public's `Admin::Organisations::
StatsController` which counts `policy_scope(Rdv)`):
- an espace admin: every RDV of the espace's organisations (the espace dashboard);
- a member of an organisation (basic agent or admin): the RDVs of the organisation they may see
  (rdv.bookings.policies: admins and secretariats every RDV; other agents those of their services
  and those they take part in).

Definitions (the pages state them in French):
- a RDV belongs to the week (Monday to Sunday, in the espace's time zone) of its start;
- the period runs from the first day's midnight to the last day's end, in the espace's time zone;
- « non renseigné »: status unknown and start before now; « à venir »: unknown and start from now;
- no-show rate = noshow / (seen + noshow), over the RDVs of the period that started before now
  (rdv-service-public's « non excusés » over the RDVs whose outcome is known);
- cancellation rate = (excused + revoked) / every RDV of the period;
- lead time = calendar days (espace time) from the day the RDV was created to the day it starts:
  0 is « le jour même »; negative when an agent recorded it after the fact (counted apart, out of
  the median and mean).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from rdv.bookings import policies
from rdv.bookings.models import CreatedBy, Rdv, RdvStatus
from rdv.core.context import Context
from rdv.motifs.models import Motif
from rdv.sms.models import SmsMonthlyUsage
from rdv.territories.models import Organisation

DEFAULT_WEEKS_BEFORE = 12  # the default period: 12 weeks before the current one…
DEFAULT_WEEKS_AFTER = 4  # …to 4 weeks after it
MAX_PERIOD_DAYS = 731  # two years: the longest period a dashboard computes

# What the weekly chart stacks: the statuses, the unknown split into past and future.
PAST_UNKNOWN = "unknown_past"
FUTURE_UNKNOWN = "unknown_future"
STATUS_KEYS = (
    RdvStatus.SEEN.value,
    RdvStatus.NOSHOW.value,
    RdvStatus.EXCUSED.value,
    RdvStatus.REVOKED.value,
    PAST_UNKNOWN,
    FUTURE_UNKNOWN,
)
CHANNEL_KEYS = tuple(choice.value for choice in CreatedBy)

# Lead-time buckets: (key, lowest day, highest day or None), in calendar days.
LEAD_TIME_BUCKETS = (
    ("after", None, -1),
    ("same_day", 0, 0),
    ("1_7", 1, 7),
    ("8_30", 8, 30),
    ("over_30", 31, None),
)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def default_period(today: date) -> tuple[date, date]:
    """From the Monday 12 weeks before this week's to the Sunday 4 weeks after this week's."""
    first = monday(today) - timedelta(weeks=DEFAULT_WEEKS_BEFORE)
    last = monday(today) + timedelta(weeks=DEFAULT_WEEKS_AFTER, days=6)
    return first, last


@dataclass(frozen=True)
class Filters:
    first_day: date
    last_day: date
    organisation_id: int | None = None  # espace dashboard only: one of its organisations
    service_id: int | None = None
    motif_id: int | None = None


@dataclass
class WeekRow:
    week: date  # its Monday
    total: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    seen_past: int = 0  # seen and started before now (the no-show rate's denominator)
    noshow_past: int = 0


@dataclass
class ServiceRow:
    name: str
    weeks: list[int]
    total: int


@dataclass
class MotifRow:
    name: str
    service: str
    total: int
    seen: int
    noshow: int
    cancelled: int


@dataclass
class SmsRow:
    month: date
    messages: int
    segments: int
    refused_segments: int


@dataclass
class Rate:
    numerator: int
    denominator: int

    @property
    def percent(self) -> float | None:
        return None if not self.denominator else round(100 * self.numerator / self.denominator, 1)


@dataclass
class LeadTime:
    buckets: dict[str, int]
    median_days: float | None
    mean_days: float | None
    counted: int  # RDVs in the median and mean (created before or on their day)


@dataclass
class Dashboard:
    filters: Filters
    weeks: list[WeekRow]
    services: list[ServiceRow]
    motifs: list[MotifRow]
    lead_time: LeadTime
    sms: list[SmsRow] | None  # None on an organisation's dashboard (SMS are counted per espace)
    noshow_rate: Rate
    cancellation_rate: Rate

    @property
    def total(self) -> int:
        return sum(row.total for row in self.weeks)

    def status_totals(self) -> dict[str, int]:
        return {key: sum(row.statuses[key] for row in self.weeks) for key in STATUS_KEYS}

    def channel_totals(self) -> dict[str, int]:
        return {key: sum(row.channels[key] for row in self.weeks) for key in CHANNEL_KEYS}


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone)


def scope(ctx: Context) -> QuerySet:
    """The RDVs the dashboard of this context counts (nothing without the right)."""
    if policies.can_view_espace_stats(ctx):
        # A subquery, not a join on the organisation: PostgreSQL then reads each organisation's
        # range of the covering index rdv_org_start_stats_idx (index-only scans).
        espace_organisations = Organisation.objects.filter(territory_id=ctx.territory.pk).values("pk")
        return Rdv.objects.filter(organisation_id__in=espace_organisations)
    if ctx.organisation is not None and policies.can_view_organisation_stats(ctx):
        return policies.scope(ctx)
    return Rdv.objects.none()


def rdvs(ctx: Context, filters: Filters) -> QuerySet:
    """The RDVs counted: the context's, started in the period, filtered."""
    zone = ctx.territory.zone
    queryset = scope(ctx).filter(
        starts_at__gte=_midnight(filters.first_day, zone),
        starts_at__lt=_midnight(filters.last_day + timedelta(days=1), zone),
    )
    if filters.organisation_id is not None:
        queryset = queryset.filter(organisation_id=filters.organisation_id)
    if filters.service_id is not None:
        queryset = queryset.filter(motif__service_id=filters.service_id)
    if filters.motif_id is not None:
        queryset = queryset.filter(motif_id=filters.motif_id)
    return queryset.order_by()


def period_weeks(filters: Filters) -> list[date]:
    """The Mondays of the weeks the period touches."""
    weeks, week = [], monday(filters.first_day)
    while week <= filters.last_day:
        weeks.append(week)
        week += timedelta(weeks=1)
    return weeks


def _week_of(value) -> date:
    return value.date() if isinstance(value, datetime) else value


# COUNT(starts_at), not COUNT(id): starts_at is never null and, unlike id, in the covering index, so
# PostgreSQL answers from the index alone.


def _weekly_by_motif(queryset: QuerySet, zone, now: datetime) -> list[dict]:
    """The one pass over the RDVs for everything but the lead time: per week and motif, every status
    (unknown split at `now`), every channel, and the seen and noshow before now. A few hundred to a
    few thousand rows (weeks × motifs), summed up in Python by week, service and motif."""
    counts = {f"status_{key}": Count("starts_at", filter=Q(status=key)) for key in STATUS_KEYS[:4]}
    counts[f"status_{PAST_UNKNOWN}"] = Count("starts_at", filter=Q(status=RdvStatus.UNKNOWN, starts_at__lt=now))
    counts[f"status_{FUTURE_UNKNOWN}"] = Count("starts_at", filter=Q(status=RdvStatus.UNKNOWN, starts_at__gte=now))
    counts |= {f"channel_{key}": Count("starts_at", filter=Q(created_by=key)) for key in CHANNEL_KEYS}
    counts["seen_past"] = Count("starts_at", filter=Q(status=RdvStatus.SEEN, starts_at__lt=now))
    counts["noshow_past"] = Count("starts_at", filter=Q(status=RdvStatus.NOSHOW, starts_at__lt=now))
    return list(
        queryset.annotate(week=TruncWeek("starts_at", tzinfo=zone))
        .values("week", "motif_id")
        .annotate(total=Count("starts_at"), **counts)
        .order_by()
    )


def _weeks(rows: list[dict], weeks: list[date]) -> list[WeekRow]:
    by_week = {
        week: WeekRow(week=week, statuses=dict.fromkeys(STATUS_KEYS, 0), channels=dict.fromkeys(CHANNEL_KEYS, 0))
        for week in weeks
    }
    for row in rows:
        week = by_week.get(_week_of(row["week"]))
        if week is None:
            continue
        week.total += row["total"]
        week.seen_past += row["seen_past"]
        week.noshow_past += row["noshow_past"]
        for key in STATUS_KEYS:
            week.statuses[key] += row[f"status_{key}"]
        for key in CHANNEL_KEYS:
            week.channels[key] += row[f"channel_{key}"]
    return list(by_week.values())


def _motif_names(rows: list[dict]) -> dict[int, dict]:
    """One small query: the name and service of the motifs counted."""
    ids = {row["motif_id"] for row in rows}
    if not ids:
        return {}
    return {
        motif["pk"]: motif
        for motif in Motif.objects.filter(pk__in=ids).values("pk", "name", "service_id", "service__name")
    }


def _services(rows: list[dict], motifs: dict[int, dict], weeks: list[date]) -> list[ServiceRow]:
    index = {week: position for position, week in enumerate(weeks)}
    services: dict[int, ServiceRow] = {}
    for row in rows:
        motif = motifs[row["motif_id"]]
        service = services.setdefault(
            motif["service_id"], ServiceRow(name=motif["service__name"], weeks=[0] * len(weeks), total=0)
        )
        position = index.get(_week_of(row["week"]))
        if position is not None:
            service.weeks[position] += row["total"]
        service.total += row["total"]
    return sorted(services.values(), key=lambda service: (-service.total, service.name))


def _motifs(rows: list[dict], motifs: dict[int, dict]) -> list[MotifRow]:
    """Per motif name and service (motifs of the same name in several organisations of the espace
    are counted together)."""
    result: dict[tuple[str, str], MotifRow] = {}
    for row in rows:
        motif = motifs[row["motif_id"]]
        key = (motif["name"], motif["service__name"])
        line = result.setdefault(key, MotifRow(name=key[0], service=key[1], total=0, seen=0, noshow=0, cancelled=0))
        line.total += row["total"]
        line.seen += row[f"status_{RdvStatus.SEEN}"]
        line.noshow += row[f"status_{RdvStatus.NOSHOW}"]
        line.cancelled += row[f"status_{RdvStatus.EXCUSED}"] + row[f"status_{RdvStatus.REVOKED}"]
    return sorted(result.values(), key=lambda line: (-line.total, line.name, line.service))


def _days(value) -> int:
    """A difference of dates, as the database returns it (a timedelta), in days."""
    return value.days if isinstance(value, timedelta) else int(value)


def _lead_time(queryset: QuerySet, zone) -> LeadTime:
    """One query: the number of RDVs per lead time in calendar days (a few hundred rows at most),
    from which the buckets, the median and the mean are exact."""
    rows = (
        queryset.annotate(days=TruncDate("starts_at", tzinfo=zone) - TruncDate("created_at", tzinfo=zone))
        .values("days")
        .annotate(count=Count("starts_at"))
        .order_by()
    )
    histogram: dict[int, int] = {}
    for row in rows:
        days = _days(row["days"])
        histogram[days] = histogram.get(days, 0) + row["count"]
    buckets = dict.fromkeys((key for key, _, _ in LEAD_TIME_BUCKETS), 0)
    for days, count in histogram.items():
        for key, low, high in LEAD_TIME_BUCKETS:
            if (low is None or days >= low) and (high is None or days <= high):
                buckets[key] += count
                break
    counted = sum(count for days, count in histogram.items() if days >= 0)
    if not counted:
        return LeadTime(buckets=buckets, median_days=None, mean_days=None, counted=0)
    ordered = sorted((days, count) for days, count in histogram.items() if days >= 0)
    mean = sum(days * count for days, count in ordered) / counted
    return LeadTime(buckets=buckets, median_days=_median(ordered, counted), mean_days=round(mean, 1), counted=counted)


def _median(ordered: list[tuple[int, int]], counted: int) -> float:
    """The median of a histogram sorted by value (the mean of the two middle values when even)."""
    middle = [(counted - 1) // 2, counted // 2]
    values, seen = [], 0
    for days, count in ordered:
        while middle and middle[0] < seen + count:
            values.append(days)
            middle.pop(0)
        seen += count
    return float(median(values))


def _sms(ctx: Context, filters: Filters) -> list[SmsRow]:
    """One query: the espace's SMS counters of the months the period touches (zeros when none)."""
    first_month = filters.first_day.replace(day=1)
    rows = {
        row.month: row
        for row in SmsMonthlyUsage.objects.filter(
            territory_id=ctx.territory.pk, month__gte=first_month, month__lte=filters.last_day
        )
    }
    result, month = [], first_month
    while month <= filters.last_day:
        row = rows.get(month)
        result.append(
            SmsRow(
                month=month,
                messages=row.messages_accepted if row else 0,
                segments=row.segments_accepted if row else 0,
                refused_segments=row.segments_refused if row else 0,
            )
        )
        month = (month + timedelta(days=32)).replace(day=1)
    return result


def dashboard(ctx: Context, filters: Filters, *, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard: 3 queries (two passes over the RDVs, the motifs' names), 4 for
    an espace (its SMS)."""
    now = now or timezone.now()
    zone = ctx.territory.zone
    queryset = rdvs(ctx, filters)
    weeks = period_weeks(filters)
    rows = _weekly_by_motif(queryset, zone, now)
    motifs = _motif_names(rows)
    weekly = _weeks(rows, weeks)
    seen = sum(row.seen_past for row in weekly)
    noshow = sum(row.noshow_past for row in weekly)
    cancelled = sum(row.statuses[RdvStatus.EXCUSED] + row.statuses[RdvStatus.REVOKED] for row in weekly)
    return Dashboard(
        filters=filters,
        weeks=weekly,
        services=_services(rows, motifs, weeks),
        motifs=_motifs(rows, motifs),
        lead_time=_lead_time(queryset, zone),
        sms=_sms(ctx, filters) if ctx.organisation is None else None,
        noshow_rate=Rate(noshow, seen + noshow),
        cancellation_rate=Rate(cancelled, sum(row.total for row in weekly)),
    )
