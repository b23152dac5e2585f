"""Agenda and RDV pages for the agents of an organisation.

Each view parses its input, fetches RDVs through the context's scope (rdv.bookings.policies:
anything outside is a 404), calls one function of rdv.bookings (services for changes, selectors
for reads) and renders. A DomainError becomes a French form error and nothing is changed.
"""

import datetime
import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import caches
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rdv.agendas import selectors as agenda_selectors
from rdv.agendas.calendar import french_date, holiday_zone
from rdv.bookings import policies as rdv_policies
from rdv.bookings import selectors as rdv_selectors
from rdv.bookings import services
from rdv.bookings.models import Rdv
from rdv.core.dates import parse_day
from rdv.core.errors import DomainError
from rdv.core.text import SEARCH_MAX_LENGTH
from rdv.motifs import policies as motif_policies
from rdv.motifs import selectors as motif_selectors
from rdv.notifications import selectors as notification_selectors
from rdv.online import services as online_services
from rdv.usagers import policies as usager_policies
from rdv.usagers import selectors as usager_selectors
from rdv.www import agenda_grid
from rdv.www.csv_export import csv_response
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
GRID, LIST = "grille", "liste"
DISPLAY_SESSION_KEY = "agenda_affichage"
VERSION_HEADER = "X-Agenda-Version"
MOVED_HEADER = "X-Agenda-Deplace"


# Helpers ----------------------------------------------------------------------------------------


def _get_rdv(ctx, rdv_id) -> Rdv:
    return get_object_or_404(
        rdv_policies.scope(ctx).select_related("motif__service", "lieu", "organisation__territory", "created_by_agent"),
        pk=rdv_id,
    )


def _context_enabled(ctx) -> bool:
    return ctx.territory.rdv_field_enabled("context")


def _render(request, template, ctx, title, **context):
    context.update(
        {
            "organisation": ctx.organisation,
            "territory": ctx.territory,
            "title": title,
            "context_enabled": _context_enabled(ctx),
        }
    )
    return render(request, template, context)


# Agenda -----------------------------------------------------------------------------------------


def _parse_ids(values) -> list[int]:
    ids = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part.isdigit() and len(part) < 12:
                ids.append(int(part))
    return list(dict.fromkeys(ids))


def _parse_day(request, name: str = "date", *, warn: bool = True) -> datetime.date:
    raw = request.GET.get(name, "")
    day = parse_day(raw)
    if raw and day is None and warn:
        messages.warning(request, "Date invalide : l'agenda affiche aujourd'hui. Format attendu : AAAA-MM-JJ.")
    return day or timezone.localdate()


@dataclass
class _AgendaQuery:
    """What an agenda shows, read from the URL (the page and its grid fragment read it alike)."""

    view: str  # "jour" | "semaine"
    day: datetime.date
    first_day: datetime.date
    last_day: datetime.date
    step: datetime.timedelta
    agents: list
    all_agents: list
    show_cancelled: bool

    def params(self, *, day=None, view=None) -> list:
        params = [("vue", view or self.view), ("date", (day or self.day).isoformat())]
        params += [("agents", agent.pk) for agent in self.agents]
        if self.show_cancelled:
            params.append(("annules", "1"))
        return params


def _agenda_query(request, ctx, *, warn: bool = True) -> _AgendaQuery:
    view = "jour" if request.GET.get("vue") == "jour" else "semaine"
    day = _parse_day(request, warn=warn)
    # What a column, a checkbox and the parameters use of an agent: 200 whole rows cost a millisecond.
    all_agents = list(agenda_selectors.organisation_agents(ctx).only("pk", "email", "first_name", "last_name"))
    by_id = {agent.pk: agent for agent in all_agents}
    wanted = _parse_ids(request.GET.getlist("agents"))
    agents = [by_id[pk] for pk in wanted if pk in by_id][:MAX_AGENDA_AGENTS]
    if warn and wanted and len(agents) < min(len(wanted), MAX_AGENDA_AGENTS):
        messages.warning(request, "Certains agendas demandés ne font pas partie de l'organisation : ils sont ignorés.")
    if not agents:
        agents = [by_id.get(request.user.pk) or all_agents[0]]
    if view == "jour":
        first_day = last_day = day
        step = datetime.timedelta(days=1)
    else:
        first_day = day - datetime.timedelta(days=day.weekday())
        last_day = first_day + datetime.timedelta(days=6)
        step = datetime.timedelta(days=7)
    show_cancelled = request.GET.get("annules") == "1"
    return _AgendaQuery(view, day, first_day, last_day, step, agents, all_agents, show_cancelled)


