"""Agent invitations and assignments: the only code that changes roles and services.

Espace admins act through a context (rdv.core.context) checked by rdv.accounts.policies; an
invitation link is its own right (accept_invitation_*)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.models import (
    API_TOKEN_PREFIX,
    AccessLevel,
    Agent,
    AgentRole,
    AgentService,
    ApiToken,
    Invitation,
    InvitationOrganisation,
    InvitationStatus,
    ReplacedInvitationToken,
    TerritoryRole,
    hash_token,
    new_api_token,
    new_token,
)
from rdv.accounts.policies import can_edit_agent, can_manage_agents, can_manage_invitation
from rdv.core.audit import log_action
from rdv.core.context import Context, require
from rdv.core.dates import french_datetime
from rdv.core.errors import DomainError
from rdv.outbox.models import Purpose
from rdv.outbox.services import enqueue_email
from rdv.territories.models import Organisation, Service, Territory


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _check_services(territory: Territory, services: Iterable[Service]) -> list[Service]:
    services = list(services)
    if not services:
        raise DomainError("services_required", "Choisissez au moins un service.", field="services")
    active_ids = set(Service.objects.active_in(territory).values_list("pk", flat=True))
    inactive = [s.name for s in services if s.pk not in active_ids]
    if inactive:
        raise DomainError(
            "service_inactive",
            "Ce service n'est pas activé dans l'espace : " + ", ".join(sorted(inactive)) + ".",
            field="services",
        )
    return services


def _check_organisations(territory: Territory, levels: Mapping[Organisation, str]) -> None:
    if not levels:
        raise DomainError("organisations_required", "Choisissez au moins une organisation.", field="organisations")
    _check_organisations_in(territory, levels)


def _send_invitation(invitation: Invitation, token: str) -> None:
    """The invitation e-mail: what is given (organisations with the access level, services), what to
    do (choose a name and password, or log in with the existing account), until when (the espace's
    time)."""
    link = settings.SITE_URL + reverse("accept_invitation", args=[token])
    context = {
        "invitation": invitation,
        "link": link,
        "site_name": settings.SITE_NAME,
        "existing_account": Agent.objects.filter(email__iexact=invitation.email).exists(),
        "organisations": [
            (link.organisation.name, AccessLevel(link.access_level).label)
            for link in invitation.organisation_links.select_related("organisation").order_by("organisation__name")
        ],
        "services": sorted(service.name for service in invitation.services.all()),
        "expires": french_datetime(invitation.expires_at, invitation.territory.zone),
    }
    with timezone.override(invitation.territory.zone):
        text = render_to_string("accounts/emails/invitation.txt", context)
    enqueue_email(
        to=invitation.email,
        subject=f"Invitation à rejoindre {invitation.territory.name} sur {settings.SITE_NAME}",
        text=text,
        purpose=Purpose.INVITATION,
        about=invitation,
        territory=invitation.territory,
        expires_at=invitation.expires_at,
        supersede=True,  # the previous link no longer works: never deliver it late
    )


def _rotate_token(invitation: Invitation, now) -> str:
    """A new link for the invitation (saved by the caller). The replaced link's hash is kept, so that
    the old link says it was replaced by a newer invitation."""
    if invitation.pk and invitation.token_hash:
        ReplacedInvitationToken.objects.create(invitation=invitation, token_hash=invitation.token_hash, replaced_at=now)
    token, token_hash = new_token()
    invitation.token_hash = token_hash
    invitation.sent_at = now
    invitation.expires_at = now + settings.AGENT_INVITATION_VALIDITY
    return token


def pending_invitation_message(invitation: Invitation) -> str:
    """What re-inviting an address with an open invitation does (the page asks to confirm)."""
    sent = french_datetime(invitation.sent_at, invitation.territory.zone)
    return (
        f"Une invitation a déjà été envoyée à {invitation.email} le {sent}. L'inviter de nouveau la remplace : "
        "le premier lien ne fonctionnera plus et l'agent recevra les droits de la nouvelle invitation à la place "
        "de ceux de la première. Confirmez pour remplacer l'invitation."
    )


INTERVENANT_NO_LOGIN = (
    "Un intervenant (sans connexion) ne se connecte pas : il ne reçoit donc pas d'invitation. Ajoutez-le "
    "avec « Ajouter un intervenant » (page Agents), ou donnez-lui un autre niveau d'accès dans au moins une "
    "organisation."
)


@dataclass
class InvitationResult:
    invitation: Invitation
    reissued: bool  # an open invitation for the same e-mail was replaced
    existing_agent: bool  # the e-mail already has an account: assignments are added on acceptance


@transaction.atomic
def invite_agent(
    ctx: Context,
    email: str,
    services: Iterable[Service],
    organisation_levels: Mapping[Organisation, str],
    make_territory_admin: bool = False,
    *,
    replace_open: bool = False,
) -> InvitationResult:
    """Invite an e-mail to the context's espace. An open invitation (pending or expired) for the same
    address is replaced only with `replace_open` (after the admin saw what it gives and confirmed):
    otherwise DomainError("invitation_open") and nothing changes."""
    require(can_manage_agents(ctx))
    territory = ctx.territory
    email = normalise_email(email)
    if not email:
        raise DomainError("email_required", "L'adresse e-mail est obligatoire.", field="email")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError(
            "email_invalid", "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr.", field="email"
        ) from exc
    services = _check_services(territory, services)
    _check_organisations(territory, organisation_levels)
    if not make_territory_admin and set(organisation_levels.values()) == {AccessLevel.INTERVENANT}:
        raise DomainError("intervenant_no_login", INTERVENANT_NO_LOGIN, field="organisations")
    now = timezone.now()

    invitation = Invitation.objects.select_for_update().open().filter(territory=territory, email__iexact=email).first()
    reissued = invitation is not None
    if reissued and not replace_open:
        raise DomainError("invitation_open", pending_invitation_message(invitation), field="email")
    if invitation is None:
        invitation = Invitation(territory=territory, email=email)
    invitation.invited_by = ctx.agent
    invitation.make_territory_admin = make_territory_admin
    token = _rotate_token(invitation, now)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as exc:  # a concurrent invitation for the same e-mail
        raise DomainError(
            "invitation_exists", "Une invitation pour cette adresse vient d'être créée.", field="email"
        ) from exc
    invitation.services.set(services)
    invitation.organisation_links.all().delete()
    InvitationOrganisation.objects.bulk_create(
        InvitationOrganisation(invitation=invitation, organisation=org, access_level=level)
        for org, level in organisation_levels.items()
    )
    existing_agent = Agent.objects.filter(email__iexact=email).exists()
    log_action(
        ctx.actor,
        "invitation.reissued" if reissued else "invitation.created",
        invitation,
        {
            "email": email,
            "services": ", ".join(sorted(s.name for s in services)),
            "organisations": {org.name: level for org, level in organisation_levels.items()},
            "expires_at": invitation.expires_at.isoformat(),
            "territory_admin": make_territory_admin,
        },
    )
    _send_invitation(invitation, token)
    return InvitationResult(invitation, reissued, existing_agent)


@transaction.atomic
def resend_invitation(ctx: Context, invitation: Invitation) -> Invitation:
    """A new link with a new expiry; the previous link stops working."""
    require(can_manage_invitation(ctx, invitation))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status() in (InvitationStatus.ACCEPTED, InvitationStatus.CANCELLED):
        raise DomainError("invitation_closed", "Cette invitation est close : créez-en une nouvelle.")
    token = _rotate_token(invitation, timezone.now())
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
    log_action(ctx.actor, "invitation.resent", invitation, {"expires_at": invitation.expires_at.isoformat()})
    _send_invitation(invitation, token)
    return invitation


@transaction.atomic
def cancel_invitation(ctx: Context, invitation: Invitation) -> Invitation:
    require(can_manage_invitation(ctx, invitation))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status() == InvitationStatus.ACCEPTED:
        raise DomainError("invitation_accepted", "Cette invitation a déjà été acceptée.")
    if invitation.cancelled_at:
        return invitation
    invitation.cancelled_at = timezone.now()
    invitation.save(update_fields=["cancelled_at"])
    log_action(ctx.actor, "invitation.cancelled", invitation, {"email": invitation.email})
    return invitation


# Intervenants ----------------------------------------------------------------------------


@dataclass
class IntervenantResult:
    agent: Agent
    existing_account: bool  # the e-mail already had an account (of another espace): roles were added


@transaction.atomic
def add_intervenant(
    ctx: Context,
    *,
    first_name: str,
    last_name: str,
    email: str = "",
    services: Iterable[Service],
    organisations: Iterable[Organisation],
) -> IntervenantResult:
    """Add an intervenant to organisations of the context's espace: listed in agendas, booked like
    an agent, but without login (no password, no invitation; the e-mail is optional).

    An e-mail that already has an account of another espace gets the intervenant roles and services
    here (their login elsewhere is unchanged); one of an agent of this espace is refused (edit their
    assignments instead)."""
    require(can_manage_agents(ctx))
    territory = ctx.territory
    first_name, last_name = " ".join((first_name or "").split()), " ".join((last_name or "").split())
    if not first_name:
        raise DomainError("first_name_required", "Le prénom est obligatoire.", field="first_name")
    if not last_name:
        raise DomainError("last_name_required", "Le nom est obligatoire.", field="last_name")
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        limit = Agent._meta.get_field(field).max_length
        if len(value) > limit:
            raise DomainError("name_too_long", f"Le prénom et le nom ne dépassent pas {limit} caractères.", field=field)
    email = normalise_email(email)
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise DomainError(
                "email_invalid",
                "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr, ou laissez le champ vide.",
                field="email",
            ) from exc
    services = _check_services(territory, services)
    organisations = list(dict.fromkeys(organisations))
    if not organisations:
        raise DomainError("organisations_required", "Choisissez au moins une organisation.", field="organisations")
    _check_organisations_in(territory, {organisation: AccessLevel.INTERVENANT for organisation in organisations})

    agent = Agent.objects.select_for_update().filter(email__iexact=email).first() if email else None
    existing_account = agent is not None
    if agent is not None and Agent.objects.in_territory(territory).filter(pk=agent.pk).exists():
        raise DomainError(
            "agent_exists",
            f"{agent} ({email}) fait déjà partie de l'espace : modifiez ses affectations dans la liste des agents.",
            field="email",
        )
    if agent is None:
        agent = Agent(email=email, first_name=first_name, last_name=last_name)
        agent.set_unusable_password()
        try:
            with transaction.atomic():
                agent.save()
        except IntegrityError as exc:  # a concurrent account for the same e-mail
            raise DomainError("agent_exists", "Un compte vient d'être créé pour cette adresse.", field="email") from exc
    AgentService.objects.bulk_create(AgentService(agent=agent, territory=territory, service=s) for s in services)
    AgentRole.objects.bulk_create(
        AgentRole(agent=agent, organisation=organisation, access_level=AccessLevel.INTERVENANT)
        for organisation in organisations
    )
    log_action(
        ctx.actor,
        "agent.intervenant_added",
        agent,
        {
            "name": agent.full_name,
            "email": email or None,
            "services": ", ".join(sorted(s.name for s in services)),
            "organisations": {organisation.name: AccessLevel.INTERVENANT for organisation in organisations},
        },
        territory=territory,
    )
    return IntervenantResult(agent, existing_account)


INVALID_LINK = DomainError(
    "invitation_invalid",
    "Ce lien d'invitation n'est pas valide. Vérifiez que vous avez copié le lien complet, "
    "ou demandez une nouvelle invitation à votre administrateur.",
)


def _replaced_link(newer: Invitation) -> DomainError:
    sent = french_datetime(newer.sent_at, newer.territory.zone)
    message = f"Ce lien a été remplacé par une invitation plus récente, envoyée le {sent}."
    status = newer.status()
    if status == InvitationStatus.ACCEPTED:
        message += " Elle a déjà été acceptée : connectez-vous avec votre compte."
    elif status == InvitationStatus.CANCELLED:
        message += " Elle a depuis été annulée par l'administrateur."
    elif status == InvitationStatus.EXPIRED:
        message += " Elle a expiré : demandez à votre administrateur de vous inviter à nouveau."
    else:
        message += f" Utilisez le lien du dernier e-mail d'invitation reçu à l'adresse {newer.email}."
    return DomainError("invitation_replaced", message)


def find_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The open invitation for this link, or a DomainError saying why it cannot be used."""
    if not token or len(token) > 100:
        raise INVALID_LINK
    queryset = Invitation.objects.select_related("territory")
    if lock:
        queryset = queryset.select_for_update()
    invitation = queryset.filter(token_hash=hash_token(token)).first()
    if invitation is None:
        replaced = ReplacedInvitationToken.objects.filter(token_hash=hash_token(token)).select_related(
            "invitation__territory"
        )
        old = replaced.first()
        if old is None:
            raise INVALID_LINK
        raise _replaced_link(old.invitation)
    status = invitation.status()
    if status == InvitationStatus.ACCEPTED:
        raise DomainError("invitation_used", "Cette invitation a déjà été utilisée. Connectez-vous avec votre compte.")
    if status == InvitationStatus.CANCELLED:
        raise DomainError("invitation_cancelled", "Cette invitation a été annulée par l'administrateur.")
    if status == InvitationStatus.EXPIRED:
        expiry = timezone.localtime(invitation.expires_at, invitation.territory.zone).strftime("%d/%m/%Y à %H:%M")
        raise DomainError(
            "invitation_expired",
            f"Cette invitation a expiré le {expiry}. Demandez à votre administrateur de vous inviter à nouveau.",
        )
    return invitation


