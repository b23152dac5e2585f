"""The sender's rules one by one (issue 19, mutation testing): which addresses may receive webhooks,
which URLs are accepted and how they are split, every resolved address checked, and how each HTTP
answer is classified (sent, retried, permanent). DNS is replaced where a test needs given answers;
the HTTP answers come from a real receiver on 127.0.0.1."""

import socket

import pytest

from rdv.core.context import Context
from rdv.outbox import services as outbox
from rdv.outbox.channels import PermanentError, SendReport, TemporaryError
from rdv.outbox.models import Channel, Purpose
from rdv.webhooks import sender, services
from rdv.webhooks.sender import Destination, DestinationRefused, check_url, resolve, send_webhook
from tests.online.fixtures import build_online

SECRET = "une-cle-secrete-de-test-assez-longue"
REFUSED = "réseau privé ou local"

# address → allowed (loopback allowed?, private allowed?) for the four combinations below.
ALWAYS = "always"
NEVER = "never"
LOOPBACK = "loopback"
PRIVATE = "private"
ADDRESSES = {
    "93.184.216.34": ALWAYS,
    "2606:4700:4700::1111": ALWAYS,
    "::ffff:93.184.216.34": ALWAYS,  # an IPv4-mapped public address is the public address
    "127.0.0.1": LOOPBACK,
    "127.8.9.10": LOOPBACK,
    "::1": LOOPBACK,
    "::ffff:127.0.0.1": LOOPBACK,
    "10.1.2.3": PRIVATE,
    "172.16.0.1": PRIVATE,
    "192.168.1.10": PRIVATE,
    "fd12:3456::1": PRIVATE,
    "::ffff:10.1.2.3": PRIVATE,
    "100.64.0.1": PRIVATE,  # shared address space (carrier-grade NAT): not private, not global either
    "169.254.169.254": NEVER,  # link-local (cloud metadata)
    "fe80::1": NEVER,
    "::ffff:169.254.169.254": NEVER,
    "224.0.0.1": NEVER,  # multicast
    "ff02::1": NEVER,
    "240.0.0.1": NEVER,  # reserved
    "0.0.0.0": NEVER,  # unspecified
    "::": NEVER,
}


@pytest.mark.parametrize("allow_loopback", [False, True])
@pytest.mark.parametrize("allow_private", [False, True])
def test_only_public_addresses_receive_webhooks_unless_loopback_or_private_networks_are_allowed(
    settings, allow_loopback, allow_private
):
    settings.WEBHOOK_ALLOW_LOOPBACK = allow_loopback
    settings.WEBHOOK_ALLOW_PRIVATE = allow_private
    expected = {ALWAYS: True, NEVER: False, LOOPBACK: allow_loopback, PRIVATE: allow_private}
    assert {address: sender._allowed(address) for address in ADDRESSES} == {
        address: expected[kind] for address, kind in ADDRESSES.items()
    }


def test_an_accepted_url_is_split_into_scheme_host_port_and_path(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    assert check_url("  https://si.exemple.fr/hooks?a=1&b=2  ") == ("https", "si.exemple.fr", 443, "/hooks?a=1&b=2")
    assert check_url("http://si.exemple.fr") == ("http", "si.exemple.fr", 80, "/")
    assert check_url("https://si.exemple.fr:8443/x") == ("https", "si.exemple.fr", 8443, "/x")
    assert check_url("http://si.exemple.fr:8080/") == ("http", "si.exemple.fr", 8080, "/")
    assert check_url("https://93.184.216.34/h") == ("https", "93.184.216.34", 443, "/h")


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://si.exemple.fr:99999/h", "n'est pas une URL valide"),
        ("https://[::1/h", "n'est pas une URL valide"),
        ("ftp://si.exemple.fr/h", "doit commencer par https://"),
        ("si.exemple.fr/h", "doit commencer par https://"),
        ("https:///h", "doit commencer par https://"),
        ("https://jean@si.exemple.fr/h", "ni de mot de passe"),
        ("https://:motdepasse@si.exemple.fr/h", "ni de mot de passe"),
        ("https://jean:motdepasse@si.exemple.fr/h", "ni de mot de passe"),
        ("https://10.1.2.3/h", REFUSED),
        ("https://localhost/h", REFUSED),
        ("https://LocalHost.localdomain/h", REFUSED),
    ],
)
def test_bad_urls_are_refused_with_their_reason(settings, url, message):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(DestinationRefused, match=message):
        check_url(url)


