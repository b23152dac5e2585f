"""Webhook pages of the espace administration (issue 19): the list, creation with the secret shown
once, changes, secret rotation, test event, deletion, the delivery log (filters, replays, a fixed
number of queries) and the documentation. Only the espace's admins open them (404 for everyone
else, two espaces side by side); bad input answers in French and changes nothing."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rdv.core.models import AuditLog
from rdv.outbox.models import Delivery, DeliveryAttempt, Status
from rdv.outbox.services import run_due_deliveries
from rdv.webhooks import events, services
from rdv.webhooks.models import DEFAULT_SUBSCRIPTIONS, WebhookEndpoint, WebhookEvent
from tests import factories
from tests.helpers import as_agent, log_in, page_text
from tests.webhook_receiver import Receiver

FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
SECRET = "une-cle-secrete-collee-123456"


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def make_endpoint(world, url="https://si.exemple.fr/rdv", **kwargs) -> WebhookEndpoint:
    kwargs.setdefault("organisation", world.organisation)
    return services.create_endpoint(as_agent(world.territory_admin, world.territory), target_url=url, **kwargs)


def url(name, world, *args) -> str:
    return reverse(name, args=[world.territory.pk, *args])


def state() -> tuple:
    return (
        sorted(
            WebhookEndpoint.objects.values_list(
                "pk",
                "organisation",
                "target_url",
                "secret",
                "previous_secret",
                "subscriptions",
                "usager_fields",
                "active",
            )
        ),
        sorted(Delivery.objects.values_list("pk", "status", "attempts")),
        WebhookEvent.objects.count(),
        AuditLog.objects.count(),
    )


def new_data(world, **extra) -> dict:
    data = {
        "organisation": world.organisation.pk,
        "target_url": "https://si.exemple.fr/rdv",
        "secret": "",
        "subscriptions": ["rdv", "absence"],
        "active": "on",
    }
    data.update(extra)
    return {key: value for key, value in data.items() if value is not None}


def lieu_event(endpoint, event="created") -> WebhookEvent:
    """A real event about a lieu of the endpoint's organisation, written as a change would."""
    lieu = factories.LieuFactory(organisation=endpoint.organisation)
    endpoint.refresh_from_db()
    return events.write_events([endpoint], "Lieu", event, lieu.pk, reason=None)[0]


# Rights ----------------------------------------------------------------------------------------

PAGES = ["webhook_list", "webhook_new", "webhook_docs"]
ENDPOINT_PAGES = ["webhook_edit", "webhook_log", "webhook_delete"]
ENDPOINT_ACTIONS = ["webhook_rotate", "webhook_end_grace", "webhook_test", "webhook_replay_failed"]


def all_urls(world, endpoint, event):
    for name in PAGES:
        yield name, url(name, world)
    for name in ENDPOINT_PAGES + ENDPOINT_ACTIONS:
        yield name, url(name, world, endpoint.pk)
    yield "webhook_replay", url("webhook_replay", world, endpoint.pk, event.pk)


