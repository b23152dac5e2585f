"""Motif pages, at espace level (espace admins) and organisation level (organisation members).

Both levels share the same templates; a `Scope` says which motifs the page may reach and which
URLs to use. Anything outside the scope is a 404.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rdv.core.errors import DomainError
from rdv.motifs import perms as motif_perms
from rdv.motifs import services
from rdv.motifs.models import Motif
from rdv.territories.models import Organisation, Territory
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.motifs import (
    MotifConfigurationForm,
    MotifFilterForm,
    MotifInstructionsForm,
    MotifOnlineBookingForm,
    TerritoryMotifCreateForm,
)
from rdv.www.tenancy import organisation_member_required, territory_admin_required

TABS = {
    "configuration": "Configuration",
    "reservation": "Réservation en ligne",
    "instructions": "Notifications et instructions",
}
URL_SUFFIXES = {
    "list": "motifs",
    "create": "motif_create",
    "detail": "motif",
    "configuration": "motif_configuration",
    "reservation": "motif_online_booking",
    "instructions": "motif_instructions",
    "duplicate": "motif_duplicate",
    "archive": "motif_archive",
    "restore": "motif_restore",
}


@dataclass
class Scope:
    territory: Territory
    organisation: Organisation | None  # None: the espace level
    can_manage: bool
    names: dict = field(init=False)

    def __post_init__(self):
        prefix = "espace" if self.organisation is None else "organisation"
        self.names = {key: f"{prefix}_{suffix}" for key, suffix in URL_SUFFIXES.items()}

    @property
    def pk(self) -> int:
        return (self.organisation or self.territory).pk

    @property
    def layout(self) -> str:
        return "motifs/_layout_espace.html" if self.organisation is None else "motifs/_layout_organisation.html"

    def motifs(self):
        if self.organisation is None:
            return Motif.objects.for_territory(self.territory)
        return Motif.objects.for_organisation(self.organisation)

    def url(self, name: str, *args) -> str:
        return reverse(self.names[name], args=[self.pk, *args])

    def get_motif(self, motif_id) -> Motif:
        return get_object_or_404(self.motifs().select_related("organisation__territory", "service"), pk=motif_id)


def _espace_scope(territory) -> Scope:
    return Scope(territory, None, can_manage=True)


def _organisation_scope(request, organisation, manage: bool = False) -> Scope:
    can_manage = motif_perms.can_manage_organisation_motifs(request.user, organisation)
    if manage and not can_manage:
        raise Http404("Motif introuvable")
    return Scope(organisation.territory, organisation, can_manage=can_manage)


def _render(request, scope: Scope, template: str, title: str, **context):
    context.update(
        {
            "scope": scope,
            "territory": scope.territory,
            "organisation": scope.organisation,
            "title": title,
            "layout": scope.layout,
        }
    )
    return render(request, template, context)


def _add_error(form, error: DomainError) -> None:
    mapped = getattr(form, "DOMAIN_FIELDS", {}).get(error.field, error.field)
    add_domain_error(form, DomainError(error.code, error.message, field=mapped))


# List ------------------------------------------------------------------------------------------


def _list(request, scope: Scope):
    filters = MotifFilterForm(scope.territory, scope.organisation, request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    queryset = scope.motifs().select_related("organisation", "service")
    archived = data.get("archived")
    if archived == "archives":
        queryset = queryset.archived()
    elif archived != "tous":
        queryset = queryset.active()
    if data.get("organisation"):
        queryset = queryset.filter(organisation=data["organisation"])
    if data.get("service"):
        queryset = queryset.filter(service=data["service"])
    if data.get("location_type"):
        queryset = queryset.filter(location_type=data["location_type"])
    if data.get("online") == "oui":
        queryset = queryset.filter(bookable_online=True)
    elif data.get("online") == "non":
        queryset = queryset.filter(bookable_online=False)
    motifs = list(queryset.order_by("organisation__name", "service__name", "name", "location_type", "pk"))
    # "Created together": the organisations of the other motifs of each batch, in one query.
    batches = defaultdict(list)
    rows = Motif.objects.filter(creation_batch__in={m.creation_batch for m in motifs}).values_list(
        "creation_batch", "pk", "organisation__name"
    )
    for batch, pk, organisation_name in rows.order_by("organisation__name"):
        batches[batch].append((pk, organisation_name))
    for motif in motifs:
        motif.created_with = [name for pk, name in batches[motif.creation_batch] if pk != motif.pk]
    return _render(
        request,
        scope,
        "motifs/list.html",
        "Motifs",
        motifs=motifs,
        filters=filters,
        filtered=bool(data) and any(data.values()),
    )


@territory_admin_required
def espace_motifs(request, territory):
    return _list(request, _espace_scope(territory))


@organisation_member_required
def organisation_motifs(request, organisation):
    return _list(request, _organisation_scope(request, organisation))


# Creation --------------------------------------------------------------------------------------


@territory_admin_required
def espace_motif_create(request, territory):
    scope = _espace_scope(territory)
    form = TerritoryMotifCreateForm(territory, submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            motifs = services.create_territory_motifs(
                request.user, territory, form.cleaned_data["organisations"], form.cleaned_data
            )
        except DomainError as error:
            _add_error(form, error)
        else:
            names = ", ".join(m.organisation.name for m in motifs)
            messages.success(
                request,
                f"Motif « {motifs[0].name} » créé dans {len(motifs)} organisation{'s' if len(motifs) > 1 else ''} : "
                f"{names}. Configurez maintenant la réservation en ligne et les instructions.",
            )
            return redirect(scope.url("detail", motifs[0].pk))
    return _render(request, scope, "motifs/create.html", "Nouveau motif", form=form)


@organisation_member_required
def organisation_motif_create(request, organisation):
    scope = _organisation_scope(request, organisation, manage=True)
    form = MotifConfigurationForm(scope.territory, submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            motif = services.create_motif(request.user, organisation, form.cleaned_data)
        except DomainError as error:
            _add_error(form, error)
        else:
            messages.success(
                request,
                f"Motif « {motif.name} » créé. Configurez maintenant la réservation en ligne et les instructions.",
            )
            return redirect(scope.url("detail", motif.pk))
    return _render(request, scope, "motifs/create.html", "Nouveau motif", form=form)


# Detail with its three tabs ------------------------------------------------------------------------


def _siblings(scope: Scope, motif: Motif) -> tuple[list[Motif], list[Motif]]:
    """(all motifs created together with `motif`, those of them this page may also update)."""
    together = list(
        Motif.objects.filter(creation_batch=motif.creation_batch)
        .exclude(pk=motif.pk)
        .select_related("organisation", "service")
        .order_by("organisation__name")
    )
    in_scope = set(scope.motifs().filter(pk__in=[m.pk for m in together]).values_list("pk", flat=True))
    for other in together:
        other.in_scope = other.pk in in_scope
    editable = [m for m in together if m.in_scope and not m.is_archived]
    return together, editable


def _forms(scope: Scope, motif: Motif, editable, bound_tab: str | None = None, data=None) -> dict:
    def bound(tab):
        return data if tab == bound_tab else None

    locked = services.motif_has_rdvs(motif)
    # One form per tab on the same page: distinct id prefixes keep the HTML ids unique.
    return {
        "configuration": MotifConfigurationForm(
            scope.territory,
            bound("configuration"),
            motif=motif,
            locked=locked,
            siblings=editable,
            auto_id="configuration_%s",
        ),
        "reservation": MotifOnlineBookingForm(
            bound("reservation"), motif=motif, siblings=editable, auto_id="reservation_%s"
        ),
        "instructions": MotifInstructionsForm(
            bound("instructions"), motif=motif, siblings=editable, auto_id="instructions_%s"
        ),
    }


def _detail(request, scope: Scope, motif_id, tab: str | None = None):
    motif = scope.get_motif(motif_id)
    if tab is not None and request.method != "POST":
        return redirect(f"{scope.url('detail', motif.pk)}?onglet={tab}")
    together, editable = _siblings(scope, motif)
    if request.method == "POST":
        if tab not in TABS:
            raise Http404
        forms = _forms(scope, motif, editable, tab, request.POST)
        form = forms[tab]
        if form.is_valid():
            update = {
                "configuration": services.update_motif_configuration,
                "reservation": services.update_motif_online_booking,
                "instructions": services.update_motif_instructions,
            }[tab]
            try:
                changed = update(request.user, motif, form.cleaned_data, also=form.chosen_siblings())
            except DomainError as error:
                _add_error(form, error)
            else:
                if not changed:
                    messages.info(request, f"Aucune modification dans l'onglet « {TABS[tab]} ».")
                elif len(changed) > 1:
                    messages.success(
                        request, f"Onglet « {TABS[tab]} » enregistré pour {len(changed)} motifs créés ensemble."
                    )
                else:
                    messages.success(request, f"Onglet « {TABS[tab]} » enregistré.")
                return redirect(f"{scope.url('detail', motif.pk)}?onglet={tab}")
        active_tab = tab
    else:
        forms = _forms(scope, motif, editable)
        active_tab = request.GET.get("onglet") if request.GET.get("onglet") in TABS else "configuration"
        if request.GET.get("copie"):
            forms["configuration"].focus_on_modalities()
            active_tab = "configuration"
    return _render(
        request,
        scope,
        "motifs/detail.html",
        motif.name,
        motif=motif,
        forms=forms,
        tabs=[(key, label, forms[key], scope.url(key, motif.pk)) for key, label in TABS.items()],
        active_tab=active_tab,
        together=together,
        locked=services.motif_has_rdvs(motif),
        is_copy=bool(request.GET.get("copie")),
    )


@territory_admin_required
def espace_motif(request, territory, motif_id, tab=None):
    return _detail(request, _espace_scope(territory), motif_id, tab)


@organisation_member_required
def organisation_motif(request, organisation, motif_id, tab=None):
    return _detail(request, _organisation_scope(request, organisation, manage=True), motif_id, tab)


# Duplicate, archive, restore ---------------------------------------------------------------------


def _operate(request, scope: Scope, motif_id, operation: str):
    motif = scope.get_motif(motif_id)
    try:
        if operation == "duplicate":
            copy = services.duplicate_motif(request.user, motif)
        elif operation == "archive":
            services.archive_motif(request.user, motif)
        else:
            services.restore_motif(request.user, motif)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(scope.url("detail", motif.pk))
    if operation == "duplicate":
        messages.success(
            request,
            f"Copie créée : « {copy.name} ». Changez maintenant son type ou sa durée, puis enregistrez.",
        )
        return redirect(f"{scope.url('detail', copy.pk)}?onglet=configuration&copie=1")
    if operation == "archive":
        messages.success(
            request,
            f"Le motif « {motif.name} » est archivé : il n'est plus proposé pour de nouvelles plages ni de nouvelles "
            "réservations. Les rendez-vous existants le conservent.",
        )
        return redirect(scope.url("list"))
    messages.success(request, f"Le motif « {motif.name} » est restauré.")
    return redirect(scope.url("detail", motif.pk))


@require_POST
@territory_admin_required
def espace_motif_operation(request, territory, motif_id, operation):
    return _operate(request, _espace_scope(territory), motif_id, operation)


@require_POST
@organisation_member_required
def organisation_motif_operation(request, organisation, motif_id, operation):
    return _operate(request, _organisation_scope(request, organisation, manage=True), motif_id, operation)
