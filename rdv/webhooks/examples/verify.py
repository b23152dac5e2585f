"""Vérifier un webhook reçu de Rendez-vous Public (exemple en Python 3, sans dépendance).

`headers` : les en-têtes HTTP reçus (noms en minuscules), `body` : le corps brut (bytes, tel que
reçu, avant tout décodage JSON), `secret` : la clé secrète du webhook.
"""

import base64
import hashlib
import hmac
import time

TOLERANCE_SECONDS = 5 * 60  # refuser les messages trop anciens (rejeu)


def verify_standard_webhooks(headers: dict, body: bytes, secret: str) -> bool:
    """En-têtes Standard Webhooks : webhook-id, webhook-timestamp, webhook-signature."""
    webhook_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    # Plusieurs signatures séparées par des espaces pendant un renouvellement de clé.
    for signature in headers["webhook-signature"].split():
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def verify_lapin_signature(headers: dict, body: bytes, secret: str) -> bool:
    """En-tête X-Lapin-Signature (compatible avec RDV Service Public) : HMAC-SHA256 hexadécimal."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-lapin-signature"], expected)
