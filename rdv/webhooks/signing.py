"""The signatures of a webhook body, computed at each attempt.

- `X-Lapin-Signature`: hex HMAC-SHA256 of the raw body with the secret, as the established platform
  sends it (receivers written for it keep working). During a secret rotation's grace period it is
  computed with the previous secret, which such receivers still hold.
- Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` (stable across attempts: the
  delivery's id, for de-duplication), `webhook-timestamp` (seconds, this attempt) and
  `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret in use,
  separated by spaces, so a receiver can refuse replays and accept either secret while rotating.
"""

import base64
import hashlib
import hmac


def lapin_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()


def headers(secrets: list[str], webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """`secrets`: the current secret first, then the previous one during a rotation."""
    lapin_secret = secrets[-1]  # the previous secret while it lasts, else the current one
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-Lapin-Signature": lapin_signature(lapin_secret, body),
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(standard_signature(s, webhook_id, timestamp, body) for s in secrets),
    }
