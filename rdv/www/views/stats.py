"""The statistics dashboards: an espace's (its admins) and an organisation's (its members, counting
the RDVs they may see, as on the established platform). Figures from rdv.bookings.stats; charts
drawn as SVG by the server (rdv.www.charts), each with its table; each table exports as CSV
(`?format=csv&tableau=<key>`).

Rights: the tenancy decorators resolve the espace or organisation of the URL (404 outside the
agent's rights); the espace dashboard needs an espace admin (territory_admin_required)."""

from dataclasses import dataclass
from datetime import date

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format

from rdv.bookings import policies, stats
from rdv.bookings.models import CreatedBy, RdvStatus
from rdv.core.context import Context
from rdv.motifs.models import Motif
from rdv.territories.models import Organisation, Service
from rdv.www import charts
from rdv.www.csv_export import csv_response
from rdv.www.forms.stats import StatsFilterForm
from rdv.www.tenancy import organisation_member_required, territory_admin_required

STATUS_LABELS = {
    RdvStatus.SEEN.value: "Vus",
    RdvStatus.NOSHOW.value: "Absents (non excusés)",
    RdvStatus.EXCUSED.value: "Annulés par l'usager",
    RdvStatus.REVOKED.value: "Annulés par le service",
    stats.PAST_UNKNOWN: "Non renseignés (passés)",
    stats.FUTURE_UNKNOWN: "À venir",
}
# DSFR colours; the statuses' order is the stacking order (from the bottom).
STATUS_COLORS = {
    RdvStatus.SEEN.value: "#18753c",
    RdvStatus.NOSHOW.value: "#ce0500",
    RdvStatus.EXCUSED.value: "#b34000",
    RdvStatus.REVOKED.value: "#7d4e5b",
    stats.PAST_UNKNOWN: "#666666",
    stats.FUTURE_UNKNOWN: "#6a6af4",
}
CHANNEL_LABELS = {
    CreatedBy.AGENT.value: "Agent",
    CreatedBy.USAGER.value: "Usager (en ligne)",
    CreatedBy.PRESCRIPTEUR.value: "Prescripteur (en ligne)",
}
CHANNEL_COLORS = {
    CreatedBy.AGENT.value: "#000091",
    CreatedBy.USAGER.value: "#009081",
    CreatedBy.PRESCRIPTEUR.value: "#a558a0",
}
LEAD_TIME_LABELS = {
    "same_day": "Le jour même",
    "1_7": "1 à 7 jours",
    "8_30": "8 à 30 jours",
    "over_30": "Plus de 30 jours",
    "after": "Enregistré après le rendez-vous",
}


@dataclass
class Table:
    key: str  # the CSV's name (`tableau=`)
    caption: str
    headers: list[str]
    rows: list[list]  # the first cell of each row is its header (th scope="row")


def _week_label(week: date) -> str:
    return f"Semaine du {date_format(week, 'd/m/Y')}"


def _percent(rate: stats.Rate) -> str:
    return "—" if rate.percent is None else f"{rate.percent:.1f} %".replace(".", ",")


def _days(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text} jour" if value < 2 else f"{text} jours"


def _tables(data: stats.Dashboard) -> dict[str, Table]:
    weeks = data.weeks
    tables = {
        "statuts": Table(
            "statuts",
            "Rendez-vous par semaine et par statut",
            ["Semaine", *(STATUS_LABELS[key] for key in stats.STATUS_KEYS), "Total"],
            [[_week_label(row.week), *(row.statuses[key] for key in stats.STATUS_KEYS), row.total] for row in weeks]
            + [["Total", *data.status_totals().values(), data.total]],
        ),
        "canaux": Table(
            "canaux",
            "Rendez-vous par semaine et par origine de la prise de rendez-vous",
            ["Semaine", *(CHANNEL_LABELS[key] for key in stats.CHANNEL_KEYS), "Total"],
            [[_week_label(row.week), *(row.channels[key] for key in stats.CHANNEL_KEYS), row.total] for row in weeks]
            + [["Total", *data.channel_totals().values(), data.total]],
        ),
        "services": Table(
            "services",
            "Rendez-vous par semaine et par service",
            ["Semaine", *(service.name for service in data.services), "Total"],
            [
                [_week_label(row.week), *(service.weeks[index] for service in data.services), row.total]
                for index, row in enumerate(weeks)
            ]
            + [["Total", *(service.total for service in data.services), data.total]],
        ),
        "motifs": Table(
            "motifs",
            "Rendez-vous par motif",
            ["Motif", "Service", "Rendez-vous", "Vus", "Absents (non excusés)", "Annulés"],
            [[row.name, row.service, row.total, row.seen, row.noshow, row.cancelled] for row in data.motifs],
        ),
        "delai": Table(
            "delai",
            "Délai entre la prise de rendez-vous et le rendez-vous",
            ["Délai", "Rendez-vous"],
            [[LEAD_TIME_LABELS[key], data.lead_time.buckets[key]] for key, _, _ in stats.LEAD_TIME_BUCKETS[1:]]
            + [[LEAD_TIME_LABELS["after"], data.lead_time.buckets["after"]]],
        ),
    }
    if data.sms is not None:
        tables["sms"] = Table(
            "sms",
            "SMS de l'espace par mois",
            ["Mois", "SMS envoyés", "Segments consommés", "Segments refusés (budget épuisé)"],
            [[date_format(row.month, "F Y"), row.messages, row.segments, row.refused_segments] for row in data.sms],
        )
    return tables


