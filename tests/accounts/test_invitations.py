"""Inviting agents: links, expiry, re-invitation, duplicates, and what the form accepts."""

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from rdv.accounts import services
from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, Invitation, TerritoryRole
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from tests import factories
from tests.helpers import (
    accept_data,
    as_agent,
    deliver_emails,
    invite,
    invite_data,
    last_invitation_path,
    log_in,
    login_post,
    page_text,
)

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)  # a Tuesday, far from a DST change


def _invite_as_admin(client, world, email="camille@exemple.fr", **kwargs) -> str:
    log_in(client, world.territory_admin)
    response = invite(client, world, email, **kwargs)
    assert response.status_code == 302, page_text(response)
    return last_invitation_path()


# Expiry -------------------------------------------------------------------------------


def test_invitation_expiry_comes_from_the_setting_and_the_email_shows_the_exact_date(
    client, alice, settings, mailoutbox
):
    settings.AGENT_INVITATION_VALIDITY = timedelta(days=3)
    with time_machine.travel(T0, tick=False):
        log_in(client, alice.territory_admin)
        form_page = client.get(reverse("espace_invite", args=[alice.territory.pk]))
        response = invite(client, alice, "camille@exemple.fr")
        listing = client.get(response.url)
        deliver_emails()

    assert "expire après 3 jours" in page_text(form_page)

    invitation = Invitation.objects.get(email="camille@exemple.fr")
    assert invitation.expires_at == datetime(2026, 3, 13, 9, 0, tzinfo=PARIS)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["camille@exemple.fr"]
    assert "Il expire le vendredi 13 mars 2026 à 09:00 (heure de Paris)" in mailoutbox[0].body
    assert "valable jusqu'au 13/03/2026 à 09:00" in page_text(listing)


def test_invitation_accepted_just_before_expiry_creates_the_account(client, alice, settings):
    settings.AGENT_INVITATION_VALIDITY = timedelta(days=3)
    with time_machine.travel(T0, tick=False) as traveller:
        path = _invite_as_admin(client, alice)
        traveller.move_to(T0 + timedelta(days=3) - timedelta(seconds=1))
        visitor = Client()
        assert visitor.get(path).status_code == 200
        response = visitor.post(path, accept_data())

    assert response.status_code == 302
    agent = Agent.objects.get(email="camille@exemple.fr")
    assert agent.first_name == "Camille"
    assert agent.check_password("un-mot-de-passe-solide")
    assert AgentRole.objects.filter(agent=agent, organisation=alice.organisation, access_level="basic").exists()
    assert AgentService.objects.filter(agent=agent, service=alice.service).exists()


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1), timedelta(days=30)])
def test_expired_invitation_cannot_be_accepted(client, alice, settings, after):
    settings.AGENT_INVITATION_VALIDITY = timedelta(days=3)
    with time_machine.travel(T0, tick=False) as traveller:
        path = _invite_as_admin(client, alice)
        traveller.move_to(T0 + timedelta(days=3) + after)
        visitor = Client()
        page = visitor.get(path)
        response = visitor.post(path, accept_data())

    for answer in (page, response):
        assert answer.status_code == 400
        assert "Cette invitation a expiré le 13/03/2026 à 09:00" in page_text(answer)
    assert not Agent.objects.filter(email="camille@exemple.fr").exists()
    assert not AgentRole.objects.exclude(agent__in=[alice.territory_admin, alice.organisation_admin, alice.agent])
    assert Invitation.objects.get().accepted_at is None


# Re-invitation, resend, cancel ---------------------------------------------------------


def test_reinviting_the_same_email_kills_the_old_link_and_the_new_one_works(client, alice, mailoutbox):
    old_path = _invite_as_admin(client, alice)
    levels = {alice.other_organisation: AccessLevel.ADMIN}
    response = invite(client, alice, "Camille@Exemple.fr ", levels=levels, remplacer="camille@exemple.fr")
    assert response.status_code == 302
    new_path = last_invitation_path()

    assert new_path != old_path
    assert Invitation.objects.count() == 1  # the open invitation is updated, not duplicated
    assert "Elle remplace l'invitation précédente" in page_text(client.get(response.url))
    visitor = Client()
    old = visitor.get(old_path)
    assert old.status_code == 400
    assert "Ce lien a été remplacé par une invitation plus récente" in page_text(old)
    assert visitor.post(new_path, accept_data()).status_code == 302
    agent = Agent.objects.get(email="camille@exemple.fr")
    # the re-invitation's assignments replace the first ones
    assert list(agent.roles.values_list("organisation", "access_level")) == [(alice.other_organisation.pk, "admin")]