@pytest.mark.parametrize("visitor", ["agent", "organisation_admin", "other_espace_admin"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_espace_admins_open_the_webhook_pages(alice, bob, visitor, method):
    endpoint = make_endpoint(alice)
    event = services.send_test_event(as_agent(alice.territory_admin, alice.territory), endpoint)
    agent = {
        "agent": alice.agent,
        "organisation_admin": alice.organisation_admin,
        "other_espace_admin": bob.territory_admin,
    }[visitor]
    client = log_in(Client(), agent)
    before = state()
    for name, address in all_urls(alice, endpoint, event):
        response = getattr(client, method)(address, {"confirmer": "1", "du": "2026-01-01", "au": "2030-01-01"})
        assert response.status_code == 404, (name, response.status_code)
    assert state() == before


def test_the_espace_admin_opens_every_page_and_anonymous_visitors_are_sent_to_log_in(alice):
    endpoint = make_endpoint(alice)
    event = services.send_test_event(as_agent(alice.territory_admin, alice.territory), endpoint)
    admin = log_in(Client(), alice.territory_admin)
    for name, address in all_urls(alice, endpoint, event):
        response = admin.get(address)
        expected = 405 if name in [*ENDPOINT_ACTIONS, "webhook_replay"] else 200
        assert response.status_code == expected, name
        anonymous = Client().get(address)
        assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login")), name


def test_an_endpoint_or_event_of_another_espace_answers_404(alice, bob):
    theirs = make_endpoint(bob)
    their_event = services.send_test_event(as_agent(bob.territory_admin, bob.territory), theirs)
    mine = make_endpoint(alice)
    client = log_in(Client(), alice.territory_admin)
    before = state()
    for name in ENDPOINT_PAGES:
        assert client.get(url(name, alice, theirs.pk)).status_code == 404  # their id under my espace
        assert client.get(url(name, bob, theirs.pk)).status_code == 404  # their espace
    for name in [*ENDPOINT_ACTIONS, "webhook_delete", "webhook_edit"]:
        response = client.post(url(name, alice, theirs.pk), {"confirmer": "1", "target_url": "https://x.fr/"})
        assert response.status_code == 404, name
    # Their event under my endpoint; the event of another webhook of my espace under this one.
    assert client.post(url("webhook_replay", alice, mine.pk, their_event.pk)).status_code == 404
    sibling = make_endpoint(alice, url="https://si.exemple.fr/autre")
    sibling_event = lieu_event(sibling)
    Delivery.objects.filter(pk=sibling_event.delivery_id).update(status=Status.ABANDONED, next_attempt_at=None)
    before = state()
    assert client.post(url("webhook_replay", alice, mine.pk, sibling_event.pk)).status_code == 404
    assert state() == before


@pytest.mark.parametrize(
    "path",
    [
        "/espace/{t}/webhooks/abc/",
        "/espace/{t}/webhooks/-1/journal/",
        "/espace/{t}/webhooks/99999999999999999999999/",
        "/espace/{t}/webhooks/99999999999999999999999/journal/",
        "/espace/{t}/webhooks/{e}/journal/99999999999999999999999/renvoyer/",
        "/espace/{t}/webhooks/{e}/journal/abc/renvoyer/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_malformed_or_out_of_range_ids_answer_404(alice, path, method):
    endpoint = make_endpoint(alice)
    client = log_in(Client(), alice.territory_admin)
    before = state()
    response = getattr(client, method)(path.format(t=alice.territory.pk, e=endpoint.pk))
    assert response.status_code in (404, 405)
    assert state() == before


@pytest.mark.parametrize("name", [*ENDPOINT_ACTIONS, "webhook_replay"])
def test_a_get_on_an_action_explains_in_french_and_changes_nothing(alice, name):
    endpoint = make_endpoint(alice)
    event = services.send_test_event(as_agent(alice.territory_admin, alice.territory), endpoint)
    args = [endpoint.pk, event.pk] if name == "webhook_replay" else [endpoint.pk]
    before = state()
    response = log_in(Client(), alice.territory_admin).get(url(name, alice, *args))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "se lance avec son bouton, sur la page du webhook" in page_text(response)
    assert state() == before


def test_the_espace_navigation_links_to_the_webhooks(alice):
    response = log_in(Client(), alice.territory_admin).get(reverse("espace_agents", args=[alice.territory.pk]))
    assert f'href="{url("webhook_list", alice)}"' in response.content.decode()
    page = log_in(Client(), alice.territory_admin).get(url("webhook_list", alice)).content.decode()
    assert page.count('aria-current="page">Webhooks</a>') == 2  # the side menu and the header's espace menu
    assert (
        "Webhooks</a>"
        not in log_in(Client(), alice.organisation_admin)
        .get(reverse("organisation_home", args=[alice.organisation.pk]))
        .content.decode()
    )


# Creation and the secret ----------------------------------------------------------------------------


def test_the_new_webhook_form_offers_the_espace_organisations_and_the_defaults(alice, bob):
    response = log_in(Client(), alice.territory_admin).get(url("webhook_new", alice))
    text = page_text(response)
    assert "alice Centre" in text and "alice Nord" in text and "bob Centre" not in text
    assert [name for name in ("rdv", "absence", "plage_ouverture", "user", "motif") if _checked(text, name)] == [
        "rdv",
        "absence",
        "plage_ouverture",
    ]
    assert "Aucune case cochée : toutes ces données sont envoyées." in text
    assert "Laissez vide pour qu'une clé soit générée" in text
    assert "Envoyer aussi les enregistrements existants" in text


def _checked(html: str, value: str) -> bool:
    for tag in html.split("<input")[1:]:
        tag = tag.split(">", 1)[0]
        if f'value="{value}"' in tag and 'name="subscriptions"' in tag:
            return "checked" in tag
    return False


def test_the_admin_creates_a_webhook_and_sees_its_secret_once(alice):
    client = log_in(Client(), alice.territory_admin)
    response = client.post(url("webhook_new", alice), new_data(alice, usager_fields=["first_name", "last_name"]))

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response.url == url("webhook_edit", alice, endpoint.pk)
    assert endpoint.organisation == alice.organisation
    assert endpoint.subscriptions == ["rdv", "absence"]
    assert endpoint.usager_fields == ["first_name", "last_name"]
    assert endpoint.active and len(endpoint.secret) >= 32
    shown = client.get(response.url)
    assert "no-store" in shown["Cache-Control"]
    first = page_text(shown)
    assert "Le webhook d'alice Centre vers https://si.exemple.fr/rdv est créé." in first
    assert endpoint.secret in first
    assert "elle ne sera plus jamais affichée en entier" in first
    # Never again: the next pages show the masked secret only.
    for address in (response.url, url("webhook_list", alice), url("webhook_log", alice, endpoint.pk)):
        again = page_text(client.get(address))
        assert endpoint.secret not in again
        assert endpoint.secret[:8] not in again
    assert endpoint.masked_secret in page_text(client.get(response.url))


def test_a_pasted_secret_is_kept(alice):
    client = log_in(Client(), alice.territory_admin)
    client.post(url("webhook_new", alice), new_data(alice, secret=SECRET))
    assert WebhookEndpoint.objects.get().secret == SECRET


def test_the_list_shows_each_webhook_with_its_state_and_last_delivery(alice, receiver):
    ctx = as_agent(alice.territory_admin, alice.territory)
    working = make_endpoint(alice, url=receiver.url)
    receiver.status = 200
    services.send_test_event(ctx, working)
    run_due_deliveries()
    failing = make_endpoint(alice, url="https://si.exemple.fr/a", organisation=alice.other_organisation)
    WebhookEndpoint.objects.filter(pk=failing.pk).update(
        failing_since=datetime(2026, 11, 3, 8, 15, tzinfo=UTC), consecutive_failures=6
    )
    stopped = make_endpoint(alice, url="https://si.exemple.fr/b")
    services.update_endpoint(ctx, stopped, target_url=stopped.target_url, subscriptions=["rdv"], active=False)

    text = page_text(log_in(Client(), alice.territory_admin).get(url("webhook_list", alice)))
    assert receiver.url in text and "Rendez-vous, Absences, Plages d'ouverture" in text
    assert "envoyé" in text
    assert "En échec depuis le 03/11/2026 à 09:15 (6 échecs d'affilée)" in text  # the espace's time (Paris)
    assert "Désactivé : Désactivé par un administrateur." in text
    assert "Aucun envoi" in text
    assert f'href="{url("webhook_docs", alice)}"' in text
    assert f'href="{url("webhook_new", alice)}"' in text


BAD_INPUT = [
    ({"target_url": ""}, "L'URL de destination est obligatoire."),
    ({"target_url": "pas une url"}, "L'URL doit commencer par https:// et nommer un serveur."),
    ({"target_url": "ftp://si.exemple.fr/"}, "L'URL doit commencer par https:// et nommer un serveur."),
    ({"target_url": "https://user:pass@si.exemple.fr/"}, "L'URL ne doit pas contenir d'identifiant"),
    ({"target_url": "https://10.0.0.3/"}, "Cette adresse désigne un réseau privé ou local"),
    ({"target_url": "https://169.254.169.254/latest/"}, "Cette adresse désigne un réseau privé ou local"),
    ({"target_url": "https://si.exemple.fr/" + "x" * 600}, "L'URL de destination ne doit pas dépasser 500 caractères."),
    ({"subscriptions": None}, "Choisissez au moins un élément déclencheur."),
    ({"subscriptions": ["rdv", "facture"]}, "Élément déclencheur inconnu : facture."),
    ({"usager_fields": ["nir"]}, "Donnée d'usager inconnue : nir."),
    ({"secret": "court"}, "La clé secrète doit compter de 16 à 200 caractères."),
    ({"secret": "une cle avec des espaces"}, "La clé secrète ne doit pas contenir d'espace."),
    ({"secret": "x" * 300}, "La clé secrète ne doit pas dépasser 200 caractères."),
    ({"organisation": None}, "Choisissez l'organisation."),
    ({"organisation": "abc"}, "Cette organisation ne fait pas partie de l'espace."),
    ({"organisation": "99999999999999999999999"}, "Cette organisation ne fait pas partie de l'espace."),
]


@pytest.mark.parametrize(("data", "message"), BAD_INPUT)
def test_bad_input_on_creation_gets_a_french_error_and_creates_nothing(alice, data, message):
    before = state()
    response = log_in(Client(), alice.territory_admin).post(url("webhook_new", alice), new_data(alice, **data))
    assert response.status_code == 200
    assert message in page_text(response)
    assert "Rien n'a été enregistré" in page_text(response)
    assert state() == before


def test_an_organisation_of_another_espace_is_refused(alice, bob):
    before = state()
    response = log_in(Client(), alice.territory_admin).post(
        url("webhook_new", alice), new_data(alice, organisation=bob.organisation.pk)
    )
    assert "Cette organisation ne fait pas partie de l'espace." in page_text(response)
    assert state() == before


def test_plain_http_is_refused_when_https_is_required(alice, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    before = state()
    response = log_in(Client(), alice.territory_admin).post(
        url("webhook_new", alice), new_data(alice, target_url="http://si.exemple.fr/rdv")
    )
    assert "L'URL doit être en https://" in page_text(response)
    assert state() == before


def test_loopback_is_refused_unless_allowed(alice, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    client = log_in(Client(), alice.territory_admin)
    before = state()
    for address in ("https://127.0.0.1:8443/", "https://localhost/rdv", "https://[::1]/"):
        response = client.post(url("webhook_new", alice), new_data(alice, target_url=address))
        assert "Cette adresse désigne un réseau privé ou local" in page_text(response), address
    assert state() == before


def test_a_second_webhook_to_the_same_url_of_the_organisation_is_refused(alice):
    make_endpoint(alice)
    before = state()
    response = log_in(Client(), alice.territory_admin).post(url("webhook_new", alice), new_data(alice))
    assert "Cette organisation a déjà un webhook vers cette URL." in page_text(response)
    assert state() == before
    # The same URL for another organisation is fine.
    log_in(Client(), alice.territory_admin).post(
        url("webhook_new", alice), new_data(alice, organisation=alice.other_organisation.pk)
    )
    assert WebhookEndpoint.objects.count() == 2


# Changes ---------------------------------------------------------------------------------------------


def test_the_admin_changes_the_triggers_the_usager_fields_and_deactivates(alice):
    endpoint = make_endpoint(alice)
    client = log_in(Client(), alice.territory_admin)
    page = page_text(client.get(url("webhook_edit", alice, endpoint.pk)))
    assert endpoint.masked_secret in page and endpoint.secret not in page
    assert 'name="organisation"' not in page  # the organisation does not change

    response = client.post(
        url("webhook_edit", alice, endpoint.pk),
        {"target_url": "https://si.exemple.fr/v2", "subscriptions": ["rdv", "user"], "usager_fields": ["last_name"]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.target_url == "https://si.exemple.fr/v2"
    assert endpoint.subscriptions == ["rdv", "user"]
    assert endpoint.usager_fields == ["last_name"]
    assert not endpoint.active and endpoint.disabled_reason == "Désactivé par un administrateur."
    assert "Les modifications du webhook sont enregistrées." in page_text(client.get(response.url))


@pytest.mark.parametrize(("data", "message"), [row for row in BAD_INPUT if "organisation" not in row[0]][:10])
def test_bad_input_on_change_gets_a_french_error_and_changes_nothing(alice, data, message):
    endpoint = make_endpoint(alice)
    before = state()
    posted = new_data(alice, **data)
    posted.pop("organisation", None)
    posted.pop("secret", None)
    response = log_in(Client(), alice.territory_admin).post(url("webhook_edit", alice, endpoint.pk), posted)
    assert response.status_code == 200
    assert message in page_text(response)
    assert state() == before


def test_changing_to_the_url_of_another_webhook_of_the_organisation_is_refused(alice):
    make_endpoint(alice, url="https://si.exemple.fr/a")
    endpoint = make_endpoint(alice, url="https://si.exemple.fr/b")
    before = state()
    response = log_in(Client(), alice.territory_admin).post(
        url("webhook_edit", alice, endpoint.pk), new_data(alice, target_url="https://si.exemple.fr/a")
    )
    assert "Cette organisation a déjà un webhook vers cette URL." in page_text(response)
    assert state() == before


# The secret: rotation and grace period ---------------------------------------------------------------------


def test_renewing_the_secret_shows_the_new_one_once_and_the_grace_period(alice, settings):
    settings.WEBHOOK_SECRET_GRACE_HOURS = 48
    endpoint = make_endpoint(alice)
    old = endpoint.secret
    client = log_in(Client(), alice.territory_admin)
    form = page_text(client.get(url("webhook_edit", alice, endpoint.pk)))
    assert 'name="grace_hours" value="48"' in form or 'value="48"' in form

    with_time = timezone.now()
    response = client.post(url("webhook_rotate", alice, endpoint.pk), {"secret": "", "grace_hours": "24"})
    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert abs(endpoint.previous_secret_until - (with_time + timedelta(hours=24))) < timedelta(minutes=1)
    page = page_text(client.get(response.url))
    assert "Nouvelle clé secrète" in page and endpoint.secret in page and old not in page
    until = timezone.localtime(endpoint.previous_secret_until, alice.territory.zone)
    assert f"L'ancienne clé signe encore les envois jusqu'au {until:%d/%m/%Y à %H:%M}" in page
    assert endpoint.secret not in page_text(client.get(response.url))

    # « Retirer l'ancienne clé maintenant »
    response = client.post(url("webhook_end_grace", alice, endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == "" and endpoint.previous_secret_until is None
    page = page_text(client.get(response.url))
    assert "L'ancienne clé secrète est retirée" in page
    assert "Retirer l'ancienne clé maintenant" not in page


def test_a_pasted_new_secret_is_used(alice):
    endpoint = make_endpoint(alice)
    log_in(Client(), alice.territory_admin).post(
        url("webhook_rotate", alice, endpoint.pk), {"secret": SECRET, "grace_hours": "0"}
    )
    endpoint.refresh_from_db()
    assert endpoint.secret == SECRET and endpoint.previous_secret == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"secret": "court", "grace_hours": "1"}, "La clé secrète doit compter de 16 à 200 caractères."),
        ({"secret": "", "grace_hours": "721"}, "La période de transition doit durer de 0 à 720 heures."),
        ({"secret": "", "grace_hours": "-1"}, "La période de transition doit durer de 0 à 720 heures."),
        ({"secret": "", "grace_hours": "douze"}, "Indiquez un nombre entier d'heures."),
        ({"secret": "", "grace_hours": ""}, "Indiquez la durée de la période de transition, en heures."),
        ({"secret": "x" * 201, "grace_hours": "1"}, "La clé secrète ne doit pas dépasser 200 caractères."),
    ],
)
def test_bad_input_on_renewal_gets_a_french_error_and_changes_nothing(alice, data, message):
    endpoint = make_endpoint(alice)
    before = state()
    response = log_in(Client(), alice.territory_admin).post(url("webhook_rotate", alice, endpoint.pk), data)
    assert response.status_code == 200
    text = page_text(response)
    assert message in text and "La clé n'a pas été renouvelée" in text
    assert endpoint.secret not in text
    assert state() == before


def test_the_same_secret_again_is_refused(alice):
    endpoint = make_endpoint(alice, secret=SECRET)
    before = state()
    response = log_in(Client(), alice.territory_admin).post(
        url("webhook_rotate", alice, endpoint.pk), {"secret": SECRET, "grace_hours": "1"}
    )
    assert "La nouvelle clé secrète doit être différente de l'actuelle." in page_text(response)
    assert state() == before


# Test event, log, replays ------------------------------------------------------------------------------


def test_a_test_event_is_delivered_signed_and_shown_in_the_log_then_replayed(alice, receiver):
    endpoint = make_endpoint(alice, url=receiver.url, secret=SECRET)
    receiver.secret = SECRET
    client = log_in(Client(), alice.territory_admin)

    response = client.post(url("webhook_test", alice, endpoint.pk))
    assert response.status_code == 302 and response.url == url("webhook_log", alice, endpoint.pk)
    run_due_deliveries()  # the receiver answers 500
    page = page_text(client.get(response.url))
    assert "L'événement de test part dans quelques instants" in page
    assert "Événement de test" in page and "Test" in page
    assert "échec temporaire" in page
    assert "1 tentative" in page and "HTTP 500" in page
    assert "erreur du SI" in page  # the response excerpt of the attempt
    assert "prochaine le" in page
    event = WebhookEvent.objects.get()
    assert f"<code>{event.delivery.message_id}</code>" in page
    assert '"webhook_reason": "test"' in page

    receiver.status = 200
    response = client.post(url("webhook_replay", alice, endpoint.pk, event.pk))
    assert response.status_code == 302
    run_due_deliveries()
    event.delivery.refresh_from_db()
    assert event.delivery.status == Status.SENT
    page = page_text(client.get(url("webhook_log", alice, endpoint.pk)))
    assert "est renvoyé : il part dans quelques instants." in page
    assert "HTTP 200" in page
    assert len(receiver.requests) == 2
    assert all(request.lapin_ok and request.standard_ok for request in receiver.requests)
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1  # same event, same id


def test_replaying_an_event_of_an_inactive_webhook_is_refused_in_french(alice):
    endpoint = make_endpoint(alice)
    event = services.send_test_event(as_agent(alice.territory_admin, alice.territory), endpoint)
    Delivery.objects.filter(pk=event.delivery_id).update(status=Status.ABANDONED, next_attempt_at=None)
    services.update_endpoint(
        as_agent(alice.territory_admin, alice.territory), endpoint, target_url=endpoint.target_url,
        subscriptions=["rdv"], active=False,
    )  # fmt: skip
    before = state()
    client = log_in(Client(), alice.territory_admin)
    response = client.post(url("webhook_replay", alice, endpoint.pk, event.pk), follow=True)
    assert "Ce webhook est désactivé : réactivez-le avant de renvoyer des événements." in page_text(response)
    assert state() == before


def test_replaying_the_failed_events_of_a_period_asks_first(alice):
    endpoint = make_endpoint(alice)
    failed = [lieu_event(endpoint) for _ in range(3)]
    sent = lieu_event(endpoint)
    Delivery.objects.filter(pk__in=[e.delivery_id for e in failed]).update(
        status=Status.ABANDONED, next_attempt_at=None, attempts=21
    )
    Delivery.objects.filter(pk=sent.delivery_id).update(status=Status.SENT, next_attempt_at=None, attempts=1)
    today = timezone.localdate(timezone=alice.territory.zone).isoformat()
    client = log_in(Client(), alice.territory_admin)
    before = state()

    confirm = client.post(url("webhook_replay_failed", alice, endpoint.pk), {"du": today, "au": today})
    text = page_text(confirm)
    assert confirm.status_code == 200
    assert "Renvoyer 3 événements en échec ?" in text
    assert 'name="confirmer" value="1"' in text and f'name="du" value="{today}"' in text
    assert state() == before

    done = client.post(url("webhook_replay_failed", alice, endpoint.pk), {"du": today, "au": today, "confirmer": "1"})
    assert done.status_code == 302
    assert "3 événements renvoyés." in page_text(client.get(done.url))
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert all(statuses[e.delivery_id] == Status.PENDING for e in failed)
    assert statuses[sent.delivery_id] == Status.SENT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"du": "", "au": "2026-11-01"}, "Indiquez le début de la période."),
        ({"du": "2026-11-01", "au": ""}, "Indiquez la fin de la période."),
        ({"du": "31/02/2026", "au": "2026-11-01"}, "Saisissez une date valide"),
        ({"du": "2026-11-02", "au": "2026-11-01"}, "La date de fin doit suivre la date de début."),
        ({"du": "0001-01-01", "au": "9999-12-31"}, "Saisissez une date entre 1900 et 2200."),
    ],
)
def test_bad_periods_for_the_replay_get_a_french_error_and_change_nothing(alice, data, message):
    endpoint = make_endpoint(alice)
    event = lieu_event(endpoint)
    Delivery.objects.filter(pk=event.delivery_id).update(status=Status.ABANDONED, next_attempt_at=None)
    before = state()
    client = log_in(Client(), alice.territory_admin)
    for confirmed in ("", "1"):
        response = client.post(url("webhook_replay_failed", alice, endpoint.pk), {**data, "confirmer": confirmed})
        assert message in page_text(client.get(response.url))
    assert state() == before


def test_the_log_filters_by_status_model_and_period_in_the_espace_time_zone(alice):
    alice.territory.time_zone = "Indian/Reunion"  # UTC+4
    alice.territory.save(update_fields=["time_zone"])
    endpoint = make_endpoint(alice)
    late = lieu_event(endpoint)  # 10 Nov 22:30 UTC = 11 Nov 02:30 at La Réunion
    WebhookEvent.objects.filter(pk=late.pk).update(created_at=datetime(2026, 11, 10, 22, 30, tzinfo=UTC))
    early = lieu_event(endpoint)  # 10 Nov 12:00 UTC = 10 Nov 16:00 at La Réunion
    WebhookEvent.objects.filter(pk=early.pk).update(created_at=datetime(2026, 11, 10, 12, 0, tzinfo=UTC))
    Delivery.objects.filter(pk=early.delivery_id).update(status=Status.ABANDONED, next_attempt_at=None)
    test = services.send_test_event(as_agent(alice.territory_admin, alice.territory), endpoint)
    client = log_in(Client(), alice.territory_admin)
    log = url("webhook_log", alice, endpoint.pk)

    def shown(**params) -> set[int]:
        text = client.get(log, params).content.decode()
        return {event.pk for event in (late, early, test) if f'id="evenement-{event.pk}"' in text}

    assert shown() == {late.pk, early.pk, test.pk}
    assert shown(du="2026-11-11", au="2026-11-11") == {late.pk}
    assert shown(du="2026-11-10", au="2026-11-10") == {early.pk}
    assert shown(statut="abandonne") == {early.pk}
    assert shown(statut="a-envoyer") == {late.pk, test.pk}
    assert shown(modele="Test") == {test.pk}
    assert shown(modele="Lieu", du="2026-11-10") == {late.pk, early.pk}
    assert "11/11/2026 02:30:00" in page_text(client.get(log))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "31/02/2026"}, "Saisissez une date valide"),
        ({"au": "zz"}, "Saisissez une date valide"),
        ({"du": "2026-11-02", "au": "2026-11-01"}, "La date de fin doit suivre la date de début."),
        ({"du": "9999-12-31"}, "Saisissez une date entre 1900 et 2200."),
        ({"statut": "???"}, "Statut inconnu"),
        ({"modele": "Facture"}, "Élément inconnu"),
        ({"apres": "abc"}, ""),
        ({"avant": "99999999999999999999999"}, ""),
    ],
)
def test_garbage_filters_on_the_log_get_a_french_error_and_show_everything(alice, params, message):
    endpoint = make_endpoint(alice)
    event = lieu_event(endpoint)
    response = log_in(Client(), alice.territory_admin).get(url("webhook_log", alice, endpoint.pk), params)
    assert response.status_code == 200
    text = page_text(response)
    assert message in text
    assert f'id="evenement-{event.pk}"' in text


