"""Agents revoke a RDV's manage link from the RDV page (issue 18): the page says the link is active,
« Révoquer le lien » goes through a confirmation step, then rdv.online.services.revoke_manage_link;
the link opens nothing afterwards and the RDV's journal says so. Rights: the RDV through the agent's
scope (another service's agent, another espace's agent: 404); bad input gets a French message."""

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.models import AccessLevel
from rdv.bookings.models import Rdv
from rdv.core.models import AuditLog
from rdv.online import services
from rdv.online.models import ManageLink
from tests import factories
from tests.helpers import db_state, log_in, page_text
from tests.online.fixtures import NOW, PERSON, THURSDAY, at, build_online, last_code

REVOKED = "Le lien de gestion en ligne est révoqué : il ne permet plus d'accéder au rendez-vous."
REFUSED = "Ces informations ne permettent pas d'ouvrir un rendez-vous."


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def online(db):
    return build_online()


@pytest.fixture
def booked(online):
    """(rdv, token) of a RDV booked online by Jeanne Dupont, Thursday 10:00."""
    booking = online.hold(at(THURSDAY, 10))
    services.submit_details(booking, PERSON, holder_key="visiteur-1")
    booking = services.confirm_booking(booking, last_code(PERSON["email"]), holder_key="visiteur-1")
    return booking.rdv, booking.manage_token


def detail_url(online, rdv) -> str:
    return reverse("rdv_detail", args=[online.organisation.pk, rdv.pk])


def revoke_url(online, rdv, link) -> str:
    return reverse("rdv_manage_link_revoke", args=[online.organisation.pk, rdv.pk, link.pk])


def unlock(client, token):
    return client.post(reverse("public:manage", args=[token]), {"lettres": "dup"})


def link_state():
    return list(ManageLink.objects.order_by("pk").values_list("pk", "revoked_at"))