def _apply_invitation(invitation: Invitation, agent: Agent) -> dict:
    """Add the invitation's services, roles and espace admin right to the agent."""
    active_ids = set(Service.objects.active_in(invitation.territory).values_list("pk", flat=True))
    added_services = []
    for service in invitation.services.all():
        if service.pk in active_ids:  # a service deactivated since the invitation is not given
            _, created = AgentService.objects.get_or_create(
                agent=agent, service=service, territory=invitation.territory
            )
            if created:
                added_services.append(service.name)
    added_roles = {}
    for link in invitation.organisation_links.select_related("organisation"):
        _, created = AgentRole.objects.get_or_create(
            agent=agent, organisation=link.organisation, defaults={"access_level": link.access_level}
        )
        if created:
            added_roles[link.organisation.name] = link.access_level
    if invitation.make_territory_admin:
        TerritoryRole.objects.get_or_create(agent=agent, territory=invitation.territory)
    return {"services": ", ".join(added_services) or None, "organisations": added_roles}


def _close(invitation: Invitation, agent: Agent) -> None:
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = agent
    invitation.save(update_fields=["accepted_at", "accepted_by"])


@transaction.atomic
def accept_invitation_as_new_agent(token: str, first_name: str, last_name: str, password: str) -> Agent:
    invitation = find_invitation(token, lock=True)
    first_name, last_name = " ".join(first_name.split()), " ".join(last_name.split())
    if not first_name or not last_name:
        raise DomainError("name_required", "Le prénom et le nom sont obligatoires.")
    limit = Agent._meta.get_field("first_name").max_length
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value) > Agent._meta.get_field(field).max_length:
            raise DomainError("name_too_long", f"Le prénom et le nom ne dépassent pas {limit} caractères.", field=field)
    agent = Agent.objects.select_for_update().filter(email__iexact=invitation.email).first()
    if agent is not None and agent.has_usable_password():
        raise DomainError("account_exists", "Un compte existe déjà pour cette adresse : connectez-vous pour accepter.")
    if agent is None:
        agent = Agent(email=invitation.email)
    # else: an intervenant added without login (rdv.accounts.services.add_intervenant) gets a login.
    agent.first_name, agent.last_name = first_name, last_name
    try:
        validate_password(password, agent)
    except ValidationError as exc:
        raise DomainError("password_invalid", " ".join(exc.messages), field="password1") from exc
    agent.set_password(password)
    agent.save()
    added = _apply_invitation(invitation, agent)
    _close(invitation, agent)
    log_action(agent, "invitation.accepted", invitation, {"agent": agent.email, **added})
    return agent