def test_plain_http_is_refused_only_when_https_is_required(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    with pytest.raises(DestinationRefused, match="doit être en https://"):
        check_url("http://si.exemple.fr/h")
    assert check_url("https://si.exemple.fr/h")[0] == "https"
    settings.WEBHOOK_REQUIRE_HTTPS = False
    assert check_url("http://si.exemple.fr/h")[0] == "http"


def test_localhost_and_private_literals_are_accepted_where_allowed(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert check_url("http://localhost:8000/h") == ("http", "localhost", 8000, "/h")
    assert check_url("http://localhost.localdomain/h")[1] == "localhost.localdomain"
    assert check_url("http://10.1.2.3/h")[1] == "10.1.2.3"


@pytest.fixture
def dns(monkeypatch):
    """The answers of the name resolution (the edge of the world), and the questions asked."""
    answers: dict[str, list[str]] = {}
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append((host, port))
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answers[host]]

    monkeypatch.setattr(sender.socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def test_resolution_keeps_the_first_address_once_every_address_is_public(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    answers, asked = dns
    answers["si.exemple.fr"] = ["93.184.216.34", "93.184.216.35", "93.184.216.34"]
    assert resolve("https://si.exemple.fr:8443/hooks?x=1") == Destination(
        "https", "si.exemple.fr", 8443, "/hooks?x=1", "93.184.216.34"
    )
    assert asked == [("si.exemple.fr", 8443)]


@pytest.mark.parametrize("addresses", [["93.184.216.34", "10.1.2.3"], ["10.1.2.3", "93.184.216.34"]])
def test_a_name_resolving_to_any_private_address_is_refused(settings, dns, addresses):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    answers, _ = dns
    answers["si.exemple.fr"] = addresses
    with pytest.raises(DestinationRefused, match=REFUSED):
        resolve("https://si.exemple.fr/h")


def test_a_name_resolving_to_nothing_is_a_network_error(dns):
    answers, _ = dns
    answers["vide.exemple.fr"] = []
    with pytest.raises(OSError, match="aucune adresse"):
        resolve("https://vide.exemple.fr/h")


# send_webhook: the endpoint, the destination and the HTTP answer ---------------------------------


@pytest.fixture
def world(db):
    return build_online()


def make_endpoint(world, url, **kwargs):
    return services.create_endpoint(
        Context.system(world.territory, world.organisation),
        organisation=world.organisation,
        target_url=url,
        secret=SECRET,
        **kwargs,
    )


def delivery_for(endpoint_id, **headers):
    return outbox.enqueue(
        channel=Channel.WEBHOOK,
        recipient="https://si.exemple.fr/hooks",
        subject="Rdv created",
        text='{"meta": {}, "data": {"id": 1}}',
        headers={"endpoint_id": endpoint_id, **headers} if endpoint_id is not None else {},
        purpose=Purpose.WEBHOOK,
    )


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_answer_is_a_delivery(world, receiver, status):
    receiver.status = status
    hook = make_endpoint(world, receiver.url)
    report = send_webhook(delivery_for(hook.pk))
    assert isinstance(report, SendReport)
    assert report.status_code == status
    assert len(receiver.received) == 1 and receiver.received[0].body == b'{"meta": {}, "data": {"id": 1}}'


@pytest.mark.parametrize(
    "status, error, message",
    [
        (199, TemporaryError, "HTTP 199"),  # an informational answer is no delivery
        (300, TemporaryError, "HTTP 300 : redirection non suivie"),
        (308, TemporaryError, "HTTP 308 : redirection non suivie"),
        (399, TemporaryError, "HTTP 399 : redirection non suivie"),
        (400, TemporaryError, "HTTP 400"),
        (404, TemporaryError, "HTTP 404"),
        (409, TemporaryError, "HTTP 409"),
        (411, TemporaryError, "HTTP 411"),
        (500, TemporaryError, "HTTP 500"),
        (410, PermanentError, "HTTP 410 Gone"),
    ],
)
def test_other_answers_are_retried_except_410_gone(world, receiver, status, error, message):
    receiver.status = status
    hook = make_endpoint(world, receiver.url)
    with pytest.raises(error) as raised:
        send_webhook(delivery_for(hook.pk))
    assert type(raised.value) is error
    assert str(raised.value) == message
    assert raised.value.status_code == status
    assert raised.value.response_excerpt == ("" if status < 200 else "erreur du serveur")  # no body after 1xx


def test_a_deleted_or_unnamed_endpoint_is_a_permanent_failure(world):
    with pytest.raises(PermanentError, match="Webhook supprimé"):
        send_webhook(delivery_for(None))
    with pytest.raises(PermanentError, match="Webhook supprimé"):
        send_webhook(delivery_for(987654))


def test_an_inactive_endpoint_gets_only_test_events(world, receiver):
    hook = make_endpoint(world, receiver.url, active=False)
    with pytest.raises(PermanentError, match="Webhook désactivé"):
        send_webhook(delivery_for(hook.pk))
    assert receiver.received == []
    assert send_webhook(delivery_for(hook.pk, test=True)).status_code == 200
    assert len(receiver.received) == 1


def test_a_name_that_does_not_resolve_is_retried_and_a_refused_address_is_not(world, settings, dns):
    answers, _ = dns
    hook = make_endpoint(world, "https://si.exemple.fr/hooks")
    with pytest.raises(TemporaryError, match="Adresse introuvable"):
        send_webhook(delivery_for(hook.pk))
    answers["si.exemple.fr"] = ["10.1.2.3"]
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(PermanentError, match=REFUSED):
        send_webhook(delivery_for(hook.pk))


def test_a_closed_port_is_retried(world):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = make_endpoint(world, f"http://127.0.0.1:{port}/hooks")
    with pytest.raises(TemporaryError, match="ConnectionRefusedError"):
        send_webhook(delivery_for(hook.pk))
