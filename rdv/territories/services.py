"""Espace administration operations: organisations and service activation."""

from django.db import IntegrityError, transaction

from rdv.core.audit import log_action
from rdv.core.errors import DomainError
from rdv.territories.models import Organisation, Service, Territory, TerritoryService


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("name_required", "Le nom est obligatoire.", field="name")
    if len(name) > 200:
        raise DomainError("name_too_long", "Le nom ne doit pas dépasser 200 caractères.", field="name")
    return name


def _check_unique_organisation_name(territory: Territory, name: str, exclude_pk=None) -> None:
    clash = Organisation.objects.filter(territory=territory, name__iexact=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise DomainError(
            "organisation_name_taken",
            f"Une organisation nommée « {name} » existe déjà dans cet espace.",
            field="name",
        )


@transaction.atomic
def create_organisation(actor, territory: Territory, name: str) -> Organisation:
    name = _clean_name(name)
    _check_unique_organisation_name(territory, name)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(territory=territory, name=name)
    except IntegrityError as exc:  # a concurrent creation won the race
        raise DomainError(
            "organisation_name_taken", f"Une organisation nommée « {name} » existe déjà.", field="name"
        ) from exc
    log_action(actor, "organisation.created", organisation, {"name": name})
    return organisation


@transaction.atomic
def rename_organisation(actor, organisation: Organisation, name: str) -> Organisation:
    name = _clean_name(name)
    if name == organisation.name:
        return organisation
    _check_unique_organisation_name(organisation.territory, name, exclude_pk=organisation.pk)
    old = organisation.name
    organisation.name = name
    organisation.save(update_fields=["name"])
    log_action(actor, "organisation.renamed", organisation, {"name": [old, name]})
    return organisation


@transaction.atomic
def activate_service(actor, territory: Territory, service: Service) -> bool:
    """Returns False when the service was already active."""
    _, created = TerritoryService.objects.get_or_create(territory=territory, service=service)
    if created:
        log_action(actor, "service.activated", territory, {"service": service.name})
    return created


@transaction.atomic
def deactivate_service(actor, territory: Territory, service: Service) -> bool:
    """Agents keep their existing assignments (flagged in the agent list); new ones are refused."""
    deleted, _ = TerritoryService.objects.filter(territory=territory, service=service).delete()
    if deleted:
        log_action(actor, "service.deactivated", territory, {"service": service.name})
    return bool(deleted)
