"""A motif's type and "collective" flag cannot change once a RDV uses it (rdv.motifs.services
.motif_has_rdvs, checked by update_motif_configuration), tested with real RDVs."""

import pytest
from django.urls import reverse

from rdv.bookings import services as booking_services
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.motifs import services as motif_services
from rdv.motifs.models import LocationType, Motif
from tests.bookings.conftest import TODAY, at
from tests.helpers import as_agent, log_in, page_text
from tests.motifs.conftest import as_post, configuration


@pytest.fixture
def motif(setup):
    return motif_services.create_motif(
        as_agent(setup.world.territory_admin, setup.organisation), configuration(setup.world, name="Accueil social")
    )


def book(setup, motif, **kwargs):
    request = booking_services.BookingRequest(
        motif=motif,
        starts_at=at(TODAY, 15),
        agents=[setup.agent],
        usagers=kwargs.pop("usagers", [setup.usager]),
        lieu=setup.lieu if motif.location_type == LocationType.PUBLIC_OFFICE else None,
    )
    return booking_services.book_rdv(as_agent(setup.agent, setup.organisation), request, override=True)


def test_type_and_collective_change_freely_before_any_rdv(setup, motif):
    assert not motif_services.motif_has_rdvs(motif)
    motif_services.update_motif_configuration(
        as_agent(setup.world.territory_admin, motif),
        motif,
        configuration(setup.world, name="Accueil social", location_type="phone"),
    )
    motif.refresh_from_db()
    assert motif.location_type == LocationType.PHONE
    motif_services.update_motif_configuration(
        as_agent(setup.world.territory_admin, motif),
        motif,
        configuration(setup.world, name="Accueil social", collective=True, max_participants=5),
    )
    motif.refresh_from_db()
    assert motif.collective is True


@pytest.mark.parametrize(
    ("change", "field"),
    [({"location_type": "phone"}, "location_type"), ({"collective": True, "max_participants": 5}, "collective")],
)
def test_type_and_collective_are_locked_once_a_rdv_exists(setup, motif, change, field):
    book(setup, motif)
    assert motif_services.motif_has_rdvs(motif)
    journal = AuditLog.objects.count()

    with pytest.raises(DomainError) as caught:
        motif_services.update_motif_configuration(
            as_agent(setup.world.territory_admin, motif),
            motif,
            configuration(setup.world, name="Accueil social", **change),
        )

    assert caught.value.code == "motif_in_use"
    assert caught.value.field == field
    assert "Des rendez-vous existent déjà pour ce motif" in caught.value.message
    fresh = Motif.objects.get(pk=motif.pk)
    assert (fresh.location_type, fresh.collective) == (LocationType.PUBLIC_OFFICE, False)
    assert AuditLog.objects.count() == journal


def test_a_cancelled_rdv_still_locks_the_motif(setup, motif):
    rdv = book(setup, motif)
    booking_services.cancel_rdv(as_agent(setup.agent, rdv), rdv)
    with pytest.raises(DomainError):
        motif_services.update_motif_configuration(
            as_agent(setup.world.territory_admin, motif),
            motif,
            configuration(setup.world, name="Accueil social", location_type="visio"),
        )


def test_other_fields_still_change_once_a_rdv_exists(setup, motif):
    book(setup, motif)
    motif_services.update_motif_configuration(
        as_agent(setup.world.territory_admin, motif),
        motif,
        configuration(setup.world, name="Accueil social renommé", color="#000091"),
    )
    motif.refresh_from_db()
    assert (motif.name, motif.color) == ("Accueil social renommé", "#000091")


def test_the_configuration_tab_shows_the_lock(client, setup, motif):
    book(setup, motif)
    log_in(client, setup.world.territory_admin)
    url = reverse("organisation_motif", args=[setup.organisation.pk, motif.pk])
    page = page_text(client.get(url))
    assert "Des rendez-vous existent déjà pour ce motif" in page

    data = as_post(configuration(setup.world, name="Accueil social", location_type="phone"))
    client.post(reverse("organisation_motif_configuration", args=[setup.organisation.pk, motif.pk]), data)
    motif.refresh_from_db()
    assert motif.location_type == LocationType.PUBLIC_OFFICE
