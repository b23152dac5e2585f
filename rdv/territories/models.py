from django.db import models
from django.db.models.functions import Lower


class Territory(models.Model):
    """An Espace: the top-level tenant."""

    name = models.CharField("nom", max_length=200)
    departement_number = models.CharField("numéro de département", max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "espace"
        verbose_name_plural = "espaces"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="territory_name_unique_ci")]

    def __str__(self) -> str:
        return self.name

    @property
    def territory(self) -> "Territory":
        return self


class OrganisationQuerySet(models.QuerySet):
    def for_territory(self, territory: Territory) -> "OrganisationQuerySet":
        return self.filter(territory=territory)


class Organisation(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="organisations")
    name = models.CharField("nom", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "organisation"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("territory", Lower("name"), name="organisation_name_unique_in_territory"),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceQuerySet(models.QuerySet):
    def active_in(self, territory: Territory) -> "ServiceQuerySet":
        return self.filter(territory_activations__territory=territory)


class Service(models.Model):
    """The global catalogue of services (professions), extended by platform operators."""

    name = models.CharField("nom", max_length=200, unique=True)
    short_name = models.CharField("nom court", max_length=40, blank=True)
    is_secretariat = models.BooleanField(
        "secrétariat",
        default=False,
        help_text="Les agents de ce service voient les rendez-vous de tous les services de leur organisation.",
    )

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = "service"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TerritoryService(models.Model):
    """A service activated in an espace. No row: the service is inactive there."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="service_activations")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="territory_activations")
    activated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "service activé"
        verbose_name_plural = "services activés"
        constraints = [models.UniqueConstraint("territory", "service", name="territory_service_unique")]

    def __str__(self) -> str:
        return f"{self.service} ({self.territory})"
