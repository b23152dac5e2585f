"""API test helpers: a token per agent and a client that sends it (`api(agent).get(...)`)."""

import json

import pytest
from django.test import Client

from rdv.accounts.context import personal_context
from rdv.accounts.services import create_api_token


class ApiClient:
    """Django's test client speaking JSON with a bearer token."""

    def __init__(self, secret: str | None):
        self.client = Client()
        self.secret = secret

    def _headers(self, headers):
        out = {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"} if self.secret else {}
        for name, value in (headers or {}).items():
            out["HTTP_" + name.upper().replace("-", "_")] = value
        return out

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, **self._headers(headers))

    def _send(self, method, path, data, headers):
        content = data if isinstance(data, str | bytes) else json.dumps(data)
        return getattr(self.client, method)(path, content, content_type="application/json", **self._headers(headers))

    def post(self, path, data=None, headers=None):
        return self._send("post", path, {} if data is None else data, headers)

    def patch(self, path, data=None, headers=None):
        return self._send("patch", path, {} if data is None else data, headers)

    def put(self, path, data=None, headers=None):
        return self._send("put", path, {} if data is None else data, headers)

    def delete(self, path, headers=None):
        return self.client.delete(path, **self._headers(headers))


def token_for(agent, name="Tests") -> str:
    _, secret = create_api_token(personal_context(agent), name=name)
    return secret


@pytest.fixture
def api():
    """`api(agent)`: a client with a fresh token of `agent`; `api(None)`: no token."""

    def make(agent=None):
        return ApiClient(token_for(agent) if agent is not None else None)

    return make
