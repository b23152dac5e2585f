"""SMS providers: one small interface, a few backends, chosen by name in `settings.SMS_PROVIDERS`.

    SMS_PROVIDERS = {
        "brevo": {"backend": "brevo", "label": "Brevo", "options": {"api_key": "…"}},
        "console": {"backend": "console"},
    }
    get_provider("brevo").send("+33612345678", "Votre RDV…", sender="RDV")  # -> SendReport

`send` returns the provider's id of the message or raises `TemporaryError` (try again later, or
the espace's fallback provider now) / `PermanentError` (this message will never go: not retried),
with the HTTP status and the start of the answer when there is one. See docs/sms.md.

Backends: `console` (logs the SMS, for `make run`), `file` (appends one JSON line per SMS to a
file, which development and tests read) and `brevo` (Brevo, ex-Sendinblue, a French provider:
transactional SMS over HTTPS). A backend may also be given as a dotted path to a class.
"""

import fcntl
import http.client
import json
import logging
import ssl
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from rdv.outbox.channels import PermanentError, SendReport, TemporaryError
from rdv.sms.gsm import UCS2, segments

logger = logging.getLogger(__name__)

EXCERPT_LENGTH = 500
RESPONSE_MAX_BYTES = 64 * 1024
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Provider:
    """A way to send one SMS. `name` is its key in SMS_PROVIDERS; options come from there."""

    def __init__(self, name: str, **options):
        self.name = name
        self.options = options

    def send(self, to_e164: str, text: str, sender: str) -> SendReport:
        raise NotImplementedError


class ConsoleProvider(Provider):
    """Development: the SMS is written to the log (the console of `make run`)."""

    def send(self, to_e164: str, text: str, sender: str) -> SendReport:
        message_id = uuid.uuid4().hex
        encoding, count = segments(text)
        logger.warning(
            "SMS (%s, %s segment(s), %s) from %s to %s:\n%s", self.name, count, encoding, sender, to_e164, text
        )
        return SendReport(provider_id=message_id)