def test_the_log_pages_by_fifty_newest_first(alice):
    endpoint = make_endpoint(alice)
    written = [lieu_event(endpoint) for _ in range(55)]
    client = log_in(Client(), alice.territory_admin)
    first = client.get(url("webhook_log", alice, endpoint.pk)).content.decode()
    assert first.count('id="evenement-') == 50
    assert f'id="evenement-{written[-1].pk}"' in first and f'id="evenement-{written[4].pk}"' not in first
    assert f"apres={written[5].pk}" in first
    second = client.get(url("webhook_log", alice, endpoint.pk), {"apres": written[5].pk}).content.decode()
    assert second.count('id="evenement-') == 5


def _attempted_events(endpoint, count: int) -> None:
    for _ in range(count):
        event = lieu_event(endpoint)
        for number in (1, 2):
            DeliveryAttempt.objects.create(
                delivery_id=event.delivery_id,
                number=number,
                started_at=timezone.now(),
                duration_ms=12,
                outcome="temporary",
                status_code=500,
                response_excerpt="erreur",
            )


def test_the_log_runs_the_same_number_of_queries_whatever_the_number_of_events(alice):
    endpoint = make_endpoint(alice)
    client = log_in(Client(), alice.territory_admin)
    address = url("webhook_log", alice, endpoint.pk)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(address, {"statut": ""}).status_code == 200
        return len(captured.captured_queries)

    _attempted_events(endpoint, 2)
    few = queries()
    _attempted_events(endpoint, 40)
    many = queries()
    assert many == few
    assert many <= 9  # session, agent, context, endpoint, events, attempts, and the DSFR config


