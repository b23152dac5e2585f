import datetime

import factory

from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, TerritoryRole
from rdv.territories.models import Organisation, Service, Territory, TerritoryService

PASSWORD = "mot-de-passe-de-test-42"


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Espace {n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Organisation {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Service {n}")


class TerritoryServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TerritoryService

    territory = factory.SubFactory(TerritoryFactory)
    service = factory.SubFactory(ServiceFactory)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@exemple.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    # Deterministic: a random surname could equal an usager's name that a test asserts is absent.
    last_name = factory.Sequence(lambda n: f"Famille{n:03d}")
    password = factory.django.Password(PASSWORD)


class AgentRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentRole

    agent = factory.SubFactory(AgentFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    access_level = AccessLevel.BASIC


class AgentServiceFactory(factory.django.DjangoModelFactory):
    """Services are per espace: pass `territory` (no default, so that no test gives a service in an
    espace by accident)."""

    class Meta:
        model = AgentService

    agent = factory.SubFactory(AgentFactory)
    service = factory.SubFactory(ServiceFactory)


class TerritoryRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TerritoryRole

    agent = factory.SubFactory(AgentFactory)
    territory = factory.SubFactory(TerritoryFactory)


class MotifFactory(factory.django.DjangoModelFactory):
    """A motif saved as is (no service function): pass `service` active in the espace when it matters."""

    class Meta:
        model = "motifs.Motif"

    organisation = factory.SubFactory(OrganisationFactory)
    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Motif {n}")
    color = "#000091"
    default_duration_minutes = 30
    location_type = "public_office"


class UsagerFactory(factory.django.DjangoModelFactory):
    """An usager saved directly, with its search columns filled. `organisations=[org, …]` attaches it."""

    class Meta:
        model = "usagers.Usager"
        skip_postgeneration_save = True

    territory = factory.SubFactory(TerritoryFactory)
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Sequence(lambda n: f"Usager{n:03d}")  # deterministic, see AgentFactory

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        usager = model_class(*args, **kwargs)
        usager.refresh_search_fields()
        usager.save()
        return usager

    @factory.post_generation
    def organisations(self, create, extracted, **kwargs):
        from rdv.usagers.models import UsagerOrganisation

        for organisation in (extracted or []) if create else []:
            UsagerOrganisation.objects.create(usager=self, organisation=organisation)


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "usagers.CustomField"

    territory = factory.SubFactory(TerritoryFactory)
    label = factory.Sequence(lambda n: f"Champ {n}")
    kind = "text"
    position = factory.Sequence(lambda n: n + 1)


# Agendas ---------------------------------------------------------------------------------------
# Saved as is (no service function, no overlap check): use rdv.agendas.services to test the rules.


class LieuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "agendas.Lieu"

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Lieu {n}")
    address = factory.Sequence(lambda n: f"{n} rue de la République 26000 Valence")


class PlageOuvertureFactory(factory.django.DjangoModelFactory):
    """A plage; `motifs=[…]` attaches motifs. Defaults: one occurrence, 2027-03-02 09:00–12:00."""

    class Meta:
        model = "agendas.PlageOuverture"
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    agent = factory.SubFactory(AgentFactory)
    lieu = factory.SubFactory(LieuFactory, organisation=factory.SelfAttribute("..organisation"))
    first_date = datetime.date(2027, 3, 2)
    start_time = datetime.time(9, 0)
    end_time = datetime.time(12, 0)
    recurrence = "none"

    @factory.post_generation
    def motifs(self, create, extracted, **kwargs):
        if create and extracted:
            self.motifs.set(extracted)


class PlageExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "agendas.PlageException"

    plage = factory.SubFactory(PlageOuvertureFactory)
    date = factory.SelfAttribute("plage.first_date")
    cancelled = True


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "agendas.Absence"

    organisation = factory.SubFactory(OrganisationFactory)
    agent = factory.SubFactory(AgentFactory)
    title = "Congés"
    first_date = datetime.date(2027, 3, 2)
    start_time = datetime.time(0, 0)
    end_date = factory.SelfAttribute("first_date")
    end_time = datetime.time(23, 59)
    recurrence = "none"
