"""The address of a RDV is for motifs « à domicile », its visio link for visio motifs (issue 17,
point 10). The booking form marks each field with the motif types that use it (www/rdv_form.js
hides the others; without JavaScript every field stays visible) and the booking service refuses a
value the motif does not use."""

import re

import pytest
from django.urls import reverse

from rdv.bookings import services
from rdv.bookings.models import Rdv
from tests.bookings.conftest import TODAY, at, home_motif
from tests.bookings.test_services import refused
from tests.helpers import as_agent, log_in, page_text

VISIO = "https://visio.exemple.fr/salle-12"


@pytest.fixture
def agent_client(client, setup):
    return log_in(client, setup.agent)


def test_an_address_is_refused_for_a_motif_that_is_not_at_home(setup):
    error = refused("address_unexpected", setup.book, at(TODAY, 10), address="3 rue Haute")

    assert error.field == "address"
    assert error.message == "L'adresse du rendez-vous ne sert qu'aux motifs à domicile : videz ce champ."


def test_a_visio_link_is_refused_for_a_motif_that_is_not_in_visio(setup):
    home = home_motif(setup)

    error = refused("visio_url_unexpected", setup.book, at(TODAY, 10), motif=home, visio_url=VISIO, override=True)

    assert error.field == "visio_url"


def test_each_motif_type_keeps_its_own_field(setup):
    at_home = setup.book(at(TODAY, 10), motif=home_motif(setup), address="3 rue Haute", override=True)
    in_visio = setup.book(at(TODAY, 11), motif=home_motif(setup, "visio"), visio_url=VISIO, override=True)

    assert (at_home.address, in_visio.visio_url) == ("3 rue Haute", VISIO)


def test_updating_a_rdv_refuses_a_new_value_its_motif_does_not_use_but_keeps_an_old_one(setup):
    rdv = setup.book(at(TODAY, 10))
    Rdv.objects.filter(pk=rdv.pk).update(address="Ancienne adresse")  # typed before the rule
    rdv.refresh_from_db()
    ctx = as_agent(setup.agent, rdv)

    refused("address_unexpected", services.update_rdv, ctx, rdv, address="Nouvelle adresse")
    assert services.update_rdv(ctx, rdv, address="Ancienne adresse", context="Note") == {"context": "modifié"}
    assert services.update_rdv(ctx, rdv, address="") == {"address": ["Ancienne adresse", None]}


def test_the_form_marks_each_field_with_the_motif_types_that_use_it(agent_client, setup):
    page = page_text(agent_client.get(reverse("rdv_create", args=[setup.organisation.pk])))

    assert re.search(rf'<option value="{setup.motif.pk}" data-type="public_office">', page)
    assert re.search(rf'<option value="{setup.phone_motif.pk}" data-type="phone">', page)
    assert re.search(r'data-motif-types="home">\s*<div class="fr-input-group[^"]*">\s*<label for="id_address"', page)
    assert re.search(r'data-motif-types="visio">\s*<div class="fr-input-group[^"]*">\s*<label for="id_visio_url"', page)
    assert re.search(r'data-motif-types="public_office">\s*<div class="fr-select-group[^"]*">\s*<label', page)
    assert '<script src="/static/www/rdv_form.js" defer></script>' in page


def test_without_javascript_a_wrong_field_gets_a_french_error_and_nothing_is_booked(agent_client, setup):
    data = {
        "motif": setup.motif.pk,
        "date": TODAY.isoformat(),
        "heure": "10:00",
        "lieu": setup.lieu.pk,
        "agents": [setup.agent.pk],
        "usagers": [setup.usager.pk],
        "visio_url": VISIO,
        "action": "reserver",
    }

    response = agent_client.post(reverse("rdv_create", args=[setup.organisation.pk]), data)

    assert response.status_code == 200
    zone = page_text(response).split('for="id_visio_url"', 1)[1][:900]
    assert "Le lien de visioconférence ne sert qu'aux motifs en visioconférence : videz ce champ." in zone
    assert not Rdv.objects.exists()


def test_the_edit_form_shows_only_the_field_of_the_motif(agent_client, setup):
    office = setup.book(at(TODAY, 10))
    at_home = setup.book(at(TODAY, 11), motif=home_motif(setup), override=True)

    office_page = page_text(agent_client.get(reverse("rdv_edit", args=[setup.organisation.pk, office.pk])))
    home_page = page_text(agent_client.get(reverse("rdv_edit", args=[setup.organisation.pk, at_home.pk])))

    assert 'name="address"' not in office_page and 'name="visio_url"' not in office_page
    assert 'name="context"' in office_page
    assert 'name="address"' in home_page and 'name="visio_url"' not in home_page
