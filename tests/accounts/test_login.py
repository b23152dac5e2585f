"""Agent login, brute-force lockout (django-axes) and password reset."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.models import Agent
from tests import factories
from tests.helpers import deliver_emails, log_in, login_post, page_text

RESET_LINK = re.compile(r"http://testserver(/mot-de-passe/nouveau/[^/\s]+/[^/\s]+/)")


def _logged_in_agent(client):
    return client.get(reverse("home")).context["user"]


@pytest.mark.parametrize("typed", ["alice-agent@exemple.fr", "Alice-Agent@Exemple.fr", "  ALICE-AGENT@EXEMPLE.FR  "])
def test_login_email_is_case_insensitive(client, alice, typed):
    response = login_post(client, typed)
    assert response.status_code == 302
    assert _logged_in_agent(client) == alice.agent


def test_login_redirects_to_next(client, alice):
    target = reverse("organisation_home", args=[alice.organisation.pk])
    response = login_post(client, "alice-agent@exemple.fr", next=target)
    assert response.status_code == 302
    assert response.url == target


def test_login_never_redirects_to_another_site(client, alice):
    response = login_post(client, "alice-agent@exemple.fr", next="https://pirate.example/voler")
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_wrong_password_is_refused_in_french(client, alice):
    response = login_post(client, "alice-agent@exemple.fr", password="pas-le-bon")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in page_text(response)
    assert not _logged_in_agent(client).is_authenticated


def test_unknown_email_gets_the_same_message_as_a_wrong_password(client, alice):
    response = login_post(client, "personne@exemple.fr")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in page_text(response)


def test_deactivated_account_cannot_log_in(client, alice):
    Agent.objects.filter(pk=alice.agent.pk).update(is_active=False)
    response = login_post(client, "alice-agent@exemple.fr")
    assert response.status_code == 200
    assert not _logged_in_agent(client).is_authenticated


def test_intervenant_only_agent_cannot_log_in(client, alice):
    intervenant = factories.AgentFactory(email="intervenant@exemple.fr")
    factories.AgentRoleFactory(agent=intervenant, organisation=alice.organisation, access_level="intervenant")
    response = login_post(client, "intervenant@exemple.fr")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in page_text(response)
    assert not _logged_in_agent(client).is_authenticated


def test_lockout_uses_the_database_handler_and_the_french_template():
    from axes.handlers.database import AxesDatabaseHandler
    from axes.handlers.proxy import AxesProxyHandler

    # The lockout survives restarts and is shared by the web processes: attempts live in the database.
    assert isinstance(AxesProxyHandler.get_implementation(force=True), AxesDatabaseHandler)
    assert settings.AXES_LOCKOUT_TEMPLATE == "accounts/lockout.html"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, alice):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert login_post(client, "alice-agent@exemple.fr", password="mauvais").status_code == 200
    locked = login_post(client, "alice-agent@exemple.fr", password="mauvais")

    assert locked.status_code == 429
    assert "Connexion temporairement bloquée" in page_text(locked)
    assert AccessAttempt.objects.get(username="alice-agent@exemple.fr").failures_since_start == limit
    refused = login_post(client, "alice-agent@exemple.fr")
    assert refused.status_code == 429
    assert "Trop de tentatives de connexion" in page_text(refused)
    assert not _logged_in_agent(client).is_authenticated


def test_lockout_cannot_be_bypassed_by_changing_the_case_of_the_email(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_post(client, "alice-agent@exemple.fr", password="mauvais")
    for variant in ("Alice-Agent@exemple.fr", "ALICE-AGENT@EXEMPLE.FR"):
        response = login_post(client, variant)
        assert response.status_code == 429
    assert not _logged_in_agent(client).is_authenticated


def test_failures_with_case_variants_add_up_to_a_lockout(client, alice):
    variants = ["alice-agent@exemple.fr", "Alice-agent@exemple.fr", "aLice-agent@exemple.fr"]
    responses = [
        login_post(client, variants[i % len(variants)], password="mauvais") for i in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert responses[-1].status_code == 429
    assert login_post(client, "alice-agent@exemple.fr").status_code == 429


def test_lockout_ends_after_the_cool_off_period(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            login_post(client, "alice-agent@exemple.fr", password="mauvais")
        assert login_post(client, "alice-agent@exemple.fr").status_code == 429
        traveller.move_to(start + settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
        response = login_post(client, "alice-agent@exemple.fr")
    assert response.status_code == 302


def test_lockout_of_one_account_does_not_lock_another(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_post(client, "alice-agent@exemple.fr", password="mauvais")
    assert login_post(client, "alice-orga@exemple.fr").status_code == 302


def test_success_before_the_limit_resets_the_failure_count(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login_post(client, "alice-agent@exemple.fr", password="mauvais")
    assert login_post(client, "alice-agent@exemple.fr").status_code == 302
    other = Client()  # a fresh browser from the same address starts from zero failures
    assert login_post(other, "alice-agent@exemple.fr", password="mauvais").status_code == 200
    assert AccessAttempt.objects.get(username="alice-agent@exemple.fr").failures_since_start == 1
    assert login_post(other, "alice-agent@exemple.fr").status_code == 302


def test_logged_in_agent_is_redirected_away_from_the_login_page(client, alice):
    log_in(client, alice.agent)
    assert client.get(reverse("login")).status_code == 302


def test_logout_needs_a_post_and_ends_the_session(client, alice):
    log_in(client, alice.agent)
    assert client.get(reverse("logout")).status_code == 405
    assert _logged_in_agent(client) == alice.agent
    response = client.post(reverse("logout"), follow=True)
    assert "Vous êtes déconnecté(e)." in page_text(response)
    assert not _logged_in_agent(client).is_authenticated


# Password reset --------------------------------------------------------------------------


def test_password_reset_link_works_once(client, alice, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "Alice-Agent@Exemple.fr"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mailoutbox == [], "nothing is sent inside the request: the e-mail waits in the delivery outbox"
    deliver_emails()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice-agent@exemple.fr"]
    assert mailoutbox[0].subject == "Réinitialisation de votre mot de passe"
    path = RESET_LINK.search(mailoutbox[0].body).group(1)

    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "nouveau-secret-2026", "new_password2": "nouveau-secret-2026"})
    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")

    alice.agent.refresh_from_db()
    assert alice.agent.check_password("nouveau-secret-2026")
    assert login_post(Client(), "alice-agent@exemple.fr", password="nouveau-secret-2026").status_code == 302

    again = Client().get(path, follow=True)
    assert again.context["validlink"] is False
    assert "Ce lien n'est plus valable" in page_text(again)


def test_password_reset_for_an_unknown_email_sends_nothing_but_shows_the_same_page(client, alice, mailoutbox):
    known = client.post(reverse("password_reset"), {"email": "alice-agent@exemple.fr"}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "personne@exemple.fr"}, follow=True)
    assert len(deliver_emails()) == 1
    assert unknown.redirect_chain == known.redirect_chain
    assert "Si un compte existe pour cette adresse" in page_text(unknown)


def test_password_reset_refuses_a_weak_new_password(client, alice, mailoutbox):
    client.post(reverse("password_reset"), {"email": "alice-agent@exemple.fr"})
    path = RESET_LINK.search(deliver_emails()[0].body).group(1)
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "123456789", "new_password2": "123456789"})
    assert response.status_code == 200
    assert "Ce mot de passe est trop court" in page_text(response)
    alice.agent.refresh_from_db()
    assert alice.agent.check_password(factories.PASSWORD)
