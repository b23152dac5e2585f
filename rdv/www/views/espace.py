"""Espace administration pages (agents with the espace admin role)."""

from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from rdv.accounts import selectors as account_selectors
from rdv.accounts import services as account_services
from rdv.accounts.models import InvitationStatus
from rdv.accounts.policies import agents_scope, invitations_scope
from rdv.core.audit import describe_entries
from rdv.core.dates import french_datetime
from rdv.core.errors import DomainError
from rdv.core.pagination import keyset_page, parse_id
from rdv.core.text import de
from rdv.territories import selectors as territory_selectors
from rdv.territories import services as territory_services
from rdv.territories.models import Service
from rdv.territories.policies import organisations_scope
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.espace import (
    AgentAssignmentForm,
    AgentFilterForm,
    IntervenantForm,
    InvitationForm,
    OrganisationForm,
)
from rdv.www.tenancy import territory_admin_required

PAGE_SIZE = 50


def _render(request, template, ctx, title, **context):
    context.update({"territory": ctx.territory, "title": title})
    return render(request, template, context)


@territory_admin_required
def index(request, ctx):
    return redirect("espace_agents", ctx.territory.pk)


# Services -----------------------------------------------------------------------------


def support_link(subject: str) -> str:
    """settings.SUPPORT_URL; an e-mail address gets the subject of the request."""
    url = settings.SUPPORT_URL
    if url.startswith("mailto:") and "?" not in url:
        url += "?" + urlencode({"subject": subject}, quote_via=quote)
    return url


@territory_admin_required
def services(request, ctx):
    rows = territory_selectors.services_overview(ctx, account_selectors.service_agent_counts(ctx))
    return _render(
        request,
        "espace/services.html",
        ctx,
        "Services",
        rows=rows,
        support_url=support_link(f"Service manquant au catalogue (espace {ctx.territory.name})"),
    )


def confirmed(request) -> bool:
    """A destructive action runs on a POST that carries the confirmation step's `confirmer=1`; any
    other request shows that step."""
    return request.method == "POST" and request.POST.get("confirmer") == "1"


def _confirm_page(request, ctx, title, **context):
    """The confirmation step (espace/confirm.html): lead, details, consequences, action_url,
    confirm_label, back_url, back_label."""
    context.setdefault("details", [])
    return _render(request, "espace/confirm.html", ctx, title, **context)


@require_http_methods(["GET", "POST"])
@territory_admin_required
def service_toggle(request, ctx, service_id, operation):
    """Activate (POST), or deactivate: when agents have the service, a confirmation step says how many
    keep it (also shown on a GET); without agents, a POST deactivates at once."""
    service = get_object_or_404(Service, pk=service_id)
    if operation not in ("activer", "desactiver"):
        raise Http404
    if request.method == "GET" and operation == "activer":
        return HttpResponseNotAllowed(["POST"])
    if operation == "activer":
        if territory_services.activate_service(ctx, service):
            messages.success(request, f"Le service « {service.name} » est activé dans l'espace.")
    else:
        if service.pk not in territory_selectors.active_service_ids(ctx):
            messages.info(request, f"Le service « {service.name} » est déjà désactivé dans l'espace.")
            return redirect("espace_services", ctx.territory.pk)
        agents = account_selectors.service_agent_counts(ctx).get(service.pk, 0)
        if not confirmed(request) and (agents or request.method == "GET"):
            consequences = [
                "Le service ne pourra plus être choisi pour inviter ou affecter un agent, ni pour un nouveau motif. "
                "Vous pourrez le réactiver à tout moment."
            ]
            if agents == 1:
                consequences.insert(
                    0,
                    "Cet agent le garde : ses rendez-vous et son agenda ne changent pas, et il est signalé dans la "
                    "liste des agents (« Service désactivé »).",
                )
            elif agents:
                consequences.insert(
                    0,
                    f"Ces {agents} agents le gardent : leurs rendez-vous et leurs agendas ne changent pas, et ils "
                    "sont signalés dans la liste des agents (« Service désactivé »).",
                )
            return _confirm_page(
                request,
                ctx,
                f"Désactiver le service « {service.name} » ?",
                lead=(
                    f"{agents} agent{pluralize(agents)} de l'espace {pluralize(agents, 'a,ont')} ce service."
                    if agents
                    else "Aucun agent de l'espace n'a ce service."
                ),
                consequences=consequences,
                action_url=request.path,
                confirm_label=f"Désactiver « {service.name} »",
                back_url=reverse("espace_services", args=[ctx.territory.pk]),
                back_label="Garder le service activé",
            )
        if territory_services.deactivate_service(ctx, service):
            messages.success(
                request,
                f"Le service « {service.name} » est désactivé : il ne peut plus être choisi pour inviter ou "
                "affecter un agent. Les agents déjà affectés le gardent ; ils sont signalés dans la liste des agents.",
            )
    return redirect("espace_services", ctx.territory.pk)


# Organisations ------------------------------------------------------------------------


