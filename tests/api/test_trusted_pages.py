"""Routes that answer a page without ninja's validation of it (rdv.api.pagination.trusted_page) must
answer exactly what the validation would have made of it: every field of the schema, none more, and
no value the schema would convert (a number as a string, a date in another format)."""

import json

import pytest
import time_machine
from ninja.responses import NinjaJSONEncoder

from rdv.api.routes.rdvs import RdvList
from rdv.bookings import services
from rdv.territories.models import Territory
from tests import factories
from tests.bookings.conftest import NOW, TODAY, at, build_setup, next_weekday
from tests.helpers import as_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(alice):
    return build_setup(alice)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def validated(schema, body: dict) -> dict:
    """What ninja answers for `body` under `schema`: validation, dump, then its JSON encoder."""
    dumped = schema.model_validate(body).model_dump(by_alias=False)
    return json.loads(json.dumps(dumped, cls=NinjaJSONEncoder))


def a_varied_week(setup) -> list:
    """RDVs of every shape the list shows: context, several agents, a relative, a collective RDV with
    several usagers, one by phone (no lieu), cancelled with a reason, arrived, one the next day."""
    ctx = as_agent(setup.admin, setup.organisation)
    relative = factories.UsagerFactory(
        territory=setup.organisation.territory,
        first_name="Léo",
        last_name="Dupont",
        responsible=setup.usager,
        organisations=[setup.organisation],
    )
    rdvs = [
        setup.book(at(TODAY, 9), context="Dossier « urgent » & suivi"),
        setup.book(at(TODAY, 10), usagers=[relative], agents=[setup.agent, setup.admin]),
        setup.book(at(TODAY, 11), motif=setup.collective_motif, usagers=[setup.usager, setup.usager2]),
        setup.book(at(TODAY, 9, 30), motif=setup.phone_motif),
        setup.book(at(next_weekday(TODAY), 9)),
    ]
    services.cancel_rdv(ctx, setup.book(at(TODAY, 10, 30)), reason="Empêchement")
    services.mark_arrived(ctx, rdvs[0])
    return rdvs


def test_the_rdv_list_answers_its_validated_form(setup, api):
    a_varied_week(setup)
    url = f"/api/v1/organisations/{setup.organisation.pk}/rdvs"
    for query in ("", "?per_page=2", "?per_page=2&page=3", f"?starts_after={TODAY}&status=revoked"):
        response = api(setup.admin).get(url + query)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["rdvs"], query
        assert body == validated(RdvList, body), query
    assert response["Content-Type"] == api(setup.admin).get(f"{url}/{body['rdvs'][0]['id']}")["Content-Type"]


def test_the_rdv_list_answers_its_validated_form_when_the_espace_hides_the_context(setup, api):
    a_varied_week(setup)
    Territory.objects.filter(pk=setup.organisation.territory_id).update(rdv_context_enabled=False)
    body = api(setup.admin).get(f"/api/v1/organisations/{setup.organisation.pk}/rdvs").json()
    assert len(body["rdvs"]) == 6
    assert {record["context"] for record in body["rdvs"]} == {None}
    assert body == validated(RdvList, body)


def test_the_comparison_sees_an_extra_field_a_converted_value_and_a_missing_one(setup, api):
    """The check above can fail: a field the schema does not know, an id as a string or a missing
    field each make the validated form differ (or refuse the page)."""
    a_varied_week(setup)
    body = api(setup.admin).get(f"/api/v1/organisations/{setup.organisation.pk}/rdvs").json()
    extra = json.loads(json.dumps(body))
    extra["rdvs"][0]["notes"] = "interne"
    assert extra != validated(RdvList, extra)
    converted = json.loads(json.dumps(body))
    converted["rdvs"][0]["id"] = str(converted["rdvs"][0]["id"])
    assert converted != validated(RdvList, converted)
    missing = json.loads(json.dumps(body))
    del missing["rdvs"][0]["motif"]
    with pytest.raises(ValueError):
        validated(RdvList, missing)