class FileProvider(Provider):
    """Development and tests: one JSON line per SMS appended to `options["path"]` (default
    `settings.SMS_FILE_PATH`), under an exclusive lock so concurrent workers do not mix lines."""

    @property
    def path(self) -> Path:
        return Path(self.options.get("path") or settings.SMS_FILE_PATH)

    def send(self, to_e164: str, text: str, sender: str) -> SendReport:
        message_id = uuid.uuid4().hex
        encoding, count = segments(text)
        line = {
            "id": message_id,
            "provider": self.name,
            "to": to_e164,
            "sender": sender,
            "text": text,
            "encoding": encoding,
            "segments": count,
            "at": timezone.now().isoformat(),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                fcntl.flock(file, fcntl.LOCK_EX)
                file.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as error:
            raise TemporaryError(f"Écriture impossible dans {self.path} : {error}") from None
        return SendReport(provider_id=message_id)


def read_file_messages(path: str | Path) -> list[dict]:
    """The SMS a FileProvider wrote, oldest first (tests and development)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class BrevoProvider(Provider):
    """Brevo transactional SMS: `POST {base_url}/v3/transactionalSMS/send` with the `api-key`
    header and a JSON body {sender, recipient, content, type: "transactional", unicodeEnabled};
    a success answers 2xx with {"messageId": …}. (Brevo deprecated the former
    `/v3/transactionalSMS/sms` route in 2025 in favour of this one.)

    Options: `api_key` (required), `base_url` (default https://api.brevo.com; plain http only
    towards this machine, for tests), `timeout` (seconds per socket operation, default
    `settings.SMS_TIMEOUT_SECONDS`, 5), `sender` (overrides SMS_SENDER: at most 11 letters and
    digits), `tag`.

    Outcomes:
    - 2xx: sent; the id is Brevo's messageId.
    - 401, 402, 403 (key, credits, account), 408 and 429 (throttling): **temporary**. They are
      about our account, not the message: the espace's fallback provider is tried at once, and
      the message is retried later rather than abandoned while someone tops up the account.
    - any other 4xx (invalid number, sender or content): **permanent**, never retried.
    - 5xx, timeouts, refused connections, TLS and protocol errors, unreadable answers: temporary.
    """

    DEFAULT_BASE_URL = "https://api.brevo.com"
    PATH = "/v3/transactionalSMS/send"
    ACCOUNT_STATUSES = frozenset({401, 402, 403, 408, 429})

    def __init__(self, name: str, **options):
        super().__init__(name, **options)
        if not options.get("api_key"):
            raise ImproperlyConfigured(f"SMS provider {name!r}: the brevo backend needs options.api_key")
        url = urlsplit(options.get("base_url") or self.DEFAULT_BASE_URL)
        if url.scheme not in ("https", "http") or not url.hostname:
            raise ImproperlyConfigured(f"SMS provider {name!r}: base_url must be an https:// URL")
        if url.scheme == "http" and url.hostname not in LOOPBACK_HOSTS:
            raise ImproperlyConfigured(f"SMS provider {name!r}: base_url must use https")
        self.url = url
        self.timeout = float(options.get("timeout") or settings.SMS_TIMEOUT_SECONDS)

    def _connection(self) -> http.client.HTTPConnection:
        if self.url.scheme == "https":
            return http.client.HTTPSConnection(
                self.url.hostname, self.url.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=self.timeout)

    def send(self, to_e164: str, text: str, sender: str) -> SendReport:
        encoding, _ = segments(text)
        body = {
            "sender": self.options.get("sender") or sender,
            "recipient": to_e164.lstrip("+"),
            "content": text,
            "type": "transactional",
            "unicodeEnabled": encoding == UCS2,
        }
        if self.options.get("tag"):
            body["tag"] = self.options["tag"]
        headers = {
            "api-key": self.options["api_key"],
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": "rendez-vous-public",
        }
        path = self.url.path.rstrip("/") + self.PATH
        connection = self._connection()
        try:
            connection.request("POST", path, body=json.dumps(body).encode(), headers=headers)
            response = connection.getresponse()
            raw = response.read(RESPONSE_MAX_BYTES)
        except TimeoutError as error:
            raise TemporaryError(f"Brevo : pas de réponse en {self.timeout:g} s ({error or 'timeout'})") from None
        except (OSError, http.client.HTTPException) as error:
            raise TemporaryError(f"Brevo : {type(error).__name__} {error}".strip()) from None
        finally:
            connection.close()
        status = response.status
        excerpt = raw.decode("utf-8", "replace")[:EXCERPT_LENGTH]
        if 200 <= status < 300:
            try:
                message_id = str(json.loads(raw or b"{}").get("messageId") or "")
            except (ValueError, AttributeError):
                message_id = ""
            return SendReport(provider_id=message_id, status_code=status, response_excerpt=excerpt)
        message = f"Brevo : HTTP {status} {_error_message(raw)}".strip()
        if 400 <= status < 500 and status not in self.ACCOUNT_STATUSES:
            raise PermanentError(message, status_code=status, response_excerpt=excerpt)
        raise TemporaryError(message, status_code=status, response_excerpt=excerpt)


def _error_message(raw: bytes) -> str:
    """Brevo's error body is {"code": …, "message": …}; anything else is summarised."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:200]
    if isinstance(data, dict):
        return " ".join(str(data[key]) for key in ("code", "message") if data.get(key))[:200]
    return ""


BACKENDS: dict[str, type[Provider]] = {
    "console": ConsoleProvider,
    "file": FileProvider,
    "brevo": BrevoProvider,
}


def provider_names() -> list[str]:
    return list(settings.SMS_PROVIDERS)


def provider_label(name: str) -> str:
    config = settings.SMS_PROVIDERS.get(name) or {}
    return config.get("label") or name


def default_provider_name() -> str:
    """SMS_DEFAULT_PROVIDER, or the first configured provider."""
    configured = getattr(settings, "SMS_DEFAULT_PROVIDER", "")
    if configured in settings.SMS_PROVIDERS:
        return configured
    return next(iter(settings.SMS_PROVIDERS), "")


def get_provider(name: str) -> Provider:
    """The provider configured under `name`. An unknown name is a temporary error: someone must
    fix the settings, the message waits."""
    config = settings.SMS_PROVIDERS.get(name)
    if config is None:
        raise TemporaryError(f"Fournisseur SMS inconnu : {name!r} (absent de SMS_PROVIDERS).")
    backend = config.get("backend", "")
    cls = BACKENDS.get(backend) or (import_string(backend) if "." in backend else None)
    if cls is None:
        raise ImproperlyConfigured(f"SMS provider {name!r}: unknown backend {backend!r}")
    return cls(name, **(config.get("options") or {}))
