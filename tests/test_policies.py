"""The policies of every app, as tables: who (access level × service × ownership × other
organisation or espace × public actors) may do what to which object.

One world: alice's espace (tests/conftest.py) with a "Service social" agent (the world's basic
agent), a colleague of the same service, a PMI agent, a secretariat agent, an agent of the other
organisation, bob's espace, an intervenant, an usager online and a prescripteur.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from rdv.accounts import policies as account_policies
from rdv.accounts.context import organisation_context, territory_context
from rdv.accounts.models import AccessLevel
from rdv.agendas import policies as agenda_policies
from rdv.bookings import policies as booking_policies
from rdv.bookings.models import CreatedBy, Participation, Rdv, RdvAgent
from rdv.core.context import ActorKind, Context
from rdv.motifs import policies as motif_policies
from rdv.territories import policies as territory_policies
from rdv.territories.models import Service
from rdv.usagers import policies as usager_policies
from tests import factories
from tests.helpers import as_agent

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 9, 8, 0, tzinfo=PARIS)


@dataclass
class P:
    alice: object
    bob: object
    colleague: object  # basic, Service social, not taking part in the RDVs
    pmi_agent: object  # basic, PMI
    secretariat: object  # basic, Secrétariat
    nord_agent: object  # basic agent of the other organisation, Service social
    intervenant: object
    social_motif: object
    pmi_motif: object
    online_motif: object  # open online to everyone
    prescripteur_motif: object  # agents and prescripteurs only
    archived_motif: object
    nord_motif: object  # of the other organisation
    lieu: object
    nord_lieu: object
    social_rdv: object  # Service social, taken by the basic agent
    pmi_rdv: object  # PMI, the basic agent takes part
    online_rdv: object  # booked online by `usager`, in 3 days
    usager: object  # member of the organisation, participant of social_rdv and online_rdv
    relative: object  # `usager`'s relative
    nord_usager: object  # member of the other organisation only
    field: object
    bob_field: object


@pytest.fixture
def p(alice, bob):
    with time_machine.travel(NOW, tick=False):
        yield _world(alice, bob)


def _world(alice, bob) -> P:
    organisation, territory = alice.organisation, alice.territory
    pmi = factories.ServiceFactory(name="PMI")
    secretariat_service, _ = Service.objects.get_or_create(name="Secrétariat", defaults={"is_secretariat": True})
    for service in (pmi, secretariat_service):
        factories.TerritoryServiceFactory(territory=territory, service=service)

    def agent(email, service, where=organisation, level=AccessLevel.BASIC):
        person = factories.AgentFactory(email=email)
        factories.AgentRoleFactory(agent=person, organisation=where, access_level=level)
        if service is not None:
            factories.AgentServiceFactory(agent=person, territory=territory, service=service)
        return person

    colleague = agent("collegue@exemple.fr", alice.service)
    pmi_agent = agent("pmi@exemple.fr", pmi)
    secretariat = agent("secretariat@exemple.fr", secretariat_service)
    nord_agent = agent("nord@exemple.fr", alice.service, alice.other_organisation)
    intervenant = agent("intervenant@exemple.fr", alice.service, level=AccessLevel.INTERVENANT)

    def motif(name, service=alice.service, where=organisation, **extra):
        return factories.MotifFactory(organisation=where, service=service, name=name, **extra)

    social_motif = motif("Accueil social")
    pmi_motif = motif("Consultation", service=pmi)
    online_motif = motif("En ligne", bookable_online=True, bookable_by="everyone", usager_can_move=True)
    prescripteur_motif = motif("Prescrit", bookable_by="agents_and_prescripteurs")
    archived_motif = motif("Archivé", archived_at=NOW)
    nord_motif = motif("Accueil nord", where=alice.other_organisation)
    lieu = factories.LieuFactory(organisation=organisation)
    nord_lieu = factories.LieuFactory(organisation=alice.other_organisation)
    usager = factories.UsagerFactory(territory=territory, organisations=[organisation])
    relative = factories.UsagerFactory(territory=territory, organisations=[organisation], responsible=usager)
    nord_usager = factories.UsagerFactory(territory=territory, organisations=[alice.other_organisation])

    def rdv(motif, agent, start, usagers=(), **extra):
        created = Rdv.objects.create(
            organisation=organisation, motif=motif, starts_at=start, ends_at=start + timedelta(minutes=30), **extra
        )
        RdvAgent.objects.create(rdv=created, agent=agent, starts_at=created.starts_at, ends_at=created.ends_at)
        for person in usagers:
            Participation.objects.create(rdv=created, usager=person)
        return created

    social_rdv = rdv(social_motif, alice.agent, NOW + timedelta(days=1), [usager])
    pmi_rdv = rdv(pmi_motif, alice.agent, NOW + timedelta(days=1, hours=1), [relative])
    online_rdv = rdv(online_motif, colleague, NOW + timedelta(days=3), [usager], created_by=CreatedBy.USAGER)
    return P(
        alice,
        bob,
        colleague,
        pmi_agent,
        secretariat,
        nord_agent,
        intervenant,
        social_motif,
        pmi_motif,
        online_motif,
        prescripteur_motif,
        archived_motif,
        nord_motif,
        lieu,
        nord_lieu,
        social_rdv,
        pmi_rdv,
        online_rdv,
        usager,
        relative,
        nord_usager,
        factories.CustomFieldFactory(territory=territory),
        factories.CustomFieldFactory(territory=bob.territory),
    )


# The actors, on the pages of alice's first organisation (or of her espace for "espace_*").
def actor(p: P, name: str) -> Context:
    org = p.alice.organisation
    return {
        "espace_admin": lambda: as_agent(p.alice.territory_admin, p.alice.territory),
        "org_admin_at_espace": lambda: as_agent(p.alice.organisation_admin, p.alice.territory),
        "other_espace_admin": lambda: as_agent(p.bob.territory_admin, p.bob.territory),
        "org_admin": lambda: as_agent(p.alice.organisation_admin, org),
        "basic": lambda: as_agent(p.alice.agent, org),
        "colleague": lambda: as_agent(p.colleague, org),
        "pmi": lambda: as_agent(p.pmi_agent, org),
        "secretariat": lambda: as_agent(p.secretariat, org),
        "nord": lambda: as_agent(p.nord_agent, p.alice.other_organisation),
        "other_espace": lambda: as_agent(p.bob.organisation_admin, p.bob.organisation),
        "usager": lambda: Context.public(org, usager=p.usager),
        "stranger_usager": lambda: Context.public(org, usager=p.nord_usager),
        "anonymous_usager": lambda: Context.public(org),
        "prescripteur": lambda: Context.public(org, kind=ActorKind.PRESCRIPTEUR),
        # A prescripteur who booked for the usager (the file they created is the person booked for).
        "prescripteur_for_usager": lambda: Context.public(org, kind=ActorKind.PRESCRIPTEUR, usager=p.usager),
        "system": lambda: Context.system(p.alice.territory, org),
        "operator": lambda: Context.operator(),
    }[name]()


def check(p, table, predicate):
    """`table`: {actor: expected}. Every row is checked; all mismatches are reported at once."""
    got = {name: predicate(actor(p, name)) for name in table}
    assert got == table


# The context itself ------------------------------------------------------------------------------


def test_contexts_are_built_only_for_members_and_espace_admins(p):
    org = p.alice.organisation
    assert organisation_context(p.alice.agent, org) is not None
    assert organisation_context(p.intervenant, org) is None  # no login, no pages
    assert organisation_context(p.nord_agent, org) is None  # another organisation
    assert organisation_context(p.bob.territory_admin, org) is None  # another espace
    assert organisation_context(p.alice.territory_admin, p.alice.other_organisation) is None  # espace admin only
    assert territory_context(p.alice.territory_admin, p.alice.territory) is not None
    assert territory_context(p.alice.organisation_admin, p.alice.territory) is None
    assert territory_context(p.bob.territory_admin, p.alice.territory) is None
    p.alice.agent.is_active = False
    assert organisation_context(p.alice.agent, org) is None


def test_a_context_reads_services_of_its_espace_only(p):
    # The basic agent also works for PMI and the secretariat… in bob's espace.
    factories.AgentRoleFactory(agent=p.alice.agent, organisation=p.bob.organisation)
    for service in Service.objects.filter(name__in=["PMI", "Secrétariat"]):
        factories.AgentServiceFactory(agent=p.alice.agent, territory=p.bob.territory, service=service)
    ctx = actor(p, "basic")
    assert ctx.service_ids == frozenset({p.alice.service.pk})
    assert ctx.secretariat is False and ctx.sees_all_rdvs is False
    in_bob = as_agent(p.alice.agent, p.bob.organisation)
    assert in_bob.secretariat is True and in_bob.sees_all_rdvs is True


def test_who_sees_every_rdv_of_the_organisation(p):
    table = {"org_admin": True, "secretariat": True, "system": True, "basic": False, "pmi": False, "usager": False}
    check(p, table, lambda ctx: ctx.sees_all_rdvs)


# Espace administration ---------------------------------------------------------------------------


def test_espace_administration(p):
    table = {
        "espace_admin": True,
        "system": True,
        "org_admin_at_espace": False,
        "org_admin": False,  # an organisation admin who is not espace admin
        "basic": False,
        "usager": False,
        "operator": False,  # operators create espaces; they have no right inside one
    }
    check(p, table, territory_policies.can_administer)
    check(
        p,
        {"espace_admin": True, "other_espace_admin": False},
        lambda c: territory_policies.can_change_organisation(c, p.alice.other_organisation),
    )


def test_agent_management_reaches_the_agents_of_the_espace_only(p):
    table = {"espace_admin": True, "other_espace_admin": False, "org_admin_at_espace": False, "system": True}
    check(p, table, lambda ctx: account_policies.can_edit_agent(ctx, p.nord_agent))
    check(p, {"espace_admin": True, "org_admin_at_espace": False}, account_policies.can_manage_agents)
    scope = set(account_policies.agents_scope(actor(p, "espace_admin")))
    assert {p.nord_agent, p.pmi_agent, p.intervenant} <= scope
    assert p.bob.agent not in scope


# Motifs ------------------------------------------------------------------------------------------


def test_who_manages_a_motif(p):
    table = {
        "espace_admin": True,  # espace level: every motif of the espace
        "other_espace_admin": False,
        "org_admin_at_espace": False,
        "org_admin": True,
        "basic": False,
        "secretariat": False,
        "nord": False,
        "usager": False,
        "system": True,
    }
    check(p, table, lambda ctx: motif_policies.can_manage(ctx, p.social_motif))
    # On an organisation's pages, only that organisation's motifs.
    check(p, {"org_admin": False, "espace_admin": True}, lambda ctx: motif_policies.can_manage(ctx, p.nord_motif))


@pytest.mark.parametrize(
    ("motif", "table"),
    [
        (
            "social_motif",
            {"org_admin": True, "basic": True, "colleague": True, "pmi": False, "secretariat": True, "nord": False},
        ),
        ("pmi_motif", {"org_admin": True, "basic": False, "pmi": True, "secretariat": True}),
        ("archived_motif", {"org_admin": False, "basic": False, "system": False}),
        ("nord_motif", {"org_admin": False, "system": False, "nord": True}),  # its own organisation
        (
            "online_motif",
            {"usager": True, "anonymous_usager": True, "prescripteur": True, "basic": True, "other_espace": False},
        ),
        ("prescripteur_motif", {"usager": False, "prescripteur": True, "basic": True}),
        ("social_motif", {"usager": False, "prescripteur": False, "espace_admin": False}),
    ],
)
def test_who_may_book_a_motif(p, motif, table):
    check(p, table, lambda ctx: motif_policies.can_book(ctx, getattr(p, motif)))


# Lieux and agendas --------------------------------------------------------------------------------


def test_who_manages_lieux_and_agendas(p):
    check(
        p,
        {"org_admin": True, "system": True, "basic": False, "secretariat": False, "usager": False, "nord": False},
        agenda_policies.can_manage_lieux,
    )
    check(p, {"org_admin": True, "nord": False}, lambda ctx: agenda_policies.can_manage_lieu(ctx, p.lieu))
    # Whose agenda: the admin every member's (intervenants included); a basic agent their own.
    agent = p.alice.agent
    check(
        p,
        {"org_admin": True, "basic": True, "colleague": False, "secretariat": False, "nord": False, "usager": False},
        lambda ctx: agenda_policies.can_manage_agenda(ctx, agent),
    )
    check(p, {"org_admin": True, "basic": False}, lambda ctx: agenda_policies.can_manage_agenda(ctx, p.intervenant))
    check(p, {"org_admin": False, "system": False}, lambda ctx: agenda_policies.can_manage_agenda(ctx, p.nord_agent))
    check(p, {"basic": True, "nord": True, "usager": False, "espace_admin": False}, agenda_policies.can_search_slots)


# Usagers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("territory_wide", [False, True])
def test_who_reads_and_changes_usager_files(p, territory_wide):
    p.alice.territory.usagers_visible_territory_wide = territory_wide
    p.alice.territory.save()
    check(
        p,
        {"basic": True, "org_admin": True, "nord": territory_wide, "other_espace": False, "usager": False},
        lambda ctx: usager_policies.can_see(ctx, p.usager),
    )
    check(p, {"basic": True, "nord": False, "other_espace": False}, lambda ctx: usager_policies.can_edit(ctx, p.usager))
    check(
        p,
        {"basic": territory_wide, "system": territory_wide, "nord": True, "other_espace": False},
        lambda ctx: usager_policies.can_add_to_organisation(ctx, p.nord_usager),
    )
    # Online, an usager attaches themselves and their relatives, nobody else.
    check(
        p, {"usager": True, "stranger_usager": False}, lambda c: usager_policies.can_add_to_organisation(c, p.relative)
    )
    check(p, {"basic": True, "usager": True, "prescripteur": True, "espace_admin": False}, usager_policies.can_create)


def test_who_manages_custom_fields(p):
    table = {"espace_admin": True, "org_admin_at_espace": False, "other_espace_admin": False, "basic": False}
    check(p, table, lambda ctx: usager_policies.can_manage_custom_field(ctx, p.field))
    check(p, {"other_espace_admin": True}, lambda ctx: usager_policies.can_manage_custom_field(ctx, p.bob_field))


# RDVs --------------------------------------------------------------------------------------------


def test_who_sees_and_changes_each_rdv(p):
    def both(rdv):
        return lambda ctx: (booking_policies.can_see(ctx, rdv), booking_policies.can_change(ctx, rdv))

    social = {
        "org_admin": (True, True),
        "basic": (True, True),  # their service, and they take part
        "colleague": (True, True),  # their service
        "pmi": (False, False),
        "secretariat": (True, True),
        "nord": (False, False),
        "other_espace": (False, False),
        "espace_admin": (False, False),  # espace admins go through the espace pages, not the RDVs
        "usager": (True, False),  # their own RDV: read online, changed only through cancel/move
        "stranger_usager": (False, False),
        "anonymous_usager": (False, False),
        "prescripteur": (False, False),
        "prescripteur_for_usager": (False, False),  # prescripteurs book; they read nothing afterwards
        "system": (True, True),
    }
    check(p, social, both(p.social_rdv))
    pmi = {
        "basic": (True, True),  # not their service, but they take part
        "colleague": (False, False),
        "pmi": (True, True),
        "usager": (True, False),  # their relative's RDV
    }
    check(p, pmi, both(p.pmi_rdv))


def test_override_is_for_agents_only(p):
    check(p, {"basic": True, "org_admin": True, "usager": False, "prescripteur": False}, booking_policies.can_override)


@pytest.mark.parametrize(
    ("hours_before", "cancel", "move"),
    [
        (72, True, True),
        (48.5, True, True),
        (48, True, True),
        (47.9, True, False),
        (4, True, False),
        (3.9, False, False),
    ],
)
def test_usagers_cancel_until_4_hours_and_move_until_48_hours_before(p, hours_before, cancel, move):
    rdv = p.online_rdv
    now = rdv.starts_at - timedelta(hours=hours_before)
    ctx = actor(p, "usager")
    assert booking_policies.can_cancel(ctx, rdv, now=now) is cancel
    assert booking_policies.can_move(ctx, rdv, now=now) is move
    assert booking_policies.can_cancel(actor(p, "stranger_usager"), rdv, now=now) is False
    assert booking_policies.can_cancel(actor(p, "prescripteur"), rdv, now=now) is False
    assert booking_policies.can_cancel(actor(p, "prescripteur_for_usager"), rdv, now=now) is False
    assert booking_policies.can_move(actor(p, "prescripteur_for_usager"), rdv, now=now) is False
    assert booking_policies.can_cancel(actor(p, "colleague"), rdv, now=now) is True  # agents: any time


@pytest.mark.parametrize(
    ("change", "cancel", "move"),
    [
        ({"usager_can_cancel": False}, False, True),
        ({"usager_can_move": False}, True, False),
    ],
)
def test_the_motif_says_whether_usagers_cancel_or_move(p, change, cancel, move):
    for name, value in change.items():
        setattr(p.online_motif, name, value)
    p.online_motif.save()
    rdv = Rdv.objects.get(pk=p.online_rdv.pk)
    ctx = actor(p, "usager")
    assert booking_policies.can_cancel(ctx, rdv, now=NOW) is cancel
    assert booking_policies.can_move(ctx, rdv, now=NOW) is move


def test_usagers_move_only_individual_rdvs_they_booked_online_and_never_cancelled_ones(p):
    ctx = actor(p, "usager")
    rdv = p.online_rdv
    assert booking_policies.can_move(ctx, rdv, now=NOW)
    rdv.created_by = CreatedBy.AGENT
    assert not booking_policies.can_move(ctx, rdv, now=NOW)
    rdv.created_by = CreatedBy.PRESCRIPTEUR  # booked online for them by a professional
    assert booking_policies.can_move(ctx, rdv, now=NOW)
    rdv.created_by, rdv.collective = CreatedBy.USAGER, True
    assert not booking_policies.can_move(ctx, rdv, now=NOW)
    rdv.collective, rdv.status = False, "excused"
    assert not booking_policies.can_move(ctx, rdv, now=NOW)
    assert not booking_policies.can_cancel(ctx, rdv, now=NOW)


def test_the_default_now_is_the_real_time(p):
    """Without `now`, the deadlines are measured from the current time."""
    ctx = actor(p, "usager")
    with time_machine.travel(p.online_rdv.starts_at - timedelta(hours=47), tick=False):
        assert booking_policies.can_cancel(ctx, p.online_rdv)
        assert not booking_policies.can_move(ctx, p.online_rdv)
    with time_machine.travel(
        datetime.combine(p.online_rdv.starts_at.date(), time(0), tzinfo=PARIS) - timedelta(days=5)
    ):
        assert booking_policies.can_move(ctx, p.online_rdv)


def test_espace_scopes_list_the_espace_s_organisations_and_journal_for_its_admins_only(p):
    from rdv.core.audit import log_action

    admin, other = actor(p, "espace_admin"), actor(p, "org_admin_at_espace")
    assert set(territory_policies.organisations_scope(admin)) == {p.alice.organisation, p.alice.other_organisation}
    assert not territory_policies.organisations_scope(other).exists()
    kept = log_action(p.alice.territory_admin, "organisation.renamed", p.alice.organisation, {})
    log_action(p.alice.agent, "usager.updated", p.usager, {}, territory=p.alice.territory)  # the file's own history
    log_action(p.bob.territory_admin, "organisation.renamed", p.bob.organisation, {})
    assert list(territory_policies.journal_scope(admin)) == [kept]
    assert not territory_policies.journal_scope(other).exists()


def test_invitations_and_custom_fields_are_listed_to_the_espace_admins_of_their_espace(p):
    from rdv.accounts.services import invite_agent

    invitation = invite_agent(
        actor(p, "espace_admin"), "invite@exemple.fr", [p.alice.service], {p.alice.organisation: AccessLevel.BASIC}
    ).invitation
    assert list(account_policies.invitations_scope(actor(p, "espace_admin"))) == [invitation]
    for name in ("org_admin_at_espace", "other_espace_admin"):
        assert invitation not in account_policies.invitations_scope(actor(p, name))
    assert list(usager_policies.custom_fields_scope(actor(p, "espace_admin"))) == [p.field]
    assert not usager_policies.custom_fields_scope(actor(p, "org_admin_at_espace")).exists()
    assert list(usager_policies.custom_fields_scope(actor(p, "other_espace_admin"))) == [p.bob_field]


def test_members_change_the_files_of_their_organisation_only(p):
    p.alice.territory.usagers_visible_territory_wide = True
    p.alice.territory.save()
    basic = actor(p, "basic")
    assert set(usager_policies.members_scope(basic)) == {p.usager, p.relative}
    assert p.nord_usager in set(usager_policies.scope(basic))  # readable espace-wide, not changeable
    assert not usager_policies.members_scope(actor(p, "usager")).exists()
    outsider = as_agent(p.bob.agent, p.alice.organisation)  # no role here: a context without rights
    assert not usager_policies.members_scope(outsider).exists()
    assert not usager_policies.can_create(outsider)


@pytest.mark.parametrize(
    ("roles", "superuser", "espace_admin", "active", "expected"),
    [
        ([AccessLevel.BASIC], False, False, True, True),
        ([AccessLevel.INTERVENANT], False, False, True, False),  # intervenants never log in
        ([AccessLevel.INTERVENANT, AccessLevel.BASIC], False, False, True, True),
        ([AccessLevel.INTERVENANT], False, True, True, True),  # espace admins always log in
        ([AccessLevel.INTERVENANT], True, False, True, True),  # operators too
        ([], False, False, True, True),  # an account without role yet (invited elsewhere)
        ([AccessLevel.BASIC], False, False, False, False),  # deactivated
    ],
)
def test_who_may_log_in(p, roles, superuser, espace_admin, active, expected):
    person = factories.AgentFactory(email="login@exemple.fr", is_superuser=superuser, is_active=active)
    organisations = [p.alice.organisation, p.alice.other_organisation]
    for organisation, level in zip(organisations, roles, strict=False):
        factories.AgentRoleFactory(agent=person, organisation=organisation, access_level=level)
    if espace_admin:
        factories.TerritoryRoleFactory(agent=person, territory=p.alice.territory)
    assert account_policies.can_log_in(person) is expected


def test_agenda_scopes(p):
    org = p.alice.organisation
    mine = factories.PlageOuvertureFactory(organisation=org, agent=p.alice.agent, lieu=p.lieu)
    colleague = factories.PlageOuvertureFactory(organisation=org, agent=p.colleague, lieu=p.lieu)
    factories.PlageOuvertureFactory(organisation=p.alice.other_organisation, agent=p.nord_agent, lieu=p.nord_lieu)
    away = factories.AbsenceFactory(organisation=org, agent=p.alice.agent)
    colleague_away = factories.AbsenceFactory(organisation=org, agent=p.colleague)
    factories.AbsenceFactory(organisation=p.alice.other_organisation, agent=p.nord_agent)
    admin, basic, outsider = actor(p, "org_admin"), actor(p, "basic"), actor(p, "usager")
    assert set(agenda_policies.plages_scope(admin)) == {mine, colleague}
    assert set(agenda_policies.plages_scope(basic)) == {mine}
    assert not agenda_policies.plages_scope(outsider).exists()
    assert set(agenda_policies.absences_scope(admin)) == {away, colleague_away}
    assert set(agenda_policies.absences_scope(basic)) == {away}
    assert not agenda_policies.absences_scope(outsider).exists()
    assert set(agenda_policies.lieux_scope(basic)) == {p.lieu}
    assert not agenda_policies.lieux_scope(outsider).exists()
    members = {p.alice.organisation_admin, p.alice.agent, p.colleague, p.pmi_agent, p.secretariat, p.intervenant}
    members.add(p.alice.territory_admin)  # admin of the organisation too (tests/conftest.py)
    assert set(agenda_policies.agendas_scope(admin)) == members
    assert list(agenda_policies.agendas_scope(basic)) == [p.alice.agent]
    assert not agenda_policies.agendas_scope(outsider).exists()
    assert agenda_policies.can_manage_plage(basic, mine) and not agenda_policies.can_manage_plage(basic, colleague)
    assert agenda_policies.can_manage_absence(admin, colleague_away)
    assert not agenda_policies.can_manage_absence(basic, colleague_away)


def test_motif_scopes(p):
    espace_admin, other = actor(p, "espace_admin"), actor(p, "org_admin_at_espace")
    assert p.nord_motif in set(motif_policies.scope(espace_admin))  # espace level: every organisation
    assert not motif_policies.scope(other).exists()
    assert p.nord_motif not in set(motif_policies.scope(actor(p, "basic")))
    assert p.social_motif in set(motif_policies.scope(actor(p, "basic")))
    assert not motif_policies.scope(actor(p, "usager")).exists()  # the public reads bookable_scope
    assert not motif_policies.scope(actor(p, "other_espace_admin")).filter(pk=p.social_motif.pk).exists()
    assert motif_policies.can_create(espace_admin) and not motif_policies.can_create(other)
    assert motif_policies.can_create(actor(p, "org_admin")) and not motif_policies.can_create(actor(p, "basic"))
    # An organisation admin creates in their organisation only, whichever is numbered first.
    nord_admin = as_agent(p.nord_agent, p.alice.other_organisation)
    assert not motif_policies.can_create_in(nord_admin, p.alice.organisation)  # basic there
    factories.AgentRoleFactory(
        agent=p.colleague, organisation=p.alice.other_organisation, access_level=AccessLevel.ADMIN
    )
    in_nord = as_agent(p.colleague, p.alice.other_organisation)
    assert motif_policies.can_create_in(in_nord, p.alice.other_organisation)
    assert not motif_policies.can_create_in(in_nord, p.alice.organisation)
    assert not motif_policies.can_create_in(actor(p, "org_admin"), p.alice.other_organisation)
    assert not motif_policies.bookable_scope(espace_admin).exists()  # no organisation: nothing to book


def test_undelivered_messages_show_their_details_to_who_may_see_their_object(p):
    from rdv.outbox import policies as outbox_policies
    from rdv.outbox.services import enqueue_email

    def message(about):
        return enqueue_email(to="x@exemple.fr", subject="…", text="…", about=about, territory=p.alice.territory)

    about_organisation = message(p.alice.organisation)  # no registered rule: details hidden
    about_rdv = message(p.social_rdv)
    espace_admin = actor(p, "espace_admin")  # also admin of the RDV's organisation
    assert outbox_policies.details_visible(espace_admin, [about_organisation, about_rdv]) == {about_rdv.pk}
    assert outbox_policies.details_visible(actor(p, "other_espace_admin"), [about_rdv]) == set()
    assert outbox_policies.can_view_page(espace_admin) and not outbox_policies.can_view_page(actor(p, "basic"))
    assert set(outbox_policies.scope(espace_admin)) == {about_organisation, about_rdv}
    assert not outbox_policies.scope(actor(p, "org_admin_at_espace")).exists()