def _agenda_display(request) -> str:
    """« Grille » (the time grid, by default) or « Liste » (the table of days × agents): the
    choice is kept in the session."""
    asked = {"grille": GRID, "liste": LIST}.get(request.GET.get("affichage", ""))
    if asked is None:
        return request.session.get(DISPLAY_SESSION_KEY, GRID)
    if request.session.get(DISPLAY_SESSION_KEY, GRID) != asked:
        request.session[DISPLAY_SESSION_KEY] = asked
    return asked


@dataclass
class _Grid:
    version: str  # what changes when a RDV, a plage, an absence or an arrival does; not the « now » marks
    waiting: list  # the waiting room: RDVs whose usagers have arrived
    waiting_html: str
    html: str = ""  # empty when the caller already had this version


def _render_grid(ctx, query: _AgendaQuery, *, known_version: str = "") -> _Grid:
    """The time grid: its version, the waiting room, and (unless the caller has `known_version`
    already, as the page's 15-second refresh usually has) its HTML. Each column's HTML is cached
    by its signature (agenda_grid.column_signature: a digest of everything it shows), so a column
    is rendered once until something in it changes; the « now » marks are added at each request."""
    organisation = ctx.organisation
    data = rdv_selectors.build_agenda_grid(
        ctx,
        query.agents,
        query.first_day,
        query.last_day,
        show_cancelled=query.show_cancelled,
        holiday_zone=holiday_zone(organisation.territory),
    )
    agenda_url = reverse("agenda", args=[organisation.pk])
    day_links = {}
    if query.view == "semaine":
        day = query.first_day
        while day <= query.last_day:
            day_links[day] = f"{agenda_url}?{urlencode(query.params(day=day, view='jour'))}"
            day += datetime.timedelta(days=1)
    frame = agenda_grid.frame(data)
    signatures = [
        agenda_grid.column_signature(column, organisation.pk, frame, day_links.get(column.day, ""))
        for column in data.columns
    ]
    visual = organisation.territory.waiting_room_notifies_visually
    waiting = [{"start": item.start, "names": item.names or "Usager"} for item in data.arrived] if visual else []
    waiting_html = render_to_string("bookings/_waiting_room.html", {"waiting": waiting, "oob": True})
    stable = repr((frame.first_minute, frame.last_minute, frame.single_day, frame.single_agent, signatures))
    version = hashlib.sha256((stable + waiting_html).encode()).hexdigest()[:16]
    grid = _Grid(version, waiting, waiting_html)
    if known_version == version:
        return grid
    fragments = caches["fragments"]
    keys = [f"agenda-col:{signature}" for signature in signatures]
    cached = fragments.get_many(keys)
    now = timezone.now()
    placer = None
    rendered, parts = {}, []
    for column, key in zip(data.columns, keys, strict=True):
        halves = cached.get(key) or rendered.get(key)
        if halves is None:
            placer = placer or agenda_grid.Placer(organisation.pk, frame, now=now, day_links=day_links)
            html = agenda_grid.column_html(placer.column(column), frame)
            before, _, after = html.partition(agenda_grid.NOW_MARKERS)
            halves = rendered[key] = (before, after)
        past_span, now_top = agenda_grid.now_marks(column.day, frame.first_minute, frame.last_minute, now)
        now_html = agenda_grid.now_html(past_span, now_top)
        parts.append(f"{halves[0]}{agenda_grid.NOW_OPEN}{now_html}{agenda_grid.NOW_CLOSE}{halves[1]}")
    if rendered:
        fragments.set_many(rendered)
    grid.html = render_to_string(
        "bookings/_agenda_grid.html",
        {
            "layout": frame,
            "column_count": len(data.columns),
            "columns_html": mark_safe("".join(parts)),  # noqa: S308 - each column escaped by agenda_grid.column_html
        },
    )
    return grid


