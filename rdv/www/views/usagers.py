"""Usager files, for agents of an organisation: list and search, create, view, edit, and (with the
espace setting "usagers visibles sur tout l'espace") find and add usagers of other organisations."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from rdv.bookings import selectors as rdv_selectors
from rdv.core.errors import DomainError
from rdv.core.pagination import bounded_count, keyset_page, parse_id
from rdv.core.text import de
from rdv.retention import policies as retention_policies
from rdv.retention import selectors as retention_selectors
from rdv.usagers import policies as usager_policies
from rdv.usagers import selectors as usager_selectors
from rdv.usagers import services as usager_services
from rdv.usagers.models import Usager
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.usagers import UsagerForm, UsagerSearchForm
from rdv.www.tenancy import organisation_member_required

PAGE_SIZE = 50
TERRITORY_SCOPE = "espace"


def _shown(territory) -> dict[str, bool]:
    """Template switches: which optional standard fields the espace shows."""
    names = [*usager_services.STANDARD_FIELDS, "responsible"]
    return {name: usager_services.field_visible(territory, name) for name in names}


def _render(request, template, ctx, title, **context):
    context.update({"organisation": ctx.organisation, "territory": ctx.territory, "title": title})
    context.setdefault("show", _shown(ctx.territory))
    return render(request, template, context)


@organisation_member_required
def usager_list(request, ctx):
    territory = ctx.territory
    form = UsagerSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    territory_wide = territory.usagers_visible_territory_wide and request.GET.get("portee") == TERRITORY_SCOPE
    queryset = usager_selectors.search(ctx, query, territory_wide=territory_wide)
    # Keyset pages and a bounded count (rdv.core.pagination): each page and the count cost the same
    # in an organisation of 500,000 files as in one of 500.
    page = keyset_page(
        queryset.select_related("responsible"),
        usager_selectors.SEARCH_ORDER,
        after=parse_id(request.GET.get("apres")),
        before=parse_id(request.GET.get("avant")),
        size=PAGE_SIZE,
    )
    params = request.GET.copy()
    for name in ("page", "apres", "avant"):
        params.pop(name, None)
    return _render(
        request,
        "usagers/list.html",
        ctx,
        "Usagers",
        flagged=retention_selectors.flagged_count(ctx),  # admins: files to review (RGPD)
        inactivity=retention_selectors.inactivity_text(),
        form=form,
        page=page,
        count=bounded_count(queryset),
        query=params.urlencode(),
        searched=bool(query),
        territory_wide=territory_wide,
    )


def _responsible_from(request, ctx) -> Usager | None:
    raw = request.POST.get("responsable") or request.GET.get("responsable")
    if not raw or not usager_services.field_visible(ctx.territory, "responsible"):
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):  # "²" is a digit; 19 digits overflow
        raise Http404
    return get_object_or_404(usager_policies.scope(ctx), pk=int(raw))


@organisation_member_required
def usager_create(request, ctx):
    responsible = _responsible_from(request, ctx)
    initial = {}
    if responsible is not None:
        initial = {"last_name": responsible.last_name, "notify_by_email": False, "notify_by_sms": False}
    form = UsagerForm(ctx, submitted(request), initial=initial)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        if not request.POST.get("confirmer_doublon"):
            duplicates = usager_selectors.find_duplicates(ctx, form.standard_data())
        if not duplicates:
            try:
                usager = usager_services.create_usager(
                    ctx, form.standard_data(), form.custom_values(), responsible=responsible
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"La fiche {de(usager)} est créée.")
                return redirect("usager_detail", ctx.organisation.pk, usager.pk)
    title = f"Ajouter un proche {de(responsible)}" if responsible else "Nouvel usager"
    return _render(
        request,
        "usagers/form.html",
        ctx,
        title,
        form=form,
        duplicates=duplicates,
        responsible=responsible,
    )


def _age(birth_date, today) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _file_sections(usager: Usager, territory) -> list[tuple[str, list[tuple[str, str]]]]:
    """(legend, [(label, value)]) of the standard fields the espace shows, for the file page."""
    today = timezone.localdate()
    labels = {name: field.label for name, field in UsagerForm.base_fields.items()}
    labels["notify_by_email"] = "Notifications par e-mail"
    labels["notify_by_sms"] = "Notifications par SMS"

    def value_of(name: str) -> str:
        value = getattr(usager, name)
        if name == "birth_date" and value:
            return f"{value:%d/%m/%Y} ({_age(value, today)} ans)"
        if name == "phone":
            return usager.phone_display
        if name in ("family_situation", "logement"):
            return getattr(usager, f"get_{name}_display")() if value else ""
        if name in ("notify_by_email", "notify_by_sms"):
            return "Acceptées" if value else "Refusées"
        return "" if value is None else str(value)

    sections = []
    for legend, names in UsagerForm.GROUPS:
        rows = [(labels[name], value_of(name)) for name in names if usager_services.field_visible(territory, name)]
        if rows:
            sections.append((legend, rows))
    return sections


@organisation_member_required
def usager_detail(request, ctx, usager_id):
    territory = ctx.territory
    usager = get_object_or_404(usager_policies.scope(ctx).select_related("responsible", "created_by"), pk=usager_id)
    is_member = usager_policies.is_member_of_organisation(ctx, usager)
    values = usager.custom_values or {}
    custom_rows = [(field.label, field.display(values.get(field.key))) for field in usager_selectors.custom_fields(ctx)]
    responsible_visible = bool(usager.responsible_id) and usager_policies.can_see(ctx, usager.responsible)
    member_organisations = list(usager.organisations.order_by("name"))
    # RGPD: export and deletion for the organisation's admins (a shared file: espace admins only).
    rights = retention_policies.can_exercise_rights(ctx, usager, {o.pk for o in member_organisations})
    return _render(
        request,
        "usagers/detail.html",
        ctx,
        str(usager),
        usager=usager,
        is_member=is_member,
        can_add=not is_member,  # the file is readable here: the agent may attach it
        member_organisations=member_organisations,
        can_exercise_rights=rights,
        shared_file=is_member and retention_policies.can_review(ctx) and not rights,
        can_keep=is_member and retention_policies.can_review(ctx),
        deletion_due=retention_selectors.deletion_due(usager),
        inactivity=retention_selectors.inactivity_text(),
        sections=_file_sections(usager, territory),
        custom_rows=custom_rows,
        relatives=usager_selectors.relatives(ctx, usager),
        responsible_visible=responsible_visible,
        history=usager_selectors.history(ctx, usager),
        rdvs=rdv_selectors.usager_rdvs(ctx, usager),  # the usagers app reads no RDV: this page composes
    )


@organisation_member_required
def usager_edit(request, ctx, usager_id):
    usager = get_object_or_404(usager_policies.members_scope(ctx).select_related("responsible"), pk=usager_id)
    form = UsagerForm(ctx, submitted(request), usager=usager)
    if request.method == "POST" and form.is_valid():
        extra = {"responsible": None} if form.cleaned_data.get("detach_responsible") else {}
        try:
            changes = usager_services.update_usager(ctx, usager, form.standard_data(), form.custom_values(), **extra)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, "La fiche est enregistrée.")
            else:
                messages.info(request, "Aucune modification.")
            return redirect("usager_detail", ctx.organisation.pk, usager.pk)
    return _render(
        request,
        "usagers/form.html",
        ctx,
        f"Modifier la fiche {de(usager)}",
        form=form,
        usager=usager,
    )


@require_POST
@organisation_member_required
def usager_add_to_organisation(request, ctx, usager_id):
    organisation = ctx.organisation
    usager = get_object_or_404(usager_policies.scope(ctx), pk=usager_id)
    try:
        added = usager_services.add_usager_to_organisation(ctx, usager)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if added:
            messages.success(request, f"{usager} fait désormais partie {de(organisation)}.")
        else:
            messages.info(request, f"{usager} fait déjà partie {de(organisation)}.")
    return redirect("usager_detail", organisation.pk, usager.pk)
