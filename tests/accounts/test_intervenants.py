"""Intervenants (issue 17, point 4): listed in agendas, booked like agents, never logged in. The espace
admin adds them directly (no invitation, e-mail optional); an invitation whose every access level
is « Intervenant » is refused with a message pointing to that action; mixed levels still invite."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rdv.accounts import services
from rdv.accounts.models import AccessLevel, Agent, AgentRole, AgentService, Invitation
from rdv.accounts.policies import can_log_in
from rdv.bookings import services as booking_services
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from tests import factories
from tests.helpers import (
    accept_data,
    as_agent,
    db_state,
    deliver_emails,
    invite,
    last_invitation_path,
    log_in,
    login_post,
    page_text,
)


def add_url(world) -> str:
    return reverse("espace_intervenant_add", args=[world.territory.pk])


def intervenant_data(world, **overrides) -> dict:
    data = {
        "first_name": "Inès",
        "last_name": "Terprète",
        "email": "",
        "services": [world.service.pk],
        "organisations": [world.organisation.pk, world.other_organisation.pk],
    }
    data.update(overrides)
    return data


# The service ------------------------------------------------------------------------------------


def test_an_intervenant_is_added_without_login_and_journaled(alice, mailoutbox):
    ctx = as_agent(alice.territory_admin, alice.territory)

    result = services.add_intervenant(
        ctx,
        first_name=" Inès ",
        last_name="Terprète",
        services=[alice.service],
        organisations=[alice.organisation, alice.other_organisation],
    )

    agent = result.agent
    assert (agent.first_name, agent.last_name, agent.email) == ("Inès", "Terprète", "")
    assert not agent.has_usable_password()
    assert not can_log_in(agent)
    assert set(AgentRole.objects.filter(agent=agent).values_list("organisation", "access_level")) == {
        (alice.organisation.pk, AccessLevel.INTERVENANT),
        (alice.other_organisation.pk, AccessLevel.INTERVENANT),
    }
    assert list(AgentService.objects.filter(agent=agent).values_list("territory", "service")) == [
        (alice.territory.pk, alice.service.pk)
    ]
    assert mailoutbox == []  # no invitation
    assert not Invitation.objects.exists()
    entry = AuditLog.objects.get(action="agent.intervenant_added")
    assert (entry.territory, entry.actor) == (alice.territory, alice.territory_admin)
    assert entry.changes["name"] == "Inès Terprète"


def test_several_intervenants_without_e_mail_can_be_added(alice):
    ctx = as_agent(alice.territory_admin, alice.territory)
    for last_name in ("Un", "Deux"):
        services.add_intervenant(
            ctx, first_name="Inès", last_name=last_name, services=[alice.service], organisations=[alice.organisation]
        )

    assert Agent.objects.filter(email="").count() == 2


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"first_name": "  "}, "first_name_required"),
        ({"last_name": ""}, "last_name_required"),
        ({"last_name": "x" * 151}, "name_too_long"),
        ({"email": "pas-une-adresse"}, "email_invalid"),
        ({"services": []}, "services_required"),
        ({"organisations": []}, "organisations_required"),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(alice, overrides, code):
    ctx = as_agent(alice.territory_admin, alice.territory)
    data = {
        "first_name": "Inès",
        "last_name": "Terprète",
        "email": "",
        "services": [alice.service],
        "organisations": [alice.organisation],
        **overrides,
    }
    before = db_state()

    with pytest.raises(DomainError) as caught:
        services.add_intervenant(ctx, **data)

    assert caught.value.code == code
    assert db_state() == before


def test_an_inactive_service_or_another_espaces_organisation_is_refused(alice, bob):
    ctx = as_agent(alice.territory_admin, alice.territory)
    before = db_state()

    with pytest.raises(DomainError) as inactive:
        services.add_intervenant(
            ctx, first_name="A", last_name="B", services=[alice.inactive_service], organisations=[alice.organisation]
        )
    with pytest.raises(DomainError) as outside:
        services.add_intervenant(
            ctx, first_name="A", last_name="B", services=[alice.service], organisations=[bob.organisation]
        )

    assert (inactive.value.code, outside.value.code) == ("service_inactive", "organisation_outside")
    assert db_state() == before


def test_an_agent_of_the_espace_is_not_added_again(alice):
    ctx = as_agent(alice.territory_admin, alice.territory)
    before = db_state()

    with pytest.raises(DomainError) as caught:
        services.add_intervenant(
            ctx,
            first_name="X",
            last_name="Y",
            email=alice.agent.email.upper(),
            services=[alice.service],
            organisations=[alice.other_organisation],
        )

    assert caught.value.code == "agent_exists"
    assert "modifiez ses affectations" in caught.value.message
    assert db_state() == before


def test_an_account_of_another_espace_becomes_intervenant_here_and_keeps_its_login(alice, bob):
    ctx = as_agent(alice.territory_admin, alice.territory)

    result = services.add_intervenant(
        ctx,
        first_name="Autre",
        last_name="Nom",
        email=bob.agent.email,
        services=[alice.service],
        organisations=[alice.organisation],
    )

    assert result.existing_account and result.agent == bob.agent
    bob.agent.refresh_from_db()
    assert bob.agent.has_usable_password() and can_log_in(bob.agent)
    assert AgentRole.objects.get(agent=bob.agent, organisation=alice.organisation).access_level == "intervenant"


# The invitation refuses intervenant-only levels ---------------------------------------------------


def test_an_invitation_whose_every_level_is_intervenant_is_refused(alice, mailoutbox):
    ctx = as_agent(alice.territory_admin, alice.territory)
    before = db_state()

    with pytest.raises(DomainError) as caught:
        services.invite_agent(
            ctx,
            "interprete@exemple.fr",
            [alice.service],
            {alice.organisation: AccessLevel.INTERVENANT, alice.other_organisation: AccessLevel.INTERVENANT},
        )

    assert caught.value.code == "intervenant_no_login"
    assert "« Ajouter un intervenant »" in caught.value.message
    assert db_state() == before
    assert mailoutbox == []


def test_mixed_levels_still_invite(alice, mailoutbox):
    ctx = as_agent(alice.territory_admin, alice.territory)

    result = services.invite_agent(
        ctx,
        "mixte@exemple.fr",
        [alice.service],
        {alice.organisation: AccessLevel.INTERVENANT, alice.other_organisation: AccessLevel.BASIC},
    )

    assert result.invitation.pk and len(deliver_emails()) == 1


def test_an_intervenant_made_espace_admin_is_invited(alice, mailoutbox):
    """Espace admins always log in (rdv.accounts.policies.can_log_in)."""
    ctx = as_agent(alice.territory_admin, alice.territory)

    services.invite_agent(
        ctx,
        "chef@exemple.fr",
        [alice.service],
        {alice.organisation: AccessLevel.INTERVENANT},
        make_territory_admin=True,
    )

    assert len(deliver_emails()) == 1


# Pages ------------------------------------------------------------------------------------------


def test_the_agents_page_offers_to_add_an_intervenant(client, alice):
    log_in(client, alice.territory_admin)

    page = page_text(client.get(reverse("espace_agents", args=[alice.territory.pk])))

    assert f'href="{add_url(alice)}">Ajouter un intervenant</a>' in page


def test_an_admin_adds_an_intervenant_from_the_page(client, alice):
    log_in(client, alice.territory_admin)
    form = page_text(client.get(add_url(alice)))
    assert "il ne se connecte pas" in form

    response = client.post(add_url(alice), intervenant_data(alice))

    assert response.status_code == 302
    assert response["Location"] == reverse("espace_agents", args=[alice.territory.pk])
    agent = Agent.objects.get(last_name="Terprète")
    assert set(agent.roles.values_list("access_level", flat=True)) == {AccessLevel.INTERVENANT}
    listing = page_text(client.get(response["Location"]))
    assert "Inès Terprète est ajouté(e) comme intervenant" in listing
    assert "Sans adresse e-mail" in listing


def test_the_intervenant_cannot_log_in(client, alice):
    ctx = as_agent(alice.territory_admin, alice.territory)
    services.add_intervenant(
        ctx,
        first_name="Inès",
        last_name="Terprète",
        email="ines@exemple.fr",
        services=[alice.service],
        organisations=[alice.organisation],
    )

    response = login_post(client, "ines@exemple.fr", "n'importe-quoi-123")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "overrides",
    [
        {"first_name": ""},
        {"email": "pas-une-adresse"},
        {"services": ["abc"]},
        {"organisations": ["99999999999999999999"]},
        {"organisations": []},
    ],
)
def test_the_page_answers_bad_input_in_french_and_changes_nothing(client, alice, overrides):
    log_in(client, alice.territory_admin)
    before = db_state()

    response = client.post(add_url(alice), intervenant_data(alice, **overrides))

    assert response.status_code == 200
    assert "fr-error-text" in response.content.decode() or "fr-alert--error" in response.content.decode()
    assert db_state() == before


def test_the_page_is_for_espace_admins_only(client, alice, bob):
    log_in(client, bob.territory_admin)
    assert client.get(add_url(alice)).status_code == 404
    log_in(client, alice.organisation_admin)
    assert client.post(add_url(alice), intervenant_data(alice)).status_code == 404
    assert not Agent.objects.filter(last_name="Terprète").exists()


def test_the_invite_page_explains_why_intervenants_get_no_invitation(client, alice, mailoutbox):
    log_in(client, alice.territory_admin)
    page = page_text(client.get(reverse("espace_invite", args=[alice.territory.pk])))
    assert "Un intervenant (sans connexion) ne reçoit pas d'invitation" in page

    response = invite(client, alice, "interprete@exemple.fr", levels={alice.organisation: AccessLevel.INTERVENANT})

    assert response.status_code == 200
    refused = page_text(response)
    assert "il ne reçoit donc pas d'invitation" in refused
    assert f'<a href="{add_url(alice)}">Ajouter un intervenant</a>' in refused
    assert mailoutbox == []
    assert not Invitation.objects.exists()


def test_an_intervenant_can_be_booked_in_an_agenda(alice):
    """The point of an intervenant: the booking accepts them as the RDV's agent."""
    ctx = as_agent(alice.territory_admin, alice.territory)
    agent = services.add_intervenant(
        ctx, first_name="Inès", last_name="Terprète", services=[alice.service], organisations=[alice.organisation]
    ).agent
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service)
    usager = factories.UsagerFactory(territory=alice.territory, organisations=[alice.organisation])
    start = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=3), time(10)))

    rdv = booking_services.book_rdv(
        as_agent(alice.agent, alice.organisation),
        booking_services.BookingRequest(
            motif=motif,
            starts_at=start,
            agents=[agent],
            usagers=[usager],
            lieu=factories.LieuFactory(organisation=alice.organisation),
        ),
        override=True,
    )

    assert list(rdv.agent_links.values_list("agent", flat=True)) == [agent.pk]