@require_GET
@organisation_member_required
def agenda(request, ctx):
    organisation = ctx.organisation
    query = _agenda_query(request, ctx)
    display = _agenda_display(request)
    agenda_url = reverse("agenda", args=[organisation.pk])

    def link(target_day=None, target_view=None) -> str:
        return f"{agenda_url}?{urlencode(query.params(day=target_day, view=target_view))}"

    day, view = query.day, query.view
    if view == "jour":
        heading = french_date(day).capitalize()
    else:
        heading = f"Semaine du {french_date(query.first_day)} au {french_date(query.last_day)}"
    territory = organisation.territory
    visual = territory.waiting_room_notifies_visually
    extra = {}
    if display == GRID:
        grid = _render_grid(ctx, query)
        waiting = grid.waiting
        extra = {
            "grid_html": mark_safe(grid.html),  # noqa: S308 (rendered by our template, escaped there)
            "grid_version": grid.version,
            "grid_url": f"{reverse('agenda_grid', args=[organisation.pk])}?{urlencode(query.params())}",
            "snap_minutes": agenda_grid.SNAP_MINUTES,
            "poll_url": "",
        }
    else:
        data = rdv_selectors.build_agenda(
            ctx,
            query.agents,
            query.first_day,
            query.last_day,
            show_cancelled=query.show_cancelled,
            holiday_zone=holiday_zone(territory),
        )
        poll_url = ""
        if visual and data.rdv_ids:
            ids = ",".join(str(pk) for pk in data.rdv_ids[:MAX_POLLED_RDVS])
            poll_url = f"{reverse('agenda_arrivals', args=[organisation.pk])}?{urlencode({'rdvs': ids})}"
        for row in data.rows:
            row.label = french_date(row.day).capitalize()
            row.day_link = link(row.day, "jour")
        waiting = [{"start": item.start, "names": item.names or "Usager"} for item in data.arrived]
        extra = {"agenda": data, "poll_url": poll_url}
    display_params = query.params()
    return _render(
        request,
        "bookings/agenda.html",
        ctx,
        "Agenda",
        display=display,
        agents=query.agents,
        view=view,
        day=day,
        heading=heading,
        all_agents=query.all_agents,
        agent_checkboxes=agenda_grid.agent_checkboxes(query.all_agents, {agent.pk for agent in query.agents}),
        show_cancelled=query.show_cancelled,
        previous_link=link(day - query.step),
        next_link=link(day + query.step),
        today_link=link(timezone.localdate()),
        week_link=link(target_view="semaine"),
        day_link=link(target_view="jour"),
        grid_link=f"{agenda_url}?{urlencode([*display_params, ('affichage', 'grille')])}",
        list_link=f"{agenda_url}?{urlencode([*display_params, ('affichage', 'liste')])}",
        visual=visual,
        waiting=waiting,
        poll_seconds=POLL_SECONDS,
        **extra,
    )


@require_GET
@organisation_member_required
def agenda_grid_fragment(request, ctx):
    """The time grid alone, polled by the page (htmx) so that RDVs booked or moved by colleagues
    and waiting-room arrivals appear without reload: 204 when nothing changed since `version`."""
    query = _agenda_query(request, ctx, warn=False)
    grid = _render_grid(ctx, query, known_version=request.GET.get("version", ""))
    if not grid.html:  # the page has this version: nothing to render
        response = HttpResponse(status=204)
    else:
        visual = ctx.organisation.territory.waiting_room_notifies_visually
        response = HttpResponse(grid.html + (grid.waiting_html if visual else ""))
    response[VERSION_HEADER] = grid.version
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@organisation_member_required
def agenda_arrivals(request, ctx):
    """htmx polling fragment: the waiting-room marks of the RDVs shown in an agenda (out-of-band
    swaps), and the waiting-room summary."""
    organisation = ctx.organisation
    ids = _parse_ids(request.GET.getlist("rdvs"))[:MAX_POLLED_RDVS]
    visual = organisation.territory.waiting_room_notifies_visually
    rdvs = rdv_selectors.polled_rdvs(ctx, ids)
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


