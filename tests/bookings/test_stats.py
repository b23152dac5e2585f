"""The dashboards' figures (rdv.bookings.stats) on a small fabricated data set: each metric and
definition, week edges in Paris and overseas, the period's edges, the scope of each viewer, and a
constant number of queries whatever the period."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv.accounts.context import organisation_context, territory_context
from rdv.bookings import policies, stats
from rdv.bookings.models import CreatedBy, Rdv, RdvAgent, RdvStatus
from rdv.sms.models import SmsMonthlyUsage
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
# « Now » of these tests: Thursday 26 November 2026, noon in Paris.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=PARIS)


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def make(organisation, motif, starts_at, *, status=RdvStatus.UNKNOWN, created_by=CreatedBy.AGENT, created_at=None):
    rdv = Rdv.objects.create(
        organisation=organisation,
        motif=motif,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        status=status,
        created_by=created_by,
    )
    Rdv.objects.filter(pk=rdv.pk).update(created_at=created_at or starts_at - timedelta(days=3))
    return rdv


def filters(first: date, last: date, **kwargs) -> stats.Filters:
    return stats.Filters(first_day=first, last_day=last, **kwargs)


def espace_ctx(world):
    return territory_context(world.territory_admin, world.territory.pk)


def organisation_ctx(agent, organisation):
    return organisation_context(agent, organisation.pk)


@pytest.fixture
def motifs(alice):
    social = factories.MotifFactory(organisation=alice.organisation, service=alice.service, name="Accueil")
    other_service = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=alice.territory, service=other_service)
    pmi = factories.MotifFactory(organisation=alice.organisation, service=other_service, name="Consultation PMI")
    nord = factories.MotifFactory(organisation=alice.other_organisation, service=alice.service, name="Accueil")
    return {"social": social, "pmi": pmi, "nord": nord, "pmi_service": other_service}


def test_default_period_is_twelve_weeks_back_to_four_weeks_ahead():
    first, last = stats.default_period(date(2026, 11, 26))  # a Thursday
    assert first == date(2026, 8, 31)  # the Monday 12 weeks before this week's Monday (23/11)
    assert last == date(2026, 12, 27)  # the Sunday 4 weeks after this week
    assert first.weekday() == 0 and last.weekday() == 6


def test_statuses_and_channels_per_week_with_unknown_split_at_now(alice, motifs):
    org, motif = alice.organisation, motifs["social"]
    make(org, motif, local(PARIS, 2026, 11, 16, 9), status=RdvStatus.SEEN)
    make(org, motif, local(PARIS, 2026, 11, 17, 9), status=RdvStatus.NOSHOW, created_by=CreatedBy.USAGER)
    make(org, motif, local(PARIS, 2026, 11, 18, 9), status=RdvStatus.EXCUSED, created_by=CreatedBy.PRESCRIPTEUR)
    make(org, motif, local(PARIS, 2026, 11, 26, 11, 59))  # unknown, started before now: not filled in
    make(org, motif, local(PARIS, 2026, 11, 26, 12, 0))  # unknown, from now on: to come
    make(org, motif, local(PARIS, 2026, 11, 27, 9), status=RdvStatus.REVOKED, created_by=CreatedBy.USAGER)

    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 16), date(2026, 11, 29)), now=NOW)

    assert [row.week for row in data.weeks] == [date(2026, 11, 16), date(2026, 11, 23)]
    first, second = data.weeks
    assert first.statuses == {
        "seen": 1,
        "noshow": 1,
        "excused": 1,
        "revoked": 0,
        "unknown_past": 0,
        "unknown_future": 0,
    }
    assert second.statuses == {
        "seen": 0,
        "noshow": 0,
        "excused": 0,
        "revoked": 1,
        "unknown_past": 1,
        "unknown_future": 1,
    }
    assert first.channels == {"agent": 1, "usager": 1, "prescripteur": 1}
    assert second.channels == {"agent": 2, "usager": 1, "prescripteur": 0}
    assert (first.total, second.total, data.total) == (3, 3, 6)
    assert data.status_totals()["unknown_past"] == 1
    assert data.channel_totals() == {"agent": 3, "usager": 2, "prescripteur": 1}


def test_noshow_rate_counts_past_seen_and_noshow_only(alice, motifs):
    org, motif = alice.organisation, motifs["social"]
    for day in (2, 3, 4):
        make(org, motif, local(PARIS, 2026, 11, day, 10), status=RdvStatus.SEEN)
    make(org, motif, local(PARIS, 2026, 11, 5, 10), status=RdvStatus.NOSHOW)
    make(org, motif, local(PARIS, 2026, 11, 6, 10), status=RdvStatus.EXCUSED)  # not in the rate
    make(org, motif, local(PARIS, 2026, 11, 6, 11))  # unknown: not in the rate
    make(org, motif, local(PARIS, 2026, 11, 30, 10), status=RdvStatus.SEEN)  # after now: not in the rate

    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 1), date(2026, 11, 30)), now=NOW)

    assert (data.noshow_rate.numerator, data.noshow_rate.denominator) == (1, 4)
    assert data.noshow_rate.percent == 25.0
    assert (data.cancellation_rate.numerator, data.cancellation_rate.denominator) == (1, 7)
    assert data.cancellation_rate.percent == 14.3


def test_rates_are_none_without_rdvs(alice):
    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 1), date(2026, 11, 30)), now=NOW)
    assert data.noshow_rate.percent is None and data.cancellation_rate.percent is None
    assert data.lead_time.median_days is None and data.lead_time.counted == 0
    assert [row.total for row in data.weeks] == [0] * 6  # the weeks 26/10 … 30/11, zeros


def test_week_edges_follow_paris_time_across_the_dst_change(alice, motifs):
    org, motif = alice.organisation, motifs["social"]
    make(org, motif, local(PARIS, 2026, 11, 22, 23, 30))  # Sunday night: week of 16/11 (UTC: 22:30)
    make(org, motif, local(PARIS, 2026, 11, 23, 0, 30))  # Monday 00:30: week of 23/11 (UTC: Sunday 23:30)
    make(org, motif, local(PARIS, 2026, 10, 26, 0, 15))  # Monday after the change to winter time (UTC Sunday)
    make(org, motif, local(PARIS, 2026, 10, 25, 23, 45))  # Sunday of the change: week of 19/10

    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 10, 19), date(2026, 11, 29)), now=NOW)
    totals = {row.week: row.total for row in data.weeks}
    assert totals[date(2026, 10, 19)] == 1
    assert totals[date(2026, 10, 26)] == 1
    assert totals[date(2026, 11, 16)] == 1
    assert totals[date(2026, 11, 23)] == 1
    assert data.total == 4


@pytest.mark.parametrize(
    ("zone", "monday_start", "sunday_end"),
    [
        ("Indian/Reunion", (2026, 11, 23, 0, 30), (2026, 11, 22, 23, 30)),  # UTC+4: Sunday 20:30 / 19:30 in UTC
        ("America/Cayenne", (2026, 11, 23, 0, 30), (2026, 11, 22, 22, 0)),  # UTC-3: Monday 03:30 / 01:00 in UTC
        ("Pacific/Noumea", (2026, 11, 23, 8, 0), (2026, 11, 22, 10, 0)),  # UTC+11: Sunday 21:00 / Saturday 23:00
    ],
)
def test_week_edges_follow_an_overseas_espace_time(alice, motifs, zone, monday_start, sunday_end):
    alice.territory.time_zone = zone
    alice.territory.save(update_fields=["time_zone"])
    tz = ZoneInfo(zone)
    org, motif = alice.organisation, motifs["social"]
    make(org, motif, local(tz, *monday_start))
    make(org, motif, local(tz, *sunday_end))
    make(org, motif, local(tz, 2026, 11, 16, 0, 0))  # the period's first instant, in the espace's time
    make(org, motif, local(tz, 2026, 11, 15, 23, 59))  # just before it: outside
    make(org, motif, local(tz, 2026, 11, 29, 23, 59))  # the last day's end: inside
    make(org, motif, local(tz, 2026, 11, 30, 0, 0))  # the day after: outside

    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 16), date(2026, 11, 29)), now=NOW)
    assert {row.week: row.total for row in data.weeks} == {date(2026, 11, 16): 2, date(2026, 11, 23): 2}


def test_services_and_motifs(alice, motifs):
    make(alice.organisation, motifs["social"], local(PARIS, 2026, 11, 16, 9), status=RdvStatus.SEEN)
    make(alice.organisation, motifs["social"], local(PARIS, 2026, 11, 24, 9), status=RdvStatus.NOSHOW)
    make(alice.organisation, motifs["pmi"], local(PARIS, 2026, 11, 24, 10), status=RdvStatus.REVOKED)
    make(alice.other_organisation, motifs["nord"], local(PARIS, 2026, 11, 25, 9), status=RdvStatus.EXCUSED)

    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 16), date(2026, 11, 29)), now=NOW)

    assert [(row.name, row.weeks, row.total) for row in data.services] == [
        ("Service social", [1, 2], 3),
        ("PMI", [0, 1], 1),
    ]
    # Motifs of the same name and service in two organisations are counted together.
    assert [(row.name, row.service, row.total, row.seen, row.noshow, row.cancelled) for row in data.motifs] == [
        ("Accueil", "Service social", 3, 1, 1, 1),
        ("Consultation PMI", "PMI", 1, 0, 0, 1),
    ]


def test_filters_by_organisation_service_and_motif(alice, motifs):
    make(alice.organisation, motifs["social"], local(PARIS, 2026, 11, 16, 9))
    make(alice.organisation, motifs["pmi"], local(PARIS, 2026, 11, 17, 9))
    make(alice.other_organisation, motifs["nord"], local(PARIS, 2026, 11, 18, 9))
    ctx, period = espace_ctx(alice), (date(2026, 11, 16), date(2026, 11, 22))

    def total(**kwargs) -> int:
        return stats.dashboard(ctx, filters(*period, **kwargs), now=NOW).total

    assert total() == 3
    assert total(organisation_id=alice.other_organisation.pk) == 1
    assert total(service_id=alice.service.pk) == 2
    assert total(service_id=motifs["pmi_service"].pk) == 1
    assert total(motif_id=motifs["pmi"].pk) == 1
    assert total(organisation_id=alice.organisation.pk, service_id=alice.service.pk) == 1


def test_lead_time_in_calendar_days_of_the_espace(alice, motifs):
    org, motif = alice.organisation, motifs["social"]
    start = local(PARIS, 2026, 11, 20, 9)
    make(org, motif, start, created_at=local(PARIS, 2026, 11, 20, 8))  # same day
    make(org, motif, start, created_at=local(PARIS, 2026, 11, 19, 23, 30))  # 9.5 hours, but the day before: 1
    make(org, motif, start, created_at=local(PARIS, 2026, 11, 13, 0, 5))  # 7 days
    make(org, motif, start, created_at=local(PARIS, 2026, 11, 12, 23, 55))  # 8 days
    make(org, motif, start, created_at=local(PARIS, 2026, 10, 21, 12))  # 30 days
    make(org, motif, start, created_at=local(PARIS, 2026, 10, 20, 12))  # 31 days
    make(org, motif, start, created_at=local(PARIS, 2026, 11, 21, 10))  # recorded the day after: apart

    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 16), date(2026, 11, 22)), now=NOW)
    lead = data.lead_time
    assert lead.buckets == {"after": 1, "same_day": 1, "1_7": 2, "8_30": 2, "over_30": 1}
    assert lead.counted == 6
    assert lead.median_days == 7.5  # 0, 1, 7 | 8, 30, 31
    assert lead.mean_days == round((0 + 1 + 7 + 8 + 30 + 31) / 6, 1)


def test_lead_time_median_of_an_odd_count(alice, motifs):
    start = local(PARIS, 2026, 11, 20, 9)
    for days in (0, 2, 2, 5, 40):
        make(alice.organisation, motifs["social"], start, created_at=start - timedelta(days=days))
    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 16), date(2026, 11, 22)), now=NOW)
    assert data.lead_time.median_days == 2.0
    assert data.lead_time.mean_days == 9.8


def test_sms_per_month_of_the_espace_only(alice, bob):
    SmsMonthlyUsage.objects.create(
        territory=alice.territory,
        month=date(2026, 10, 1),
        messages_accepted=10,
        segments_accepted=14,
        segments_refused=2,
    )
    SmsMonthlyUsage.objects.create(
        territory=alice.territory, month=date(2026, 12, 1), messages_accepted=3, segments_accepted=3
    )
    SmsMonthlyUsage.objects.create(
        territory=alice.territory, month=date(2026, 9, 1), messages_accepted=99, segments_accepted=99
    )
    SmsMonthlyUsage.objects.create(
        territory=bob.territory, month=date(2026, 10, 1), messages_accepted=50, segments_accepted=50
    )

    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 10, 15), date(2026, 12, 3)), now=NOW)
    assert [(row.month, row.messages, row.segments, row.refused_segments) for row in data.sms] == [
        (date(2026, 10, 1), 10, 14, 2),
        (date(2026, 11, 1), 0, 0, 0),
        (date(2026, 12, 1), 3, 3, 0),
    ]
    organisation = stats.dashboard(
        organisation_ctx(alice.organisation_admin, alice.organisation),
        filters(date(2026, 10, 15), date(2026, 12, 3)),
        now=NOW,
    )
    assert organisation.sms is None


def test_each_viewer_counts_the_rdvs_they_may_see(alice, bob, motifs):
    make(alice.organisation, motifs["social"], local(PARIS, 2026, 11, 16, 9))  # the basic agent's service
    pmi = make(alice.organisation, motifs["pmi"], local(PARIS, 2026, 11, 17, 9))  # another service
    make(alice.organisation, motifs["pmi"], local(PARIS, 2026, 11, 17, 10))  # another service
    make(alice.other_organisation, motifs["nord"], local(PARIS, 2026, 11, 18, 9))
    bob_motif = factories.MotifFactory(organisation=bob.organisation, service=bob.service)
    make(bob.organisation, bob_motif, local(PARIS, 2026, 11, 18, 9))
    RdvAgent.objects.create(rdv=pmi, agent=alice.agent, starts_at=pmi.starts_at, ends_at=pmi.ends_at)  # takes part
    period = filters(date(2026, 11, 16), date(2026, 11, 22))

    assert stats.dashboard(espace_ctx(alice), period, now=NOW).total == 4
    assert stats.dashboard(organisation_ctx(alice.organisation_admin, alice.organisation), period, now=NOW).total == 3
    assert stats.dashboard(organisation_ctx(alice.agent, alice.organisation), period, now=NOW).total == 2
    # An espace context of bob's never counts alice's RDVs, even when asked for one of her organisations.
    bob_view = stats.dashboard(
        espace_ctx(bob), filters(date(2026, 11, 16), date(2026, 11, 22), organisation_id=alice.organisation.pk), now=NOW
    )
    assert bob_view.total == 0


def test_rights_to_each_dashboard(alice):
    assert policies.can_view_espace_stats(espace_ctx(alice))
    assert not policies.can_view_espace_stats(organisation_ctx(alice.territory_admin, alice.organisation))
    assert policies.can_view_organisation_stats(organisation_ctx(alice.agent, alice.organisation))
    assert territory_context(alice.agent, alice.territory.pk) is None  # a basic agent has no espace context


@pytest.mark.parametrize(
    ("first", "last"), [(date(2026, 11, 16), date(2026, 11, 22)), (date(2024, 12, 1), date(2026, 11, 30))]
)
def test_the_dashboard_takes_a_constant_number_of_queries(alice, motifs, django_assert_num_queries, first, last):
    for day in range(1, 28):
        start = local(PARIS, 2026, 11, day, 9)
        make(alice.organisation, motifs["social" if day % 2 else "pmi"], start, status=RdvStatus.SEEN)
    espace, organisation = espace_ctx(alice), organisation_ctx(alice.agent, alice.organisation)
    with django_assert_num_queries(4):  # weeks × motifs, the motifs' names, lead time, SMS
        stats.dashboard(espace, filters(first, last), now=NOW)
    with django_assert_num_queries(3):  # no SMS on an organisation's dashboard
        stats.dashboard(organisation, filters(first, last, service_id=alice.service.pk), now=NOW)


def test_utc_storage_does_not_matter(alice, motifs):
    """The same instant given in UTC lands in the espace's local week."""
    make(alice.organisation, motifs["social"], datetime(2026, 11, 22, 23, 30, tzinfo=UTC))  # Monday 00:30 Paris
    data = stats.dashboard(espace_ctx(alice), filters(date(2026, 11, 16), date(2026, 11, 29)), now=NOW)
    assert {row.week: row.total for row in data.weeks} == {date(2026, 11, 16): 0, date(2026, 11, 23): 1}
