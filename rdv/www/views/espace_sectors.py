"""Sectorisation pages: the postal and INSEE codes an organisation serves (the online booking offers
it to usagers of those places). Two entrances to the same pages: the espace administration (espace
admins, any organisation of the espace) and the organisation's pages (its admins). Anyone else: 404.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rdv.core.errors import DomainError
from rdv.core.text import de
from rdv.territories import selectors as territory_selectors
from rdv.territories import services as territory_services
from rdv.territories.policies import can_manage_sector_codes, organisations_scope, sector_codes_scope
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.espace import SectorCodesForm
from rdv.www.tenancy import organisation_member_required, territory_admin_required


@dataclass(frozen=True)
class Entrance:
    """Where the pages are opened from: their URLs and layouts."""

    list_name: str
    delete_name: str
    list_template: str
    confirm_template: str
    url_args: tuple  # (territory id, organisation id) or (organisation id,)

    def list_url(self) -> str:
        return reverse(self.list_name, args=self.url_args)

    def delete_url(self, code_id: int) -> str:
        return reverse(self.delete_name, args=[*self.url_args, code_id])


def _espace_entrance(ctx, organisation) -> Entrance:
    return Entrance(
        "espace_organisation_sectors",
        "espace_organisation_sector_delete",
        "espace/sectors.html",
        "espace/confirm.html",
        (ctx.territory.pk, organisation.pk),
    )


def _organisation_entrance(ctx, organisation) -> Entrance:
    return Entrance(
        "organisation_sectors",
        "organisation_sector_delete",
        "organisations/sectors.html",
        "organisations/confirm.html",
        (organisation.pk,),
    )


def _espace_organisation(ctx, organisation_id):
    return get_object_or_404(organisations_scope(ctx), pk=organisation_id)


def _own_organisation(ctx):
    if not can_manage_sector_codes(ctx, ctx.organisation):
        raise Http404("Organisation introuvable")
    return ctx.organisation


def _codes_label(count: int) -> str:
    return f"{count} code{pluralize(count)}"


def _sectors_page(request, ctx, organisation, entrance: Entrance):
    form = SectorCodesForm(submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            result = territory_services.add_sector_codes(ctx, organisation, form.cleaned_data["codes"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if result.added:
                added = len(result.added)
                messages.success(
                    request,
                    f"{_codes_label(added)} ajouté{pluralize(added)} à la sectorisation {de(organisation.name)}.",
                )
            if result.already_present:
                present = len(result.already_present)
                messages.info(
                    request,
                    f"{_codes_label(present)} {pluralize(present, 'était,étaient')} déjà "
                    f"présent{pluralize(present)} : " + ", ".join(str(entry) for entry in result.already_present) + ".",
                )
            return redirect(entrance.list_url())
    codes = territory_selectors.sector_codes(ctx, organisation)
    return render(
        request,
        entrance.list_template,
        {
            "territory": ctx.territory,
            "organisation": organisation,
            "title": f"Sectorisation {de(organisation.name)}",
            "crumbs": [],
            "codes": [(code, entrance.delete_url(code.pk)) for code in codes],
            "espace_sectorised": bool(codes) or territory_selectors.territory_is_sectorised(ctx.territory),
            "form": form,
            "action_url": entrance.list_url(),
        },
    )


def _delete_page(request, ctx, organisation, code_id, entrance: Entrance):
    """A confirmation step, then the deletion on a POST with `confirmer=1`."""
    code = get_object_or_404(sector_codes_scope(ctx, organisation), pk=code_id)
    if not (request.method == "POST" and request.POST.get("confirmer") == "1"):
        return render(
            request,
            entrance.confirm_template,
            {
                "territory": ctx.territory,
                "organisation": organisation,
                "title": f"Retirer le code « {code} » de la sectorisation {de(organisation.name)} ?",
                "crumbs": [(f"Sectorisation {de(organisation.name)}", entrance.list_url())],
                "lead": f"Les usagers qui saisissent « {code} » en prenant rendez-vous en ligne ne se verront plus "
                f"proposer {organisation.name}, sauf si un autre code de l'organisation y correspond.",
                "details": [],
                "consequences": [
                    "Les rendez-vous déjà pris ne changent pas.",
                    "Si plus aucune organisation de l'espace n'a de code, toutes les organisations de l'espace "
                    "sont de nouveau proposées à tous les usagers.",
                ],
                "action_url": request.path,
                "confirm_label": f"Retirer « {code} »",
                "back_url": entrance.list_url(),
                "back_label": "Garder le code",
            },
        )
    if territory_services.delete_sector_code(ctx, code):
        messages.success(request, f"Le code « {code} » est retiré de la sectorisation {de(organisation.name)}.")
    return redirect(entrance.list_url())


# Espace administration ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@territory_admin_required
def espace_sectors(request, ctx, organisation_id):
    organisation = _espace_organisation(ctx, organisation_id)
    return _sectors_page(request, ctx, organisation, _espace_entrance(ctx, organisation))


@require_http_methods(["GET", "POST"])
@territory_admin_required
def espace_sector_delete(request, ctx, organisation_id, code_id):
    organisation = _espace_organisation(ctx, organisation_id)
    return _delete_page(request, ctx, organisation, code_id, _espace_entrance(ctx, organisation))


# Organisation pages ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@organisation_member_required
def organisation_sectors(request, ctx):
    organisation = _own_organisation(ctx)
    return _sectors_page(request, ctx, organisation, _organisation_entrance(ctx, organisation))


@require_http_methods(["GET", "POST"])
@organisation_member_required
def organisation_sector_delete(request, ctx, code_id):
    organisation = _own_organisation(ctx)
    return _delete_page(request, ctx, organisation, code_id, _organisation_entrance(ctx, organisation))