@transaction.atomic
def accept_invitation_as_existing_agent(token: str, agent: Agent) -> Invitation:
    invitation = find_invitation(token, lock=True)
    if normalise_email(agent.email) != normalise_email(invitation.email):
        raise DomainError(
            "wrong_account",
            f"Cette invitation est adressée à {invitation.email}. "
            "Déconnectez-vous puis reconnectez-vous avec ce compte.",
        )
    added = _apply_invitation(invitation, agent)
    _close(invitation, agent)
    log_action(agent, "invitation.accepted", invitation, {"agent": agent.email, **added})
    return invitation


@transaction.atomic
def update_agent_assignments(
    ctx: Context,
    agent: Agent,
    services: Iterable[Service],
    organisation_levels: Mapping[Organisation, str],
    *,
    territory_admin: bool | None = None,
    confirm_removal: bool = False,
) -> dict:
    """Set the agent's services in the context's espace (among those active there) and roles in the
    espace's organisations. Services inactive in the espace, and everything in other espaces, are
    kept as they are.

    Removing the agent's last organisation of the espace needs `confirm_removal`; the agent
    account and its history are kept.
    """
    require(can_edit_agent(ctx, agent))
    territory = ctx.territory
    services = list(services)
    _check_organisations_in(territory, organisation_levels)
    active = set(Service.objects.active_in(territory))
    for service in services:
        if service not in active:
            raise DomainError(
                "service_inactive", f"Le service « {service.name} » n'est pas activé dans l'espace.", field="services"
            )
    current_roles = {
        r.organisation: r
        for r in AgentRole.objects.filter(agent=agent, organisation__territory=territory).select_related("organisation")
    }
    if current_roles and not organisation_levels and not confirm_removal:
        raise DomainError(
            "confirm_removal",
            "Vous retirez cet agent de sa dernière organisation de l'espace. Confirmez pour continuer.",
            field="organisations",
        )
    current_services = set(Service.objects.filter(agent_links__agent=agent, agent_links__territory=territory))
    kept_inactive = {s for s in current_services if s not in active}
    if organisation_levels and not (set(services) | kept_inactive):
        raise DomainError("services_required", "Choisissez au moins un service.", field="services")
    if (
        territory_admin is False
        and ctx.is_self(agent)
        and TerritoryRole.objects.filter(agent=agent, territory=territory).exists()
    ):
        raise DomainError(
            "self_demotion",
            "Vous ne pouvez pas retirer vos propres droits d'administrateur de l'espace.",
            field="territory_admin",
        )

    changes: dict = {}
    wanted_services = set(services)
    to_add = wanted_services - current_services
    to_remove = (current_services & active) - wanted_services
    AgentService.objects.bulk_create(AgentService(agent=agent, territory=territory, service=s) for s in to_add)
    AgentService.objects.filter(agent=agent, territory=territory, service__in=to_remove).delete()
    if to_add or to_remove:
        changes["services"] = {
            "ajoutés": ", ".join(sorted(s.name for s in to_add)) or None,
            "retirés": ", ".join(sorted(s.name for s in to_remove)) or None,
        }

    role_changes = {}
    for organisation, role in current_roles.items():
        if organisation not in organisation_levels:
            role.delete()
            role_changes[organisation.name] = [role.access_level, None]
        elif role.access_level != organisation_levels[organisation]:
            role_changes[organisation.name] = [role.access_level, organisation_levels[organisation]]
            role.access_level = organisation_levels[organisation]
            role.save(update_fields=["access_level"])
    for organisation, level in organisation_levels.items():
        if organisation not in current_roles:
            AgentRole.objects.create(agent=agent, organisation=organisation, access_level=level)
            role_changes[organisation.name] = [None, level]
    if role_changes:
        changes["organisations"] = role_changes

    if territory_admin is not None:
        has = TerritoryRole.objects.filter(agent=agent, territory=territory).exists()
        if territory_admin and not has:
            TerritoryRole.objects.create(agent=agent, territory=territory)
            changes["territory_admin"] = [False, True]
        elif not territory_admin and has:
            TerritoryRole.objects.filter(agent=agent, territory=territory).delete()
            changes["territory_admin"] = [True, False]

    if changes:
        action = "agent.removed_from_territory" if current_roles and not organisation_levels else "agent.updated"
        log_action(ctx.actor, action, agent, changes, territory=territory)
    return changes


