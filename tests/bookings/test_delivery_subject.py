"""Which RDVs the undelivered-messages pages describe in detail (rdv.bookings.policies.delivery_subject)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rdv.accounts.context import organisation_context
from rdv.bookings.models import Rdv
from rdv.bookings.policies import delivery_subject
from rdv.core.context import Context
from tests.factories import AgentFactory, AgentRoleFactory, MotifFactory, OrganisationFactory, TerritoryFactory


def _rdv(organisation):
    start = timezone.now() + timedelta(days=3)
    return Rdv.objects.create(
        organisation=organisation,
        motif=MotifFactory(organisation=organisation),
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
    )


@pytest.fixture
def two_organisations(db):
    territory = TerritoryFactory()
    low, high = OrganisationFactory(territory=territory), OrganisationFactory(territory=territory)
    assert low.pk < high.pk
    return territory, low, high


def test_an_admin_of_both_organisations_sees_the_rdvs_of_both_from_either_page(two_organisations):
    _territory, low, high = two_organisations
    agent = AgentFactory()
    for organisation in (low, high):
        AgentRoleFactory(agent=agent, organisation=organisation, access_level="admin")
    rdvs = [_rdv(high), _rdv(low)]
    visible = delivery_subject().visible
    for page in (low, high):
        ctx = organisation_context(agent, page)
        assert visible(ctx, rdvs) == {rdv.pk for rdv in rdvs}, page


def test_an_agent_of_one_organisation_sees_only_its_rdvs(two_organisations):
    _territory, low, high = two_organisations
    agent = AgentFactory()
    AgentRoleFactory(agent=agent, organisation=high, access_level="admin")
    rdvs = [_rdv(high), _rdv(low)]
    assert delivery_subject().visible(organisation_context(agent, high), rdvs) == {rdvs[0].pk}


def test_the_system_sees_every_rdv_of_its_espace_whatever_the_order(two_organisations):
    territory, low, high = two_organisations
    rdvs = [_rdv(high), _rdv(low), _rdv(high)]
    visible = delivery_subject().visible
    assert visible(Context.system(territory), rdvs) == {rdv.pk for rdv in rdvs}
    assert visible(Context.system(territory), rdvs[::-1]) == {rdv.pk for rdv in rdvs}
    other = Context.system(TerritoryFactory())
    assert visible(other, rdvs) == set()
