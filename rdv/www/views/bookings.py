"""Agenda and RDV pages for the agents of an organisation.

Each view parses its input, checks the scope (rdv.bookings.perms: anything outside is a 404),
calls one function of rdv.bookings (services for changes, agenda for the read model) and
renders. A DomainError becomes a French form error and nothing is changed.
"""

import csv
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from rdv.accounts.models import Agent, AgentService
from rdv.agendas.calendar import french_date, holiday_zone
from rdv.agendas.models import Lieu
from rdv.bookings import services
from rdv.bookings.agenda import build_agenda
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.bookings.perms import RdvScope, rdv_scope
from rdv.core.audit import describe_entries
from rdv.core.dates import parse_day
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.motifs.models import Motif
from rdv.usagers import services as usager_services
from rdv.usagers.models import Usager
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.bookings import (
    CancelForm,
    ParticipantForm,
    RdvCreateForm,
    RdvEditForm,
    RdvFilterForm,
    RdvMoveForm,
    StatusForm,
    parse_start,
)
from rdv.www.tenancy import organisation_member_required

PAGE_SIZE = 50
SEARCH_RESULTS = 10
MAX_AGENDA_AGENTS = 12
MAX_POLLED_RDVS = 500
POLL_SECONDS = 15
HISTORY_SIZE = 50


# Helpers ----------------------------------------------------------------------------------------


def _scope(request, organisation) -> RdvScope:
    scope = rdv_scope(request.user, organisation)
    if not scope.allowed:  # organisation_member_required already checked it
        raise Http404("Organisation introuvable")
    return scope


def _get_rdv(scope: RdvScope, rdv_id) -> Rdv:
    return get_object_or_404(
        scope.rdvs().select_related("motif__service", "lieu", "organisation__territory", "created_by_agent"),
        pk=rdv_id,
    )


def _context_enabled(organisation) -> bool:
    return organisation.territory.rdv_field_enabled("context")


def _org_agents(organisation):
    """Agents who may appear in the organisation's agendas (intervenants included)."""
    return Agent.objects.filter(roles__organisation=organisation).distinct().order_by("last_name", "first_name", "pk")


def _bookable_motifs(scope: RdvScope):
    motifs = Motif.objects.for_organisation(scope.organisation).active().select_related("service")
    if not scope.sees_all:
        motifs = motifs.filter(service_id__in=AgentService.objects.filter(agent=scope.agent).values("service_id"))
    return motifs.order_by("service__name", "name", "location_type")


def _lieux(organisation):
    return Lieu.objects.for_organisation(organisation).active().order_by("name")


def _render(request, template, organisation, title, **context):
    context.update(
        {
            "organisation": organisation,
            "territory": organisation.territory,
            "title": title,
            "context_enabled": _context_enabled(organisation),
        }
    )
    return render(request, template, context)


def _history(rdv: Rdv, context_enabled: bool) -> list[AuditLog]:
    entries = list(
        AuditLog.objects.filter(object_type=Rdv._meta.label, object_id=str(rdv.pk)).order_by("-created_at", "-id")[
            :HISTORY_SIZE
        ]
    )
    return describe_entries(entries, hidden=() if context_enabled else ("context",))


# Agenda -----------------------------------------------------------------------------------------


def _parse_ids(values) -> list[int]:
    ids = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part.isdigit() and len(part) < 12:
                ids.append(int(part))
    return list(dict.fromkeys(ids))


def _parse_day(request, name: str = "date") -> datetime.date:
    raw = request.GET.get(name, "")
    day = parse_day(raw)
    if raw and day is None:
        messages.warning(request, "Date invalide : l'agenda affiche aujourd'hui. Format attendu : AAAA-MM-JJ.")
    return day or timezone.localdate()