def test_resending_an_invitation_kills_the_old_link_and_the_new_one_works(client, alice, mailoutbox):
    old_path = _invite_as_admin(client, alice)
    invitation = Invitation.objects.get()
    response = client.post(reverse("espace_invitation_resend", args=[alice.territory.pk, invitation.pk]))
    assert response.status_code == 302
    assert len(deliver_emails()) == 2
    new_path = last_invitation_path()

    assert new_path != old_path
    assert "L'ancien lien ne fonctionne plus" in page_text(client.get(response.url))
    visitor = Client()
    assert visitor.get(old_path).status_code == 400
    assert visitor.get(new_path).status_code == 200
    assert visitor.post(new_path, accept_data()).status_code == 302
    assert Agent.objects.filter(email="camille@exemple.fr").exists()


def test_resending_an_expired_invitation_gives_a_fresh_expiry(client, alice, settings):
    settings.AGENT_INVITATION_VALIDITY = timedelta(days=3)
    with time_machine.travel(T0, tick=False) as traveller:
        _invite_as_admin(client, alice)
        invitation = Invitation.objects.get()
        traveller.move_to(T0 + timedelta(days=10))
        client.post(reverse("espace_invitation_resend", args=[alice.territory.pk, invitation.pk]))
        path = last_invitation_path()
        invitation.refresh_from_db()
        assert invitation.expires_at == T0 + timedelta(days=13)
        assert Client().get(path).status_code == 200


def test_cancelled_invitation_link_shows_the_cancelled_page(client, alice, mailoutbox):
    path = _invite_as_admin(client, alice)
    invitation = Invitation.objects.get()
    response = client.post(
        reverse("espace_invitation_cancel", args=[alice.territory.pk, invitation.pk]), {"confirmer": "1"}
    )
    assert response.status_code == 302

    visitor = Client()
    page = visitor.get(path)
    assert page.status_code == 400
    assert "Cette invitation a été annulée par l'administrateur" in page_text(page)
    assert visitor.post(path, accept_data()).status_code == 400
    assert not Agent.objects.filter(email="camille@exemple.fr").exists()


def test_cancelled_invitation_cannot_be_resent(client, alice):
    _invite_as_admin(client, alice)
    invitation = Invitation.objects.get()
    client.post(reverse("espace_invitation_cancel", args=[alice.territory.pk, invitation.pk]), {"confirmer": "1"})
    response = client.post(reverse("espace_invitation_resend", args=[alice.territory.pk, invitation.pk]), follow=True)
    assert "Cette invitation est close" in page_text(response)
    invitation.refresh_from_db()
    assert invitation.cancelled_at is not None


def test_accepted_invitation_cannot_be_cancelled(client, alice):
    path = _invite_as_admin(client, alice)
    Client().post(path, accept_data())
    invitation = Invitation.objects.get()
    response = client.post(
        reverse("espace_invitation_cancel", args=[alice.territory.pk, invitation.pk]), {"confirmer": "1"}, follow=True
    )
    assert "Cette invitation a déjà été acceptée" in page_text(response)
    invitation.refresh_from_db()
    assert invitation.cancelled_at is None


# Bad links -----------------------------------------------------------------------------


def _tampered(path: str) -> str:
    token = path.split("/")[2]
    last = "A" if token[-1] != "A" else "B"
    return f"/invitation/{token[:-1]}{last}/"