@require_GET
@organisation_member_required
def rdv_list(request, ctx):
    organisation = ctx.organisation
    params = request.GET.copy()
    if "du" not in params:  # by default: from today on
        params["du"] = timezone.localdate().isoformat()
    form = RdvFilterForm(
        params,
        agents=agenda_selectors.organisation_agents(ctx),
        motifs=motif_policies.scope(ctx).select_related("service").order_by("name"),
        lieux=agenda_selectors.lieux(ctx).order_by("name"),
    )
    form.is_valid()  # invalid filters are reported on the form and ignored
    data = {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
    if request.GET.get("format") == "csv":
        rows = rdv_selectors.export_rows(ctx, data)
        return csv_response(rows, f"rendez-vous-{timezone.localdate():%Y-%m-%d}.csv")
    page = Paginator(rdv_selectors.rdv_list(ctx, data), PAGE_SIZE).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)
    query.pop("format", None)
    csv_query = query.copy()
    csv_query["format"] = "csv"
    return _render(
        request,
        "bookings/rdv_list.html",
        ctx,
        "Rendez-vous",
        form=form,
        page=page,
        query=query.urlencode(),
        csv_link=f"{reverse('rdv_list', args=[organisation.pk])}?{csv_query.urlencode()}",
    )


# Booking ----------------------------------------------------------------------------------------


def _search_usagers(ctx, query: str, exclude=()):
    if not query:
        return []
    return list(usager_selectors.search(ctx, query, territory_wide=True).exclude(pk__in=list(exclude))[:SEARCH_RESULTS])