@require_GET
@organisation_member_required
def agenda(request, organisation):
    scope = _scope(request, organisation)
    view = "jour" if request.GET.get("vue") == "jour" else "semaine"
    day = _parse_day(request)
    all_agents = list(_org_agents(organisation))
    by_id = {agent.pk: agent for agent in all_agents}
    wanted = _parse_ids(request.GET.getlist("agents"))
    agents = [by_id[pk] for pk in wanted if pk in by_id][:MAX_AGENDA_AGENTS]
    if wanted and len(agents) < min(len(wanted), MAX_AGENDA_AGENTS):
        messages.warning(request, "Certains agendas demandés ne font pas partie de l'organisation : ils sont ignorés.")
    if not agents:
        agents = [by_id.get(request.user.pk) or all_agents[0]]
    show_cancelled = request.GET.get("annules") == "1"
    if view == "jour":
        first_day = last_day = day
        step = datetime.timedelta(days=1)
    else:
        first_day = day - datetime.timedelta(days=day.weekday())
        last_day = first_day + datetime.timedelta(days=6)
        step = datetime.timedelta(days=7)
    data = build_agenda(
        scope,
        agents,
        first_day,
        last_day,
        show_cancelled=show_cancelled,
        holiday_zone=holiday_zone(organisation.territory),
    )

    def link(target_day=None, target_view=None) -> str:
        params = [("vue", target_view or view), ("date", (target_day or day).isoformat())]
        params += [("agents", agent.pk) for agent in agents]
        if show_cancelled:
            params.append(("annules", "1"))
        return f"{reverse('agenda', args=[organisation.pk])}?{urlencode(params)}"

    if view == "jour":
        heading = french_date(day).capitalize()
    else:
        heading = f"Semaine du {french_date(first_day)} au {french_date(last_day)}"
    territory = organisation.territory
    poll_url = ""
    if territory.waiting_room_notifies_visually and data.rdv_ids:
        ids = ",".join(str(pk) for pk in data.rdv_ids[:MAX_POLLED_RDVS])
        poll_url = f"{reverse('agenda_arrivals', args=[organisation.pk])}?{urlencode({'rdvs': ids})}"
    for row in data.rows:
        row.label = french_date(row.day).capitalize()
        row.day_link = link(row.day, "jour")
    return _render(
        request,
        "bookings/agenda.html",
        organisation,
        "Agenda",
        agenda=data,
        view=view,
        day=day,
        heading=heading,
        all_agents=all_agents,
        selected_ids={agent.pk for agent in agents},
        show_cancelled=show_cancelled,
        previous_link=link(day - step),
        next_link=link(day + step),
        today_link=link(timezone.localdate()),
        week_link=link(target_view="semaine"),
        day_link=link(target_view="jour"),
        visual=territory.waiting_room_notifies_visually,
        waiting=[{"start": item.start, "names": item.names or "Usager"} for item in data.arrived],
        poll_url=poll_url,
        poll_seconds=POLL_SECONDS,
    )


@require_GET
@organisation_member_required
def agenda_arrivals(request, organisation):
    """htmx polling fragment: the waiting-room marks of the RDVs shown in an agenda (out-of-band
    swaps), and the waiting-room summary."""
    scope = _scope(request, organisation)
    ids = _parse_ids(request.GET.getlist("rdvs"))[:MAX_POLLED_RDVS]
    visual = organisation.territory.waiting_room_notifies_visually
    rdvs = []
    if ids:
        rdvs = list(
            scope.rdvs()
            .filter(pk__in=ids)
            .prefetch_related(
                Prefetch("participations", queryset=Participation.objects.select_related("usager").order_by("pk"))
            )
            .order_by("starts_at", "pk")
        )
    waiting = [
        {"start": rdv.starts_at, "names": ", ".join(str(p.usager) for p in rdv.participations.all()) or "Usager"}
        for rdv in rdvs
        if visual and rdv.arrived_at and not rdv.is_cancelled
    ]
    # No request context: the header's context processors are not needed by this fragment.
    html = render_to_string(
        "bookings/_agenda_arrivals.html",
        {"rdvs": rdvs if visual else [], "waiting": waiting, "organisation": organisation},
    )
    return HttpResponse(html)