@pytest.mark.parametrize(
    "make_path",
    [
        pytest.param(_tampered, id="tampered"),
        pytest.param(lambda path: f"/invitation/{secrets.token_urlsafe(32)}/", id="random"),
        pytest.param(lambda path: f"/invitation/{'a' * 5000}/", id="very-long"),
        pytest.param(lambda path: path[:-10] + "/", id="truncated"),
        pytest.param(lambda path: "/invitation/%00%FF%C3%A9%20..%25/", id="odd-bytes"),
    ],
)
def test_bad_invitation_link_shows_a_clear_french_page_and_creates_nothing(client, alice, make_path):
    path = _invite_as_admin(client, alice)
    bad = make_path(path)
    visitor = Client()
    page = visitor.get(bad)
    response = visitor.post(bad, accept_data())

    for answer in (page, response):
        assert answer.status_code == 400
        assert "Ce lien d'invitation n'est pas valide" in page_text(answer)
    assert not Agent.objects.filter(email="camille@exemple.fr").exists()
    assert Invitation.objects.get().accepted_at is None
    assert visitor.get(path).status_code == 200  # the real link still works


def test_used_invitation_link_says_it_was_already_used(client, alice):
    path = _invite_as_admin(client, alice)
    visitor = Client()
    assert visitor.post(path, accept_data()).status_code == 302
    visitor.logout()

    for answer in (visitor.get(path), visitor.post(path, accept_data(first_name="Autre"))):
        assert answer.status_code == 400
        assert "Cette invitation a déjà été utilisée" in page_text(answer)
    assert Agent.objects.filter(email="camille@exemple.fr").count() == 1
    assert Agent.objects.get(email="camille@exemple.fr").first_name == "Camille"


def test_accepting_logs_the_new_agent_in_and_gives_the_invited_rights(client, alice):
    path = _invite_as_admin(
        client,
        alice,
        levels={alice.organisation: AccessLevel.BASIC, alice.other_organisation: AccessLevel.ADMIN},
        make_territory_admin="on",
    )
    visitor = Client()
    response = visitor.post(path, accept_data(first_name="  Camille ", last_name=" Le  Goff "))
    assert response.status_code == 302
    agent = Agent.objects.get(email="camille@exemple.fr")
    assert (agent.first_name, agent.last_name) == ("Camille", "Le Goff")
    assert dict(agent.roles.values_list("organisation", "access_level")) == {
        alice.organisation.pk: "basic",
        alice.other_organisation.pk: "admin",
    }
    assert TerritoryRole.objects.filter(agent=agent, territory=alice.territory).exists()
    home = visitor.get(response.url)
    assert home.context["user"] == agent
    assert "Bienvenue" in page_text(home)


def test_weak_password_or_missing_name_is_refused_with_a_french_message(client, alice):
    path = _invite_as_admin(client, alice)
    visitor = Client()
    weak = visitor.post(path, accept_data(password="12345678"))
    assert weak.status_code == 200
    assert "Ce mot de passe est trop court" in page_text(weak)
    mismatch = visitor.post(path, {**accept_data(), "password2": "autre-chose-encore"})
    assert "Les deux mots de passe ne sont pas identiques" in page_text(mismatch)
    blank = visitor.post(path, accept_data(first_name="   "))
    assert blank.status_code == 200
    assert "Ce champ est obligatoire" in page_text(blank)
    assert not Agent.objects.filter(email="camille@exemple.fr").exists()


def test_a_service_deactivated_after_the_invitation_is_not_given(client, alice):
    path = _invite_as_admin(client, alice)
    client.post(
        reverse("espace_service_toggle", args=[alice.territory.pk, alice.service.pk, "desactiver"]), {"confirmer": "1"}
    )
    assert Client().post(path, accept_data()).status_code == 302
    agent = Agent.objects.get(email="camille@exemple.fr")
    assert not agent.service_links.exists()
    assert agent.roles.count() == 1


# Existing accounts ----------------------------------------------------------------------


