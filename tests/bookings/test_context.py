"""The Contexte of a RDV: an internal note for the agents who can see the RDV.

- shown on the agent pages (form, RDV page, edit page, CSV) while the espace setting is on;
- hidden everywhere while it is off, with the text kept in the database, and back when on again;
- never on any usager-facing surface: e-mails are checked with a marker string; the public pages,
  SMS and ICS files do not exist yet and must each get such a test when they arrive.
"""

import pytest
from django.core import mail
from django.urls import reverse

from rdv.bookings import services
from rdv.bookings.models import Rdv
from rdv.territories.models import WaitingRoomNotification
from tests.bookings.conftest import MARKER, TODAY, at, home_motif
from tests.helpers import as_agent, deliver_emails, log_in, page_text


def set_context_enabled(setup, enabled: bool):
    territory = setup.world.territory
    territory.rdv_context_enabled = enabled
    territory.save()


def agent_pages(client, setup, rdv) -> dict[str, str]:
    org = setup.organisation.pk
    pages = {
        "agenda": client.get(reverse("agenda", args=[org])),
        "agenda jour": client.get(reverse("agenda", args=[org]), {"vue": "jour"}),
        "agenda liste": client.get(reverse("agenda", args=[org]), {"affichage": "liste"}),
        "grille rafraîchie": client.get(reverse("agenda_grid", args=[org])),
        "liste": client.get(reverse("rdv_list", args=[org])),
        "page du RDV": client.get(reverse("rdv_detail", args=[org, rdv.pk])),
        "modification": client.get(reverse("rdv_edit", args=[org, rdv.pk])),
        "déplacement": client.get(reverse("rdv_move", args=[org, rdv.pk])),
        "nouveau RDV": client.get(reverse("rdv_create", args=[org])),
    }
    texts = {name: page_text(response) for name, response in pages.items()}
    csv = client.get(reverse("rdv_list", args=[org]), {"format": "csv"})
    texts["export CSV"] = b"".join(csv.streaming_content).decode()
    return texts


def test_the_context_is_shown_to_agents_while_the_setting_is_on(client, setup):
    rdv = setup.book(at(TODAY, 10), context=MARKER)
    log_in(client, setup.agent)

    texts = agent_pages(client, setup, rdv)

    assert MARKER in texts["page du RDV"]
    assert MARKER in texts["modification"]
    assert MARKER in texts["export CSV"]
    assert 'name="context"' in texts["nouveau RDV"]
    assert "Contexte" in texts["nouveau RDV"]


def test_switching_the_setting_off_hides_it_everywhere_and_keeps_the_text(client, setup):
    rdv = setup.book(at(TODAY, 10), context=MARKER)
    services.update_rdv(as_agent(setup.agent, rdv), rdv, context=MARKER + " (modifié)")
    set_context_enabled(setup, False)
    log_in(client, setup.agent)

    texts = agent_pages(client, setup, rdv)

    for name, text in texts.items():
        assert MARKER not in text, name
        assert 'name="context"' not in text, name
    assert "Contexte" not in texts["page du RDV"]  # neither the text nor the label, nor its history line
    assert "contexte" not in texts["page du RDV"].split("Historique")[1].lower()
    rdv.refresh_from_db()
    assert rdv.context == MARKER + " (modifié)"


def test_saving_a_rdv_while_the_setting_is_off_keeps_the_stored_context(client, setup):
    rdv = setup.book(at(TODAY, 10), context=MARKER, motif=home_motif(setup), override=True)
    set_context_enabled(setup, False)
    log_in(client, setup.agent)

    client.post(reverse("rdv_edit", args=[setup.organisation.pk, rdv.pk]), {"context": "écrasé", "address": "2 rue"})

    rdv.refresh_from_db()
    assert (rdv.context, rdv.address) == (MARKER, "2 rue")


