"""« Envois en échec » pages: who sees which undelivered messages, what they see of them
(personal data follows the rights on the object concerned), « Renvoyer », bad input, queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rdv.accounts import services as account_services
from rdv.bookings.models import Rdv
from rdv.core.models import AuditLog
from rdv.outbox.models import Delivery, Purpose, Status
from rdv.outbox.services import enqueue_email
from tests import factories
from tests.helpers import as_agent, log_in, page_text

SECRET_SUBJECT = "Salle d'attente : Jeanne DUPONT est arrivée"


def rdv_in(organisation, service) -> Rdv:
    motif = factories.MotifFactory(
        organisation=organisation, service=service, name=f"Premier accueil {Rdv.objects.count()}"
    )
    start = timezone.now() + timedelta(days=1)
    return Rdv.objects.create(
        organisation=organisation, motif=motif, starts_at=start, ends_at=start + timedelta(minutes=30)
    )


def undelivered(about, territory, organisation=None, status=Status.ABANDONED, to="agent@exemple.fr", **kwargs):
    delivery = enqueue_email(
        to=to,
        subject=SECRET_SUBJECT,
        text="Texte",
        purpose=Purpose.WAITING_ROOM,
        about=about,
        territory=territory,
        organisation=organisation,
        **kwargs,
    )
    next_attempt = timezone.now() + timedelta(hours=1) if status == Status.FAILING else None
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=3, last_error="SMTP 550 5.1.1 <agent@exemple.fr> inconnu", next_attempt_at=next_attempt
    )
    return delivery


def espace_page(client, world):
    return client.get(reverse("espace_deliveries", args=[world.territory.pk]))


def test_espace_admins_see_the_failing_and_abandoned_messages_of_their_espace_only(client, alice, bob):
    rdv = rdv_in(alice.organisation, alice.service)
    abandoned = undelivered(rdv, alice.territory, alice.organisation)
    failing = undelivered(rdv, alice.territory, alice.organisation, status=Status.FAILING, to="autre@exemple.fr")
    undelivered(rdv_in(bob.organisation, bob.service), bob.territory, bob.organisation, to="bob-usager@exemple.fr")
    sent = enqueue_email(to="parti@exemple.fr", subject="Parti", text="T", territory=alice.territory)
    Delivery.objects.filter(pk=sent.pk).update(status=Status.SENT, next_attempt_at=None)

    response = espace_page(log_in(client, alice.territory_admin), alice)
    text = page_text(response)
    assert response.status_code == 200
    assert [row.delivery.pk for row in response.context["rows"]] == [failing.pk, abandoned.pk]
    assert "agent@exemple.fr" in text and "autre@exemple.fr" in text
    assert SECRET_SUBJECT in text
    assert "SMTP 550 5.1.1" in text
    assert "abandonné" in text and "échec temporaire" in text
    assert "Rendez-vous du" in text and "Premier accueil" in text
    assert "bob-usager@exemple.fr" not in text and "parti@exemple.fr" not in text
    assert 'aria-current="page">Envois en échec' in response.content.decode()


def test_an_espace_admin_who_cannot_see_the_rdv_gets_a_neutral_description(client, alice):
    """The espace admin is not a member of the other organisation: no subject, recipient or error."""
    rdv = rdv_in(alice.other_organisation, alice.service)
    undelivered(rdv, alice.territory, alice.other_organisation, to="secret@exemple.fr")
    text = page_text(espace_page(log_in(client, alice.territory_admin), alice))
    assert "Rendez-vous de l'organisation alice Nord (détails réservés à qui voit ce rendez-vous)" in text
    assert "secret@exemple.fr" not in text
    assert SECRET_SUBJECT not in text
    assert "SMTP 550" not in text
    assert "Envoi abandonné (détail réservé à qui voit l'objet du message)." in text
    assert "masqué" in text


def test_invitation_messages_show_their_address_to_the_espace_admins(client, alice):
    account_services.invite_agent(
        as_agent(alice.territory_admin, alice.territory),
        "camille@exemple.fr",
        [alice.service],
        {alice.organisation: "basic"},
    )
    Delivery.objects.update(status=Status.ABANDONED, next_attempt_at=None, last_error="SMTP 550 inconnu")
    text = page_text(espace_page(log_in(client, alice.territory_admin), alice))
    assert "Invitation de camille@exemple.fr" in text
    assert "Invitation d'un agent" in text  # the purpose label


def test_organisation_admins_see_their_organisation_and_others_get_404(client, alice, bob):
    mine = undelivered(rdv_in(alice.organisation, alice.service), alice.territory, alice.organisation)
    other = undelivered(rdv_in(alice.other_organisation, alice.service), alice.territory, alice.other_organisation)
    url = reverse("organisation_deliveries", args=[alice.organisation.pk])

    response = log_in(client, alice.organisation_admin).get(url)
    assert response.status_code == 200
    assert [row.delivery.pk for row in response.context["rows"]] == [mine.pk]
    assert other.pk not in [row.delivery.pk for row in response.context["rows"]]
    home = page_text(client.get(reverse("organisation_home", args=[alice.organisation.pk])))
    assert "Envois en échec" in home

    for outsider in (alice.agent, bob.organisation_admin, bob.territory_admin):
        client = log_in(client, outsider)
        assert client.get(url).status_code == 404
        assert (
            client.post(reverse("organisation_delivery_retry", args=[alice.organisation.pk, mine.pk])).status_code
            == 404
        )
    assert "Envois en échec" not in page_text(
        log_in(client, alice.agent).get(reverse("organisation_home", args=[alice.organisation.pk]))
    )
    for outsider in (alice.agent, alice.organisation_admin, bob.territory_admin):
        assert espace_page(log_in(client, outsider), alice).status_code == 404
    assert Delivery.objects.get(pk=mine.pk).status == Status.ABANDONED


def test_renvoyer_puts_the_message_back_in_the_queue_and_logs_it(client, alice):
    delivery = undelivered(rdv_in(alice.organisation, alice.service), alice.territory, alice.organisation)
    log_in(client, alice.territory_admin)
    url = reverse("espace_delivery_retry", args=[alice.territory.pk, delivery.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert f"Le message n° {delivery.pk} est remis en file" in page_text(response)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)
    assert AuditLog.objects.filter(action="delivery.retried", territory=alice.territory).count() == 1
    # No longer undelivered: a second click finds nothing to resend.
    assert client.post(url).status_code == 404


def test_renvoyer_an_expired_message_explains_why_and_changes_nothing(client, alice):
    delivery = undelivered(
        rdv_in(alice.organisation, alice.service),
        alice.territory,
        alice.organisation,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    log_in(client, alice.organisation_admin)
    url = reverse("organisation_delivery_retry", args=[alice.organisation.pk, delivery.pk])
    response = client.post(url, follow=True)
    assert "Ce message n'est plus valable depuis le" in page_text(response)
    assert Delivery.objects.get(pk=delivery.pk).status == Status.ABANDONED
    assert not AuditLog.objects.filter(action="delivery.retried").exists()


@pytest.mark.parametrize("delivery_id", ["0", "99999999999999999999", "12abc"])
def test_bad_ids_and_pages_answer_404_or_the_page_never_500(client, alice, delivery_id):
    log_in(client, alice.territory_admin)
    response = client.post(f"/espace/{alice.territory.pk}/envois/{delivery_id}/renvoyer/")
    assert response.status_code == 404
    assert espace_page(client, alice).status_code == 200
    assert client.get(reverse("espace_deliveries", args=[alice.territory.pk]), {"page": "-3"}).status_code == 200


def test_the_page_needs_a_constant_number_of_queries(client, alice):
    log_in(client, alice.territory_admin)
    organisations = (alice.organisation, alice.other_organisation)
    undelivered(rdv_in(alice.organisation, alice.service), alice.territory, alice.organisation)
    with CaptureQueriesContext(connection) as one:
        espace_page(client, alice)
    for n in range(12):
        organisation = organisations[n % 2]
        undelivered(rdv_in(organisation, alice.service), alice.territory, organisation, to=f"a{n}@exemple.fr")
    with CaptureQueriesContext(connection) as many:
        response = espace_page(client, alice)
    assert len(response.context["rows"]) == 13
    assert len(many) <= len(one) + 3  # one RDV-visibility query per organisation, never per row