def _initial_from_link(request) -> dict:
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
def rdv_create(request, ctx):
    organisation = ctx.organisation
    visible_usagers = usager_policies.scope(ctx)
    options = {
        "motifs": motif_selectors.bookable_motifs(ctx),
        "lieux": agenda_selectors.active_lieux(ctx),
        "agents": agenda_selectors.organisation_agents(ctx),
        "usagers": visible_usagers,
        "context_enabled": _context_enabled(ctx),
        "territory": ctx.territory,
        "custom_fields": list(usager_selectors.required_custom_fields(ctx)),
    }
    searching = request.method == "POST" and request.POST.get("action") == "rechercher"
    duplicates = []
    if request.method == "POST" and not searching:
        form = RdvCreateForm(request.POST, **options)
        if form.is_valid():
            rdv = _book(ctx, form, duplicates)
            if rdv is not None:
                messages.success(request, f"Rendez-vous enregistré : {rdv.motif.name}, {_when(rdv)}.")
                return redirect("rdv_detail", organisation.pk, rdv.pk)
    elif searching:
        # Keep what was typed, without validating: the agent is still filling the form.
        data = request.POST
        initial = {name: data.get(name) for name in RdvCreateForm.base_fields if name not in ("agents", "usagers")}
        initial.update({name: data.get(name) for name in data if name.startswith("new_cf_")})  # custom fields
        initial.update(agents=data.getlist("agents"), usagers=data.getlist("usagers"), date=data.get("date"))
        initial["heure"] = data.get("heure")
        form = RdvCreateForm(initial=initial, **options)
    else:
        form = RdvCreateForm(initial=_initial_from_link(request), **options)
    chosen_ids = _parse_ids(
        request.POST.getlist("usagers") if request.method == "POST" else form.initial.get("usagers") or []
    )
    chosen = list(visible_usagers.filter(pk__in=chosen_ids)) if chosen_ids else []
    query = (request.POST.get("recherche_usager") if request.method == "POST" else "") or ""
    results = _search_usagers(ctx, query.strip()[:SEARCH_MAX_LENGTH], exclude=[u.pk for u in chosen])
    known = {u.pk for u in chosen} | {u.pk for u in results}
    for duplicate in duplicates:
        if duplicate.usager.pk not in known:
            results.append(duplicate.usager)
    return _render(
        request,
        "bookings/rdv_form.html",
        ctx,
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


def _book(ctx, form: RdvCreateForm, duplicates: list) -> Rdv | None:
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
                found = usager_selectors.find_duplicates(ctx, form.new_usager_data())
                if found:
                    duplicates.extend(found)
                    form.add_error(
                        None,
                        "Cet usager existe peut-être déjà : cochez sa fiche dans la liste des usagers, ou confirmez "
                        "la création d'une nouvelle fiche.",
                    )
                    return None
            rdv, _ = services.book_rdv_for_new_usager(
                ctx,
                form.new_usager_data(),
                booking,
                custom_values=form.new_usager_custom_values(),
                override=override,
            )
        else:
            rdv = services.book_rdv(ctx, booking, override=override)
    except DomainError as error:
        field = {"duration": "duration_minutes", "starts_at": "heure"}.get(error.field, error.field)
        if error.field and f"new_{error.field}" in form.fields:  # the inline usager's fields
            field = f"new_{error.field}"
        add_domain_error(form, DomainError(error.code, error.message, field=field))
        form.show_override = error.code in services.OVERRIDABLE
        return None
    return rdv


@require_GET
@organisation_member_required
def usager_search(request, ctx):
    """htmx fragment of the booking form: usagers matching the search, as checkboxes (the usagers
    already chosen stay first and checked)."""
    organisation = ctx.organisation
    visible = usager_policies.scope(ctx)
    chosen_ids = _parse_ids(request.GET.getlist("usagers"))
    chosen = list(visible.filter(pk__in=chosen_ids)) if chosen_ids else []
    query = request.GET.get("recherche_usager", "").strip()[:SEARCH_MAX_LENGTH]
    results = _search_usagers(ctx, query, exclude=[u.pk for u in chosen])
    return render(
        request,
        "bookings/_usager_choices.html",
        {"chosen": chosen, "results": results, "searched": bool(query), "organisation": organisation},
    )


# RDV page and its operations ----------------------------------------------------------------


@require_GET
@organisation_member_required
def rdv_detail(request, ctx, rdv_id):
    rdv = _get_rdv(ctx, rdv_id)
    return _detail(request, ctx, rdv)


def _detail(request, ctx, rdv, *, status_form=None, cancel_form=None, participant_form=None):
    organisation = ctx.organisation
    participations = rdv_selectors.participations(ctx, rdv)
    agents = [link.agent for link in rdv.agent_links.select_related("agent").order_by("agent__last_name")]
    query = request.GET.get("recherche_usager", "").strip()[:SEARCH_MAX_LENGTH]
    results = _search_usagers(ctx, query, exclude=[p.usager_id for p in participations])
    can_add = not rdv.is_cancelled and (rdv.collective or not participations)
    return _render(
        request,
        "bookings/rdv_detail.html",
        ctx,
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
        history=rdv_selectors.history(ctx, rdv),
        manage_links=online_services.active_manage_links(ctx, rdv),
        notification_log=notification_selectors.rdv_log(ctx, rdv),
        agenda_link=f"{reverse('agenda', args=[organisation.pk])}?"
        + urlencode(
            [("vue", "jour"), ("date", timezone.localtime(rdv.starts_at).date().isoformat())]
            + [("agents", agent.pk) for agent in agents]
        ),
    )


@organisation_member_required
def rdv_edit(request, ctx, rdv_id):
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    context_enabled = _context_enabled(ctx)
    initial = {"context": rdv.context, "address": rdv.address, "visio_url": rdv.visio_url}
    form = RdvEditForm(submitted(request), initial=initial, context_enabled=context_enabled, rdv=rdv)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.update_rdv(ctx, rdv, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, "Le rendez-vous est enregistré.")
            else:
                messages.info(request, "Aucune modification.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _render(request, "bookings/rdv_edit.html", ctx, "Modifier le rendez-vous", form=form, rdv=rdv)


@organisation_member_required
def rdv_move(request, ctx, rdv_id):
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
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
        lieux=agenda_selectors.active_lieux(ctx),
        agents=agenda_selectors.organisation_agents(ctx),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.move_rdv(
                ctx,
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
    return _render(request, "bookings/rdv_move.html", ctx, "Déplacer le rendez-vous", form=form, rdv=rdv)


# Moving from the time grid (drag and drop, or the keyboard) ---------------------------------------


def _agent_or_404(ctx, agent_id: str):
    if not agent_id.isdigit() or len(agent_id) > 11:
        raise Http404
    return get_object_or_404(agenda_selectors.organisation_agents(ctx), pk=int(agent_id))


def _slot_text(start: datetime.datetime, agents, lieu) -> str:
    names = ", ".join(str(agent) for agent in agents)
    text = f"{french_date(timezone.localtime(start).date())} à {timezone.localtime(start):%H:%M} avec {names}"
    return f"{text} ({lieu.name})" if lieu is not None else text


@require_http_methods(["GET", "POST"])
@organisation_member_required
def agenda_move(request, ctx, rdv_id):
    """The confirmation of a move made on the time grid, as a fragment for the page's dialog.

    GET `?debut=<wall-clock time>&agent=<column's agent>&depuis=<agent whose column the RDV left>`
    describes the move; POST asks `move_rdv` (the same re-check as the move form): a refusal says
    why (409) and, when the move form would, offers « Déplacer quand même » (`override`). Bad input
    gets a French message (400); another organisation's RDV or agent, a 404."""
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    data = request.POST if request.method == "POST" else request.GET
    target = _agent_or_404(ctx, data.get("agent", ""))
    source = _agent_or_404(ctx, data["depuis"]) if data.get("depuis") else None
    current = [link.agent for link in rdv.agent_links.select_related("agent").order_by("agent__last_name", "pk")]
    fragment = {
        "rdv": rdv,
        "organisation": organisation,
        "names": ", ".join(str(p.usager) for p in rdv_selectors.participations(ctx, rdv)),
        "current": _slot_text(rdv.starts_at, current, rdv.lieu),
        "form_url": reverse("rdv_move", args=[organisation.pk, rdv.pk]),
    }

    def answer(status=200, **context):
        response = render(request, "bookings/_agenda_move.html", {**fragment, **context}, status=status)
        response["Cache-Control"] = "no-store"
        return response

    start = parse_start(data.get("debut"))
    if start is None:
        return answer(400, error="L'horaire demandé est invalide : choisissez le nouvel horaire dans la grille.")
    if rdv.is_cancelled:
        return answer(409, error="Ce rendez-vous est annulé : il ne peut plus être déplacé.")
    ids = [agent.pk for agent in current]
    if target.pk in ids:
        agents = current
    elif source is not None and source.pk in ids:
        agents = [target if agent.pk == source.pk else agent for agent in current]
    elif len(current) == 1:
        agents = [target]
    else:
        return answer(400, error="Indiquez l'agenda d'où le rendez-vous est déplacé.")
    lieu = rdv_selectors.move_lieu(ctx, rdv, target, start)
    new_lieu = lieu if lieu is not None and lieu.pk != rdv.lieu_id else None
    fragment.update(
        proposed=_slot_text(start, agents, new_lieu or rdv.lieu),
        lieu_changed=new_lieu is not None,
        debut=f"{timezone.localtime(start):%Y-%m-%dT%H:%M}",
        agent=target.pk,
        depuis=source.pk if source is not None else "",
        form_url=f"{fragment['form_url']}?{urlencode({'debut': timezone.localtime(start).isoformat()})}",
    )
    if request.method == "GET":
        return answer()
    override = request.POST.get("override") == "1"
    try:
        services.move_rdv(ctx, rdv, start, agents=agents, lieu=new_lieu, override=override)
    except DomainError as error:
        return answer(409, error=error.message, show_override=error.code in services.OVERRIDABLE and not override)
    rdv.refresh_from_db()
    response = answer(done=f"Rendez-vous déplacé au {_when(rdv)}.")
    response[MOVED_HEADER] = str(rdv.pk)
    return response


@require_POST
@organisation_member_required
def rdv_status(request, ctx, rdv_id):
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.set_status(ctx, rdv, form.cleaned_data["status"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            rdv.refresh_from_db()
            messages.success(request, f"Statut du rendez-vous : {rdv.get_status_display()}.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _detail(request, ctx, rdv, status_form=form)


@require_POST
@organisation_member_required
def rdv_cancel(request, ctx, rdv_id):
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        if rdv.is_cancelled:
            messages.info(request, "Ce rendez-vous est déjà annulé.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
        try:
            services.cancel_rdv(
                ctx, rdv, by_usager=form.cleaned_data["by"] == "usager", reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "Le rendez-vous est annulé : le créneau est de nouveau libre.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _detail(request, ctx, rdv, cancel_form=form)


@require_http_methods(["GET", "POST"])
@organisation_member_required
def rdv_manage_link_revoke(request, ctx, rdv_id, link_id):
    """« Révoquer le lien »: a confirmation step (also on a GET), then, on a POST with `confirmer=1`,
    rdv.online.services.revoke_manage_link. The RDV comes through the agent's scope and the link
    through the RDV: anything outside, or a RDV the agent may not change, is a 404."""
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    if not rdv_policies.can_change(ctx, rdv):
        raise Http404
    link = get_object_or_404(rdv.manage_links.select_related("usager"), pk=link_id)
    if link.revoked_at is not None:
        messages.info(request, "Ce lien de gestion est déjà révoqué : il ne permet plus d'accéder au rendez-vous.")
        return redirect("rdv_detail", organisation.pk, rdv.pk)
    if not online_services.link_is_active(link, rdv):
        messages.info(request, "Ce lien de gestion a expiré : il ne permet déjà plus d'accéder au rendez-vous.")
        return redirect("rdv_detail", organisation.pk, rdv.pk)
    if not (request.method == "POST" and request.POST.get("confirmer") == "1"):
        return _render(
            request,
            "bookings/confirm.html",
            ctx,
            "Révoquer le lien de gestion en ligne ?",
            rdv=rdv,
            lead=f"Rendez-vous du {_when(rdv)} : lien envoyé à {link.usager} le "
            f"{timezone.localtime(link.created_at):%d/%m/%Y à %H:%M}.",
            details=[],
            consequences=[
                "Ce lien ne permettra plus de voir, déplacer ou annuler le rendez-vous en ligne : "
                "la personne devra contacter le service.",
                "Le rendez-vous lui-même n'est pas modifié. Un lien révoqué ne peut pas être réactivé.",
            ],
            action_url=request.path,
            confirm_label="Révoquer le lien",
            back_url=reverse("rdv_detail", args=[organisation.pk, rdv.pk]),
            back_label="Garder le lien",
        )
    try:
        online_services.revoke_manage_link(ctx, link)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Le lien de gestion en ligne est révoqué : il ne permet plus d'accéder au rendez-vous."
        )
    return redirect("rdv_detail", organisation.pk, rdv.pk)


@require_POST
@organisation_member_required
def rdv_participant_add(request, ctx, rdv_id):
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    form = ParticipantForm(request.POST, usagers=usager_policies.scope(ctx))
    if form.is_valid():
        usager = form.cleaned_data["usager"]
        try:
            services.add_participant(ctx, rdv, usager)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{usager} est ajouté(e) au rendez-vous.")
            return redirect("rdv_detail", organisation.pk, rdv.pk)
    return _detail(request, ctx, rdv, participant_form=form)


@require_POST
@organisation_member_required
def rdv_participant_remove(request, ctx, rdv_id, usager_id):
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    participation = get_object_or_404(rdv.participations.select_related("usager"), usager_id=usager_id)
    try:
        services.remove_participant(ctx, rdv, participation.usager)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{participation.usager} est retiré(e) du rendez-vous.")
    return redirect("rdv_detail", organisation.pk, rdv.pk)


@require_POST
@organisation_member_required
def rdv_arrival(request, ctx, rdv_id):
    organisation = ctx.organisation
    rdv = _get_rdv(ctx, rdv_id)
    arrived = request.POST.get("arrive") != "0"
    try:
        services.mark_arrived(ctx, rdv, arrived)
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
    "agenda_grid_fragment",
    "agenda_move",
    "rdv_arrival",
    "rdv_cancel",
    "rdv_create",
    "rdv_detail",
    "rdv_edit",
    "rdv_list",
    "rdv_manage_link_revoke",
    "rdv_move",
    "rdv_participant_add",
    "rdv_participant_remove",
    "rdv_status",
    "usager_search",
]