def test_a_context_posted_while_the_setting_is_off_is_ignored(client, setup):
    set_context_enabled(setup, False)
    log_in(client, setup.agent)
    data = {
        "motif": setup.motif.pk,
        "date": TODAY.isoformat(),
        "heure": "10:00",
        "lieu": setup.lieu.pk,
        "agents": [setup.agent.pk],
        "usagers": [setup.usager.pk],
        "context": MARKER,
    }
    assert client.post(reverse("rdv_create", args=[setup.organisation.pk]), data).status_code == 302
    assert Rdv.objects.get().context == ""


def test_switching_the_setting_on_again_shows_the_kept_text(client, setup):
    rdv = setup.book(at(TODAY, 10), context=MARKER)
    set_context_enabled(setup, False)
    set_context_enabled(setup, True)
    log_in(client, setup.agent)
    assert MARKER in agent_pages(client, setup, rdv)["page du RDV"]


def test_agents_who_cannot_see_the_rdv_never_see_its_context(client, setup):
    setup.book(at(TODAY, 10), context=MARKER)
    log_in(client, setup.other_agent)
    org = setup.organisation.pk
    for response in (
        client.get(reverse("agenda", args=[org]), {"agents": setup.agent.pk}),
        client.get(reverse("rdv_list", args=[org])),
    ):
        assert MARKER not in page_text(response)
    csv = client.get(reverse("rdv_list", args=[org]), {"format": "csv"})
    assert MARKER not in b"".join(csv.streaming_content).decode()


def test_the_context_is_never_in_the_journal(setup):
    rdv = setup.book(at(TODAY, 10), context=MARKER)
    services.update_rdv(as_agent(setup.agent, rdv), rdv, context=MARKER + " bis")
    from rdv.core.models import AuditLog

    assert all(MARKER not in str(entry.changes) and MARKER not in entry.object_repr for entry in AuditLog.objects.all())


# Usager-facing surfaces --------------------------------------------------------------------------------


def _message_texts(message) -> list[str]:
    texts = [message.subject, message.body]
    texts += [content for content, _ in getattr(message, "alternatives", [])]
    texts += [str(attachment) for attachment in message.attachments]
    return texts


@pytest.mark.parametrize("enabled", [True, False])
def test_no_email_ever_contains_the_context(setup, enabled):
    """Every operation that may send e-mails (usagers' notifications as they come, and the
    waiting-room e-mail to agents), with the marker in the Contexte."""
    set_context_enabled(setup, enabled)
    territory = setup.world.territory
    territory.waiting_room_notification = WaitingRoomNotification.BOTH
    territory.save()
    mail.outbox.clear()

    rdv = setup.book(at(TODAY, 10), context=MARKER)
    services.update_rdv(as_agent(setup.agent, rdv), rdv, context=MARKER + " modifié")
    services.move_rdv(as_agent(setup.agent, rdv), rdv, at(TODAY, 11))
    services.mark_arrived(as_agent(setup.agent, rdv), rdv)
    services.mark_arrived(as_agent(setup.agent, rdv), rdv, arrived=False)
    services.cancel_rdv(as_agent(setup.agent, rdv), rdv, reason="Annulé")
    services.set_status(as_agent(setup.agent, rdv), rdv, "unknown")
    collective = setup.book(at(TODAY, 9), motif=setup.collective_motif, usagers=[setup.usager], context=MARKER)
    services.add_participant(as_agent(setup.agent, collective), collective, setup.usager2)
    services.remove_participant(as_agent(setup.agent, collective), collective, setup.usager)
    services.cancel_rdv(as_agent(setup.agent, collective), collective, by_usager=True)
    deliver_emails()

    assert mail.outbox, "the waiting-room e-mail was sent"
    usager_addresses = {setup.usager.email, setup.usager2.email}
    for message in mail.outbox:
        for text in _message_texts(message):
            assert MARKER not in text, (message.to, message.subject)
    # The usagers' notifications (rdv.notifications) were among them, their ICS files included in
    # the texts checked above. SMS: checked by the SMS channel's tests once it sends notifications.
    assert any(usager_addresses & set(message.to) for message in mail.outbox)


# Usager-facing pages, SMS and ICS arrive with the public booking issue: each must get a test here
# that renders it with MARKER in the Contexte and asserts the marker is absent.