def test_the_list_runs_the_same_number_of_queries_whatever_the_number_of_webhooks(alice):
    client = log_in(Client(), alice.territory_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("webhook_list", alice)).status_code == 200
        return len(captured.captured_queries)

    lieu_event(make_endpoint(alice, url="https://si.exemple.fr/1"))
    few = queries()
    for number in range(2, 12):
        lieu_event(make_endpoint(alice, url=f"https://si.exemple.fr/{number}"))
    assert queries() == few


# Deletion and documentation --------------------------------------------------------------------------


def test_deleting_a_webhook_asks_first_then_cancels_its_pending_events(alice):
    endpoint = make_endpoint(alice)
    event = lieu_event(endpoint)
    client = log_in(Client(), alice.territory_admin)
    before = state()
    confirm = client.get(url("webhook_delete", alice, endpoint.pk))
    text = page_text(confirm)
    assert "Supprimer le webhook d'alice Centre ?" in text and 'name="confirmer" value="1"' in text
    assert client.post(url("webhook_delete", alice, endpoint.pk), {"confirmer": "0"}).status_code == 200
    assert state() == before

    done = client.post(url("webhook_delete", alice, endpoint.pk), {"confirmer": "1"})
    assert done.url == url("webhook_list", alice)
    assert not WebhookEndpoint.objects.exists()
    assert "est supprimé" in page_text(client.get(done.url))
    assert Delivery.objects.get(pk=event.delivery_id).status == Status.CANCELLED


