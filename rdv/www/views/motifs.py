"""Motif pages, at espace level (espace admins) and organisation level (organisation members).

Both levels share the same templates; `Pages` gives the URLs and layout of the level. What a page
may reach comes from rdv.motifs.policies (scope, can_manage) with the request's context: anything
outside is a 404.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.motifs import policies as motif_policies
from rdv.motifs import selectors as motif_selectors
from rdv.motifs import services
from rdv.motifs.models import Motif
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


@dataclass(frozen=True)
class Pages:
    """The URLs and layout of the motif pages of one level (espace or organisation)."""

    ctx: Context

    @property
    def organisation(self):
        return self.ctx.organisation

    @property
    def territory(self):
        return self.ctx.territory

    @property
    def can_manage(self) -> bool:
        """Whether the pages offer creation and changes (the services check again)."""
        return motif_policies.can_create(self.ctx)

    @property
    def names(self) -> dict[str, str]:
        prefix = "espace" if self.organisation is None else "organisation"
        return {key: f"{prefix}_{suffix}" for key, suffix in URL_SUFFIXES.items()}

    @property
    def pk(self) -> int:
        return (self.organisation or self.territory).pk

    @property
    def layout(self) -> str:
        return "motifs/_layout_espace.html" if self.organisation is None else "motifs/_layout_organisation.html"

    def url(self, name: str, *args) -> str:
        return reverse(self.names[name], args=[self.pk, *args])

    def get_motif(self, motif_id) -> Motif:
        return get_object_or_404(
            motif_policies.scope(self.ctx).select_related("organisation__territory", "service"), pk=motif_id
        )


def _managed(pages: Pages, motif_id) -> Motif:
    motif = pages.get_motif(motif_id)
    if not motif_policies.can_manage(pages.ctx, motif):
        raise Http404("Motif introuvable")
    return motif


def _render(request, pages: Pages, template: str, title: str, **context):
    context.update(
        {
            "scope": pages,
            "territory": pages.territory,
            "organisation": pages.organisation,
            "title": title,
            "layout": pages.layout,
        }
    )
    return render(request, template, context)


def _add_error(form, error: DomainError) -> None:
    mapped = getattr(form, "DOMAIN_FIELDS", {}).get(error.field, error.field)
    add_domain_error(form, DomainError(error.code, error.message, field=mapped))


# List ------------------------------------------------------------------------------------------


def _list(request, pages: Pages):
    filters = MotifFilterForm(pages.ctx, request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    return _render(
        request,
        pages,
        "motifs/list.html",
        "Motifs",
        motifs=motif_selectors.motif_list(pages.ctx, data),
        filters=filters,
        filtered=bool(data) and any(data.values()),
    )


@territory_admin_required
def espace_motifs(request, ctx):
    return _list(request, Pages(ctx))


@organisation_member_required
def organisation_motifs(request, ctx):
    return _list(request, Pages(ctx))


# Creation --------------------------------------------------------------------------------------


@territory_admin_required
def espace_motif_create(request, ctx):
    scope = Pages(ctx)
    form = TerritoryMotifCreateForm(ctx, submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            motifs = services.create_territory_motifs(ctx, form.cleaned_data["organisations"], form.cleaned_data)
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
def organisation_motif_create(request, ctx):
    scope = Pages(ctx)
    if not scope.can_manage:
        raise Http404("Motif introuvable")
    form = MotifConfigurationForm(ctx, submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            motif = services.create_motif(ctx, form.cleaned_data)
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


def _forms(scope: Pages, motif: Motif, editable, bound_tab: str | None = None, data=None) -> dict:
    def bound(tab):
        return data if tab == bound_tab else None

    locked = services.motif_has_rdvs(motif)
    # One form per tab on the same page: distinct id prefixes keep the HTML ids unique.
    return {
        "configuration": MotifConfigurationForm(
            scope.ctx,
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


def _detail(request, scope: Pages, motif_id, tab: str | None = None):
    motif = _managed(scope, motif_id)
    if tab is not None and request.method != "POST":
        return redirect(f"{scope.url('detail', motif.pk)}?onglet={tab}")
    together, editable = motif_selectors.siblings(scope.ctx, motif)
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
                changed = update(scope.ctx, motif, form.cleaned_data, also=form.chosen_siblings())
            except DomainError as error:
                _add_error(form, error)
            else:
                closed = [m for m in changed if getattr(m, "closed_online", False)]
                if closed:
                    where = "" if len(changed) == 1 else " (" + ", ".join(m.organisation.name for m in closed) + ")"
                    messages.warning(
                        request,
                        f"Le motif n'est plus ouvert aux usagers{where} : « Qui peut réserver » n'inclut plus les "
                        "usagers, la réservation en ligne est donc fermée.",
                    )
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
def espace_motif(request, ctx, motif_id, tab=None):
    return _detail(request, Pages(ctx), motif_id, tab)


@organisation_member_required
def organisation_motif(request, ctx, motif_id, tab=None):
    return _detail(request, Pages(ctx), motif_id, tab)


# Duplicate, archive, restore ---------------------------------------------------------------------


def _operate(request, scope: Pages, motif_id, operation: str):
    motif = _managed(scope, motif_id)
    try:
        if operation == "duplicate":
            copy = services.duplicate_motif(scope.ctx, motif)
        elif operation == "archive":
            services.archive_motif(scope.ctx, motif)
        else:
            services.restore_motif(scope.ctx, motif)
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
def espace_motif_operation(request, ctx, motif_id, operation):
    return _operate(request, Pages(ctx), motif_id, operation)


@require_POST
@organisation_member_required
def organisation_motif_operation(request, ctx, motif_id, operation):
    return _operate(request, Pages(ctx), motif_id, operation)
