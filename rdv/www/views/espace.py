"""Espace administration pages (agents with the espace admin role)."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from rdv.accounts import services as account_services
from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, Invitation, InvitationStatus, TerritoryRole
from rdv.core.audit import describe_entries
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.territories import services as territory_services
from rdv.territories.models import Organisation, Service
from rdv.www.forms.base import add_domain_error, submitted
from rdv.www.forms.espace import AgentAssignmentForm, AgentFilterForm, InvitationForm, OrganisationForm
from rdv.www.tenancy import territory_admin_required

PAGE_SIZE = 50


def _render(request, template, territory, title, **context):
    context.update({"territory": territory, "title": title})
    return render(request, template, context)


@territory_admin_required
def index(request, territory):
    return redirect("espace_agents", territory.pk)


# Services -----------------------------------------------------------------------------


@territory_admin_required
def services(request, territory):
    active_ids = set(Service.objects.active_in(territory).values_list("pk", flat=True))
    agent_counts = dict(
        AgentService.objects.filter(agent__roles__organisation__territory=territory)
        .values("service")
        .annotate(n=Count("agent", distinct=True))
        .values_list("service", "n")
    )
    rows = [
        {"service": service, "active": service.pk in active_ids, "agents": agent_counts.get(service.pk, 0)}
        for service in Service.objects.order_by("name")
    ]
    return _render(request, "espace/services.html", territory, "Services", rows=rows)


@require_POST
@territory_admin_required
def service_toggle(request, territory, service_id, operation):
    service = get_object_or_404(Service, pk=service_id)
    if operation == "activer":
        if territory_services.activate_service(request.user, territory, service):
            messages.success(request, f"Le service « {service.name} » est activé dans l'espace.")
    elif operation == "desactiver":
        if territory_services.deactivate_service(request.user, territory, service):
            messages.success(
                request,
                f"Le service « {service.name} » est désactivé : il ne peut plus être choisi pour inviter ou "
                "affecter un agent. Les agents déjà affectés le gardent ; ils sont signalés dans la liste des agents.",
            )
    else:
        raise Http404
    return redirect("espace_services", territory.pk)


# Organisations ------------------------------------------------------------------------


@territory_admin_required
def organisations(request, territory):
    rows = (
        Organisation.objects.for_territory(territory)
        .annotate(agent_count=Count("agent_roles", distinct=True))
        .order_by("name")
    )
    return _render(request, "espace/organisations.html", territory, "Organisations", organisations=rows)


@territory_admin_required
def organisation_create(request, territory):
    form = OrganisationForm(submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            organisation = territory_services.create_organisation(request.user, territory, form.cleaned_data["name"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"L'organisation « {organisation.name} » est créée.")
            return redirect("espace_organisations", territory.pk)
    return _render(request, "espace/organisation_form.html", territory, "Nouvelle organisation", form=form)


@territory_admin_required
def organisation_edit(request, territory, organisation_id):
    organisation = get_object_or_404(Organisation, pk=organisation_id, territory=territory)
    form = OrganisationForm(submitted(request), initial={"name": organisation.name})
    if request.method == "POST" and form.is_valid():
        try:
            territory_services.rename_organisation(request.user, organisation, form.cleaned_data["name"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"L'organisation s'appelle désormais « {organisation.name} ».")
            return redirect("espace_organisations", territory.pk)
    return _render(
        request,
        "espace/organisation_form.html",
        territory,
        f"Renommer {organisation.name}",
        form=form,
        organisation=organisation,
    )


# Invitations --------------------------------------------------------------------------


@territory_admin_required
def invitations(request, territory):
    status = request.GET.get("statut", "")
    queryset = (
        Invitation.objects.filter(territory=territory)
        .select_related("invited_by")
        .prefetch_related("services", "organisation_links__organisation")
        .order_by("-sent_at")
    )
    if status in InvitationStatus.values:
        queryset = queryset.with_status(status)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(invitation, invitation.status(now)) for invitation in page]
    return _render(
        request,
        "espace/invitations.html",
        territory,
        "Invitations",
        page=page,
        rows=rows,
        status=status,
        statuses=InvitationStatus.choices,
        query=f"statut={status}" if status in InvitationStatus.values else "",
    )


@territory_admin_required
def invite(request, territory):
    form = InvitationForm(territory, submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            result = account_services.invite_agent(
                request.user,
                territory,
                form.cleaned_data["email"],
                form.cleaned_data["services"],
                form.organisation_levels(),
                make_territory_admin=form.cleaned_data["make_territory_admin"],
            )
        except DomainError as error:
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
            return redirect("espace_invitations", territory.pk)
    return _render(
        request,
        "espace/invite.html",
        territory,
        "Inviter un agent",
        form=form,
        validity_days=settings.AGENT_INVITATION_VALIDITY.days,
    )


def _invitation_of(territory, invitation_id) -> Invitation:
    return get_object_or_404(Invitation, pk=invitation_id, territory=territory)


@require_POST
@territory_admin_required
def invitation_resend(request, territory, invitation_id):
    invitation = _invitation_of(territory, invitation_id)
    try:
        invitation = account_services.resend_invitation(request.user, invitation)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        expiry = timezone.localtime(invitation.expires_at).strftime("%d/%m/%Y à %H:%M")
        messages.success(
            request,
            f"Nouveau lien envoyé à {invitation.email}, valable jusqu'au {expiry}. L'ancien lien ne fonctionne plus.",
        )
    return redirect("espace_invitations", territory.pk)


@require_POST
@territory_admin_required
def invitation_cancel(request, territory, invitation_id):
    invitation = _invitation_of(territory, invitation_id)
    try:
        account_services.cancel_invitation(request.user, invitation)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"L'invitation de {invitation.email} est annulée : son lien ne fonctionne plus.")
    return redirect("espace_invitations", territory.pk)


# Agents -------------------------------------------------------------------------------


def _agents_queryset(territory, active_service_ids, data):
    roles_here = AgentRole.objects.filter(organisation__territory=territory).select_related("organisation")
    queryset = (
        Agent.objects.in_territory(territory)
        .prefetch_related(
            Prefetch("roles", queryset=roles_here.order_by("organisation__name"), to_attr="roles_here"),
            Prefetch(
                "service_links", queryset=AgentService.objects.select_related("service").order_by("service__name")
            ),
        )
        .annotate(
            is_territory_admin=Exists(TerritoryRole.objects.filter(agent=OuterRef("pk"), territory=territory)),
        )
        .order_by("last_name", "first_name", "email")
    )
    if data.get("q"):
        queryset = queryset.search(data["q"])
    # Organisation and level filter the same role (one filter() call: one join).
    role_filter = {}
    if data.get("organisation"):
        role_filter["roles__organisation"] = data["organisation"]
    status = data.get("status")
    if status in (AccessLevel.ADMIN, AccessLevel.BASIC, AccessLevel.INTERVENANT):
        role_filter.update({"roles__organisation__territory": territory, "roles__access_level": status})
    if role_filter:
        queryset = queryset.filter(**role_filter)
    if data.get("service"):
        queryset = queryset.filter(service_links__service=data["service"])
    if status == "territory_admin":
        queryset = queryset.filter(is_territory_admin=True)
    elif status == "inactive_service":
        queryset = queryset.filter(
            Exists(AgentService.objects.filter(agent=OuterRef("pk")).exclude(service__in=active_service_ids))
        )
    return queryset.distinct()


@territory_admin_required
def agents(request, territory):
    active_service_ids = set(Service.objects.active_in(territory).values_list("pk", flat=True))
    filters = AgentFilterForm(territory, request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(_agents_queryset(territory, active_service_ids, data), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for agent in page:
        services_ = [(link.service, link.service_id in active_service_ids) for link in agent.service_links.all()]
        rows.append({"agent": agent, "services": services_, "roles": agent.roles_here})
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "espace/agents.html",
        territory,
        "Agents",
        page=page,
        rows=rows,
        filters=filters,
        query=query.urlencode(),
    )


@territory_admin_required
def agent_edit(request, territory, agent_id):
    agent = get_object_or_404(Agent.objects.in_territory(territory), pk=agent_id)
    roles = {role.organisation_id: role.access_level for role in agent.roles.filter(organisation__territory=territory)}
    active = set(Service.objects.active_in(territory))
    current_services = list(Service.objects.filter(agent_links__agent=agent).order_by("name"))
    is_admin = TerritoryRole.objects.filter(agent=agent, territory=territory).exists()
    form = AgentAssignmentForm(
        territory,
        submitted(request),
        initial_levels=roles,
        initial={"services": [s for s in current_services if s in active], "territory_admin": is_admin},
    )
    needs_confirmation = False
    if request.method == "POST" and form.is_valid():
        try:
            changes = account_services.update_agent_assignments(
                request.user,
                territory,
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
                return redirect("espace_agents", territory.pk)
            messages.success(request, "Affectations enregistrées." if changes else "Aucune modification.")
            return redirect("espace_agent_edit", territory.pk, agent.pk)
    inactive_services = [s for s in current_services if s not in active]
    return _render(
        request,
        "espace/agent_edit.html",
        territory,
        f"Affectations de {agent}",
        agent=agent,
        form=form,
        inactive_services=inactive_services,
        needs_confirmation=needs_confirmation,
    )


# Journal ------------------------------------------------------------------------------


@territory_admin_required
def journal(request, territory):
    # Usager files keep their own history (shown on the file, to agents who may see it): their
    # personal data stays out of the espace-wide journal.
    queryset = (
        AuditLog.objects.for_territory(territory).exclude(object_type="usagers.Usager").order_by("-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    describe_entries(page)
    return _render(request, "espace/journal.html", territory, "Journal des modifications", page=page)
