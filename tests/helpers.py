"""Small helpers shared by the foundation tests (no fixtures here: see conftest.py)."""

import datetime
import html
import re
import socket
import threading
from contextlib import contextmanager

from django.core import mail
from django.db import connection, connections, transaction
from django.urls import reverse

from rdv.accounts.models import AccessLevel
from rdv.outbox.services import run_due_deliveries
from tests.factories import PASSWORD

AGENT_BACKEND = "rdv.accounts.backends.AgentBackend"
INVITATION_LINK = re.compile(r"http://testserver(/invitation/([^/\s]+)/)")


def log_in(client, agent):
    """Open a session for `agent` through the product's backend (the first configured backend is
    axes', which cannot restore a user from a session)."""
    client.force_login(agent, backend=AGENT_BACKEND)
    return client


def deliver_emails() -> list:
    """Send what the delivery outbox holds (what the workers do in production) and return Django's
    locmem outbox: e-mails are written in the transaction of the change and sent afterwards.
    Everything written so far is sent, even from a test that travelled in time (not expired ones);
    the outbox's own tests check when messages become due."""
    run_due_deliveries(due_before=datetime.datetime.max.replace(tzinfo=datetime.UTC))
    return mail.outbox


def last_invitation_path(outbox=None) -> str:
    """The path of the invitation link in the last e-mail sent (after sending what is due)."""
    deliver_emails()
    outbox = mail.outbox if outbox is None else outbox
    assert outbox, "no e-mail was sent"
    match = INVITATION_LINK.search(outbox[-1].body)
    assert match, outbox[-1].body
    return match.group(1)


def invite_data(world, email, services=None, levels=None, **extra) -> dict:
    """POST data of the invite form: `levels` maps organisations to access levels."""
    services = [world.service] if services is None else services
    levels = {world.organisation: AccessLevel.BASIC} if levels is None else levels
    data = {"email": email, "services": [s.pk for s in services]}
    data.update({f"org_{org.pk}": level for org, level in levels.items()})
    data.update(extra)
    return data


def assignment_data(services, levels, **extra) -> dict:
    """POST data of the agent edit form."""
    data = {"services": [s.pk for s in services]}
    data.update({f"org_{org.pk}": level for org, level in levels.items()})
    data.update(extra)
    return data


def accept_data(first_name="Camille", last_name="Durand", password="un-mot-de-passe-solide") -> dict:
    return {"first_name": first_name, "last_name": last_name, "password1": password, "password2": password}


def invite(client, world, email, **kwargs):
    """Invite `email` through the espace page as the logged-in client; returns the response."""
    return client.post(reverse("espace_invite", args=[world.territory.pk]), invite_data(world, email, **kwargs))


def login_post(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password, **extra}, REMOTE_ADDR="10.0.0.1")


def page_text(response) -> str:
    """The response body with HTML entities decoded (French apostrophes are escaped)."""
    return html.unescape(response.content.decode())


def db_state() -> dict:
    """Everything the espace pages can change, to assert that a refused request changed nothing."""
    from rdv.accounts.models import Agent, AgentRole, AgentService, Invitation, InvitationOrganisation, TerritoryRole
    from rdv.core.models import AuditLog
    from rdv.territories.models import Organisation, Territory, TerritoryService

    def rows(queryset, *fields):
        return sorted(queryset.values_list(*fields))

    return {
        "territories": rows(Territory.objects, "pk", "name"),
        "organisations": rows(Organisation.objects, "pk", "territory", "name"),
        "activations": rows(TerritoryService.objects, "territory", "service"),
        "agents": rows(Agent.objects, "pk", "email", "first_name", "last_name", "password", "is_active"),
        "roles": rows(AgentRole.objects, "agent", "organisation", "access_level"),
        "services": rows(AgentService.objects, "agent", "territory", "service"),
        "territory_roles": rows(TerritoryRole.objects, "agent", "territory"),
        "invitations": rows(
            Invitation.objects,
            "pk",
            "email",
            "token_hash",
            "expires_at",
            "accepted_at",
            "cancelled_at",
            "make_territory_admin",
        ),
        "invitation_services": rows(Invitation.services.through.objects, "invitation", "service"),
        "invitation_organisations": rows(InvitationOrganisation.objects, "invitation", "organisation", "access_level"),
        "audit": AuditLog.objects.count(),
    }


def as_agent(agent, where):
    """The context `agent` acts with on the pages of `where`: an organisation, an espace, or an object
    of an organisation (RDV, plage, lieu, motif…). `agent=None` is the system (every right in the
    espace). An agent without rights there gets a context without rights, which services refuse."""
    from rdv.accounts.context import organisation_context, territory_context
    from rdv.core.context import ActorKind, Context

    label = where._meta.label
    if label == "territories.Territory":
        organisation, territory = None, where
    elif label == "territories.Organisation":
        organisation, territory = where, where.territory
    elif hasattr(where, "organisation"):
        organisation = where.organisation
        territory = organisation.territory
    else:  # an object of the espace (invitation, custom field…)
        organisation, territory = None, where.territory
    if agent is None:
        return Context.system(territory, organisation)
    if organisation is not None:
        # Not a member: the rights of an espace admin (if any), without access level.
        administers = territory_context(agent, territory) is not None
        return organisation_context(agent, organisation) or Context(
            kind=ActorKind.AGENT,
            territory=territory,
            organisation=organisation,
            agent=agent,
            territory_admin=administers,
        )
    return territory_context(agent, territory) or Context(kind=ActorKind.AGENT, territory=territory, agent=agent)


@contextmanager
def unreachable_database():
    """The default connection re-opened towards nothing: a closed port (PostgreSQL) or a file in a
    directory that does not exist (SQLite). The real driver fails to connect; nothing is patched."""
    connection.close()
    saved = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": port})
        connection.settings_dict["OPTIONS"] = {**connection.settings_dict.get("OPTIONS", {}), "connect_timeout": 2}
    else:
        connection.settings_dict["NAME"] = "/nonexistent-directory/rdv/db.sqlite3"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@contextmanager
def locked_elsewhere(lock, *, timeout: str = "5s"):
    """Run `lock()` in another thread's transaction (its own connection), which keeps what it locked
    until the block ends; meanwhile this connection gives up waiting for a lock after `timeout`
    (PostgreSQL's lock_timeout), so that a test of « not waited for » fails instead of hanging."""
    locked, release = threading.Event(), threading.Event()

    def other_transaction():
        try:
            with transaction.atomic():
                lock()
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_transaction)
    thread.start()
    try:
        assert locked.wait(30), "the other transaction did not take its lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{timeout}'")
        yield
    finally:
        release.set()
        thread.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
