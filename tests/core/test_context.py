"""The request context: who acts, where, with which rights (rdv.core.context). Plain objects: no
database needed for the rules themselves."""

from types import SimpleNamespace

import pytest

from rdv.core.context import AccessLevel, ActorKind, Context, require
from rdv.core.errors import DomainError

ESPACE = SimpleNamespace(pk=1)
OTHER_ESPACE = SimpleNamespace(pk=2)
ORGANISATION = SimpleNamespace(pk=10, territory=ESPACE, territory_id=1)
AGENT = SimpleNamespace(pk=100)


class Usager(SimpleNamespace):
    def __str__(self) -> str:
        return "Jeanne DUPONT"


def agent(level=None, organisation=ORGANISATION, **extra) -> Context:
    return Context(
        kind=ActorKind.AGENT, territory=ESPACE, organisation=organisation, agent=AGENT, access_level=level, **extra
    )


@pytest.mark.parametrize(
    ("ctx", "member", "org_admin", "sees_all"),
    [
        (agent(AccessLevel.ADMIN), True, True, True),
        (agent(AccessLevel.BASIC), True, False, False),
        (agent(AccessLevel.BASIC, secretariat=True), True, False, True),
        (agent(AccessLevel.INTERVENANT), False, False, False),
        (agent(None, secretariat=True), False, False, False),  # no role: no right, secretariat or not
        (agent(AccessLevel.ADMIN, organisation=None), False, False, False),  # a level needs an organisation
        (Context.system(ESPACE, ORGANISATION), True, True, True),
        (Context.system(ESPACE), False, False, False),
        (Context.public(ORGANISATION), False, False, False),
    ],
)
def test_rights_in_the_organisation(ctx, member, org_admin, sees_all):
    assert (ctx.is_member, ctx.is_organisation_admin, ctx.sees_all_rdvs) == (member, org_admin, sees_all)


def test_espace_admin_needs_an_espace():
    assert agent(territory_admin=True).is_territory_admin
    assert not agent().is_territory_admin
    assert Context.system(ESPACE).is_territory_admin
    operator = Context.operator()
    assert operator.is_system and not operator.is_territory_admin
    assert not operator.in_territory(ORGANISATION)


def test_public_actors():
    usager = Usager(pk=5)
    assert Context.public(ORGANISATION).actor == "Usager (en ligne)"
    assert Context.public(ORGANISATION, kind=ActorKind.PRESCRIPTEUR).actor == "Prescripteur (en ligne)"
    assert Context.public(ORGANISATION, usager=usager).actor == "Jeanne DUPONT"
    assert Context.public(ORGANISATION, usager=usager, label="Jeanne (lien)").actor == "Jeanne (lien)"
    ctx = Context.public(ORGANISATION, usager=usager)
    assert ctx.is_public and not ctx.is_system and ctx.territory is ESPACE
    assert not Context.system(ESPACE).is_public and not agent(AccessLevel.BASIC).is_public
    with pytest.raises(ValueError, match="not a public actor"):
        Context.public(ORGANISATION, kind=ActorKind.AGENT)


def test_who_the_journal_names():
    assert agent(AccessLevel.BASIC).actor is AGENT
    assert Context.system(ESPACE).actor == "Système"
    assert Context.system(ESPACE, label="Données de démonstration").actor == "Données de démonstration"
    assert Context(kind=ActorKind.SYSTEM, territory=ESPACE).actor == "Système"


def test_objects_of_the_context_s_espace_and_organisation():
    ctx = agent(AccessLevel.BASIC)
    assert ctx.in_territory(SimpleNamespace(territory_id=1))
    assert not ctx.in_territory(SimpleNamespace(territory_id=2))
    assert not ctx.in_territory(SimpleNamespace())
    assert ctx.in_organisation(SimpleNamespace(organisation_id=10))
    assert not ctx.in_organisation(SimpleNamespace(organisation_id=9))  # a smaller id is another one too
    assert not ctx.in_organisation(SimpleNamespace(organisation_id=11))
    assert not agent(AccessLevel.BASIC, organisation=None).in_organisation(SimpleNamespace(organisation_id=None))
    # Ids are compared by value, not identity: large ints read from two rows are distinct objects.
    big_org = SimpleNamespace(pk=int("1000000"), territory=SimpleNamespace(pk=int("2000000")))
    big = Context(kind=ActorKind.AGENT, territory=big_org.territory, organisation=big_org, agent=AGENT)
    assert big.in_territory(SimpleNamespace(territory_id=int("2000000")))
    assert big.in_organisation(SimpleNamespace(organisation_id=int("1000000")))


def test_is_self():
    ctx = agent(AccessLevel.BASIC)
    assert ctx.is_self(AGENT) and ctx.is_self(100)
    assert not ctx.is_self(SimpleNamespace(pk=101))
    assert not Context.system(ESPACE).is_self(AGENT)
    big = Context(kind=ActorKind.AGENT, territory=ESPACE, agent=SimpleNamespace(pk=int("3000000")))
    assert big.is_self(int("3000000")) and big.is_self(SimpleNamespace(pk=int("3000000")))


def test_only_the_system_kind_is_the_system():
    assert Context.system(ESPACE).is_system and Context.operator().is_system
    for ctx in (agent(AccessLevel.ADMIN, territory_admin=True), Context.public(ORGANISATION)):
        assert not ctx.is_system
    assert not Context.public(ORGANISATION, kind=ActorKind.PRESCRIPTEUR).is_system


def test_require_refuses_with_forbidden():
    require(True)
    with pytest.raises(DomainError) as caught:
        require(False)
    assert caught.value.code == "forbidden" and "droits" in caught.value.message
    with pytest.raises(DomainError, match="Pas ici"):
        require(False, "Pas ici.")


def test_a_context_never_changes():
    from dataclasses import FrozenInstanceError

    ctx = agent(AccessLevel.BASIC)
    with pytest.raises(FrozenInstanceError):
        ctx.access_level = AccessLevel.ADMIN
    assert ctx.access_level == AccessLevel.BASIC
