"""A local HTTP receiver for `bench_webhooks` (and a developer trying webhooks on their machine):
listens on 127.0.0.1, refuses every request (503) for `refuse_seconds` from the first request on
(an outage that surely happens while events flow), then accepts,
and checks both signatures of each request with the documented example (examples/verify.py)."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rdv.webhooks.examples.verify import verify_lapin_signature, verify_standard_webhooks


@dataclass(frozen=True)
class Accepted:
    webhook_id: str
    record_id: int
    version: int  # the « vN » at the end of a lieu's name (bench_webhooks renames lieux), else 0
    at: float


def _version(data: dict) -> int:
    name = str(data.get("name") or "")
    tail = name.rsplit(" v", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 0


class LocalReceiver:
    def __init__(self, secret: str, refuse_seconds: float = 0.0):
        self.secret = secret
        self.refuse_seconds = refuse_seconds
        self.refuse_until: float | None = None  # set by the first request
        self.lock = threading.Lock()
        self._accepted: list[Accepted] = []
        self.refused = 0
        self.bad_signatures = 0
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def accepted(self) -> list[Accepted]:
        with self.lock:
            return list(self._accepted)

    def __enter__(self) -> "LocalReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                now = time.time()
                with receiver.lock:
                    if receiver.refuse_until is None:
                        receiver.refuse_until = now + receiver.refuse_seconds
                    if now < receiver.refuse_until:
                        receiver.refused += 1
                        status = 503
                    else:
                        try:
                            signed = verify_standard_webhooks(headers, body, receiver.secret)
                            signed = signed and verify_lapin_signature(headers, body, receiver.secret)
                            data = json.loads(body)["data"]
                        except (KeyError, ValueError):
                            signed, data = False, {}
                        if signed:
                            receiver._accepted.append(
                                Accepted(headers["webhook-id"], int(data.get("id") or 0), _version(data), now)
                            )
                            status = 200
                        else:
                            receiver.bad_signatures += 1
                            status = 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
