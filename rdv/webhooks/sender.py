"""The webhook channel's sender: one signed HTTP POST of the stored body to the endpoint.

Destinations are checked against server-side request forgery: the host is resolved once, every
address it resolves to must be public (no private, loopback, link-local, multicast, reserved or
unspecified address; loopback is allowed by `WEBHOOK_ALLOW_LOOPBACK` in development and tests,
private networks by `WEBHOOK_ALLOW_PRIVATE`), and the connection goes to that checked address (no
second resolution an attacker could answer differently). `WEBHOOK_REQUIRE_HTTPS` refuses plain
http (production). Redirects are not followed. `WEBHOOK_TIMEOUT_SECONDS` (10 s) per step.

Any answer other than 2xx, and any network error or timeout, is retried by the outbox with backoff
(about three days); « 410 Gone » is permanent and disables the endpoint (rdv.webhooks.events).
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from rdv.outbox.channels import PermanentError, SendReport, TemporaryError
from rdv.outbox.models import Delivery
from rdv.webhooks import signing
from rdv.webhooks.models import WebhookEndpoint

EXCERPT_BYTES = 1000
USER_AGENT = "RendezVousPublic-Webhooks/1.0"


class DestinationRefused(ValueError):
    """The URL may not receive webhooks (French message for forms and the log)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address the connection goes to


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return bool(settings.WEBHOOK_ALLOW_LOOPBACK)
    if ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if ip.is_private or not ip.is_global:
        return bool(settings.WEBHOOK_ALLOW_PRIVATE)
    return True


def check_url(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an acceptable URL, or DestinationRefused (no network)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise DestinationRefused("Cette adresse n'est pas une URL valide.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("L'URL doit commencer par https:// et nommer un serveur.")
    if parts.scheme != "https" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise DestinationRefused("L'URL doit être en https:// (les événements contiennent des données personnelles).")
    if parts.username or parts.password:
        raise DestinationRefused("L'URL ne doit pas contenir d'identifiant ni de mot de passe.")
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _allowed(host):
        raise DestinationRefused(
            "Cette adresse désigne un réseau privé ou local : elle ne peut pas recevoir de webhooks."
        )
    if host.lower() in ("localhost", "localhost.localdomain") and not settings.WEBHOOK_ALLOW_LOOPBACK:
        raise DestinationRefused(
            "Cette adresse désigne un réseau privé ou local : elle ne peut pas recevoir de webhooks."
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str) -> Destination:
    """Check the URL, resolve its host and check every address (DestinationRefused, or OSError
    when the name does not resolve)."""
    scheme, host, port, path = check_url(url)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise OSError(f"{host} ne correspond à aucune adresse.")
    for address in addresses:
        if not _allowed(address):
            raise DestinationRefused(
                "Cette adresse désigne un réseau privé ou local : elle ne peut pas recevoir de webhooks."
            )
    return Destination(scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout, context=ssl.create_default_context())
        self._address = destination.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(destination: Destination, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST and return (status, the start of the response body)."""
    connection_class = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(destination, timeout)
    try:
        connection.request("POST", destination.path, body=body, headers={**headers, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return response.status, excerpt
    finally:
        connection.close()


def send_webhook(delivery: Delivery) -> SendReport:
    """rdv.outbox sender of the webhook channel (reads the endpoint: its URL and secrets now)."""
    endpoint_id = (delivery.headers or {}).get("endpoint_id")
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first() if endpoint_id else None
    if endpoint is None:
        raise PermanentError("Webhook supprimé.")
    if not endpoint.active and not (delivery.headers or {}).get("test"):
        # A test event goes out even while the endpoint is off (services.send_test_event): the admins
        # check the receiver before switching it back on.
        raise PermanentError("Webhook désactivé.")
    try:
        destination = resolve(endpoint.target_url)
    except DestinationRefused as error:
        raise PermanentError(str(error)) from None
    except (OSError, UnicodeError) as error:
        raise TemporaryError(f"Adresse introuvable : {error}") from None
    body = delivery.text.encode("utf-8")
    headers = signing.headers(
        endpoint.signing_secrets(timezone.now()), str(delivery.message_id), int(time.time()), body
    )
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        status, excerpt = post(destination, body, headers, timeout)
    except TimeoutError:
        raise TemporaryError(f"Pas de réponse en {timeout:g} s.") from None
    except (OSError, http.client.HTTPException) as error:
        raise TemporaryError(f"{type(error).__name__}: {error}") from None
    if 200 <= status < 300:
        return SendReport(provider_id="", status_code=status, response_excerpt=excerpt)
    if status == 410:
        raise PermanentError("HTTP 410 Gone", status_code=status, response_excerpt=excerpt)
    if 300 <= status < 400:
        raise TemporaryError(f"HTTP {status} : redirection non suivie", status_code=status, response_excerpt=excerpt)
    raise TemporaryError(f"HTTP {status}", status_code=status, response_excerpt=excerpt)
