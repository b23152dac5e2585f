"""The usagers' rights (RGPD) on the organisation pages, for its admins: export an usager's data
(JSON, CSV), delete a file on request (after a confirmation step), and review the files flagged as
inactive by the nightly retention job (keep them, or let them be deleted). Files outside the
admin's organisation, and every page for basic agents, are 404s (rdv.retention.policies)."""

import json

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from rdv.core.errors import DomainError
from rdv.core.pagination import bounded_count, keyset_page, parse_id
from rdv.core.text import de
from rdv.retention import policies as retention_policies
from rdv.retention import selectors as retention_selectors
from rdv.retention import services as retention_services
from rdv.www.csv_export import csv_lines
from rdv.www.tenancy import organisation_member_required
from rdv.www.views.espace import confirmed

PAGE_SIZE = 50


def _usager(ctx, usager_id):
    return get_object_or_404(retention_policies.rights_scope(ctx).select_related("territory"), pk=usager_id)


def _refused(request, ctx, usager, error: DomainError):
    messages.error(request, error.message)
    return redirect("usager_detail", ctx.organisation.pk, usager.pk)


def _export(request, ctx, usager_id, format: str):
    usager = _usager(ctx, usager_id)
    try:
        data = retention_services.export_usager(ctx, usager, format=format)
    except DomainError as error:
        return _refused(request, ctx, usager, error)
    filename = f"usager-{usager.pk}-{timezone.localdate():%Y-%m-%d}.{format}"
    if format == "json":
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            csv_lines(retention_selectors.export_rows(data)), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # personal data: never kept by a cache
    return response


@require_GET
@organisation_member_required
def usager_export_json(request, ctx, usager_id):
    return _export(request, ctx, usager_id, "json")


@require_GET
@organisation_member_required
def usager_export_csv(request, ctx, usager_id):
    return _export(request, ctx, usager_id, "csv")


@organisation_member_required
def usager_delete(request, ctx, usager_id):
    """GET (or a POST without `confirmer=1`): what the deletion removes; POST confirmed: delete."""
    usager = _usager(ctx, usager_id)
    if not retention_policies.can_exercise_rights(ctx, usager):
        return _refused(request, ctx, usager, DomainError("forbidden", retention_policies.SHARED_FILE_MESSAGE))
    if confirmed(request):
        name = str(usager)
        try:
            erasure = retention_services.delete_usager(ctx, usager)
        except DomainError as error:
            return _refused(request, ctx, usager, error)
        deleted = erasure.rdvs_deleted
        messages.success(
            request,
            f"La fiche {de(name)} est supprimée"
            + (f", avec {deleted} rendez-vous." if deleted else ".")
            + " La suppression est inscrite au journal de l’espace.",
        )
        return redirect("usager_list", ctx.organisation.pk)
    preview = retention_selectors.deletion_preview(ctx, usager)
    details = [
        f"Rendez-vous supprimé : {rdv}" + (" (à venir)" if rdv.ends_at > timezone.now() else "")
        for rdv in preview.deleted
    ]
    details += [f"Rendez-vous collectif quitté (il reste aux autres participants) : {rdv}" for rdv in preview.left]
    consequences = [
        "La fiche, ses champs personnalisés, ses rendez-vous dont il est le seul participant (avec leur "
        "contexte), ses liens de gestion, rappels et messages en attente sont supprimés définitivement.",
        "Rien n’est envoyé à l’usager. Les systèmes d’information abonnés reçoivent une suppression "
        "(« destroyed », motif « rgpd »).",
    ]
    if preview.upcoming_deleted:
        count = len(preview.upcoming_deleted)
        consequences.insert(
            0,
            f"{count} rendez-vous à venir {'est supprimé' if count == 1 else 'sont supprimés'} : "
            "les agents concernés retrouvent ces créneaux libres dans leur agenda.",
        )
    if preview.relatives == 1:
        consequences.append("Le proche rattaché à cet usager garde sa fiche, sans usager responsable.")
    elif preview.relatives:
        consequences.append(
            f"Les {preview.relatives} proches rattachés à cet usager gardent leur fiche, sans usager responsable."
        )
    consequences.append("Pensez à exporter ses données d’abord si l’usager les demande aussi.")
    context = {
        "organisation": ctx.organisation,
        "territory": ctx.territory,
        "usager": usager,
        "title": f"Supprimer la fiche {de(usager)} ?",
        "lead": "Cette suppression, demandée par l’usager (RGPD), est définitive.",
        "details": details or ["Aucun rendez-vous."],
        "consequences": consequences,
        "action_url": reverse("usager_delete", args=[ctx.organisation.pk, usager.pk]),
        "confirm_label": "Supprimer définitivement",
        "back_url": reverse("usager_detail", args=[ctx.organisation.pk, usager.pk]),
        "back_label": "Annuler",
    }
    return render(request, "usagers/confirm_delete.html", context)


@require_GET
@organisation_member_required
def usager_review(request, ctx):
    """The organisation's files flagged as inactive, the first due first."""
    if not retention_policies.can_review(ctx):
        raise Http404("Page introuvable")
    queryset = retention_selectors.flagged_usagers(ctx)
    page = keyset_page(
        queryset,
        retention_selectors.REVIEW_ORDER,
        after=parse_id(request.GET.get("apres")),
        before=parse_id(request.GET.get("avant")),
        size=PAGE_SIZE,
    )
    for usager in page:
        usager.deletion_due = retention_selectors.deletion_due(usager)
    return render(
        request,
        "usagers/review.html",
        {
            "organisation": ctx.organisation,
            "territory": ctx.territory,
            "title": "Fiches inactives à examiner",
            "page": page,
            "count": bounded_count(queryset),
            "query": "",
            "inactivity": retention_selectors.inactivity_text(),
            "review_days": retention_selectors.review_days(),
        },
    )


@require_POST
@organisation_member_required
def usager_keep(request, ctx, usager_id):
    usager = _usager(ctx, usager_id)
    try:
        kept = retention_services.keep_usager(ctx, usager)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if kept:
            messages.success(request, f"La fiche {de(usager)} est conservée : elle ne sera pas supprimée.")
        else:
            messages.info(request, f"La fiche {de(usager)} n’est pas signalée pour suppression.")
    if request.POST.get("retour") == "fiche":
        return redirect("usager_detail", ctx.organisation.pk, usager.pk)
    return redirect("usager_review", ctx.organisation.pk)
