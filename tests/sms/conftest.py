"""SMS fixtures: file providers in a temporary folder, and a fake Brevo API on 127.0.0.1 that
answers what each test scripts (no network)."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rdv.sms.providers import read_file_messages


@dataclass
class FakeBrevo:
    """Answers the scripted (status, body) replies in turn (the last one repeats); `"hang"` sleeps
    past the client's timeout; `("raw", bytes)` writes the bytes as they are (not HTTP). Records
    every request."""

    replies: list = field(default_factory=lambda: [(201, {"messageId": 1511882900176220})])
    requests: list = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeBrevo":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)})
                reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                if reply == "hang":
                    time.sleep(2)
                    return
                if reply[0] == "raw":
                    self.wfile.write(reply[1])
                    return
                status, body = reply
                payload = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval: `stop` waits for the serving loop to notice (0.5 s by default).
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_brevo():
    fake = FakeBrevo().start()
    yield fake
    fake.stop()


@dataclass
class Providers:
    """Two file providers (« file », « backup ») and, when asked, « brevo » against the fake API."""

    settings: object
    tmp_path: object

    def sent(self, name: str) -> list[dict]:
        return read_file_messages(self.tmp_path / f"{name}.jsonl")

    def add_brevo(self, fake: FakeBrevo, name: str = "brevo", **options) -> None:
        self.settings.SMS_PROVIDERS = {
            **self.settings.SMS_PROVIDERS,
            name: {
                "backend": "brevo",
                "label": "Brevo",
                "options": {"api_key": "xkeysib-test", "base_url": fake.base_url, "timeout": 0.5, **options},
            },
        }


@pytest.fixture
def sms_providers(settings, tmp_path) -> Providers:
    settings.SMS_PROVIDERS = {
        "file": {"backend": "file", "label": "Fichier", "options": {"path": str(tmp_path / "file.jsonl")}},
        "backup": {"backend": "file", "label": "Secours", "options": {"path": str(tmp_path / "backup.jsonl")}},
    }
    settings.SMS_DEFAULT_PROVIDER = "file"
    return Providers(settings, tmp_path)
