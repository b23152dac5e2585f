"""The audit log: one entry per change, with the right actor, action and espace."""

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rdv.accounts.models import AccessLevel, Invitation
from rdv.core.audit import ACTION_LABELS, describe_changes, log_action
from rdv.core.models import AuditLog
from tests import factories
from tests.helpers import accept_data, invite_data, last_invitation_path, log_in, page_text


def _espace_url(world, name, *args):
    return reverse(name, args=[world.territory.pk, *args])


def _invite(client, world, email="camille@exemple.fr"):
    response = client.post(_espace_url(world, "espace_invite"), invite_data(world, email))
    assert response.status_code == 302
    return Invitation.objects.get(email=email)


def create_organisation(client, world):
    client.post(_espace_url(world, "espace_organisation_create"), {"name": "MDS Sud"})
    return "organisation.created", world.territory_admin


def rename_organisation(client, world):
    client.post(_espace_url(world, "espace_organisation_edit", world.organisation.pk), {"name": "MDS Renommée"})
    return "organisation.renamed", world.territory_admin


def activate_service(client, world):
    client.post(_espace_url(world, "espace_service_toggle", world.inactive_service.pk, "activer"))
    return "service.activated", world.territory_admin


def deactivate_service(client, world):
    client.post(_espace_url(world, "espace_service_toggle", world.service.pk, "desactiver"), {"confirmer": "1"})
    return "service.deactivated", world.territory_admin


def create_invitation(client, world):
    _invite(client, world)
    return "invitation.created", world.territory_admin


def reissue_invitation(client, world):
    data = invite_data(world, "camille@exemple.fr", remplacer="camille@exemple.fr")  # confirmed
    assert client.post(_espace_url(world, "espace_invite"), data).status_code == 302
    return "invitation.reissued", world.territory_admin


def resend_invitation(client, world):
    invitation = Invitation.objects.get()
    client.post(_espace_url(world, "espace_invitation_resend", invitation.pk))
    return "invitation.resent", world.territory_admin


def cancel_invitation(client, world):
    invitation = Invitation.objects.get()
    client.post(_espace_url(world, "espace_invitation_cancel", invitation.pk), {"confirmer": "1"})
    return "invitation.cancelled", world.territory_admin


def accept_invitation(client, world):
    Client().post(last_invitation_path(), accept_data())
    return "invitation.accepted", "new agent"


def update_agent(client, world):
    client.post(
        _espace_url(world, "espace_agent_edit", world.agent.pk),
        {"services": [world.service.pk], f"org_{world.organisation.pk}": AccessLevel.ADMIN},
    )
    return "agent.updated", world.territory_admin


def remove_agent(client, world):
    client.post(
        _espace_url(world, "espace_agent_edit", world.agent.pk),
        {"services": [world.service.pk], "confirm_removal": "on"},
    )
    return "agent.removed_from_territory", world.territory_admin


# operation -> does it need an invitation to exist first
OPERATIONS = [
    (create_organisation, False),
    (rename_organisation, False),
    (activate_service, False),
    (deactivate_service, False),
    (create_invitation, False),
    (reissue_invitation, True),
    (resend_invitation, True),
    (cancel_invitation, True),
    (accept_invitation, True),
    (update_agent, False),
    (remove_agent, False),
]


@pytest.mark.parametrize(("operation", "needs_invitation"), OPERATIONS, ids=[op.__name__ for op, _ in OPERATIONS])
def test_each_operation_writes_exactly_one_audit_entry(alice, bob, operation, needs_invitation):
    client = log_in(Client(), alice.territory_admin)
    if needs_invitation:
        _invite(client, alice)
    before = set(AuditLog.objects.values_list("pk", flat=True))

    action, actor = operation(client, alice)

    new = AuditLog.objects.exclude(pk__in=before)
    assert new.count() == 1
    entry = new.get()
    assert entry.action == action
    assert entry.territory == alice.territory
    if actor == "new agent":
        assert entry.actor.email == "camille@exemple.fr"
    else:
        assert entry.actor == actor
        assert entry.actor_repr == str(actor)
    assert entry.action in ACTION_LABELS


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(
            lambda c, w: c.post(
                _espace_url(w, "espace_organisation_edit", w.organisation.pk), {"name": w.organisation.name}
            ),
            id="rename-to-same-name",
        ),
        pytest.param(
            lambda c, w: c.post(_espace_url(w, "espace_service_toggle", w.service.pk, "activer")),
            id="activate-active-service",
        ),
        pytest.param(
            lambda c, w: c.post(_espace_url(w, "espace_service_toggle", w.inactive_service.pk, "desactiver")),
            id="deactivate-inactive-service",
        ),
        pytest.param(
            lambda c, w: c.post(
                _espace_url(w, "espace_agent_edit", w.agent.pk),
                {"services": [w.service.pk], f"org_{w.organisation.pk}": AccessLevel.BASIC},
            ),
            id="save-agent-unchanged",
        ),
    ],
)
def test_operations_that_change_nothing_write_no_audit_entry(alice, operation):
    client = log_in(Client(), alice.territory_admin)
    response = operation(client, alice)
    assert response.status_code == 302
    assert not AuditLog.objects.exists()


def test_invitation_audit_entry_records_what_was_offered(alice):
    client = log_in(Client(), alice.territory_admin)
    _invite(client, alice)
    entry = AuditLog.objects.get(action="invitation.created")
    assert entry.object_type == "accounts.Invitation"
    assert entry.changes["email"] == "camille@exemple.fr"
    assert entry.changes["services"] == "Service social"
    assert entry.changes["organisations"] == {"alice Centre": "basic"}
    assert entry.changes["territory_admin"] is False