# List and CSV export ----------------------------------------------------------------------------


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _filtered_rdvs(scope: RdvScope, data: dict):
    queryset = scope.rdvs()
    if data.get("du"):
        queryset = queryset.filter(starts_at__gte=_midnight(data["du"]))
    if data.get("au"):
        queryset = queryset.filter(starts_at__lt=_midnight(data["au"] + datetime.timedelta(days=1)))
    if data.get("agent"):
        queryset = queryset.filter(Exists(RdvAgent.objects.filter(rdv_id=OuterRef("pk"), agent=data["agent"])))
    if data.get("motif"):
        queryset = queryset.filter(motif=data["motif"])
    if data.get("statut"):
        queryset = queryset.filter(status=data["statut"])
    if data.get("lieu"):
        queryset = queryset.filter(lieu=data["lieu"])
    if data.get("usager"):
        matching = Usager.objects.filter(territory_id=scope.organisation.territory_id).search(data["usager"])
        queryset = queryset.filter(
            Exists(Participation.objects.filter(rdv_id=OuterRef("pk"), usager__in=matching.values("pk")))
        )
    return (
        queryset.select_related("motif__service", "lieu")
        .prefetch_related(
            Prefetch(
                "participations",
                queryset=Participation.objects.select_related("usager").order_by(
                    "usager__last_name_key", "usager__first_name_key", "pk"
                ),
            ),
            Prefetch(
                "agent_links",
                queryset=RdvAgent.objects.select_related("agent").order_by("agent__last_name", "agent__first_name"),
            ),
        )
        .order_by("starts_at", "pk")
    )


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value) -> str:
    """No formula injection in spreadsheets: a cell starting with = + - @ is quoted as text."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


CSV_HEADERS = [
    "Date",
    "Heure de début",
    "Heure de fin",
    "Durée (minutes)",
    "Motif",
    "Service",
    "Type",
    "Lieu",
    "Agents",
    "Usagers",
    "Statut",
    "Arrivé(e) à",
    "Motif d'annulation",
    "Pris le",
]


def _csv_rows(queryset, context_enabled: bool):
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow([*CSV_HEADERS, *(["Contexte"] if context_enabled else [])])
    for rdv in queryset.iterator(chunk_size=500):
        start, end = timezone.localtime(rdv.starts_at), timezone.localtime(rdv.ends_at)
        row = [
            f"{start:%d/%m/%Y}",
            f"{start:%H:%M}",
            f"{end:%H:%M}",
            rdv.duration_minutes,
            rdv.motif.name,
            rdv.motif.service.name,
            rdv.motif.get_location_type_display(),
            rdv.lieu.name if rdv.lieu_id else "",
            ", ".join(str(link.agent) for link in rdv.agent_links.all()),
            ", ".join(str(p.usager) for p in rdv.participations.all()),
            rdv.get_status_display(),
            f"{timezone.localtime(rdv.arrived_at):%H:%M}" if rdv.arrived_at else "",
            rdv.cancel_reason,
            f"{timezone.localtime(rdv.created_at):%d/%m/%Y %H:%M}",
        ]
        if context_enabled:
            row.append(rdv.context)
        yield writer.writerow([_csv_cell(value) for value in row])


@require_GET
@organisation_member_required
def rdv_list(request, organisation):
    scope = _scope(request, organisation)
    params = request.GET.copy()
    if "du" not in params:  # by default: from today on
        params["du"] = timezone.localdate().isoformat()
    form = RdvFilterForm(
        params,
        agents=_org_agents(organisation),
        motifs=Motif.objects.for_organisation(organisation).select_related("service").order_by("name"),
        lieux=Lieu.objects.for_organisation(organisation).order_by("name"),
    )
    form.is_valid()  # invalid filters are reported on the form and ignored
    data = {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
    queryset = _filtered_rdvs(scope, data)
    context_enabled = _context_enabled(organisation)
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(_csv_rows(queryset, context_enabled), content_type="text/csv; charset=utf-8")
        filename = f"rendez-vous-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)
    query.pop("format", None)
    csv_query = query.copy()
    csv_query["format"] = "csv"
    return _render(
        request,
        "bookings/rdv_list.html",
        organisation,
        "Rendez-vous",
        form=form,
        page=page,
        query=query.urlencode(),
        csv_link=f"{reverse('rdv_list', args=[organisation.pk])}?{csv_query.urlencode()}",
    )


# Booking ----------------------------------------------------------------------------------------


def _search_usagers(organisation, query: str, exclude=()):
    if not query:
        return []
    return list(
        usager_services.search_usagers(organisation, query, territory_wide=True).exclude(pk__in=list(exclude))[
            :SEARCH_RESULTS
        ]
    )


def _initial_from_link(request, organisation, scope: RdvScope) -> dict:
    """Prefill from a link of "Trouver un créneau": ?motif=&debut=ISO&agent=&lieu=&usager="""
    initial = {"agents": [request.user.pk]}
    get = request.GET
    motif_id, agent_id, lieu_id = get.get("motif", ""), get.get("agent", ""), get.get("lieu", "")
    if motif_id.isdigit():
        initial["motif"] = int(motif_id)
    if agent_id.isdigit():
        initial["agents"] = [int(agent_id)]
    if lieu_id.isdigit():
        initial["lieu"] = int(lieu_id)
    if get.get("debut"):
        start = parse_start(get["debut"])
        if start is None:
            messages.warning(request, "L'horaire demandé est invalide : choisissez la date et l'heure.")
        else:
            local = timezone.localtime(start)
            initial["date"], initial["heure"] = local.date(), local.time().replace(second=0, microsecond=0)
    if get.get("usager", "").isdigit():
        initial["usagers"] = [int(get["usager"])]
    return initial


@organisation_member_required
def rdv_create(request, organisation):
    scope = _scope(request, organisation)
    visible_usagers = Usager.objects.visible_from(organisation)
    options = {
        "motifs": _bookable_motifs(scope),
        "lieux": _lieux(organisation),
        "agents": _org_agents(organisation),
        "usagers": visible_usagers,
        "context_enabled": _context_enabled(organisation),
    }
    searching = request.method == "POST" and request.POST.get("action") == "rechercher"
    duplicates = []
    if request.method == "POST" and not searching:
        form = RdvCreateForm(request.POST, **options)
        if form.is_valid():
            rdv = _book(request, organisation, form, visible_usagers, duplicates)
            if rdv is not None:
                messages.success(request, f"Rendez-vous enregistré : {rdv.motif.name}, {_when(rdv)}.")
                return redirect("rdv_detail", organisation.pk, rdv.pk)
    elif searching:
        # Keep what was typed, without validating: the agent is still filling the form.
        data = request.POST
        initial = {name: data.get(name) for name in RdvCreateForm.base_fields if name not in ("agents", "usagers")}
        initial.update(agents=data.getlist("agents"), usagers=data.getlist("usagers"), date=data.get("date"))
        initial["heure"] = data.get("heure")
        form = RdvCreateForm(initial=initial, **options)
    else:
        form = RdvCreateForm(initial=_initial_from_link(request, organisation, scope), **options)
    chosen_ids = _parse_ids(
        request.POST.getlist("usagers") if request.method == "POST" else form.initial.get("usagers") or []
    )
    chosen = list(visible_usagers.filter(pk__in=chosen_ids)) if chosen_ids else []
    query = (request.POST.get("recherche_usager") if request.method == "POST" else "") or ""
    results = _search_usagers(organisation, query.strip()[:100], exclude=[u.pk for u in chosen])
    known = {u.pk for u in chosen} | {u.pk for u in results}
    for duplicate in duplicates:
        if duplicate.usager.pk not in known:
            results.append(duplicate.usager)
    return _render(
        request,
        "bookings/rdv_form.html",
        organisation,
        "Nouveau rendez-vous",
        form=form,
        chosen=chosen,
        results=results,
        searched=bool(query.strip()),
        duplicates=duplicates,
    )


def _when(rdv: Rdv) -> str:
    start = timezone.localtime(rdv.starts_at)
    return f"{french_date(start.date())} à {start:%H:%M}"


def _book(request, organisation, form: RdvCreateForm, visible_usagers, duplicates: list) -> Rdv | None:
    data = form.cleaned_data
    booking = services.BookingRequest(
        motif=data["motif"],
        starts_at=form.starts_at(),
        agents=list(data["agents"]),
        usagers=list(data["usagers"]),
        lieu=data.get("lieu"),
        duration_minutes=data.get("duration_minutes"),
        context=data.get("context", ""),
        address=data.get("address", ""),
        visio_url=data.get("visio_url", ""),
    )
    override = bool(data.get("override"))
    try:
        if form.creates_usager:
            if not data.get("confirmer_doublon"):
                found = usager_services.find_duplicates(
                    organisation.territory, form.new_usager_data(), scope=visible_usagers
                )
                if found:
                    duplicates.extend(found)
                    form.add_error(
                        None,
                        "Cet usager existe peut-être déjà : cochez sa fiche dans la liste des usagers, ou confirmez "
                        "la création d'une nouvelle fiche.",
                    )
                    return None
            rdv, _ = services.book_rdv_for_new_usager(
                request.user, organisation, form.new_usager_data(), booking, override=override
            )
        else:
            rdv = services.book_rdv(request.user, organisation, booking, override=override)
    except DomainError as error:
        field = {"duration": "duration_minutes", "starts_at": "heure"}.get(error.field, error.field)
        if error.field in ("first_name", "last_name", "email", "phone"):
            field = f"new_{error.field}"
        add_domain_error(form, DomainError(error.code, error.message, field=field))
        form.show_override = error.code in services.OVERRIDABLE
        return None
    return rdv


@require_GET
@organisation_member_required
def usager_search(request, organisation):
    """htmx fragment of the booking form: usagers matching the search, as checkboxes (the usagers
    already chosen stay first and checked)."""
    _scope(request, organisation)
    visible = Usager.objects.visible_from(organisation)
    chosen_ids = _parse_ids(request.GET.getlist("usagers"))
    chosen = list(visible.filter(pk__in=chosen_ids)) if chosen_ids else []
    query = request.GET.get("recherche_usager", "").strip()[:100]
    results = _search_usagers(organisation, query, exclude=[u.pk for u in chosen])
    return render(
        request,
        "bookings/_usager_choices.html",
        {"chosen": chosen, "results": results, "searched": bool(query), "organisation": organisation},
    )


# RDV page and its operations ----------------------------------------------------------------


@require_GET
@organisation_member_required
def rdv_detail(request, organisation, rdv_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    return _detail(request, organisation, scope, rdv)


def _detail(request, organisation, scope, rdv, *, status_form=None, cancel_form=None, participant_form=None):
    participations = list(
        rdv.participations.select_related("usager").order_by("usager__last_name_key", "usager__first_name_key", "pk")
    )
    visible_usager_ids = set(
        Usager.objects.visible_from(organisation)
        .filter(pk__in=[p.usager_id for p in participations])
        .values_list("pk", flat=True)
    )
    for participation in participations:
        participation.file_visible = participation.usager_id in visible_usager_ids
    agents = [link.agent for link in rdv.agent_links.select_related("agent").order_by("agent__last_name")]
    query = request.GET.get("recherche_usager", "").strip()[:100]
    results = _search_usagers(organisation, query, exclude=[p.usager_id for p in participations])
    context_enabled = _context_enabled(organisation)
    can_add = not rdv.is_cancelled and (rdv.collective or not participations)
    return _render(
        request,
        "bookings/rdv_detail.html",
        organisation,
        f"Rendez-vous du {_when(rdv)}",
        rdv=rdv,
        participations=participations,
        agents=agents,
        is_today=timezone.localtime(rdv.starts_at).date() == timezone.localdate(),
        status_form=status_form or StatusForm(initial={"status": rdv.status}),
        cancel_form=cancel_form or CancelForm(),
        participant_form=participant_form,
        search_query=query,
        search_results=results,
        can_add_participant=can_add,
        history=_history(rdv, context_enabled),
        agenda_link=f"{reverse('agenda', args=[organisation.pk])}?"
        + urlencode(
            [("vue", "jour"), ("date", timezone.localtime(rdv.starts_at).date().isoformat())]
            + [("agents", agent.pk) for agent in agents]
        ),
    )


@organisation_member_required
def rdv_edit(request, organisation, rdv_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    context_enabled = _context_enabled(organisation)
    initial = {"context": rdv.context, "address": rdv.address, "visio_url": rdv.visio_url}
    form = RdvEditForm(submitted(request), initial=initial, context_enabled=context_enabled)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.update_rdv(request.user, rdv, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, "Le rendez-vous est enregistré.")
            else:
                messages.info(request, "Aucune modification.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _render(request, "bookings/rdv_edit.html", organisation, "Modifier le rendez-vous", form=form, rdv=rdv)


@organisation_member_required
def rdv_move(request, organisation, rdv_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    if rdv.is_cancelled:
        messages.error(request, "Ce rendez-vous est annulé : il ne peut plus être déplacé.")
        return redirect("rdv_detail", organisation.pk, rdv.pk)
    start = timezone.localtime(rdv.starts_at)
    initial = {
        "date": start.date(),
        "heure": start.time().replace(second=0, microsecond=0),
        "lieu": rdv.lieu_id,
        "agents": list(rdv.agent_links.values_list("agent_id", flat=True)),
    }
    if request.method == "GET" and request.GET.get("debut"):
        new_start = parse_start(request.GET["debut"])
        if new_start is not None:
            local = timezone.localtime(new_start)
            initial["date"], initial["heure"] = local.date(), local.time().replace(second=0, microsecond=0)
    form = RdvMoveForm(
        submitted(request),
        initial=initial,
        lieux=_lieux(organisation),
        agents=_org_agents(organisation),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.move_rdv(
                request.user,
                rdv,
                form.starts_at(),
                agents=list(data["agents"]),
                lieu=data.get("lieu"),
                override=bool(data.get("override")),
            )
        except DomainError as error:
            field = {"starts_at": "heure"}.get(error.field, error.field)
            add_domain_error(form, DomainError(error.code, error.message, field=field))
            form.show_override = error.code in services.OVERRIDABLE
        else:
            rdv.refresh_from_db()
            messages.success(request, f"Rendez-vous déplacé au {_when(rdv)}.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _render(request, "bookings/rdv_move.html", organisation, "Déplacer le rendez-vous", form=form, rdv=rdv)


@require_POST
@organisation_member_required
def rdv_status(request, organisation, rdv_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.set_status(request.user, rdv, form.cleaned_data["status"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            rdv.refresh_from_db()
            messages.success(request, f"Statut du rendez-vous : {rdv.get_status_display()}.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _detail(request, organisation, scope, rdv, status_form=form)


@require_POST
@organisation_member_required
def rdv_cancel(request, organisation, rdv_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        if rdv.is_cancelled:
            messages.info(request, "Ce rendez-vous est déjà annulé.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
        try:
            services.cancel_rdv(
                request.user, rdv, by_usager=form.cleaned_data["by"] == "usager", reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Le rendez-vous est annulé : le créneau est de nouveau libre.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _detail(request, organisation, scope, rdv, cancel_form=form)


@require_POST
@organisation_member_required
def rdv_participant_add(request, organisation, rdv_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    form = ParticipantForm(request.POST, usagers=Usager.objects.visible_from(organisation))
    if form.is_valid():
        usager = form.cleaned_data["usager"]
        try:
            services.add_participant(request.user, rdv, usager)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{usager} est ajouté(e) au rendez-vous.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _detail(request, organisation, scope, rdv, participant_form=form)


@require_POST
@organisation_member_required
def rdv_participant_remove(request, organisation, rdv_id, usager_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    participation = get_object_or_404(Participation.objects.select_related("usager"), rdv=rdv, usager_id=usager_id)
    try:
        services.remove_participant(request.user, rdv, participation.usager)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{participation.usager} est retiré(e) du rendez-vous.")
    return redirect("rdv_detail", organisation.pk, rdv.pk)


@require_POST
@organisation_member_required
def rdv_arrival(request, organisation, rdv_id):
    scope = _scope(request, organisation)
    rdv = _get_rdv(scope, rdv_id)
    arrived = request.POST.get("arrive") != "0"
    try:
        services.mark_arrived(request.user, rdv, arrived)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if arrived:
            messages.success(request, "Arrivée enregistrée : l'usager est en salle d'attente.")
        else:
            messages.success(request, "Arrivée annulée.")
    return redirect("rdv_detail", organisation.pk, rdv.pk)


__all__ = [
    "agenda",
    "agenda_arrivals",
    "rdv_arrival",
    "rdv_cancel",
    "rdv_create",
    "rdv_detail",
    "rdv_edit",
    "rdv_list",
    "rdv_move",
    "rdv_participant_add",
    "rdv_participant_remove",
    "rdv_status",
    "usager_search",
]
