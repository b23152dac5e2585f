"""The « Notifications » section of a RDV's page (issue 20): the e-mails and SMS written about the
RDV (recipient, channel, type, status, attempts, provider id, error, SMS segments), for the agents
who may see the RDV; webhook events are not listed there."""

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from rdv.bookings.models import Rdv
from rdv.bookings.services import BookingRequest, book_rdv
from rdv.core.context import Context
from rdv.notifications.selectors import rdv_log
from rdv.outbox.models import Channel, Delivery, Purpose, Status
from tests import factories
from tests.helpers import as_agent, deliver_emails, log_in, page_text
from tests.online.fixtures import NOW, THURSDAY, at, build_online


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db):
    return build_online()


@pytest.fixture
def rdv(world):
    person = factories.UsagerFactory(
        territory=world.territory,
        organisations=[world.organisation],
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne.dupont@exemple.fr",
    )
    request = BookingRequest(
        motif=world.motif, starts_at=at(THURSDAY, 10), agents=[world.agent], usagers=[person], lieu=world.lieu
    )
    rdv = book_rdv(Context.system(world.territory, world.organisation), request)
    Delivery.objects.create(
        channel=Channel.SMS,
        purpose=Purpose.REMINDER,
        recipient="+33612345678",
        text="Rappel",
        status=Status.ABANDONED,
        attempts=3,
        provider_id="fournisseur-42",
        last_error="Numéro invalide (erreur définitive)",
        headers={"segments": 2},
        content_type=ContentType.objects.get_for_model(Rdv),
        object_id=rdv.pk,
        territory=world.territory,
        organisation=world.organisation,
    )
    Delivery.objects.create(
        channel=Channel.WEBHOOK,
        purpose=Purpose.WEBHOOK,
        recipient="https://si.exemple.fr/webhooks?token=secret",
        status=Status.SENT,
        content_type=ContentType.objects.get_for_model(Rdv),
        object_id=rdv.pk,
    )
    deliver_emails()
    return rdv


def page(client, world, rdv):
    return client.get(reverse("rdv_detail", args=[world.organisation.pk, rdv.pk]))


def test_the_rdv_page_lists_the_messages_about_it(world, rdv):
    response = page(log_in(Client(), world.agent2), world, rdv)  # sees the RDV through their service
    assert response.status_code == 200
    text = page_text(response)
    section = text[text.index('id="notifications"') : text.index("Historique")]
    assert "jeanne.dupont@exemple.fr" in section
    assert "Notification de rendez-vous" in section
    assert world.agent.email in section and "Notification agent" in section
    assert "envoyé" in section
    assert "+33612345678" in section and "SMS" in section and "(2 segments)" in section
    assert "fournisseur-42" in section and "Numéro invalide (erreur définitive)" in section
    assert "abandonné" in section
    assert "si.exemple.fr" not in text  # webhook events are not notifications


def test_the_log_is_empty_for_a_context_that_may_not_see_the_rdv(world, rdv):
    other_service = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=world.territory, service=other_service)
    outsider = factories.AgentFactory()
    factories.AgentRoleFactory(agent=outsider, organisation=world.organisation)
    factories.AgentServiceFactory(agent=outsider, territory=world.territory, service=other_service)
    assert page(log_in(Client(), outsider), world, rdv).status_code == 404
    assert rdv_log(as_agent(outsider, world.organisation), rdv) == []
    assert (
        len(rdv_log(as_agent(world.agent2, world.organisation), rdv)) == 3
    )  # usager's e-mail, agent's e-mail, SMS; not the webhook


def test_an_agent_of_another_espace_gets_404(world, rdv):
    bob = build_online("bob")
    assert page(log_in(Client(), bob.agent), world, rdv).status_code == 404
    assert rdv_log(as_agent(bob.agent, bob.organisation), rdv) == []


def test_a_rdv_without_messages_says_so(world):
    person = factories.UsagerFactory(territory=world.territory, organisations=[world.organisation], email="")
    request = BookingRequest(
        motif=world.motif, starts_at=at(THURSDAY, 11), agents=[world.agent2], usagers=[person], lieu=world.lieu
    )
    rdv = book_rdv(as_agent(world.agent2, world.organisation), request)  # their own change: no e-mail
    text = page_text(page(log_in(Client(), world.agent2), world, rdv))
    assert "Aucun message envoyé au sujet de ce rendez-vous." in text
