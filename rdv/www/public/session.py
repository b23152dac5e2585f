"""What the public pages keep in the visitor's session."""

import secrets

HOLDER_KEY = "public_holder_key"


def holder_key(request) -> str:
    """A random key naming this visitor's slot holds (rdv.bookings.models.SlotHold): the engine
    hides held slots from everyone else and keeps them bookable by their holder."""
    key = request.session.get(HOLDER_KEY)
    if not key:
        key = request.session[HOLDER_KEY] = secrets.token_urlsafe(24)
    return key
