"""Usager files, for agents of an organisation: list and search, create, view, edit, and (with the
espace setting "usagers visibles sur tout l'espace") find and add usagers of other organisations."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from rdv.core.audit import describe_entries
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.usagers import perms as usager_perms
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField, Usager, UsagerOrganisation
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.usagers import UsagerForm, UsagerSearchForm
from rdv.www.tenancy import organisation_member_required

PAGE_SIZE = 50
HISTORY_SIZE = 100
TERRITORY_SCOPE = "espace"


def _shown(territory) -> dict[str, bool]:
    """Template switches: which optional standard fields the espace shows."""
    names = [*usager_services.STANDARD_FIELDS, "responsible"]
    return {name: usager_services.field_visible(territory, name) for name in names}


def _render(request, template, organisation, title, **context):
    context.update({"organisation": organisation, "territory": organisation.territory, "title": title})
    context.setdefault("show", _shown(organisation.territory))
    return render(request, template, context)


@organisation_member_required
def usager_list(request, organisation):
    territory = organisation.territory
    form = UsagerSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    territory_wide = territory.usagers_visible_territory_wide and request.GET.get("portee") == TERRITORY_SCOPE
    queryset = (
        usager_services.search_usagers(organisation, query, territory_wide=territory_wide)
        .select_related("responsible")
        .annotate(is_member=Exists(UsagerOrganisation.objects.filter(organisation=organisation, usager=OuterRef("pk"))))
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return _render(
        request,
        "usagers/list.html",
        organisation,
        "Usagers",
        form=form,
        page=page,
        query=params.urlencode(),
        searched=bool(query),
        territory_wide=territory_wide,
    )


def _responsible_from(request, organisation) -> Usager | None:
    raw = request.POST.get("responsable") or request.GET.get("responsable")
    if not raw or not usager_services.field_visible(organisation.territory, "responsible"):
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):  # "²" is a digit; 19 digits overflow
        raise Http404
    return get_object_or_404(Usager.objects.visible_from(organisation), pk=int(raw))


@organisation_member_required
def usager_create(request, organisation):
    territory = organisation.territory
    responsible = _responsible_from(request, organisation)
    initial = {}
    if responsible is not None:
        initial = {"last_name": responsible.last_name, "notify_by_email": False, "notify_by_sms": False}
    form = UsagerForm(territory, submitted(request), initial=initial)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        if not request.POST.get("confirmer_doublon"):
            duplicates = usager_services.find_duplicates(
                territory, form.standard_data(), scope=Usager.objects.visible_from(organisation)
            )
        if not duplicates:
            try:
                usager = usager_services.create_usager(
                    request.user, organisation, form.standard_data(), form.custom_values(), responsible=responsible
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"La fiche de {usager} est créée.")
                return redirect("usager_detail", organisation.pk, usager.pk)
    if duplicates:
        member_ids = set(
            UsagerOrganisation.objects.filter(
                organisation=organisation, usager__in=[duplicate.usager for duplicate in duplicates]
            ).values_list("usager_id", flat=True)
        )
        for duplicate in duplicates:
            duplicate.is_member = duplicate.usager.pk in member_ids
    title = f"Ajouter un proche de {responsible}" if responsible else "Nouvel usager"
    return _render(
        request,
        "usagers/form.html",
        organisation,
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


def _history(usager: Usager, territory) -> list[AuditLog]:
    hidden = {
        name
        for name in [*usager_services.STANDARD_FIELDS, "responsible"]
        if not usager_services.field_visible(territory, name)
    }
    entries = list(
        AuditLog.objects.filter(object_type=Usager._meta.label, object_id=str(usager.pk))
        .select_related("organisation")
        .order_by("-created_at", "-id")[:HISTORY_SIZE]
    )
    return describe_entries(entries, hidden)


@organisation_member_required
def usager_detail(request, organisation, usager_id):
    territory = organisation.territory
    usager = get_object_or_404(
        Usager.objects.visible_from(organisation).select_related("responsible", "created_by"), pk=usager_id
    )
    is_member = usager_perms.is_member(usager, organisation)
    values = usager.custom_values or {}
    custom_rows = [
        (field.label, field.display(values.get(field.key)))
        for field in CustomField.objects.for_territory(territory).active().order_by("position", "id")
    ]
    visible = Usager.objects.visible_from(organisation)
    relatives = list(visible.filter(responsible=usager).order_by("last_name_key", "first_name_key", "id"))
    responsible_visible = bool(usager.responsible_id) and visible.filter(pk=usager.responsible_id).exists()
    return _render(
        request,
        "usagers/detail.html",
        organisation,
        str(usager),
        usager=usager,
        is_member=is_member,
        can_add=usager_perms.can_add_usager_to_organisation(request.user, organisation, usager),
        member_organisations=list(usager.organisations.order_by("name")),
        sections=_file_sections(usager, territory),
        custom_rows=custom_rows,
        relatives=relatives,
        responsible_visible=responsible_visible,
        history=_history(usager, territory),
    )


@organisation_member_required
def usager_edit(request, organisation, usager_id):
    territory = organisation.territory
    usager = get_object_or_404(Usager.objects.in_organisation(organisation).select_related("responsible"), pk=usager_id)
    form = UsagerForm(territory, submitted(request), usager=usager)
    if request.method == "POST" and form.is_valid():
        extra = {"responsible": None} if form.cleaned_data.get("detach_responsible") else {}
        try:
            changes = usager_services.update_usager(
                request.user,
                usager,
                form.standard_data(),
                form.custom_values(),
                organisation=organisation,
                **extra,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, "La fiche est enregistrée.")
            else:
                messages.info(request, "Aucune modification.")
            return redirect("usager_detail", organisation.pk, usager.pk)
    return _render(
        request,
        "usagers/form.html",
        organisation,
        f"Modifier la fiche de {usager}",
        form=form,
        usager=usager,
    )


@require_POST
@organisation_member_required
def usager_add_to_organisation(request, organisation, usager_id):
    usager = get_object_or_404(Usager.objects.visible_from(organisation), pk=usager_id)
    if not usager_perms.can_add_usager_to_organisation(request.user, organisation, usager):
        messages.info(request, f"{usager} fait déjà partie de {organisation}.")
        return redirect("usager_detail", organisation.pk, usager.pk)
    try:
        usager_services.add_usager_to_organisation(request.user, usager, organisation)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{usager} fait désormais partie de {organisation}.")
    return redirect("usager_detail", organisation.pk, usager.pk)
