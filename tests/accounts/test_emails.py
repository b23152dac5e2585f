"""What the e-mails say (issue 17, point 8): invitations name what is given and what to do, in the
espace's time; the waiting-room e-mail links to the RDV; `make run` builds links to its own port."""

import re
import subprocess
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rdv.accounts.models import AccessLevel
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.territories.models import TimeZone, WaitingRoomNotification
from tests import factories
from tests.helpers import deliver_emails, invite, log_in


def test_an_invitation_names_the_organisations_services_and_what_to_do(alice):
    client = log_in(Client(), alice.territory_admin)
    invite(client, alice, "nouvelle@exemple.fr", levels={alice.organisation: AccessLevel.ADMIN})
    (message,) = deliver_emails()
    assert f"- {alice.organisation.name} (administrateur)" in message.body
    assert f"Services : {alice.service.name}" in message.body
    assert "choisissez votre nom et votre mot de passe" in message.body
    assert "(heure de Paris)" in message.body


def test_an_existing_account_is_asked_to_log_in_not_to_choose_a_password(alice, bob):
    client = log_in(Client(), alice.territory_admin)
    invite(client, alice, bob.agent.email)  # bob's agent joins alice's espace too
    (message,) = deliver_emails()
    assert "Vous avez déjà un compte" in message.body
    assert "choisissez votre nom et votre mot de passe" not in message.body


def test_the_expiry_is_given_in_the_espace_s_time(alice):
    alice.territory.time_zone = TimeZone.REUNION
    alice.territory.save()
    client = log_in(Client(), alice.territory_admin)
    invite(client, alice, "reunion@exemple.fr")
    (message,) = deliver_emails()
    invitation_expiry = timezone.localtime(alice.territory.invitations.get().expires_at, alice.territory.zone)
    assert f"à {invitation_expiry:%H:%M} (heure de La Réunion)" in message.body


@time_machine.travel("2027-02-22 10:00 +01:00", tick=False)
def test_the_expiry_date_is_written_in_french_with_1er(alice, settings):
    settings.AGENT_INVITATION_VALIDITY = timedelta(days=7)
    client = log_in(Client(), alice.territory_admin)
    invite(client, alice, "premier@exemple.fr")
    (message,) = deliver_emails()
    assert "Il expire le lundi 1er mars 2027 à 10:00 (heure de Paris)" in message.body


@time_machine.travel("2027-03-09 12:00 +01:00", tick=False)
def test_the_waiting_room_e_mail_links_to_the_rdv(alice):
    alice.territory.waiting_room_notification = WaitingRoomNotification.EMAIL
    alice.territory.save()
    motif = factories.MotifFactory(organisation=alice.organisation, service=alice.service)
    start = timezone.now() + timedelta(minutes=5)
    rdv = Rdv.objects.create(
        organisation=alice.organisation, motif=motif, starts_at=start, ends_at=start + timedelta(minutes=30)
    )
    RdvAgent.objects.create(rdv=rdv, agent=alice.agent, starts_at=rdv.starts_at, ends_at=rdv.ends_at)
    Participation.objects.create(
        rdv=rdv, usager=factories.UsagerFactory(territory=alice.territory, organisations=[alice.organisation])
    )
    log_in(Client(), alice.agent).post(reverse("rdv_arrival", args=[alice.organisation.pk, rdv.pk]))
    (message,) = deliver_emails()
    assert f"http://testserver/organisations/{alice.organisation.pk}/rdvs/{rdv.pk}/" in message.body


def test_make_run_builds_links_to_its_own_address_and_port():
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "HOST=127.0.0.1"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r'SITE_URL="\$\{SITE_URL:-http://127\.0\.0\.1:8123\}"', dry), dry