@pytest.mark.parametrize("typed_email", ["Alice-Agent@Exemple.fr", "alice-agent@exemple.fr", " ALICE-AGENT@EXEMPLE.FR"])
def test_inviting_an_existing_account_adds_rights_to_it_without_a_second_account(
    client, alice, bob, mailoutbox, typed_email
):
    existing = alice.agent
    pmi = factories.ServiceFactory(name="PMI (Protection Maternelle et Infantile)")
    factories.TerritoryServiceFactory(territory=bob.territory, service=pmi)
    log_in(client, bob.territory_admin)
    response = invite(client, bob, typed_email, services=[pmi], levels={bob.other_organisation: AccessLevel.ADMIN})
    assert response.status_code == 302
    assert "Cette adresse a déjà un compte" in page_text(client.get(response.url))
    assert Invitation.objects.get().email == "alice-agent@exemple.fr"
    path = last_invitation_path()

    visitor = Client()
    anonymous = visitor.get(path)
    assert anonymous.status_code == 200
    assert "Un compte existe déjà pour" in page_text(anonymous)
    assert f"/connexion/?next={path}" in page_text(anonymous)
    # posting the new-account form cannot create a second account
    assert visitor.post(path, accept_data()).status_code == 200
    assert Agent.objects.filter(email__iexact="alice-agent@exemple.fr").count() == 1

    logged_in = login_post(visitor, typed_email.strip(), next=path)
    assert logged_in.status_code == 302
    assert logged_in.url == path
    confirm = visitor.get(path)
    assert "Accepter l'invitation" in page_text(confirm)
    accepted = visitor.post(path)
    assert accepted.status_code == 302
    assert Agent.objects.filter(email__iexact="alice-agent@exemple.fr").count() == 1
    assert AgentRole.objects.filter(agent=existing, organisation=bob.other_organisation, access_level="admin").exists()
    assert AgentRole.objects.filter(agent=existing, organisation=alice.organisation, access_level="basic").exists()
    assert AgentService.objects.filter(agent=existing, service=pmi).exists()
    assert Invitation.objects.get().accepted_by == existing


def test_invitation_opened_by_another_logged_in_agent_says_wrong_account(client, alice, bob):
    log_in(client, bob.territory_admin)
    invite(client, bob, "alice-agent@exemple.fr", levels={bob.organisation: AccessLevel.BASIC})
    path = last_invitation_path()

    intruder = log_in(Client(), alice.organisation_admin)
    page = intruder.get(path)
    assert page.status_code == 200
    assert "Vous êtes connecté(e) avec un autre compte" in page_text(page)
    intruder.post(path)
    assert Invitation.objects.get().accepted_at is None
    assert not AgentRole.objects.filter(organisation=bob.organisation, agent=alice.organisation_admin).exists()
    assert not AgentRole.objects.filter(organisation=bob.organisation, agent=alice.agent).exists()


def test_wrong_account_is_refused_by_the_service_too(alice, mailoutbox):
    result = services.invite_agent(
        as_agent(alice.territory_admin, alice.territory),
        "someone@exemple.fr",
        [alice.service],
        {alice.organisation: "basic"},
    )
    token = last_invitation_path(mailoutbox).split("/")[2]
    with pytest.raises(services.DomainError) as error:
        services.accept_invitation_as_existing_agent(token, alice.agent)
    assert error.value.code == "wrong_account"
    result.invitation.refresh_from_db()
    assert result.invitation.accepted_at is None


# What the invite form accepts ------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["a@x.fr, b@x.fr", "a@x.fr b@x.fr", "a@x.fr;b@x.fr", "a@x.fr,b@x.fr", "a@x.fr\nb@x.fr", "a@b@x.fr"],
)
def test_several_addresses_in_one_invitation_are_refused(client, alice, mailoutbox, email):
    log_in(client, alice.territory_admin)
    response = invite(client, alice, email)
    assert response.status_code == 200
    assert "Une seule adresse e-mail par invitation" in page_text(response)
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "pas-une-adresse"}, "Saisissez une adresse e-mail valide"),
        ({"email": ""}, "Saisissez l'adresse e-mail de l'agent."),
        ({"services": []}, "Choisissez au moins un service."),
        ({"levels": {}}, "Choisissez au moins une organisation et le niveau d'accès de l'agent."),
    ],
)
def test_invalid_invitation_is_refused_in_french_and_nothing_is_saved(client, alice, mailoutbox, changes, message):
    log_in(client, alice.territory_admin)
    kwargs = {key: value for key, value in changes.items() if key != "email"}
    response = invite(client, alice, changes.get("email", "camille@exemple.fr"), **kwargs)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Invitation.objects.exists()
    assert mailoutbox == []
    assert not AuditLog.objects.exists()


