import hashlib
import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from rdv.core.context import AccessLevel
from rdv.core.text import normalise_text
from rdv.territories.models import Organisation, Service, Territory


def agent_search_text(first_name: str, last_name: str, email: str) -> str:
    return normalise_text(f"{first_name} {last_name} {email}")


class AgentQuerySet(models.QuerySet):
    def in_territory(self, territory: Territory) -> "AgentQuerySet":
        """Agents with a role in an organisation of the espace, or administering it."""
        return self.filter(
            models.Q(roles__organisation__territory=territory) | models.Q(territory_roles__territory=territory)
        ).distinct()

    def search(self, text: str) -> "AgentQuerySet":
        """Every word must match the name or e-mail, ignoring accents and case."""
        queryset = self
        for word in normalise_text(text).split():
            queryset = queryset.filter(search_text__contains=word)
        return queryset


class AgentManager(BaseUserManager.from_queryset(AgentQuerySet)):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **extra):
        agent = self.model(email=self.normalize_email(email).lower(), **extra)
        agent.set_password(password)
        agent.save(using=self._db)
        return agent

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Agent(AbstractBaseUser, PermissionsMixin):
    # Empty only for an intervenant added without e-mail (they never log in).
    email = models.EmailField("adresse e-mail", max_length=254, blank=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("opérateur de la plateforme", default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Accent- and case-insensitive search key (names and e-mail), kept up to date by save().
    search_text = models.CharField(max_length=500, editable=False, default="", db_index=True)

    objects = AgentManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "agent"
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="agent_email_unique_ci")
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        self.search_text = agent_search_text(self.first_name, self.last_name, self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name


class AgentRole(models.Model):
    """Agent × organisation with an access level: the unit of rights."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="agent_roles")
    access_level = models.CharField("niveau d'accès", max_length=20, choices=AccessLevel, default=AccessLevel.BASIC)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "droit d'accès"
        verbose_name_plural = "droits d'accès"
        constraints = [models.UniqueConstraint("agent", "organisation", name="agent_role_unique")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.organisation} · {self.get_access_level_display()}"


class AgentServiceQuerySet(models.QuerySet):
    def in_territory(self, territory) -> "AgentServiceQuerySet":
        return self.filter(territory=territory)


class AgentService(models.Model):
    """The agent works for this service in this espace. Per espace: what an admin of one espace sets
    never changes what the agent may do in another."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="service_links")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="agent_services")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="agent_links")

    objects = AgentServiceQuerySet.as_manager()

    class Meta:
        verbose_name = "service de l'agent"
        verbose_name_plural = "services des agents"
        constraints = [
            models.UniqueConstraint(fields=["agent", "territory", "service"], name="agent_service_unique_per_espace")
        ]

    def __str__(self) -> str:
        return f"{self.agent} · {self.service} ({self.territory})"


class TerritoryRole(models.Model):
    """The agent administers the espace."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="territory_roles")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="admin_roles")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "administrateur d'espace"
        verbose_name_plural = "administrateurs d'espace"
        constraints = [models.UniqueConstraint("agent", "territory", name="territory_role_unique")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.territory}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A random URL-safe token and its hash. Only the hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    EXPIRED = "expired", "Expirée"
    ACCEPTED = "accepted", "Acceptée"
    CANCELLED = "cancelled", "Annulée"


class InvitationQuerySet(models.QuerySet):
    def open(self) -> "InvitationQuerySet":
        """Neither accepted nor cancelled (may be expired)."""
        return self.filter(accepted_at__isnull=True, cancelled_at__isnull=True)

    def with_status(self, status: str, now=None) -> "InvitationQuerySet":
        now = now or timezone.now()
        if status == InvitationStatus.ACCEPTED:
            return self.filter(accepted_at__isnull=False)
        if status == InvitationStatus.CANCELLED:
            return self.filter(cancelled_at__isnull=False)
        if status == InvitationStatus.EXPIRED:
            return self.open().filter(expires_at__lte=now)
        if status == InvitationStatus.PENDING:
            return self.open().filter(expires_at__gt=now)
        return self


class Invitation(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("adresse e-mail")
    token_hash = models.CharField(max_length=64, unique=True)
    services = models.ManyToManyField(Service, related_name="+", verbose_name="services")
    make_territory_admin = models.BooleanField("administrateur de l'espace", default=False)
    invited_by = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation"
        ordering = ["-sent_at"]
        constraints = [
            # At most one open invitation per e-mail in an espace: re-inviting updates it.
            models.UniqueConstraint(
                "territory",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, cancelled_at__isnull=True),
                name="invitation_open_unique_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.territory})"

    def status(self, now=None) -> str:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.cancelled_at:
            return InvitationStatus.CANCELLED
        if self.expires_at <= (now or timezone.now()):
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def get_status_display(self) -> str:
        return InvitationStatus(self.status()).label


class InvitationOrganisation(models.Model):
    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="organisation_links")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    access_level = models.CharField(max_length=20, choices=AccessLevel, default=AccessLevel.BASIC)

    class Meta:
        constraints = [
            models.UniqueConstraint("invitation", "organisation", name="invitation_organisation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.invitation} · {self.organisation}"


class ReplacedInvitationToken(models.Model):
    """The hash of an invitation link replaced by a newer one (re-invitation or « Renvoyer »), so the
    old link says it was replaced rather than « lien invalide ». Hashes only, never tokens."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="replaced_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    replaced_at = models.DateTimeField()

    class Meta:
        verbose_name = "lien d'invitation remplacé"
        verbose_name_plural = "liens d'invitation remplacés"

    def __str__(self) -> str:
        return f"{self.invitation} · remplacé le {self.replaced_at:%d/%m/%Y}"


API_TOKEN_PREFIX = "rdvp_"


def new_api_token() -> tuple[str, str]:
    """A personal API token (`rdvp_` and 43 random URL-safe characters: 256 bits) and its hash.
    The prefix lets secret scanners recognise a leaked token. Only the hash is stored."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Neither revoked nor expired at `now`."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token: it acts with exactly its agent's rights (docs/adr/0014-api.md).
    Shown once at creation; the database holds its SHA-256 (256 random bits: no salt or slow hash
    needed) and the first characters, to recognise it in a list."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("nom", max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField("expire le", null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton d’API"
        verbose_name_plural = "jetons d’API"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
