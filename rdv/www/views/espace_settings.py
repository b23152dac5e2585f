"""Espace settings pages ("Paramètres"): usager file fields, custom fields, usager visibility,
RDV file fields, waiting room. Espace admins only (others get a 404)."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from rdv.agendas.calendar import holiday_zone
from rdv.agendas.holidays import holiday_dates
from rdv.core.errors import DomainError
from rdv.sms import selectors as sms_selectors
from rdv.sms import services as sms_services
from rdv.territories import services as territory_services
from rdv.territories.models import RDV_OPTIONAL_FIELDS, USAGER_OPTIONAL_FIELDS, HolidayZone
from rdv.usagers import policies as usager_policies
from rdv.usagers import selectors as usager_selectors
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField, CustomFieldKind
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.espace_settings import (
    CustomFieldForm,
    HolidayZoneForm,
    OnlineBookingForm,
    RdvFieldsForm,
    RemindersForm,
    SmsSettingsForm,
    UsagerFieldsForm,
    UsagerVisibilityForm,
    WaitingRoomForm,
)
from rdv.www.tenancy import territory_admin_required

NO_CHANGE = "Aucune modification : les paramètres étaient déjà ceux-ci."


def _render(request, template, territory, title, **context):
    context.update({"territory": territory, "title": title})
    return render(request, template, context)


@territory_admin_required
def index(request, ctx):
    territory = ctx.territory
    fields = list(usager_policies.custom_fields_scope(ctx))
    return _render(
        request,
        "espace/parametres/index.html",
        territory,
        "Paramètres",
        hidden_labels=[USAGER_OPTIONAL_FIELDS[name] for name in territory.hidden_usager_fields or []],
        active_custom_fields=[field for field in fields if not field.is_archived],
        archived_count=sum(1 for field in fields if field.is_archived),
        rdv_fields=[(label, territory.rdv_field_enabled(name)) for name, (_, label) in RDV_OPTIONAL_FIELDS.items()],
        waiting_room_label=territory.get_waiting_room_notification_display(),
        holiday_zone_label=HolidayZone(holiday_zone(territory)).label,
        embedding_origins=territory.embedding_origin_list,
        sms_summary=sms_selectors.month_summary(ctx),
    )


def _setting_page(request, territory, form, *, save, success, url_name, template, title, **context):
    """One espace setting page: validate, call the service (`save(form)` returns what changed),
    confirm with `success(territory, form)` or say nothing changed, and come back to the page."""
    if request.method == "POST" and form.is_valid():
        try:
            changed = save(form)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changed:
                messages.success(request, success(territory, form))
            else:
                messages.info(request, NO_CHANGE)
            return redirect(url_name, territory.pk)
    return _render(request, template, territory, title, form=form, **context)


@territory_admin_required
def usager_fields(request, ctx):
    territory = ctx.territory
    return _setting_page(
        request,
        territory,
        UsagerFieldsForm(territory, submitted(request)),
        save=lambda form: territory_services.set_hidden_usager_fields(ctx, form.hidden_fields_names()),
        success=lambda territory, form: (
            "Champs de la fiche usager enregistrés pour toutes les organisations de l'espace. "
            "Les informations déjà saisies dans un champ masqué sont conservées."
        ),
        url_name="espace_settings_usager_fields",
        template="espace/parametres/usager_fields.html",
        title="Champs de la fiche usager",
    )


@territory_admin_required
def usager_visibility(request, ctx):
    territory = ctx.territory
    return _setting_page(
        request,
        territory,
        UsagerVisibilityForm(
            submitted(request), initial={"visible_territory_wide": territory.usagers_visible_territory_wide}
        ),
        save=lambda form: territory_services.set_usagers_visible_territory_wide(
            ctx, form.cleaned_data["visible_territory_wide"]
        ),
        success=lambda territory, form: (
            "Les usagers sont désormais visibles sur tout l'espace."
            if territory.usagers_visible_territory_wide
            else "Chaque organisation ne voit désormais que ses propres usagers."
        ),
        url_name="espace_settings_usager_visibility",
        template="espace/parametres/usager_visibility.html",
        title="Visibilité des usagers",
    )


@territory_admin_required
def rdv_fields(request, ctx):
    territory = ctx.territory
    return _setting_page(
        request,
        territory,
        RdvFieldsForm(territory, submitted(request)),
        save=lambda form: territory_services.set_rdv_fields_enabled(ctx, form.enabled()),
        success=lambda territory, form: "Champs de la fiche RDV enregistrés.",
        url_name="espace_settings_rdv_fields",
        template="espace/parametres/rdv_fields.html",
        title="Champs de la fiche RDV",
    )


@territory_admin_required
def waiting_room(request, ctx):
    territory = ctx.territory
    return _setting_page(
        request,
        territory,
        WaitingRoomForm(submitted(request), initial={"waiting_room_notification": territory.waiting_room_notification}),
        save=lambda form: territory_services.set_waiting_room_notification(
            ctx, form.cleaned_data["waiting_room_notification"]
        ),
        success=lambda territory, form: (
            f"Salle d'attente enregistrée : {territory.get_waiting_room_notification_display().lower()}."
        ),
        url_name="espace_settings_waiting_room",
        template="espace/parametres/waiting_room.html",
        title="Salle d'attente",
    )


@territory_admin_required
def reminders(request, ctx):
    territory = ctx.territory
    initial = {
        "reminder_first_hours": territory.reminder_first_hours,
        "reminder_second_hours": territory.reminder_second_hours,
    }

    def success(territory, form):
        second = territory.reminder_second_hours
        return f"Rappels enregistrés : {territory.reminder_first_hours} h avant" + (
            f", puis {second} h avant." if second else "."
        )

    return _setting_page(
        request,
        territory,
        RemindersForm(submitted(request), initial=initial),
        save=lambda form: territory_services.set_reminders(
            ctx, form.cleaned_data["reminder_first_hours"], form.cleaned_data["reminder_second_hours"]
        ),
        success=success,
        url_name="espace_settings_reminders",
        template="espace/parametres/reminders.html",
        title="Rappels aux usagers",
    )


@territory_admin_required
def holidays(request, ctx):
    territory = ctx.territory
    today = timezone.localdate()
    upcoming = holiday_dates(holiday_zone(territory), today, today + timedelta(days=365))
    return _setting_page(
        request,
        territory,
        HolidayZoneForm(submitted(request), initial={"holiday_zone": territory.holiday_zone}),
        save=lambda form: territory_services.set_holiday_zone(ctx, form.cleaned_data["holiday_zone"]),
        success=lambda territory, form: f"Jours fériés enregistrés : {territory.get_holiday_zone_display()}.",
        url_name="espace_settings_holidays",
        template="espace/parametres/holidays.html",
        title="Jours fériés",
        upcoming=sorted(upcoming.items()),
    )


@territory_admin_required
def online_booking(request, ctx):
    territory = ctx.territory
    return _setting_page(
        request,
        territory,
        OnlineBookingForm(territory, submitted(request)),
        save=lambda form: territory_services.set_online_booking_settings(ctx, **form.service_kwargs()),
        success=lambda territory, form: "Paramètres de la réservation en ligne enregistrés.",
        url_name="espace_settings_online_booking",
        template="espace/parametres/online_booking.html",
        title="Réservation en ligne",
    )


@territory_admin_required
def sms(request, ctx):
    """Budget, warning threshold, providers, and this month's counter."""
    territory = ctx.territory
    config = sms_selectors.sms_settings(ctx)
    if config is None:
        raise Http404
    return _setting_page(
        request,
        territory,
        SmsSettingsForm(config, submitted(request)),
        save=lambda form: sms_services.update_sms_settings(ctx, **form.service_kwargs()),
        success=lambda territory, form: "Paramètres SMS enregistrés.",
        url_name="espace_settings_sms",
        template="espace/parametres/sms.html",
        title="SMS",
        summary=sms_selectors.month_summary(ctx),
    )


