"""Re-inviting an address that has an open invitation (issue 17, point 5): the page shows the
invitation in progress (sent when, what it gives) and says what re-inviting does before doing it;
the service refuses without that confirmation. A replaced link (re-invitation or « Renvoyer ») says
it was replaced by a newer invitation; only the hashes of replaced links are kept."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from rdv.accounts import services
from rdv.accounts.models import AccessLevel, Invitation, ReplacedInvitationToken, hash_token
from rdv.core.errors import DomainError
from tests.helpers import (
    accept_data,
    as_agent,
    db_state,
    deliver_emails,
    invite,
    last_invitation_path,
    log_in,
    page_text,
)

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2027, 3, 1, 9, 30, tzinfo=PARIS)  # Monday 1 March 2027
EMAIL = "camille@exemple.fr"


@pytest.fixture
def admin_client(client, alice):
    return log_in(client, alice.territory_admin)


@pytest.fixture
def first_link(admin_client, alice, mailoutbox):
    """A pending invitation of camille@ (alice Centre, basic), sent at T0; its link."""
    with time_machine.travel(T0, tick=False):
        response = invite(log_in(admin_client, alice.territory_admin), alice, EMAIL)
    assert response.status_code == 302
    return last_invitation_path()


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


# The service -------------------------------------------------------------------------------------


def test_reinviting_an_open_invitation_needs_a_confirmation(alice, first_link, mailoutbox):
    ctx = as_agent(alice.territory_admin, alice.territory)
    before, sent = db_state(), len(deliver_emails())

    with time_machine.travel(T0 + timedelta(days=2), tick=False), pytest.raises(DomainError) as caught:
        services.invite_agent(ctx, EMAIL, [alice.service], {alice.other_organisation: AccessLevel.ADMIN})

    assert caught.value.code == "invitation_open"
    assert "le lundi 1er mars 2027 à 09:30" in caught.value.message
    assert "le premier lien ne fonctionnera plus" in caught.value.message
    assert db_state() == before
    assert len(deliver_emails()) == sent


def test_a_confirmed_reinvitation_replaces_the_invitation_and_keeps_only_the_old_links_hash(alice, first_link):
    ctx = as_agent(alice.territory_admin, alice.territory)

    result = services.invite_agent(
        ctx, EMAIL, [alice.service], {alice.other_organisation: AccessLevel.ADMIN}, replace_open=True
    )

    assert result.reissued
    replaced = ReplacedInvitationToken.objects.get()
    assert replaced.invitation == result.invitation
    assert replaced.token_hash == hash_token(token_of(first_link))
    stored = [str(value) for value in ReplacedInvitationToken.objects.values_list().get()]
    assert token_of(first_link) not in stored  # never the token itself


# The page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_invitation_in_progress_and_asks_before_replacing_it(
    admin_client, alice, first_link, mailoutbox
):
    before, sent = db_state(), len(deliver_emails())

    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        response = invite(
            log_in(admin_client, alice.territory_admin),
            alice,
            "Camille@exemple.fr",
            levels={alice.other_organisation: "admin"},
        )

    assert response.status_code == 200
    page = page_text(response)
    assert "Une invitation est déjà en cours pour camille@exemple.fr" in page
    assert "Envoyée le lundi 1er mars 2027 à 09:30" in page
    assert "En attente, valable jusqu'au lundi 8 mars 2027 à 09:30" in page
    assert "alice Centre (agent)" in page
    assert "le lien déjà envoyé ne fonctionnera plus" in page
    assert re.search(r'name="remplacer"\s+value="camille@exemple.fr"', page)
    assert "Garder l'invitation en cours" in page
    assert db_state() == before
    assert len(deliver_emails()) == sent


def test_confirming_replaces_the_invitation_with_the_new_rights(admin_client, alice, first_link, mailoutbox):
    response = invite(admin_client, alice, EMAIL, levels={alice.other_organisation: AccessLevel.ADMIN}, remplacer=EMAIL)

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert list(invitation.organisation_links.values_list("organisation", "access_level")) == [
        (alice.other_organisation.pk, "admin")
    ]
    assert len(deliver_emails()) == 2
    assert "Elle remplace l'invitation précédente" in page_text(admin_client.get(response["Location"]))


def test_a_confirmation_given_for_another_address_does_not_count(admin_client, alice, first_link):
    before = db_state()

    response = invite(admin_client, alice, EMAIL, remplacer="autre@exemple.fr")

    assert response.status_code == 200
    assert "Une invitation est déjà en cours" in page_text(response)
    assert db_state() == before


def test_an_expired_invitation_is_shown_as_expired_before_it_is_replaced(admin_client, alice, first_link):
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        response = invite(log_in(admin_client, alice.territory_admin), alice, EMAIL)

    assert response.status_code == 200
    assert "Expirée depuis le lundi 8 mars 2027 à 09:30" in page_text(response)


# The old link -----------------------------------------------------------------------------------


def test_a_link_replaced_by_a_reinvitation_says_so(admin_client, alice, first_link):
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        invite(log_in(admin_client, alice.territory_admin), alice, EMAIL, remplacer=EMAIL)
        old = Client().get(first_link)

    assert old.status_code == 400
    page = page_text(old)
    assert "Ce lien a été remplacé par une invitation plus récente, envoyée le mercredi 3 mars 2027 à 09:30." in page
    assert "Utilisez le lien du dernier e-mail d'invitation reçu à l'adresse camille@exemple.fr." in page
    assert "Vérifiez que vous avez copié le lien complet" not in page


def test_a_link_replaced_by_renvoyer_says_so(admin_client, alice, first_link):
    invitation = Invitation.objects.get()
    admin_client.post(reverse("espace_invitation_resend", args=[alice.territory.pk, invitation.pk]))

    old = Client().get(first_link)

    assert old.status_code == 400
    assert "Ce lien a été remplacé par une invitation plus récente" in page_text(old)


def test_a_replaced_link_says_when_the_newer_invitation_was_accepted_or_cancelled(admin_client, alice, first_link):
    invitation = Invitation.objects.get()
    admin_client.post(reverse("espace_invitation_resend", args=[alice.territory.pk, invitation.pk]))
    second_link = last_invitation_path()
    admin_client.post(reverse("espace_invitation_resend", args=[alice.territory.pk, invitation.pk]))
    Client().post(last_invitation_path(), accept_data())

    for old in (first_link, second_link):
        assert "Elle a déjà été acceptée : connectez-vous avec votre compte." in page_text(Client().get(old))


def test_a_replaced_link_of_a_cancelled_invitation_says_it_was_cancelled(admin_client, alice, first_link):
    invitation = Invitation.objects.get()
    admin_client.post(reverse("espace_invitation_resend", args=[alice.territory.pk, invitation.pk]))
    services.cancel_invitation(as_agent(alice.territory_admin, alice.territory), invitation)

    assert "Elle a depuis été annulée par l'administrateur." in page_text(Client().get(first_link))


def test_an_unknown_link_still_says_it_is_not_valid(alice, first_link):
    page = page_text(Client().get(reverse("accept_invitation", args=["inconnu" * 3])))

    assert "Ce lien d'invitation n'est pas valide" in page