def test_an_intervenant_invited_later_as_an_agent_completes_their_account(client, alice):
    """No dead end: the intervenant's account (no password) gets a name and a password from the
    invitation link, and keeps its RDVs and roles."""
    ctx = as_agent(alice.territory_admin, alice.territory)
    intervenant = services.add_intervenant(
        ctx,
        first_name="Inès",
        last_name="Terprète",
        email="ines@exemple.fr",
        services=[alice.service],
        organisations=[alice.other_organisation],
    ).agent
    log_in(client, alice.territory_admin)
    invite(client, alice, "ines@exemple.fr", levels={alice.organisation: AccessLevel.BASIC})
    link = last_invitation_path()
    visitor = Client()

    page = page_text(visitor.get(link))
    response = visitor.post(link, accept_data(first_name="Inès", last_name="Terprète"))

    assert 'name="password1"' in page  # the account form, not « connectez-vous »
    assert response.status_code == 302
    intervenant.refresh_from_db()
    assert intervenant.has_usable_password() and can_log_in(intervenant)
    assert Agent.objects.filter(email="ines@exemple.fr").count() == 1
    assert set(intervenant.roles.values_list("organisation", "access_level")) == {
        (alice.organisation.pk, AccessLevel.BASIC),
        (alice.other_organisation.pk, AccessLevel.INTERVENANT),
    }