def _charts(data: stats.Dashboard) -> dict[str, charts.Chart]:
    short_weeks = [date_format(row.week, "d/m") for row in data.weeks]
    period = f"du {date_format(data.filters.first_day, 'd/m/Y')} au {date_format(data.filters.last_day, 'd/m/Y')}"
    result = {
        "statuts": charts.stacked_bars(
            "graphique-statuts",
            "Rendez-vous par semaine et par statut",
            f"Barres empilées, une par semaine {period} ; {data.total} rendez-vous. "
            "Les chiffres sont dans le tableau qui suit.",
            short_weeks,
            [
                charts.Series(STATUS_LABELS[key], STATUS_COLORS[key], [row.statuses[key] for row in data.weeks])
                for key in stats.STATUS_KEYS
            ],
        ),
        "canaux": charts.stacked_bars(
            "graphique-canaux",
            "Rendez-vous par semaine et par origine",
            f"Barres empilées, une par semaine {period}, par origine de la prise de rendez-vous. "
            "Les chiffres sont dans le tableau qui suit.",
            short_weeks,
            [
                charts.Series(CHANNEL_LABELS[key], CHANNEL_COLORS[key], [row.channels[key] for row in data.weeks])
                for key in stats.CHANNEL_KEYS
            ],
        ),
        "services": charts.horizontal_bars(
            "graphique-services",
            "Rendez-vous par service",
            f"Une barre par service, rendez-vous {period}. Le détail par semaine est dans le tableau qui suit.",
            [(service.name, service.total) for service in data.services],
            "#000091",
        ),
        "delai": charts.horizontal_bars(
            "graphique-delai",
            "Délai entre la prise de rendez-vous et le rendez-vous",
            "Une barre par tranche de délai, en jours calendaires. Les chiffres sont dans le tableau qui suit.",
            [(LEAD_TIME_LABELS[key], data.lead_time.buckets[key]) for key, _, _ in stats.LEAD_TIME_BUCKETS[1:]],
            "#009081",
        ),
    }
    if data.sms is not None:
        result["sms"] = charts.stacked_bars(
            "graphique-sms",
            "Segments SMS consommés par mois",
            "Une barre par mois de la période. Les chiffres sont dans le tableau qui suit.",
            [date_format(row.month, "M Y") for row in data.sms],
            [charts.Series("Segments consommés", "#000091", [row.segments for row in data.sms])],
        )
    return result


def _params(request):
    """The query with the default period filled in (the form shows it)."""
    params = request.GET.copy()
    first, last = stats.default_period(timezone.localdate())
    params.setdefault("du", first.isoformat())
    params.setdefault("au", last.isoformat())
    return params


def _filters(form: StatsFilterForm) -> stats.Filters:
    """The form's valid values: the default period when a date is missing or invalid (the form
    shows why), no filter for an invalid one."""
    form.is_valid()
    data = {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
    first_day, last_day = data.get("du"), data.get("au")
    if first_day is None or last_day is None:
        first_day, last_day = stats.default_period(timezone.localdate())
    organisation, service, motif = data.get("organisation"), data.get("service"), data.get("motif")
    return stats.Filters(
        first_day=first_day,
        last_day=last_day,
        organisation_id=organisation.pk if organisation else None,
        service_id=service.pk if service else None,
        motif_id=motif.pk if motif else None,
    )


def _dashboard(request, ctx: Context, template: str, scope_name: str, form: StatsFilterForm, **context):
    filters = _filters(form)
    data = stats.dashboard(ctx, filters)
    tables = _tables(data)
    if request.GET.get("format") == "csv":
        table = tables.get(request.GET.get("tableau", ""))
        if table is None:
            raise Http404("Tableau introuvable")
        name = f"statistiques-{scope_name}-{table.key}-{filters.first_day:%Y-%m-%d}-{filters.last_day:%Y-%m-%d}.csv"
        return csv_response([table.headers, *table.rows], name)
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("tableau", None)
    context.update(
        {
            "territory": ctx.territory,
            "form": form,
            "filters": filters,
            "data": data,
            "tables": tables,
            "charts": _charts(data),
            "query": query.urlencode(),
            "noshow_rate": _percent(data.noshow_rate),
            "cancellation_rate": _percent(data.cancellation_rate),
            "median_lead_time": _days(data.lead_time.median_days),
            "mean_lead_time": _days(data.lead_time.mean_days),
            "status_legend": [(STATUS_LABELS[key], STATUS_COLORS[key]) for key in stats.STATUS_KEYS],
            "channel_legend": [(CHANNEL_LABELS[key], CHANNEL_COLORS[key]) for key in stats.CHANNEL_KEYS],
        }
    )
    return render(request, template, context)


@territory_admin_required
def espace_stats(request, ctx):
    if not policies.can_view_espace_stats(ctx):
        raise Http404("Page introuvable")
    organisations = Organisation.objects.filter(territory_id=ctx.territory.pk).order_by("name")
    form = StatsFilterForm(
        _params(request),
        organisations=organisations,
        services=Service.objects.active_in(ctx.territory).order_by("name"),
        motifs=Motif.objects.filter(organisation__territory_id=ctx.territory.pk)
        .select_related("service", "organisation")
        .order_by("name", "organisation__name"),
    )
    return _dashboard(request, ctx, "stats/espace.html", f"espace-{ctx.territory.pk}", form, title="Statistiques")


@organisation_member_required
def organisation_stats(request, ctx):
    if not policies.can_view_organisation_stats(ctx):
        raise Http404("Page introuvable")
    form = StatsFilterForm(
        _params(request),
        services=Service.objects.active_in(ctx.territory).order_by("name"),
        motifs=Motif.objects.filter(organisation_id=ctx.organisation.pk)
        .select_related("service", "organisation")
        .order_by("name"),
    )
    return _dashboard(
        request,
        ctx,
        "stats/organisation.html",
        f"organisation-{ctx.organisation.pk}",
        form,
        title="Statistiques",
        organisation=ctx.organisation,
        sees_all=ctx.sees_all_rdvs,
    )
