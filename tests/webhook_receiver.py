"""A real HTTP receiver of webhooks on 127.0.0.1, for page and browser tests: it answers the status
it is told to (500 until told otherwise, say), and checks both signatures of every request with the
documented example (rdv/webhooks/examples/verify.py) and the secret it is given."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rdv.webhooks.examples.verify import verify_lapin_signature, verify_standard_webhooks


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    lapin_ok: bool
    standard_ok: bool


@dataclass
class Receiver:
    status: int = 500
    secret: str = ""
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/rdv"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                secret = receiver.secret
                receiver.requests.append(
                    Received(
                        self.path,
                        headers,
                        body,
                        lapin_ok=bool(secret) and verify_lapin_signature(headers, body, secret),
                        standard_ok=bool(secret) and verify_standard_webhooks(headers, body, secret),
                    )
                )
                answer = b"ok" if receiver.status < 300 else b"erreur du SI"
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
