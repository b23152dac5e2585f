"""The usager created inline on the booking form (issue 17, point 1): an agent at the counter
completes the new file in one go. The espace's required custom fields are shown there, checked with
the usager file's rules, and stored with the file; choosing an existing usager ignores them."""

import pytest
from django.urls import reverse

from rdv.bookings import services
from rdv.bookings.models import Rdv
from rdv.usagers.models import Usager
from tests import factories
from tests.bookings.conftest import TODAY
from tests.bookings.test_services import refused, state
from tests.helpers import as_agent, log_in, page_text


@pytest.fixture
def agent_client(client, setup):
    return log_in(client, setup.agent)


@pytest.fixture
def quartier(setup):
    return factories.CustomFieldFactory(
        territory=setup.world.territory,
        label="Quartier",
        kind="choice",
        choices=["Centre", "Fontbarlettes"],
        required=True,
        help_text="Quartier de résidence",
    )


@pytest.fixture
def optional_field(setup):
    return factories.CustomFieldFactory(territory=setup.world.territory, label="Orienté par", required=False)


def url(setup) -> str:
    return reverse("rdv_create", args=[setup.organisation.pk])


def new_usager_booking(setup, **fields) -> dict:
    data = {
        "motif": setup.motif.pk,
        "date": TODAY.isoformat(),
        "heure": "10:00",
        "lieu": setup.lieu.pk,
        "agents": [setup.agent.pk],
        "action": "reserver",
        "new_first_name": "Inès",
        "new_last_name": "Nouvelle",
    }
    data.update(fields)
    return data


def test_the_inline_usager_shows_the_required_custom_fields_of_the_espace(
    agent_client, setup, quartier, optional_field
):
    page = page_text(agent_client.get(url(setup)))

    assert f'name="new_{quartier.key}"' in page
    assert "Quartier de résidence" in page
    assert "Fontbarlettes" in page
    # Only what the new file needs: optional custom fields are filled in later, on the file.
    assert f'name="new_{optional_field.key}"' not in page
    # Required for a new file, so not marked « Optionnel »; no HTML `required`: choosing an
    # existing usager leaves them empty.
    label = page.split(f'for="id_new_{quartier.key}"', 1)[1].split("</label>", 1)[0]
    assert "Optionnel" not in label
    names = page.split('for="id_new_first_name"', 1)[1].split("</label>", 1)[0]
    assert "Optionnel" not in names
    field_tag = page.split(f'name="new_{quartier.key}"', 1)[0].rsplit("<select", 1)[1]
    assert "required" not in field_tag


def test_a_new_usager_is_created_with_the_required_custom_field_and_booked(agent_client, setup, quartier):
    response = agent_client.post(url(setup), new_usager_booking(setup, **{f"new_{quartier.key}": "Fontbarlettes"}))

    assert response.status_code == 302, page_text(response)
    usager = Usager.objects.get(last_name="Nouvelle")
    assert usager.custom_values == {quartier.key: "Fontbarlettes"}
    rdv = Rdv.objects.get()
    assert list(rdv.participations.values_list("usager", flat=True)) == [usager.pk]


def test_a_missing_required_custom_field_is_reported_on_its_field_and_nothing_is_created(agent_client, setup, quartier):
    before = state()

    response = agent_client.post(url(setup), new_usager_booking(setup))

    assert response.status_code == 200
    page = page_text(response)
    error_zone = page.split(f'for="id_new_{quartier.key}"', 1)[1]
    assert "Le champ « Quartier » est obligatoire." in error_zone.split("</select>", 1)[1][:600]
    assert state() == before


def test_a_custom_value_outside_the_options_is_a_french_error_not_a_500(agent_client, setup, quartier):
    number = factories.CustomFieldFactory(
        territory=setup.world.territory, label="Nombre de personnes", kind="number", required=True
    )
    before = state()

    response = agent_client.post(
        url(setup),
        new_usager_booking(setup, **{f"new_{quartier.key}": "Ailleurs", f"new_{number.key}": "beaucoup"}),
    )

    assert response.status_code == 200
    page = page_text(response)
    assert "choisissez une option de la liste" in page
    assert "« Nombre de personnes » : saisissez un nombre, par exemple 12 ou 3,5." in page
    assert state() == before


def test_choosing_an_existing_usager_needs_no_inline_field(agent_client, setup, quartier):
    data = new_usager_booking(setup, usagers=[setup.usager.pk], new_first_name="", new_last_name="")

    response = agent_client.post(url(setup), data)

    assert response.status_code == 302, page_text(response)
    assert list(Rdv.objects.get().participations.values_list("usager", flat=True)) == [setup.usager.pk]


def test_a_value_typed_in_a_custom_field_alone_asks_for_the_names(agent_client, setup, quartier):
    data = new_usager_booking(setup, usagers=[setup.usager.pk], new_first_name="", new_last_name="")
    data[f"new_{quartier.key}"] = "Centre"
    before = state()

    response = agent_client.post(url(setup), data)

    page = page_text(response)
    assert response.status_code == 200
    assert "Le prénom du nouvel usager est obligatoire." in page
    assert "Le nom du nouvel usager est obligatoire." in page
    assert state() == before


def test_the_usager_search_keeps_the_typed_custom_value(agent_client, setup, quartier):
    data = new_usager_booking(setup, action="rechercher", recherche_usager="Dup")
    data[f"new_{quartier.key}"] = "Fontbarlettes"

    page = page_text(agent_client.post(url(setup), data))

    assert '<option value="Fontbarlettes" selected>' in page
    assert 'value="Inès"' in page


def test_standard_fields_the_espace_hides_are_not_offered_inline(agent_client, setup):
    territory = setup.world.territory
    territory.hidden_usager_fields = ["email"]
    territory.save()

    page = page_text(agent_client.get(url(setup)))

    assert 'name="new_email"' not in page
    assert 'name="new_phone"' in page


# The service ----------------------------------------------------------------------------------


def test_book_rdv_for_new_usager_stores_the_custom_values(setup, quartier):
    ctx = as_agent(setup.agent, setup.organisation)

    rdv, usager = services.book_rdv_for_new_usager(
        ctx,
        {"first_name": "Inès", "last_name": "Nouvelle"},
        setup.request(usagers=[]),
        custom_values={quartier: "Centre"},
    )

    assert usager.custom_values == {quartier.key: "Centre"}
    assert list(rdv.participations.values_list("usager", flat=True)) == [usager.pk]


def test_book_rdv_for_new_usager_refuses_a_missing_required_custom_field(setup, quartier):
    ctx = as_agent(setup.agent, setup.organisation)

    error = refused(
        "custom_field_required",
        services.book_rdv_for_new_usager,
        ctx,
        {"first_name": "Inès", "last_name": "Nouvelle"},
        setup.request(usagers=[]),
    )

    assert error.message == "Le champ « Quartier » est obligatoire."


def test_after_another_error_the_inline_fields_are_still_shown_as_required(agent_client, setup, quartier):
    data = new_usager_booking(setup, usagers=[setup.usager.pk], new_first_name="", new_last_name="", date="")

    page = page_text(agent_client.post(url(setup), data))

    assert "Indiquez la date du rendez-vous." in page
    for name in ("new_first_name", f"new_{quartier.key}"):
        label = page.split(f'for="id_{name}"', 1)[1].split("</label>", 1)[0]
        assert "Optionnel" not in label, name
    assert "Le prénom du nouvel usager est obligatoire." not in page
