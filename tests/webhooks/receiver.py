"""A real HTTP receiver on 127.0.0.1 for the webhook tests and the benchmark: it answers what it is
told (a status, or a status per call), records every request and checks both signatures with the
documented example (rdv/webhooks/examples/verify.py) and the secret it is given."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rdv.webhooks.examples.verify import verify_lapin_signature, verify_standard_webhooks


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    standard_ok: bool
    lapin_ok: bool
    at: float
    status: int  # what the receiver answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = ""
    status: int = 200
    statuses: list = field(default_factory=list)  # consumed first, one per request
    delay: float = 0.0  # seconds before answering
    delays: list = field(default_factory=list)  # consumed first, one per request (e.g. stall the first)
    location: str = ""  # a Location header (redirects)
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                secret = receiver.secret
                try:
                    standard_ok = bool(secret) and verify_standard_webhooks(headers, body, secret)
                    lapin_ok = bool(secret) and verify_lapin_signature(headers, body, secret)
                except (KeyError, ValueError):
                    standard_ok = lapin_ok = False
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                    delay = receiver.delays.pop(0) if receiver.delays else receiver.delay
                    receiver.received.append(
                        Received(self.path, headers, body, standard_ok, lapin_ok, time.time(), status)
                    )
                if delay:
                    time.sleep(delay)
                answer = b'{"ok": true}' if 200 <= status < 300 else b"erreur du serveur"
                try:
                    self.send_response(status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the sender gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def bodies(self) -> list[dict]:
        with self.lock:
            return [r.json for r in self.received]

    def accepted(self) -> list["Received"]:
        """The requests answered with a 2xx, in the order they arrived."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]