def test_the_rdv_page_says_the_manage_link_is_active_and_offers_to_revoke_it(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    page = page_text(log_in(client, online.agent).get(detail_url(online, rdv)))
    assert "Lien de gestion en ligne" in page
    assert "Actif : Jeanne DUPONT peut voir, déplacer ou annuler ce rendez-vous en ligne" in page
    assert "Créé le 08/03/2027 à 08:00" in page
    assert f'action="{revoke_url(online, rdv, link)}"' in page
    assert "Révoquer le lien" in page


def test_a_rdv_without_an_active_link_shows_no_block(client, online, booked):
    rdv, _ = booked
    other = Rdv.objects.create(
        organisation=online.organisation, motif=online.motif, starts_at=at(THURSDAY, 11), ends_at=at(THURSDAY, 11, 30)
    )
    client = log_in(client, online.agent)
    assert "Lien de gestion en ligne" not in page_text(client.get(detail_url(online, other)))
    ManageLink.objects.update(revoked_at=timezone.now())
    assert "Lien de gestion en ligne" not in page_text(client.get(detail_url(online, rdv)))


def test_revoking_asks_for_confirmation_then_the_link_opens_nothing(client, online, booked):
    rdv, token = booked
    link = rdv.manage_links.get()
    usager = Client()
    assert unlock(usager, token).url == reverse("public:manage", args=[token])  # the usager had opened it
    agent = log_in(client, online.agent)

    step = agent.post(revoke_url(online, rdv, link))  # the button of the RDV page: the confirmation step
    assert step.status_code == 200
    page = page_text(step)
    assert "Révoquer le lien de gestion en ligne ?" in page
    assert "Ce lien ne permettra plus de voir, déplacer ou annuler le rendez-vous en ligne" in page
    assert 'name="confirmer" value="1"' in page and "Garder le lien" in page
    link.refresh_from_db()
    assert link.revoked_at is None

    response = agent.post(revoke_url(online, rdv, link), {"confirmer": "1"})
    assert response.status_code == 302 and response.url == detail_url(online, rdv)
    link.refresh_from_db()
    assert link.revoked_at == NOW
    page = page_text(agent.get(response.url))
    assert REVOKED in page
    assert 'id="lien-gestion-titre"' not in page  # no active link any more

    # The usager's opened session and a new visitor both get the refusal page.
    assert "Les trois premières lettres du nom de famille" in page_text(
        usager.get(reverse("public:manage", args=[token]))
    )
    assert REFUSED in page_text(unlock(usager, token))
    assert REFUSED in page_text(unlock(Client(), token))
    assert usager.get(reverse("public:manage_cancel", args=[token])).url == reverse("public:manage", args=[token])


def test_the_journal_labels_the_revocation(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    log_in(client, online.agent).post(revoke_url(online, rdv, link), {"confirmer": "1"})
    entry = AuditLog.objects.get(action="rdv.manage_link_revoked")
    assert entry.object_id == str(rdv.pk) and entry.actor == online.agent
    page = page_text(client.get(detail_url(online, rdv)))
    assert f"Lien de gestion révoqué par {entry.actor_repr}" in page


def test_a_get_on_the_revoke_url_shows_the_confirmation_step_and_changes_nothing(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    before = link_state()
    response = log_in(client, online.agent).get(revoke_url(online, rdv, link))
    assert response.status_code == 200
    assert "Révoquer le lien de gestion en ligne ?" in page_text(response)
    assert link_state() == before


def test_a_post_without_the_confirmation_changes_nothing(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    before = link_state()
    response = log_in(client, online.agent).post(revoke_url(online, rdv, link), {"confirmer": "oui"})
    assert response.status_code == 200
    assert link_state() == before


def test_revoking_an_already_revoked_link_says_so_in_french(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    agent = log_in(client, online.agent)
    agent.post(revoke_url(online, rdv, link), {"confirmer": "1"})
    before = db_state()
    response = agent.post(revoke_url(online, rdv, link), {"confirmer": "1"}, follow=True)
    assert response.status_code == 200
    assert "Ce lien de gestion est déjà révoqué" in page_text(response)
    assert db_state() == before
    assert AuditLog.objects.filter(action="rdv.manage_link_revoked").count() == 1


def test_an_expired_link_is_not_revoked_again_but_explained(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    ManageLink.objects.filter(pk=link.pk).update(expires_at=NOW)
    agent = log_in(client, online.agent)
    assert "Lien de gestion en ligne" not in page_text(agent.get(detail_url(online, rdv)))
    response = agent.post(revoke_url(online, rdv, link), {"confirmer": "1"}, follow=True)
    assert "Ce lien de gestion a expiré" in page_text(response)
    link.refresh_from_db()
    assert link.revoked_at is None


@pytest.mark.parametrize("target", ["unknown_rdv", "unknown_link", "link_of_another_rdv"])
def test_unknown_ids_answer_404(client, online, booked, target):
    rdv, _ = booked
    link = rdv.manage_links.get()
    other = Rdv.objects.create(
        organisation=online.organisation, motif=online.motif, starts_at=at(THURSDAY, 11), ends_at=at(THURSDAY, 11, 30)
    )
    args = {
        "unknown_rdv": [online.organisation.pk, 987654, link.pk],
        "unknown_link": [online.organisation.pk, rdv.pk, 987654],
        "link_of_another_rdv": [online.organisation.pk, other.pk, link.pk],
    }[target]
    before = link_state()
    response = log_in(client, online.agent).post(reverse("rdv_manage_link_revoke", args=args), {"confirmer": "1"})
    assert response.status_code == 404
    assert link_state() == before


def test_an_agent_who_does_not_see_the_rdv_gets_404_and_no_block(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    pmi = factories.ServiceFactory(name="PMI")
    factories.TerritoryServiceFactory(territory=online.territory, service=pmi)
    outsider = factories.AgentFactory(email="pmi@exemple.fr")
    factories.AgentRoleFactory(agent=outsider, organisation=online.organisation, access_level=AccessLevel.BASIC)
    factories.AgentServiceFactory(agent=outsider, territory=online.territory, service=pmi)
    before = link_state()
    client = log_in(client, outsider)
    assert client.get(detail_url(online, rdv)).status_code == 404
    assert client.get(revoke_url(online, rdv, link)).status_code == 404
    assert client.post(revoke_url(online, rdv, link), {"confirmer": "1"}).status_code == 404
    assert link_state() == before


def test_another_espaces_agent_gets_404(client, online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    elsewhere = build_online("ailleurs")
    before = link_state()
    client = log_in(client, elsewhere.agent)
    own_organisation = [elsewhere.organisation.pk, rdv.pk, link.pk]
    for args in ([online.organisation.pk, rdv.pk, link.pk], own_organisation):
        assert client.post(reverse("rdv_manage_link_revoke", args=args), {"confirmer": "1"}).status_code == 404
        assert client.get(reverse("rdv_manage_link_revoke", args=args)).status_code == 404
    assert link_state() == before


def test_anonymous_visitors_are_sent_to_the_login(online, booked):
    rdv, _ = booked
    link = rdv.manage_links.get()
    response = Client().post(revoke_url(online, rdv, link), {"confirmer": "1"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert ManageLink.objects.get().revoked_at is None
