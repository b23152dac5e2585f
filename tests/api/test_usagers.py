"""/api/v1/organisations/{id}/usagers: search, create, read, update usager files with the pages' rules."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rdv.core.models import AuditLog
from rdv.usagers.models import Usager
from tests import factories
from tests.api.people import MEMBERS, OUTSIDERS, person, unchanged

pytestmark = pytest.mark.django_db


def url(world_or_org, usager_id=None):
    organisation = getattr(world_or_org, "organisation", world_or_org)
    base = f"/api/v1/organisations/{organisation.pk}/usagers"
    return base if usager_id is None else f"{base}/{usager_id}"


def usager_of(organisation, **fields):
    return factories.UsagerFactory(territory=organisation.territory, organisations=[organisation], **fields)


# Rights ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", MEMBERS)
def test_members_search_create_read_and_update_the_organisation_s_files(alice, api, who):
    client = api(person(who, alice, bob=None))
    usager_of(alice.organisation, first_name="Camille", last_name="Martin")
    listed = client.get(url(alice), {"q": "martin"})
    assert listed.status_code == 200
    assert [u["last_name"] for u in listed.json()["usagers"]] == ["Martin"]

    created = client.post(url(alice), {"first_name": "Léa", "last_name": "Durand", "phone_number": "06 12 34 56 78"})
    assert created.status_code == 201, created.json()
    record = created.json()["usager"]
    assert record["phone_number"] == "+33612345678"
    assert record["organisation_ids"] == [alice.organisation.pk]

    assert client.get(url(alice, record["id"])).json()["usager"]["last_name"] == "Durand"
    changed = client.patch(url(alice, record["id"]), {"email": "Lea.Durand@Exemple.fr"})
    assert changed.status_code == 200
    assert changed.json()["usager"]["email"] == "lea.durand@exemple.fr"
    assert Usager.objects.get(pk=record["id"]).email == "lea.durand@exemple.fr"


@pytest.mark.parametrize("who", OUTSIDERS)
def test_agents_of_another_organisation_or_espace_get_404_and_change_nothing(alice, bob, api, who):
    client = api(person(who, alice, bob))
    usager = usager_of(alice.organisation)
    with unchanged("usagers.Usager"):
        for response in (
            client.get(url(alice)),
            client.post(url(alice), {"first_name": "Léa", "last_name": "Durand"}),
            client.get(url(alice, usager.pk)),
            client.patch(url(alice, usager.pk), {"first_name": "Piratée"}),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"


def test_a_file_of_another_organisation_is_404_through_one_s_own_organisation(alice, api):
    usager = usager_of(alice.other_organisation)
    client = api(alice.agent)
    assert client.get(url(alice, usager.pk)).status_code == 404
    assert client.patch(url(alice, usager.pk), {"first_name": "X"}).status_code == 404
    assert client.get(url(alice), {"territory_wide": "true"}).json()["usagers"] == []


def test_espace_wide_files_are_readable_but_only_the_organisation_s_files_change(alice, api):
    alice.territory.usagers_visible_territory_wide = True
    alice.territory.save()
    usager = usager_of(alice.other_organisation, last_name="Lointain")
    client = api(alice.agent)
    assert client.get(url(alice)).json()["usagers"] == []
    wide = client.get(url(alice), {"territory_wide": "true"}).json()["usagers"]
    assert [u["id"] for u in wide] == [usager.pk]
    assert client.get(url(alice, usager.pk)).status_code == 200
    with unchanged("usagers.Usager"):
        refused = client.patch(url(alice, usager.pk), {"first_name": "X"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


# What an agent may see ------------------------------------------------------------------------------


def test_fields_the_espace_hides_are_null_and_ignored_on_input(alice, api):
    alice.territory.hidden_usager_fields = ["email", "phone", "city", "notes"]
    alice.territory.save()
    usager = usager_of(
        alice.organisation, email="cache@exemple.fr", phone="+33612345678", address="1 rue Haute", city="Valence"
    )
    usager.notes = "secret"
    usager.save()
    record = api(alice.agent).get(url(alice, usager.pk)).json()["usager"]
    assert record["email"] is None and record["phone_number"] is None and record["notes"] is None
    assert record["city"] is None and record["address"] == "1 rue Haute" and record["address_line"] == "1 rue Haute"
    assert "cache@exemple.fr" not in str(record) and "Valence" not in str(record)

    created = api(alice.agent).post(url(alice), {"first_name": "A", "last_name": "B", "email": "x@exemple.fr"})
    assert created.status_code == 201
    assert Usager.objects.get(pk=created.json()["usager"]["id"]).email == ""


def test_the_nested_responsible_is_shown_only_when_the_agent_may_read_that_file(alice, api):
    parent_here = usager_of(alice.organisation, last_name="Parent")
    parent_elsewhere = usager_of(alice.other_organisation, last_name="Ailleurs")
    child_here = usager_of(alice.organisation, last_name="Enfant", responsible=parent_here)
    child_of_elsewhere = usager_of(alice.organisation, last_name="Enfant2", responsible=parent_elsewhere)
    client = api(alice.agent)
    assert client.get(url(alice, child_here.pk)).json()["usager"]["responsible"]["last_name"] == "Parent"
    hidden = client.get(url(alice, child_of_elsewhere.pk)).json()["usager"]
    assert hidden["responsible"] is None and "Ailleurs" not in str(hidden)


def test_custom_fields_are_listed_written_and_checked_by_the_service(alice, api):
    number = factories.CustomFieldFactory(territory=alice.territory, label="Quotient", kind="number")
    choice = factories.CustomFieldFactory(territory=alice.territory, label="Canal", kind="choice", choices=["Mail"])
    archived = factories.CustomFieldFactory(territory=alice.territory, label="Ancien")
    archived.archived_at = archived.created_at
    archived.save()
    client = api(alice.agent)
    created = client.post(
        url(alice), {"first_name": "A", "last_name": "B", "custom_fields": {number.key: "3,5", choice.key: "Mail"}}
    )
    assert created.status_code == 201, created.json()
    values = {f["label"]: f["value"] for f in created.json()["usager"]["custom_fields"]}
    assert values == {"Quotient": 3.5, "Canal": "Mail"}
    usager_id = created.json()["usager"]["id"]

    with unchanged("usagers.Usager"):
        wrong = client.patch(url(alice, usager_id), {"custom_fields": {choice.key: "Pigeon"}})
        assert wrong.status_code == 422 and wrong.json()["code"] == "custom_field_invalid_choice"
        for key in (archived.key, "cf_999999", "x" * 500):
            unknown = client.patch(url(alice, usager_id), {"custom_fields": {key: "1"}})
            assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_custom_field"
        nested = client.patch(url(alice, usager_id), {"custom_fields": {number.key: [1, 2]}})
        assert nested.status_code == 422

    cleared = client.patch(url(alice, usager_id), {"custom_fields": {number.key: None}})
    assert Usager.objects.get(pk=usager_id).custom_values == {choice.key: "Mail"}
    assert cleared.json()["usager"]["custom_fields"][0]["value"] is None


def test_a_required_custom_field_must_be_given_at_creation(alice, api):
    required = factories.CustomFieldFactory(territory=alice.territory, label="Dossier", required=True)
    client = api(alice.agent)
    with unchanged("usagers.Usager"):
        refused = client.post(url(alice), {"first_name": "A", "last_name": "B"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == f"custom_fields.{required.key}"


# Rules of the service -------------------------------------------------------------------------------


def test_relatives_follow_the_service_s_rules(alice, api):
    client = api(alice.agent)
    parent = usager_of(alice.organisation, last_name="Parent")
    child = client.post(url(alice), {"first_name": "Enfant", "last_name": "Parent", "responsible_id": parent.pk})
    assert child.status_code == 201 and child.json()["usager"]["responsible_id"] == parent.pk
    child_id = child.json()["usager"]["id"]
    elsewhere = usager_of(alice.other_organisation)
    with unchanged("usagers.Usager"):
        grandchild = client.post(url(alice), {"first_name": "P", "last_name": "E", "responsible_id": child_id})
        assert grandchild.status_code == 422 and grandchild.json()["code"] == "responsible_is_relative"
        for unknown in (elsewhere.pk, 999_999, 2**63 - 1):
            refused = client.post(url(alice), {"first_name": "P", "last_name": "E", "responsible_id": unknown})
            assert refused.status_code == 404  # as every id out of reach
            assert refused.json()["errors"][0]["field"] == "responsible_id"
    detached = client.patch(url(alice, child_id), {"responsible_id": None})
    assert detached.json()["usager"]["responsible_id"] is None


def test_a_likely_duplicate_is_409_unless_the_client_confirms(alice, api):
    existing = usager_of(alice.organisation, email="jean@exemple.fr")
    client = api(alice.agent)
    data = {"first_name": "Jean", "last_name": "Autre", "email": "JEAN@exemple.fr"}
    with unchanged("usagers.Usager"):
        refused = client.post(url(alice), data)
    assert refused.status_code == 409 and refused.json()["code"] == "duplicate"
    assert f"n° {existing.pk}" in refused.json()["errors"][0]["message"]
    assert client.post(url(alice), {**data, "ignore_duplicates": True}).status_code == 201


@pytest.mark.parametrize(
    "data, field",
    [
        ({"first_name": "A"}, "last_name"),
        ({"first_name": "", "last_name": "B"}, "first_name"),
        ({"first_name": 12, "last_name": "B"}, "first_name"),
        ({"first_name": "A", "last_name": "B", "birth_date": "31/12/1990"}, "birth_date"),
        ({"first_name": "A", "last_name": "B", "birth_date": "1990-01-02T10:00:00"}, "birth_date"),
        ({"first_name": "A", "last_name": "B", "birth_date": "2999-01-01"}, "birth_date"),
        ({"first_name": "A", "last_name": "B", "phone_number": "12"}, "phone_number"),
        ({"first_name": "A", "last_name": "B", "phone_number": "0" * 100_000}, "phone_number"),
        ({"first_name": "A", "last_name": "B", "email": "pas-une-adresse"}, "email"),
        ({"first_name": "x" * 100_000, "last_name": "B"}, "first_name"),
        ({"first_name": "A", "last_name": "B", "number_of_children": "beaucoup"}, "number_of_children"),
        ({"first_name": "A", "last_name": "B", "number_of_children": 2**70}, "number_of_children"),
        ({"first_name": "A", "last_name": "B", "family_situation": "compliquée"}, "family_situation"),
        ({"first_name": "A", "last_name": "B", "caisse_affiliation": "caf"}, "caisse_affiliation"),
        ({"first_name": "A", "last_name": "B", "notify_by_sms": "peut-être"}, "notify_by_sms"),
        ({"first_name": "A", "last_name": "B", "notify_by_email": 1}, "notify_by_email"),
        ({"first_name": "A", "last_name": "B", "birth_date": 0}, "birth_date"),
    ],
)
def test_bad_input_is_422_with_the_field_and_changes_nothing(alice, api, data, field):
    client = api(alice.agent)
    with unchanged("usagers.Usager"):
        response = client.post(url(alice), data)
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert body["message"] and body["errors"][0]["message"]


def test_bad_bodies_and_ids_are_4xx_json(alice, api):
    usager = usager_of(alice.organisation)
    client = api(alice.agent)
    with unchanged("usagers.Usager"):
        assert client.post(url(alice), "{pas du json").status_code == 400
        assert client.post(url(alice), [1, 2]).status_code == 422
        assert client.patch(url(alice, usager.pk), {"last_name": None}).json()["code"] == "last_name_required"
        for usager_id in (2**63, 2**70, -1, 0):
            assert client.get(url(alice, usager_id)).status_code == 404
        assert client.get(url(alice, "abc")).status_code == 422
        assert client.get(url(alice), {"q": "x" * 101}).status_code == 422


def test_search_finds_by_name_without_accents_e_mail_and_phone(alice, api):
    usager_of(alice.organisation, first_name="Hélène", last_name="Écrivain")
    usager_of(alice.organisation, last_name="Autre", email="contact@exemple.fr", phone="+33612345678")
    client = api(alice.agent)

    def found(q):
        return [u["last_name"] for u in client.get(url(alice), {"q": q}).json()["usagers"]]

    assert found("helene ecri") == ["Écrivain"]
    assert found("contact@exemple") == ["Autre"]
    assert found("06 12 34 56 78") == ["Autre"]
    assert found("") == ["Autre", "Écrivain"]


# Journal, idempotency, pagination ------------------------------------------------------------------


def test_the_service_journals_creations_and_changes_by_the_token_s_agent(alice, api):
    client = api(alice.agent)
    usager_id = client.post(url(alice), {"first_name": "Léa", "last_name": "Durand"}).json()["usager"]["id"]
    client.patch(url(alice, usager_id), {"birth_date": "1990-12-31"})
    client.patch(url(alice, usager_id), {"birth_date": "1990-12-31"})  # no change, no entry
    entries = AuditLog.objects.filter(object_type="usagers.Usager", object_id=str(usager_id)).order_by("pk")
    assert [(e.action, e.actor_id) for e in entries] == [
        ("usager.created", alice.agent.pk),
        ("usager.updated", alice.agent.pk),
    ]
    assert entries[1].changes == {"birth_date": [None, "31/12/1990"]}


def test_the_same_idempotency_key_creates_one_file(alice, api):
    client = api(alice.agent)
    data = {"first_name": "Léa", "last_name": "Durand"}
    first = client.post(url(alice), data, headers={"Idempotency-Key": "k-1"})
    again = client.post(url(alice), data, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Usager.objects.count() == 1
    other = client.post(url(alice), {**data, "first_name": "Léo"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Usager.objects.count() == 1


def test_a_page_costs_the_same_queries_whatever_its_size(alice, api):
    factories.CustomFieldFactory(territory=alice.territory, label="Dossier")
    parent = usager_of(alice.organisation, last_name="Aaa")
    client = api(alice.agent)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(alice)).status_code == 200
        return len(captured)

    usager_of(alice.organisation, responsible=parent)
    queries()  # the token records its use at most once a minute
    few = queries()
    for _ in range(15):
        usager_of(alice.organisation, responsible=parent).organisations.add(alice.other_organisation)
    assert queries() == few <= 14
    page = client.get(url(alice), {"per_page": 5, "page": 2}).json()
    assert len(page["usagers"]) == 5 and page["meta"]["total_count"] == 17


def test_a_nul_character_is_refused_before_it_reaches_the_database(alice, api):
    usager = usager_of(alice.organisation)
    client = api(alice.agent)
    with unchanged("usagers.Usager"):
        for response in (
            client.post(url(alice), {"first_name": "A\u0000B", "last_name": "C"}),
            client.patch(url(alice, usager.pk), {"notes": "\u0000"}),
            client.get(url(alice), {"q": "a\x00b"}),
            client.post(url(alice), {"first_name": "A", "last_name": "B"}, headers={"Idempotency-Key": "k\x00"}),
            client.get(url(alice) + "/%00"),
        ):
            assert response.status_code == 422, response.content
            assert response.json()["code"] in ("nul_character", "idempotency_key_invalid")
    # A backslash followed by « u0000 » is text like any other.
    assert client.patch(url(alice, usager.pk), {"notes": "C:\\u0000"}).status_code == 200