def test_the_documentation_shows_the_verification_example_and_a_payload_built_by_the_sender(alice, settings):
    settings.WEBHOOK_ALERT_AFTER_FAILURES = 7
    text = page_text(log_in(Client(), alice.territory_admin).get(url("webhook_docs", alice)))
    from rdv.www.webhook_docs import VERIFY_EXAMPLE_PATH

    assert VERIFY_EXAMPLE_PATH.read_text(encoding="utf-8") in text  # the exact, tested example
    for key in ('"model": "Rdv"', '"event": "created"', '"starts_at": "2027-03-09T10:00:00+01:00"', '"users_count": 1'):
        assert key in text
    # The example's participant (in users and in participations) and agent.
    assert text.count('"first_name": "Camille"') == 2 and '"id": 4321' in text
    assert '"email": "alice.martin@exemple.fr"' in text
    for header in ("X-Lapin-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"):
        assert f"<code>{header}</code>" in text
    assert "21 tentatives au plus sur environ 2,9 jours" in text
    assert (
        "après 30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min, 1 h 04, 2 h 08, 4 h 16 puis toutes les 6 h (10 fois)"
        in text
    )
    assert "410 Gone" in text and "Après 7 échecs d'affilée" in text
    for name in [*DEFAULT_SUBSCRIPTIONS, "agent_role"]:
        assert f"<code>{name}</code>" in text
    assert "Date de naissance (<code>birth_date</code>)" in text


