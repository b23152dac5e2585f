import pytest

from rdv.outbox import channels
from rdv.outbox.models import Channel


@pytest.fixture
def failing_smtp(monkeypatch):
    """Switch the e-mail provider down (every send fails temporarily) and up again: the edge of the
    world, as an SMTP server that refuses with 451."""
    real = channels.sender_for(Channel.EMAIL)
    state = {"down": False}

    def sender(delivery):
        if state["down"]:
            raise channels.TemporaryError("SMTP 451 service indisponible")
        return real(delivery)

    monkeypatch.setitem(channels._SENDERS, Channel.EMAIL, sender)

    def switch(down: bool):
        state["down"] = down

    return switch