@territory_admin_required
def organisations(request, ctx):
    rows = territory_selectors.organisations(ctx)
    return _render(request, "espace/organisations.html", ctx, "Organisations", organisations=rows)


@territory_admin_required
def organisation_create(request, ctx):
    form = OrganisationForm(submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            organisation = territory_services.create_organisation(ctx, form.cleaned_data["name"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"L'organisation « {organisation.name} » est créée.")
            return redirect("espace_organisations", ctx.territory.pk)
    return _render(request, "espace/organisation_form.html", ctx, "Nouvelle organisation", form=form)


@territory_admin_required
def organisation_edit(request, ctx, organisation_id):
    organisation = get_object_or_404(organisations_scope(ctx), pk=organisation_id)
    form = OrganisationForm(submitted(request), initial={"name": organisation.name})
    if request.method == "POST" and form.is_valid():
        try:
            territory_services.rename_organisation(ctx, organisation, form.cleaned_data["name"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"L'organisation s'appelle désormais « {organisation.name} ».")
            return redirect("espace_organisations", ctx.territory.pk)
    return _render(
        request,
        "espace/organisation_form.html",
        ctx,
        f"Renommer {organisation.name}",
        form=form,
        organisation=organisation,
    )


# Invitations --------------------------------------------------------------------------


@territory_admin_required
def invitations(request, ctx):
    status = request.GET.get("statut", "")
    page = Paginator(account_selectors.invitation_list(ctx, status), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(invitation, invitation.status(now)) for invitation in page]
    return _render(
        request,
        "espace/invitations.html",
        ctx,
        "Invitations",
        page=page,
        rows=rows,
        status=status,
        statuses=InvitationStatus.choices,
        query=f"statut={status}" if status in InvitationStatus.values else "",
    )


@territory_admin_required
def invite(request, ctx):
    form = InvitationForm(ctx, submitted(request))
    intervenant_only = False
    open_invitation = None  # an open invitation of the address: the page asks before replacing it
    if request.method == "POST" and form.is_valid():
        try:
            result = account_services.invite_agent(
                ctx,
                form.cleaned_data["email"],
                form.cleaned_data["services"],
                form.organisation_levels(),
                make_territory_admin=form.cleaned_data["make_territory_admin"],
                # Confirmed for this address (the page showed its open invitation).
                replace_open=request.POST.get("remplacer", "").strip().lower() == form.cleaned_data["email"],
            )
        except DomainError as error:
            intervenant_only = error.code == "intervenant_no_login"
            if error.code == "invitation_open":
                open_invitation = account_selectors.open_invitation(ctx, form.cleaned_data["email"])
            if open_invitation is None:
                add_domain_error(form, error)
        else:
            invitation = result.invitation
            expiry = timezone.localtime(invitation.expires_at).strftime("%d/%m/%Y à %H:%M")
            text = f"Invitation envoyée à {invitation.email}, valable jusqu'au {expiry}."
            if result.reissued:
                text += " Elle remplace l'invitation précédente, dont le lien ne fonctionne plus."
            if result.existing_agent:
                text += " Cette adresse a déjà un compte : les affectations seront ajoutées quand l'agent acceptera."
            messages.success(request, text)
            return redirect("espace_invitations", ctx.territory.pk)
    return _render(
        request,
        "espace/invite.html",
        ctx,
        "Inviter un agent",
        form=form,
        validity_days=settings.AGENT_INVITATION_VALIDITY.days,
        intervenant_only=intervenant_only,
        open_invitation=open_invitation,
        open_status=open_invitation.status() if open_invitation else "",
    )


@require_POST
@territory_admin_required
def invitation_resend(request, ctx, invitation_id):
    invitation = get_object_or_404(invitations_scope(ctx), pk=invitation_id)
    try:
        invitation = account_services.resend_invitation(ctx, invitation)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        expiry = timezone.localtime(invitation.expires_at).strftime("%d/%m/%Y à %H:%M")
        messages.success(
            request,
            f"Nouveau lien envoyé à {invitation.email}, valable jusqu'au {expiry}. L'ancien lien ne fonctionne plus.",
        )
    return redirect("espace_invitations", ctx.territory.pk)


@require_http_methods(["GET", "POST"])
@territory_admin_required
def invitation_cancel(request, ctx, invitation_id):
    invitation = get_object_or_404(invitations_scope(ctx), pk=invitation_id)
    status = invitation.status()
    if status == InvitationStatus.ACCEPTED:
        messages.error(request, "Cette invitation a déjà été acceptée : elle ne peut plus être annulée.")
        return redirect("espace_invitations", ctx.territory.pk)
    if status == InvitationStatus.CANCELLED:
        messages.info(request, f"L'invitation envoyée à {invitation.email} est déjà annulée.")
        return redirect("espace_invitations", ctx.territory.pk)
    if not confirmed(request):
        zone = ctx.territory.zone
        links = invitation.organisation_links.select_related("organisation").order_by("organisation__name")
        return _confirm_page(
            request,
            ctx,
            f"Annuler l'invitation envoyée à {invitation.email} ?",
            lead=f"Invitation envoyée le {french_datetime(invitation.sent_at, zone)}"
            + (f" par {invitation.invited_by}." if invitation.invited_by else "."),
            details=[
                "Organisations : "
                + ", ".join(f"{link.organisation.name} ({link.get_access_level_display().lower()})" for link in links),
                "Services : " + ", ".join(sorted(service.name for service in invitation.services.all())),
                (
                    f"Expirée depuis le {french_datetime(invitation.expires_at, zone)}"
                    if status == InvitationStatus.EXPIRED
                    else f"En attente, valable jusqu'au {french_datetime(invitation.expires_at, zone)}"
                ),
            ],
            consequences=[
                "Le lien envoyé ne fonctionnera plus : la personne ne pourra pas rejoindre l'espace avec cette "
                "invitation, et son lien lui dira que l'invitation a été annulée.",
                "Pour l'inviter plus tard, envoyez une nouvelle invitation.",
            ],
            action_url=request.path,
            confirm_label="Annuler l'invitation",
            back_url=reverse("espace_invitations", args=[ctx.territory.pk]),
            back_label="Garder l'invitation",
        )
    try:
        account_services.cancel_invitation(ctx, invitation)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"L'invitation envoyée à {invitation.email} est annulée : son lien ne fonctionne plus."
        )
    return redirect("espace_invitations", ctx.territory.pk)


# Agents -------------------------------------------------------------------------------


@territory_admin_required
def agents(request, ctx):
    active_service_ids = territory_selectors.active_service_ids(ctx)
    filters = AgentFilterForm(ctx, request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(account_selectors.agent_list(ctx, data), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for agent in page:
        services_ = [(link.service, link.service_id in active_service_ids) for link in agent.services_here]
        rows.append({"agent": agent, "services": services_, "roles": agent.roles_here})
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "espace/agents.html",
        ctx,
        "Agents",
        page=page,
        rows=rows,
        filters=filters,
        query=query.urlencode(),
    )


@territory_admin_required
def intervenant_add(request, ctx):
    form = IntervenantForm(ctx, submitted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = account_services.add_intervenant(
                ctx,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                services=data["services"],
                organisations=data["organisations"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            text = (
                f"{result.agent} est ajouté(e) comme intervenant : il ou elle apparaît dans les agendas, "
                "sans connexion."
            )
            if result.existing_account:
                text += " Cette adresse avait déjà un compte sur la plateforme (dans un autre espace) : il est gardé."
            messages.success(request, text)
            return redirect("espace_agents", ctx.territory.pk)
    return _render(request, "espace/intervenant_add.html", ctx, "Ajouter un intervenant", form=form)


@territory_admin_required
def agent_edit(request, ctx, agent_id):
    agent = get_object_or_404(agents_scope(ctx), pk=agent_id)
    current = account_selectors.assignments(ctx, agent)
    active = territory_selectors.active_service_ids(ctx)
    form = AgentAssignmentForm(
        ctx,
        submitted(request),
        keeps_inactive_service=any(s.pk not in active for s in current.services),
        initial_levels=current.levels,
        initial={
            "services": [s for s in current.services if s.pk in active],
            "territory_admin": current.territory_admin,
        },
    )
    needs_confirmation = False
    if request.method == "POST" and form.is_valid():
        try:
            changes = account_services.update_agent_assignments(
                ctx,
                agent,
                form.cleaned_data["services"],
                form.organisation_levels(),
                territory_admin=form.cleaned_data["territory_admin"],
                confirm_removal=form.cleaned_data["confirm_removal"],
            )
        except DomainError as error:
            needs_confirmation = error.code == "confirm_removal"
            add_domain_error(form, error)
        else:
            if not form.organisation_levels():
                messages.success(
                    request,
                    f"{agent} est retiré(e) de l'espace. Son compte et son historique sont conservés.",
                )
                return redirect("espace_agents", ctx.territory.pk)
            messages.success(request, "Affectations enregistrées." if changes else "Aucune modification.")
            return redirect("espace_agent_edit", ctx.territory.pk, agent.pk)
    inactive_services = [s for s in current.services if s.pk not in active]
    return _render(
        request,
        "espace/agent_edit.html",
        ctx,
        f"Affectations {de(agent)}",
        agent=agent,
        form=form,
        inactive_services=inactive_services,
        needs_confirmation=needs_confirmation,
    )


# Journal ------------------------------------------------------------------------------


@territory_admin_required
def journal(request, ctx):
    # Keyset pages (rdv.core.pagination) and no total: the journal grows forever, and every page,
    # the thousandth included, costs the same.
    page = keyset_page(
        territory_selectors.journal(ctx),
        territory_selectors.JOURNAL_ORDER,
        after=parse_id(request.GET.get("apres")),
        before=parse_id(request.GET.get("avant")),
        size=PAGE_SIZE,
    )
    describe_entries(page.rows)
    return _render(request, "espace/journal.html", ctx, "Journal des modifications", page=page)