def test_the_test_event_of_an_inactive_webhook_is_sent_as_its_button_promises(alice, receiver):
    """send_test_event sends « even while the endpoint is inactive » (its docstring): the admin checks
    the receiver before switching the webhook back on. The sender refused it (« Webhook désactivé »)."""
    receiver.status, receiver.secret = 200, SECRET
    endpoint = make_endpoint(alice, url=receiver.url, secret=SECRET, active=False)
    client = log_in(Client(), alice.territory_admin)
    client.post(url("webhook_test", alice, endpoint.pk))
    run_due_deliveries()
    event = WebhookEvent.objects.get()
    event.delivery.refresh_from_db()
    assert event.delivery.status == Status.SENT
    assert len(receiver.requests) == 1 and receiver.requests[0].lapin_ok and receiver.requests[0].standard_ok
    assert b'"model":"Test"' in receiver.requests[0].body


def test_switching_a_webhook_off_cancels_its_waiting_events_without_alerting_anyone(alice, settings, mailoutbox):
    """Its waiting events used to fail one by one (« Webhook désactivé ») and, after
    WEBHOOK_ALERT_AFTER_FAILURES of them, e-mail the admins that the webhook they switched off was failing."""
    settings.WEBHOOK_ALERT_AFTER_FAILURES = 2
    endpoint = make_endpoint(alice)
    waiting = [lieu_event(endpoint) for _ in range(3)]
    client = log_in(Client(), alice.territory_admin)
    client.post(url("webhook_edit", alice, endpoint.pk), {"target_url": endpoint.target_url, "subscriptions": ["rdv"]})
    run_due_deliveries(due_before=FAR_FUTURE)
    statuses = set(Delivery.objects.filter(pk__in=[e.delivery_id for e in waiting]).values_list("status", flat=True))
    assert statuses == {Status.CANCELLED}
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.alerted_at is None
    assert not Delivery.objects.filter(purpose="webhook_alert").exists()
    # Back on, « Renvoyer les envois en échec de la période » sends them again.
    client.post(
        url("webhook_edit", alice, endpoint.pk),
        {"target_url": endpoint.target_url, "subscriptions": ["rdv"], "active": "on"},
    )
    today = timezone.localdate(timezone=alice.territory.zone).isoformat()
    client.post(url("webhook_replay_failed", alice, endpoint.pk), {"du": today, "au": today, "confirmer": "1"})
    statuses = set(Delivery.objects.filter(pk__in=[e.delivery_id for e in waiting]).values_list("status", flat=True))
    assert statuses == {Status.PENDING}


def test_every_model_and_event_has_a_french_label_in_the_log():
    from rdv.webhooks.models import MODEL_NAMES
    from rdv.www.forms.webhooks import EVENT_LABELS, MODEL_LABELS

    assert set(MODEL_LABELS) == MODEL_NAMES | {"Test"}
    assert set(EVENT_LABELS) == {"created", "updated", "destroyed", "test"}


def test_the_log_names_each_event_in_french_with_its_technical_name(alice):
    endpoint = make_endpoint(alice)
    event = lieu_event(endpoint, event="destroyed")
    WebhookEvent.objects.filter(pk=event.pk).update(reason="backfill")
    text = page_text(log_in(Client(), alice.territory_admin).get(url("webhook_log", alice, endpoint.pk)))
    assert re.search(rf"<strong>Lieu</strong>\s+n° {event.record_id}\s", text)
    assert "Suppression (<code>destroyed</code>)" in text and "· enregistrement existant" in text
