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
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)


class AgentRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentRole

    agent = factory.SubFactory(AgentFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    access_level = AccessLevel.BASIC


class AgentServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentService

    agent = factory.SubFactory(AgentFactory)
    service = factory.SubFactory(ServiceFactory)


class TerritoryRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TerritoryRole

    agent = factory.SubFactory(AgentFactory)
    territory = factory.SubFactory(TerritoryFactory)
