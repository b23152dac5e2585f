"""Agenda pages of an organisation: lieux, agents' plages d'ouverture and absences, the week view, and
the agent-side search "trouver un créneau".

Rights (rdv.agendas.policies, with the request's context): organisation admins manage the lieux and
every agent's agenda; basic agents manage their own agenda and read the lieux. Anything else
answers 404.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from rdv.accounts.models import Agent
from rdv.agendas import policies
from rdv.agendas import selectors as agenda_selectors
from rdv.agendas import services as agenda_services
from rdv.agendas.calendar import describe_recurrence, french_date, holiday_zone, monday_of, plage_name, time_range
from rdv.agendas.models import Absence, Lieu, PlageOuverture, RecurrenceKind
from rdv.bookings.search import search_week
from rdv.core.dates import parse_day
from rdv.core.errors import DomainError
from rdv.core.text import de
from rdv.motifs import selectors as motif_selectors
from rdv.www.forms.agendas import (
    AbsenceForm,
    EndPlageForm,
    LieuForm,
    OccurrenceForm,
    PlageForm,
    SlotSearchForm,
    WeekForm,
)
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.tenancy import organisation_member_required

MAX_SEARCH_START = timedelta(days=730)


def _render(request, organisation, template: str, title: str, crumbs=(), **context):
    context.update(
        {
            "organisation": organisation,
            "territory": organisation.territory,
            "title": title,
            "crumbs": list(crumbs),
        }
    )
    return render(request, template, context)


def _parse_day(value: str) -> date:
    day = parse_day(value)
    if day is None:
        raise Http404("Date invalide")
    return day


def _agent_or_404(ctx, agent_id) -> Agent:
    """An agent whose agenda the context manages (404 otherwise)."""
    return get_object_or_404(policies.agendas_scope(ctx), pk=agent_id)


def _agenda_crumbs(organisation, agent, request, page: str | None = None):
    label = "Mon agenda" if agent.pk == request.user.pk else f"Agenda {de(agent)}"
    crumbs = [(label, reverse("agenda_week", args=[organisation.pk, agent.pk]))]
    if page == "plages":
        crumbs.append(("Plages d'ouverture", reverse("plage_list", args=[organisation.pk, agent.pk])))
    elif page == "absences":
        crumbs.append(("Absences", reverse("absence_list", args=[organisation.pk, agent.pk])))
    return crumbs


def _agenda_context(request, organisation, agent, section: str) -> dict:
    return {"agent": agent, "section": section, "is_me": agent.pk == request.user.pk}


# Lieux -------------------------------------------------------------------------------------------


def _require_lieu_admin(ctx) -> None:
    if not policies.can_manage_lieux(ctx):
        raise Http404("Lieu introuvable")


def _lieu_or_404(ctx, lieu_id) -> Lieu:
    return get_object_or_404(policies.lieux_scope(ctx).select_related("organisation"), pk=lieu_id)


@organisation_member_required
def lieu_list(request, ctx):
    organisation = ctx.organisation
    archived = request.GET.get("archives") == "1"
    rows = [(lieu, agenda_services.lieu_phone_display(lieu)) for lieu in agenda_selectors.lieux(ctx, archived=archived)]
    return _render(
        request,
        organisation,
        "agendas/lieux/list.html",
        "Lieux archivés" if archived else "Lieux",
        rows=rows,
        archived=archived,
        can_manage=policies.can_manage_lieux(ctx),
    )


@organisation_member_required
def lieu_create(request, ctx):
    organisation = ctx.organisation
    _require_lieu_admin(ctx)
    form = LieuForm(submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            lieu = agenda_services.create_lieu(ctx, form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Le lieu « {lieu.name} » est créé.")
            return redirect("lieu_list", organisation.pk)
    crumbs = [("Lieux", reverse("lieu_list", args=[organisation.pk]))]
    return _render(request, organisation, "agendas/lieux/form.html", "Nouveau lieu", crumbs, form=form)


@organisation_member_required
def lieu_edit(request, ctx, lieu_id):
    organisation = ctx.organisation
    _require_lieu_admin(ctx)
    lieu = _lieu_or_404(ctx, lieu_id)
    form = LieuForm(submitted(request), lieu=lieu)
    if request.method == "POST" and form.is_valid():
        try:
            changes = agenda_services.update_lieu(ctx, lieu, form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, f"Le lieu « {lieu.name} » est enregistré.")
            else:
                messages.info(request, "Aucune modification.")
            return redirect("lieu_list", organisation.pk)
    crumbs = [("Lieux", reverse("lieu_list", args=[organisation.pk]))]
    return _render(
        request,
        organisation,
        "agendas/lieux/form.html",
        f"Modifier le lieu « {lieu.name} »",
        crumbs,
        form=form,
        lieu=lieu,
    )


@require_POST
@organisation_member_required
def lieu_archive(request, ctx, lieu_id):
    organisation = ctx.organisation
    _require_lieu_admin(ctx)
    lieu = _lieu_or_404(ctx, lieu_id)
    try:
        agenda_services.archive_lieu(ctx, lieu)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Le lieu « {lieu.name} » est archivé.")
    return redirect("lieu_list", organisation.pk)


@require_POST
@organisation_member_required
def lieu_restore(request, ctx, lieu_id):
    organisation = ctx.organisation
    _require_lieu_admin(ctx)
    lieu = _lieu_or_404(ctx, lieu_id)
    try:
        agenda_services.restore_lieu(ctx, lieu)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('lieu_list', args=[organisation.pk])}?archives=1")
    messages.success(request, f"Le lieu « {lieu.name} » est restauré.")
    return redirect("lieu_list", organisation.pk)


# Agendas of the organisation ---------------------------------------------------------------------


@organisation_member_required
def agenda_agents(request, ctx):
    organisation = ctx.organisation
    agents = list(policies.agendas_scope(ctx))
    return _render(request, organisation, "agendas/agents.html", "Agendas des agents", agents=agents)


@organisation_member_required
def agenda_week(request, ctx, agent_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    form = WeekForm(request.GET or None)
    chosen = form.cleaned_data.get("date") if form.is_valid() else None
    monday = monday_of(chosen or timezone.localdate())
    days = agenda_selectors.week(ctx, agent, monday)
    sunday = monday + timedelta(days=6)
    return _render(
        request,
        organisation,
        "agendas/week.html",
        "Mon agenda" if agent.pk == request.user.pk else f"Agenda {de(agent)}",
        week_label=f"Semaine du {french_date(monday, weekday=False)} au {french_date(sunday, weekday=False)}",
        days=days,
        monday=monday,
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        this_week=monday_of(timezone.localdate()),
        form=form,
        wide=True,
        **_agenda_context(request, organisation, agent, "semaine"),
    )


# Plages ------------------------------------------------------------------------------------------


def _plage_or_404(ctx, agent, plage_id) -> PlageOuverture:
    return get_object_or_404(
        policies.plages_scope(ctx).filter(agent=agent).select_related("lieu", "organisation", "agent"), pk=plage_id
    )


@organisation_member_required
def plage_list(request, ctx, agent_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    current, past = agenda_selectors.agent_plages(ctx, agent)
    return _render(
        request,
        organisation,
        "agendas/plages/list.html",
        "Plages d'ouverture",
        _agenda_crumbs(organisation, agent, request),
        current=current,
        past=past,
        **_agenda_context(request, organisation, agent, "plages"),
    )


def _plage_redirect(organisation, agent, day: date | None = None):
    if day is not None:
        return redirect(f"{reverse('agenda_week', args=[organisation.pk, agent.pk])}?date={day.isoformat()}")
    return redirect("plage_list", organisation.pk, agent.pk)


@organisation_member_required
def plage_create(request, ctx, agent_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    initial = {"first_date": parse_day(request.GET.get("date")) or timezone.localdate()}
    lieux, motifs = agenda_selectors.plage_choices(ctx, agent)
    form = PlageForm(submitted(request), initial=initial, lieux=lieux, motifs=motifs)
    if request.method == "POST" and form.is_valid():
        try:
            plage = agenda_services.create_plage(ctx, agent, form.plage_data())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"La plage « {plage_name(plage)} » est créée : {describe_recurrence(plage)}.")
            return _plage_redirect(organisation, agent)
    return _render(
        request,
        organisation,
        "agendas/plages/form.html",
        "Nouvelle plage d'ouverture",
        _agenda_crumbs(organisation, agent, request, "plages"),
        form=form,
        **_agenda_context(request, organisation, agent, "plages"),
    )


@organisation_member_required
def plage_edit(request, ctx, agent_id, plage_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    plage = _plage_or_404(ctx, agent, plage_id)
    lieux, motifs = agenda_selectors.plage_choices(ctx, agent, plage)
    form = PlageForm(submitted(request), plage=plage, lieux=lieux, motifs=motifs)
    if request.method == "POST" and form.is_valid():
        try:
            changes = agenda_services.update_plage(ctx, plage, form.plage_data())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, f"La plage « {plage_name(plage)} » est enregistrée (toute la série).")
            else:
                messages.info(request, "Aucune modification.")
            return _plage_redirect(organisation, agent)
    return _render(
        request,
        organisation,
        "agendas/plages/form.html",
        "Modifier la plage (toute la série)",
        _agenda_crumbs(organisation, agent, request, "plages"),
        form=form,
        plage=plage,
        **_agenda_context(request, organisation, agent, "plages"),
    )


@organisation_member_required
def plage_delete(request, ctx, agent_id, plage_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    plage = _plage_or_404(ctx, agent, plage_id)
    recurring = plage.recurrence != RecurrenceKind.NONE
    end_form = EndPlageForm(
        request.POST if request.POST.get("action") == "terminer" else None,
        initial={"until": max(plage.first_date, timezone.localdate())},
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "supprimer":
            name = plage_name(plage)
            agenda_services.delete_plage(ctx, plage)
            messages.success(request, f"La plage « {name} » est supprimée.")
            return _plage_redirect(organisation, agent)
        if action == "terminer" and recurring:
            if end_form.is_valid():
                try:
                    agenda_services.end_plage(ctx, plage, end_form.cleaned_data["until"])
                except DomainError as error:
                    add_domain_error(end_form, error)
                else:
                    messages.success(
                        request, f"La plage « {plage_name(plage)} » s'arrête le {french_date(plage.until)}."
                    )
                    return _plage_redirect(organisation, agent)
        else:
            messages.error(request, "Choisissez une action : terminer la série ou supprimer la plage.")
    return _render(
        request,
        organisation,
        "agendas/plages/delete.html",
        "Supprimer ou terminer la plage",
        _agenda_crumbs(organisation, agent, request, "plages"),
        plage=plage,
        plage_label=plage_name(plage),
        description=describe_recurrence(plage),
        hours=time_range(plage.start_time, plage.end_time),
        recurring=recurring,
        end_form=end_form,
        **_agenda_context(request, organisation, agent, "plages"),
    )


def _occurrence_or_404(ctx, agent, plage_id, day: str):
    plage = _plage_or_404(ctx, agent, plage_id)
    when = _parse_day(day)
    if not agenda_services.is_occurrence(plage, when):
        raise Http404("Occurrence introuvable")
    return plage, when


@organisation_member_required
def plage_occurrence(request, ctx, agent_id, plage_id, day):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    plage, when = _occurrence_or_404(ctx, agent, plage_id, day)
    exception = plage.exceptions.filter(date=when).first()
    start, end = plage.start_time, plage.end_time
    if exception is not None and not exception.cancelled:
        start, end = exception.start_time, exception.end_time
    series_hours = time_range(plage.start_time, plage.end_time)
    if exception is not None and exception.cancelled:
        summary = f"Occurrence annulée (horaires de la série : {series_hours})."
    elif exception is not None:
        summary = f"{time_range(start, end)} à {plage.lieu.name} (horaires modifiés ; série : {series_hours})."
    else:
        summary = f"{time_range(start, end)} à {plage.lieu.name}."
    form = OccurrenceForm(submitted(request), initial={"start_time": start, "end_time": end})
    if request.method == "POST" and form.is_valid():
        try:
            agenda_services.move_plage_occurrence(
                ctx, plage, when, form.cleaned_data["start_time"], form.cleaned_data["end_time"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"L'occurrence du {french_date(when)} a lieu de "
                f"{time_range(form.cleaned_data['start_time'], form.cleaned_data['end_time'])} ; "
                "le reste de la série ne change pas.",
            )
            return _plage_redirect(organisation, agent, when)
    return _render(
        request,
        organisation,
        "agendas/plages/occurrence.html",
        f"Occurrence du {french_date(when)}",
        _agenda_crumbs(organisation, agent, request, "plages"),
        plage=plage,
        plage_label=plage_name(plage),
        description=describe_recurrence(plage),
        day=when,
        exception=exception,
        summary=summary,
        series_hours=series_hours,
        recurring=plage.recurrence != RecurrenceKind.NONE,
        is_first=when == plage.first_date,
        form=form,
        **_agenda_context(request, organisation, agent, "plages"),
    )


@require_POST
@organisation_member_required
def plage_occurrence_cancel(request, ctx, agent_id, plage_id, day):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    plage, when = _occurrence_or_404(ctx, agent, plage_id, day)
    try:
        agenda_services.cancel_plage_occurrence(ctx, plage, when)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"L'occurrence du {french_date(when)} est annulée ; le reste de la série ne change pas."
        )
    return _plage_redirect(organisation, agent, when)


@require_POST
@organisation_member_required
def plage_occurrence_restore(request, ctx, agent_id, plage_id, day):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    plage, when = _occurrence_or_404(ctx, agent, plage_id, day)
    try:
        agenda_services.restore_plage_occurrence(ctx, plage, when)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"L'occurrence du {french_date(when)} reprend les horaires de la série.")
    return _plage_redirect(organisation, agent, when)


@organisation_member_required
def plage_edit_following(request, ctx, agent_id, plage_id, day):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    plage, when = _occurrence_or_404(ctx, agent, plage_id, day)
    if plage.recurrence == RecurrenceKind.NONE or when == plage.first_date:
        return redirect("plage_edit", organisation.pk, agent.pk, plage.pk)
    lieux, motifs = agenda_selectors.plage_choices(ctx, agent, plage)
    form = PlageForm(submitted(request), plage=plage, fixed_first_date=when, lieux=lieux, motifs=motifs)
    if request.method == "POST" and form.is_valid():
        try:
            new_plage = agenda_services.update_plage_from(ctx, plage, when, form.plage_data())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"À partir du {french_date(when)}, la plage suit les nouveaux réglages : "
                f"{describe_recurrence(new_plage)}. Les occurrences précédentes ne changent pas.",
            )
            return _plage_redirect(organisation, agent, when)
    return _render(
        request,
        organisation,
        "agendas/plages/form.html",
        f"Modifier cette occurrence et les suivantes (à partir du {french_date(when)})",
        _agenda_crumbs(organisation, agent, request, "plages"),
        form=form,
        plage=plage,
        from_day=when,
        **_agenda_context(request, organisation, agent, "plages"),
    )


# Absences --------------------------------------------------------------------------------------


def _absence_or_404(ctx, agent, absence_id) -> Absence:
    return get_object_or_404(policies.absences_scope(ctx).filter(agent=agent), pk=absence_id)


def _absence_hours(absence: Absence) -> str:
    from rdv.agendas.calendar import WHOLE_DAY_END, WHOLE_DAY_START

    if absence.start_time == WHOLE_DAY_START and absence.end_time == WHOLE_DAY_END:
        if absence.end_date == absence.first_date:
            return "Journée entière"
        return f"Journées entières, du {french_date(absence.first_date)} au {french_date(absence.end_date)}"
    if absence.end_date == absence.first_date:
        return time_range(absence.start_time, absence.end_time)
    return (
        f"Du {french_date(absence.first_date)} {absence.start_time:%H:%M} "
        f"au {french_date(absence.end_date)} {absence.end_time:%H:%M}"
    )


@organisation_member_required
def absence_list(request, ctx, agent_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    current, past = agenda_selectors.agent_absences(ctx, agent)
    for absence in current + past:
        absence.description = describe_recurrence(absence)
        absence.hours = _absence_hours(absence)
    return _render(
        request,
        organisation,
        "agendas/absences/list.html",
        "Absences",
        _agenda_crumbs(organisation, agent, request),
        current=current,
        past=past,
        **_agenda_context(request, organisation, agent, "absences"),
    )


@organisation_member_required
def absence_create(request, ctx, agent_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    form = AbsenceForm(submitted(request), initial={"first_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            absence = agenda_services.create_absence(ctx, agent, form.absence_data())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"L'absence « {absence.title} » est enregistrée.")
            return redirect("absence_list", organisation.pk, agent.pk)
    return _render(
        request,
        organisation,
        "agendas/absences/form.html",
        "Nouvelle absence",
        _agenda_crumbs(organisation, agent, request, "absences"),
        form=form,
        **_agenda_context(request, organisation, agent, "absences"),
    )


@organisation_member_required
def absence_edit(request, ctx, agent_id, absence_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    absence = _absence_or_404(ctx, agent, absence_id)
    form = AbsenceForm(submitted(request), absence=absence)
    if request.method == "POST" and form.is_valid():
        try:
            changes = agenda_services.update_absence(ctx, absence, form.absence_data())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, f"L'absence « {absence.title} » est enregistrée.")
            else:
                messages.info(request, "Aucune modification.")
            return redirect("absence_list", organisation.pk, agent.pk)
    return _render(
        request,
        organisation,
        "agendas/absences/form.html",
        f"Modifier l'absence « {absence.title} »",
        _agenda_crumbs(organisation, agent, request, "absences"),
        form=form,
        absence=absence,
        **_agenda_context(request, organisation, agent, "absences"),
    )


@organisation_member_required
def absence_delete(request, ctx, agent_id, absence_id):
    organisation = ctx.organisation
    agent = _agent_or_404(ctx, agent_id)
    absence = _absence_or_404(ctx, agent, absence_id)
    if request.method == "POST":
        title = absence.title
        agenda_services.delete_absence(ctx, absence)
        messages.success(request, f"L'absence « {title} » est supprimée.")
        return redirect("absence_list", organisation.pk, agent.pk)
    return _render(
        request,
        organisation,
        "agendas/absences/delete.html",
        f"Supprimer l'absence « {absence.title} »",
        _agenda_crumbs(organisation, agent, request, "absences"),
        absence=absence,
        description=describe_recurrence(absence),
        hours=_absence_hours(absence),
        **_agenda_context(request, organisation, agent, "absences"),
    )


# Trouver un créneau ----------------------------------------------------------------------------


@organisation_member_required
def slot_search(request, ctx):
    """A week of free times of a motif (rdv.bookings.search), with links to the weeks around it
    and, when it is empty, to the week of the next free slot."""
    organisation = ctx.organisation
    agents_queryset = agenda_selectors.organisation_agents(ctx)
    form = SlotSearchForm(
        request.GET or None,
        motifs=motif_selectors.bookable_motifs(ctx),
        lieux=agenda_selectors.active_lieux(ctx),
        agents=agents_queryset,
    )
    # The agents' checkboxes are written by the template (hundreds of them through the form's widget
    # templates would cost more than the search itself).
    all_agents = list(agents_queryset)
    checked = set(request.GET.getlist("agents"))
    checked_agents = {agent.pk for agent in all_agents if str(agent.pk) in checked}
    result = None
    links = {}
    if request.GET and form.is_valid():
        today = timezone.localdate()
        latest = today + MAX_SEARCH_START
        start = form.cleaned_data.get("start_date") or today
        if start > latest:
            form.add_error("start_date", "Choisissez une date dans les deux prochaines années.")
        else:
            agents = form.cleaned_data.get("agents")
            lieu = form.cleaned_data.get("lieu")
            result = search_week(
                form.cleaned_data["motif"],
                start,
                agent_ids=[a.pk for a in agents] if agents else None,
                lieu_ids=[lieu.pk] if lieu else None,
                holiday_zone=holiday_zone(organisation.territory),
                tz=ctx.territory.zone,
                viewer_id=request.user.pk,
            )
            params = request.GET.copy()

            def week_link(day: date) -> str:
                params["start_date"] = day.isoformat()
                return f"{reverse('slot_search', args=[organisation.pk])}?{params.urlencode()}"

            if result.previous_week:
                links["previous"] = week_link(result.previous_week)
            if result.next_week <= latest:
                links["next"] = week_link(result.next_week)
            if result.next_slot:
                links["next_slot"] = week_link(result.next_slot.week)
    return _render(
        request,
        organisation,
        "agendas/search.html",
        "Trouver un créneau",
        form=form,
        result=result,
        links=links,
        all_agents=all_agents,
        checked_agents=checked_agents,
        motif=form.cleaned_data.get("motif") if result is not None else None,
        book_url=reverse("rdv_create", args=[organisation.pk]),
    )