# Custom fields -------------------------------------------------------------------------------


def _custom_field_of(ctx, field_id) -> CustomField:
    return get_object_or_404(usager_policies.custom_fields_scope(ctx), pk=field_id)


@territory_admin_required
def custom_fields(request, ctx):
    territory = ctx.territory
    fields = list(usager_policies.custom_fields_scope(ctx).order_by("position", "id"))
    return _render(
        request, "espace/parametres/custom_fields.html", territory, "Champs personnalisés", custom_fields=fields
    )


@territory_admin_required
def custom_field_create(request, ctx):
    territory = ctx.territory
    form = CustomFieldForm(submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            field = usager_services.create_custom_field(ctx, **form.service_kwargs())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"Le champ « {field.label} » est ajouté aux fiches usager de toutes les organisations de l'espace.",
            )
            return redirect("espace_custom_fields", territory.pk)
    return _render(
        request,
        "espace/parametres/custom_field_form.html",
        territory,
        "Nouveau champ personnalisé",
        form=form,
        choice_kind=CustomFieldKind.CHOICE,
    )


@territory_admin_required
def custom_field_edit(request, ctx, field_id):
    territory = ctx.territory
    field = _custom_field_of(ctx, field_id)
    form = CustomFieldForm(submitted(request), field=field)
    if request.method == "POST" and form.is_valid():
        try:
            changes = usager_services.update_custom_field(ctx, field, **form.service_kwargs())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if changes:
                messages.success(request, f"Le champ « {form.cleaned_data['label']} » est enregistré.")
            else:
                messages.info(request, "Aucune modification.")
            return redirect("espace_custom_fields", territory.pk)
    return _render(
        request,
        "espace/parametres/custom_field_form.html",
        territory,
        f"Modifier le champ « {field.label} »",
        form=form,
        field=field,
        values_count=usager_selectors.custom_field_usage(ctx, field),
        choice_kind=CustomFieldKind.CHOICE,
    )