def test_accepted_invitation_entry_names_the_new_agent_and_their_rights(alice):
    client = log_in(Client(), alice.territory_admin)
    _invite(client, alice)
    Client().post(last_invitation_path(), accept_data())
    entry = AuditLog.objects.get(action="invitation.accepted")
    assert entry.actor_repr == "Camille Durand"
    assert entry.changes == {
        "agent": "camille@exemple.fr",
        "services": "Service social",
        "organisations": {"alice Centre": "basic"},
    }


def test_journal_lists_own_entries_and_never_the_other_espaces(alice, bob):
    alice_client = log_in(Client(), alice.territory_admin)
    bob_client = log_in(Client(), bob.territory_admin)
    alice_client.post(_espace_url(alice, "espace_organisation_create"), {"name": "Alice Ouest"})
    bob_client.post(_espace_url(bob, "espace_organisation_create"), {"name": "Bob Secret"})
    bob_client.post(_espace_url(bob, "espace_invite"), invite_data(bob, "recrue-bob@exemple.fr"))

    response = alice_client.get(_espace_url(alice, "espace_journal"))

    entries = list(response.context["page"])
    assert [entry.action for entry in entries] == ["organisation.created"]
    assert {entry.territory_id for entry in entries} == {alice.territory.pk}
    text = page_text(response)
    assert "Alice Ouest" in text
    assert "Organisation créée" in text
    assert "Bob Secret" not in text
    assert "recrue-bob@exemple.fr" not in text
    assert AuditLog.objects.filter(territory=bob.territory).count() == 2


def test_journal_is_newest_first_and_paginated(alice):
    for i in range(105):
        log_action(alice.territory_admin, "organisation.renamed", alice.organisation, {"name": [f"v{i}", f"v{i + 1}"]})
    client = log_in(Client(), alice.territory_admin)
    url = _espace_url(alice, "espace_journal")
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(url)
    entries = list(first.context["page"])
    assert len(entries) == 50
    assert entries[0].changes == {"name": ["v104", "v105"]}

    def follow(response, label):
        link = re.search(rf'href="(\?[^"]*)">{label}</a>', response.content.decode())
        assert link, label
        return client.get(url + html.unescape(link.group(1)))

    with CaptureQueriesContext(connection) as second_queries:
        second = follow(first, "Entrées plus anciennes")
    assert len(second_queries) == len(first_queries) + 1  # the entry the page starts after
    third = follow(second, "Entrées plus anciennes")
    names = [entry.changes["name"][0] for page in (first, second, third) for entry in page.context["page"]]
    assert names == [f"v{i}" for i in range(104, -1, -1)]  # every entry once, newest first
    assert "Entrées plus anciennes" not in page_text(third)
    assert [e.pk for e in follow(third, "Entrées plus récentes").context["page"]] == [
        e.pk for e in second.context["page"]
    ]
    assert [e.pk for e in follow(third, "Les plus récentes").context["page"]] == [e.pk for e in entries]
    assert "Entrées plus récentes" not in page_text(first)


# log_action and the journal's French descriptions -------------------------------------------


def test_log_action_finds_the_espace_and_organisation_of_the_object(alice):
    role = factories.AgentRoleFactory(organisation=alice.other_organisation)
    entry = log_action(alice.territory_admin, "agent.updated", role, {"x": 1})
    assert entry.territory == alice.territory
    assert entry.organisation == alice.other_organisation
    assert entry.object_type == "accounts.AgentRole"
    assert entry.object_id == str(role.pk)

    on_territory = log_action(alice.territory_admin, "service.activated", alice.territory)
    assert (on_territory.territory, on_territory.organisation) == (alice.territory, None)


def test_log_action_without_an_actor_is_attributed_to_the_system(alice):
    entry = log_action(None, "territory.created", alice.territory, {"name": "x"})
    assert entry.actor is None
    assert entry.actor_repr == "Système"


def test_log_action_stores_json_safe_changes(alice):
    moment = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    entry = log_action(
        alice.territory_admin,
        "agent.updated",
        alice.territory,
        {"when": moment, "who": alice.agent, "levels": ("basic", "admin"), "tags": {"a"}},
    )
    entry.refresh_from_db()
    assert entry.changes == {
        "when": "2026-03-10 09:00:00+01:00",
        "who": str(alice.agent),
        "levels": ["basic", "admin"],
        "tags": ["a"],
    }


def test_describe_changes_speaks_french():
    lines = describe_changes(
        {
            "organisations": {"MDS Valence": [None, "admin"], "MDS Romans": ["basic", None]},
            "territory_admin": [False, True],
            "expires_at": "2026-03-13T08:00:00+00:00",
            "services": "Service social",
        }
    )
    assert lines == [
        ("organisations", "MDS Valence : — → administrateur, MDS Romans : agent → —"),
        ("administrateur de l'espace", "non → oui"),
        ("expire le", "13/03/2026 09:00"),
        ("services", "Service social"),
    ]


def test_the_journal_query_count_does_not_grow_with_its_entries(alice):
    client = log_in(Client(), alice.territory_admin)
    url = _espace_url(alice, "espace_journal")

    def queries(params=None) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured)

    for i in range(3):
        log_action(alice.territory_admin, "organisation.renamed", alice.organisation, {"name": [f"v{i}", "w"]})
    few = queries()
    AuditLog.objects.bulk_create(
        AuditLog(
            action="organisation.renamed",
            object_type="territories.Organisation",
            object_id=str(i),
            territory=alice.territory,
        )
        for i in range(600)
    )
    assert queries() == few
    deep = AuditLog.objects.filter(territory=alice.territory).order_by("-created_at", "-id")[500]
    assert queries({"apres": deep.pk}) == few + 1  # the entry the page starts after