def _check_organisations_in(territory: Territory, levels: Mapping[Organisation, str]) -> None:
    for organisation, level in levels.items():
        if organisation.territory_id != territory.pk:
            raise DomainError("organisation_outside", "Organisation inconnue.", field="organisations")
        if level not in AccessLevel.values:
            raise DomainError("access_level_invalid", "Niveau d'accès inconnu.", field="organisations")


# Personal API tokens ------------------------------------------------------------------------------

API_TOKENS_PER_AGENT = 20
API_TOKEN_MAX_DAYS = 366


def create_api_token(ctx: Context, *, name: str, expires_on=None) -> tuple[ApiToken, str]:
    """A new API token for the agent of `ctx` (their own profile), acting with their rights. Returns
    the token and its secret, which is shown once and never stored."""
    require(ctx.agent is not None and not ctx.is_public)
    name = (name or "").strip()
    if not name:
        raise DomainError("invalid", "Donnez un nom au jeton (l’outil qui l’utilisera, par exemple).", field="name")
    if len(name) > 100:
        raise DomainError("invalid", "Le nom du jeton tient en 100 caractères au plus.", field="name")
    now = timezone.now()
    expires_at = None
    if expires_on is not None:
        today = timezone.localdate(now)
        if expires_on <= today:
            raise DomainError("invalid", "La date d’expiration doit être dans le futur.", field="expires_on")
        if (expires_on - today).days > API_TOKEN_MAX_DAYS:
            raise DomainError("invalid", "Un jeton expire au plus tard dans un an.", field="expires_on")
        expires_at = timezone.make_aware(datetime.combine(expires_on, time.min))
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=ctx.agent.pk)
        if ApiToken.objects.filter(agent=agent).usable(now).count() >= API_TOKENS_PER_AGENT:
            raise DomainError(
                "too_many", f"Vous avez déjà {API_TOKENS_PER_AGENT} jetons actifs : révoquez-en un d’abord."
            )
        secret, digest = new_api_token()
        token = ApiToken.objects.create(
            agent=agent, name=name, token_hash=digest, prefix=secret[:12], created_at=now, expires_at=expires_at
        )
        log_action(ctx.actor, "api_token.created", token, {"name": name, "expires_at": expires_at})
    return token, secret


def revoke_api_token(ctx: Context, token: ApiToken) -> ApiToken:
    """Revoke one of the agent's own tokens: it opens nothing from the next request on."""
    require(ctx.agent is not None and ctx.is_self(token.agent_id))
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if updated:
            token.refresh_from_db()
            log_action(ctx.actor, "api_token.revoked", token, {"name": token.name})
    return token


def agent_api_tokens(ctx: Context):
    """The agent's own tokens, newest first (revoked and expired ones included, marked)."""
    require(ctx.agent is not None)
    return ApiToken.objects.filter(agent_id=ctx.agent.pk)


def authenticate_api_token(secret: str, *, now=None) -> ApiToken | None:
    """The usable token of an active agent whose secret is `secret`, or None. Marks it used (at most
    once a minute, so reads do not write on every call)."""
    if not secret or not secret.startswith(API_TOKEN_PREFIX) or len(secret) > 100:
        return None
    now = now or timezone.now()
    token = (
        ApiToken.objects.usable(now)
        .filter(token_hash=hash_token(secret), agent__is_active=True)
        .select_related("agent")
        .first()
    )
    if token is not None and (token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1)):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