def test_deactivated_service_is_not_offered_by_the_invite_form_and_is_refused(client, alice, mailoutbox):
    log_in(client, alice.territory_admin)
    form = client.get(reverse("espace_invite", args=[alice.territory.pk])).context["form"]
    assert list(form.fields["services"].queryset) == [alice.service]

    response = client.post(
        reverse("espace_invite", args=[alice.territory.pk]),
        invite_data(alice, "camille@exemple.fr", services=[alice.inactive_service]),
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in page_text(response)
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_service_refuses_an_inactive_service_a_foreign_organisation_or_a_bad_email(alice, bob):
    with pytest.raises(services.DomainError) as inactive:
        services.invite_agent(
            as_agent(alice.territory_admin, alice.territory),
            "x@exemple.fr",
            [alice.inactive_service],
            {alice.organisation: "basic"},
        )
    assert inactive.value.code == "service_inactive"
    with pytest.raises(services.DomainError) as foreign:
        services.invite_agent(
            as_agent(alice.territory_admin, alice.territory),
            "x@exemple.fr",
            [alice.service],
            {bob.organisation: "basic"},
        )
    assert foreign.value.code == "organisation_outside"
    with pytest.raises(services.DomainError) as level:
        services.invite_agent(
            as_agent(alice.territory_admin, alice.territory),
            "x@exemple.fr",
            [alice.service],
            {alice.organisation: "root"},
        )
    assert level.value.code == "access_level_invalid"
    with pytest.raises(services.DomainError) as email:
        services.invite_agent(
            as_agent(alice.territory_admin, alice.territory),
            "a@x.fr, b@x.fr",
            [alice.service],
            {alice.organisation: "basic"},
        )
    assert email.value.code == "email_invalid"
    assert not Invitation.objects.exists()


def test_invitations_list_shows_status_and_exact_expiry(client, alice, settings):
    settings.AGENT_INVITATION_VALIDITY = timedelta(days=2)
    with time_machine.travel(T0, tick=False) as traveller:
        log_in(client, alice.territory_admin)
        invite(client, alice, "pending@exemple.fr")
        invite(client, alice, "accepted@exemple.fr")
        Client().post(last_invitation_path(), accept_data())
        invite(client, alice, "cancelled@exemple.fr")
        cancelled = Invitation.objects.get(email="cancelled@exemple.fr")
        client.post(reverse("espace_invitation_cancel", args=[alice.territory.pk, cancelled.pk]), {"confirmer": "1"})
        traveller.move_to(T0 - timedelta(days=5))
        invite(client, alice, "expired@exemple.fr")
        traveller.move_to(T0)
        log_in(client, alice.territory_admin)
        listing = client.get(reverse("espace_invitations", args=[alice.territory.pk]))
        statuses = {invitation.email: status for invitation, status in listing.context["rows"]}
        only_expired = client.get(reverse("espace_invitations", args=[alice.territory.pk]), {"statut": "expired"})

    assert statuses == {
        "pending@exemple.fr": "pending",
        "accepted@exemple.fr": "accepted",
        "cancelled@exemple.fr": "cancelled",
        "expired@exemple.fr": "expired",
    }
    text = page_text(listing)
    for badge in ("En attente", "Acceptée", "Annulée", "Expirée"):
        assert badge in text
    assert "12/03/2026 09:00" in text  # expiry of the pending ones
    assert [invitation.email for invitation, _ in only_expired.context["rows"]] == ["expired@exemple.fr"]


def test_a_name_longer_than_the_agent_file_allows_is_refused_by_the_service(alice):
    """The form stops it at 150 characters; the service says so too (another face, the same rule)."""
    invite(log_in(Client(), alice.territory_admin), alice, "long@exemple.fr")
    token = last_invitation_path().rstrip("/").rsplit("/", 1)[1]
    with pytest.raises(DomainError) as caught:
        services.accept_invitation_as_new_agent(token, "A" * 151, "Martin", "mot-de-passe-solide-42")
    assert caught.value.code == "name_too_long" and caught.value.field == "first_name"
    assert not Agent.objects.filter(email="long@exemple.fr").exists()
