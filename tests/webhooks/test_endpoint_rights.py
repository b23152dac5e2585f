"""Who may manage an endpoint when the services are called directly, as the API (issue 21) will:
the admins of its espace only, whatever the ids of the espaces (issue 19, mutation testing of
rdv.webhooks.policies.can_manage_endpoint)."""

import pytest

from rdv.accounts.models import AccessLevel
from rdv.core.context import ActorKind, Context
from rdv.core.errors import DomainError
from rdv.territories.models import Territory
from rdv.webhooks import policies, services
from rdv.webhooks.models import WebhookEndpoint
from tests import factories

SECRET = "une-cle-secrete-de-test-assez-longue"


def admin_of(territory_pk: int) -> Context:
    territory = Territory.objects.get(pk=territory_pk)  # a fresh load: its id is another int object
    return Context(kind=ActorKind.AGENT, territory=territory, agent=factories.AgentFactory(), territory_admin=True)


@pytest.fixture
def espaces(db):
    """Three espaces with ids above the small integers Python shares, the webhook in the middle one."""
    factories.TerritoryFactory(pk=1000)
    factories.TerritoryFactory(pk=3000)
    organisation = factories.OrganisationFactory(territory=factories.TerritoryFactory(pk=2000))
    hook = services.create_endpoint(
        Context.system(organisation.territory, organisation),
        organisation=organisation,
        target_url="https://si.exemple.fr/hooks",
        secret=SECRET,
    )
    return organisation, hook


def test_only_the_admins_of_the_webhook_espace_may_manage_it(espaces):
    organisation, hook = espaces
    assert policies.can_manage_endpoint(admin_of(2000), WebhookEndpoint.objects.get(pk=hook.pk))
    for other in (1000, 3000):  # a smaller and a larger id than the webhook's espace
        assert not policies.can_manage_endpoint(admin_of(other), WebhookEndpoint.objects.get(pk=hook.pk))
    organisation_admin = Context(
        kind=ActorKind.AGENT,
        territory=organisation.territory,
        organisation=organisation,
        agent=factories.AgentFactory(),
        access_level=AccessLevel.ADMIN,
    )
    assert not policies.can_manage_endpoint(organisation_admin, hook)
    assert not policies.scope(organisation_admin).exists()
    assert list(policies.scope(admin_of(2000))) == [hook]
    assert not policies.scope(admin_of(1000)).exists()
    event = services.send_test_event(admin_of(2000), hook)
    assert list(policies.events_scope(admin_of(2000))) == [event]
    assert not policies.events_scope(admin_of(1000)).exists()
    assert not policies.events_scope(organisation_admin).exists()


@pytest.mark.parametrize("espace", [1000, 3000])
def test_an_admin_of_another_espace_changes_nothing_through_the_services(espaces, espace):
    _, hook = espaces
    ctx = admin_of(espace)
    for call in (
        lambda: services.update_endpoint(ctx, hook, target_url="https://pirate.exemple.fr/h", subscriptions=["rdv"]),
        lambda: services.rotate_secret(ctx, hook),
        lambda: services.send_test_event(ctx, hook),
        lambda: services.delete_endpoint(ctx, hook),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == "forbidden"
    hook.refresh_from_db()
    assert (hook.target_url, hook.secret, hook.events.count()) == ("https://si.exemple.fr/hooks", SECRET, 0)