@require_http_methods(["GET", "POST"])
@territory_admin_required
def custom_field_archive(request, ctx, field_id):
    """A confirmation step (how many files have a value), then the archive on a POST with
    `confirmer=1`."""
    territory = ctx.territory
    field = _custom_field_of(ctx, field_id)
    if field.is_archived:
        messages.info(request, f"Le champ « {field.label} » est déjà archivé.")
        return redirect("espace_custom_fields", territory.pk)
    if not (request.method == "POST" and request.POST.get("confirmer") == "1"):
        count = usager_selectors.custom_field_usage(ctx, field)
        values = (
            "Aucune fiche usager n'a de valeur pour ce champ."
            if not count
            else f"{count} fiche{pluralize(count)} usager {pluralize(count, 'a,ont')} une valeur pour ce champ."
        )
        return _render(
            request,
            "espace/confirm.html",
            territory,
            f"Archiver le champ « {field.label} » ?",
            lead=values,
            details=[],
            consequences=[
                "Le champ n'apparaîtra plus sur les fiches usager ni dans leurs formulaires, dans toutes les "
                "organisations de l'espace" + (" ; il ne sera plus obligatoire." if field.required else "."),
                "Les valeurs déjà saisies sont conservées et réapparaîtront si vous restaurez le champ.",
            ],
            action_url=request.path,
            confirm_label=f"Archiver « {field.label} »",
            back_url=reverse("espace_custom_fields", args=[territory.pk]),
            back_label="Garder le champ",
        )
    if usager_services.archive_custom_field(ctx, field):
        messages.success(
            request,
            f"Le champ « {field.label} » est archivé : il n'apparaît plus sur les fiches usager. "
            "Les valeurs déjà saisies sont conservées et réapparaîtront si vous le restaurez.",
        )
    return redirect("espace_custom_fields", territory.pk)


@require_POST
@territory_admin_required
def custom_field_restore(request, ctx, field_id):
    territory = ctx.territory
    field = _custom_field_of(ctx, field_id)
    if usager_services.restore_custom_field(ctx, field):
        messages.success(request, f"Le champ « {field.label} » est restauré, avec les valeurs déjà saisies.")
    return redirect("espace_custom_fields", territory.pk)


MOVES = {"monter": "up", "descendre": "down"}


@require_POST
@territory_admin_required
def custom_field_move(request, ctx, field_id, direction):
    territory = ctx.territory
    if direction not in MOVES:
        raise Http404
    field = _custom_field_of(ctx, field_id)
    if usager_services.move_custom_field(ctx, field, MOVES[direction]):
        where = "plus haut" if direction == "monter" else "plus bas"
        messages.success(request, f"Le champ « {field.label} » est déplacé {where}.")
    return redirect("espace_custom_fields", territory.pk)
