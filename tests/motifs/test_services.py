"""The motif rules, checked on the service functions (the only code that changes motifs)."""

import pytest

from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.motifs import services
from rdv.motifs.models import BookableBy, LocationType, Motif, Visibility
from tests import factories
from tests.helpers import as_agent
from tests.motifs.conftest import configuration

pytestmark = pytest.mark.django_db


def refuse(code, function, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        function(*args, **kwargs)
    assert info.value.code == code
    return info.value


# Espace-level creation -----------------------------------------------------------------------------


def test_espace_admin_creates_one_independent_motif_per_organisation(alice):
    motifs = services.create_territory_motifs(
        as_agent(alice.territory_admin, alice.territory),
        [alice.organisation, alice.other_organisation],
        configuration(alice, name="Entretien budget"),
    )

    assert {m.organisation for m in motifs} == {alice.organisation, alice.other_organisation}
    assert len({m.pk for m in motifs}) == 2
    assert len({m.creation_batch for m in motifs}) == 1
    assert all(m.name == "Entretien budget" and m.service == alice.service for m in motifs)
    logs = AuditLog.objects.filter(action="motif.created")
    assert logs.count() == 2
    assert logs.first().changes["organisations"] == ["alice Centre", "alice Nord"]


def test_motifs_created_together_stay_independent(alice, batch):
    first, second = batch
    services.update_motif_configuration(
        as_agent(alice.territory_admin, first), first, configuration(alice, name="Entretien budget familial")
    )

    second.refresh_from_db()
    assert second.name == "Entretien budget"


def test_a_failure_in_one_organisation_creates_the_motif_in_none(alice):
    # The second organisation already has a motif with that name, service and type.
    factories.MotifFactory(organisation=alice.other_organisation, service=alice.service, name="Entretien budget")
    before = Motif.objects.count()

    error = refuse(
        "motif_name_taken",
        services.create_territory_motifs,
        as_agent(alice.territory_admin, alice.territory),
        [alice.organisation, alice.other_organisation],
        configuration(alice, name="entretien BUDGET"),
    )

    assert "alice Nord" in error.message and "Entretien budget" in error.message
    assert Motif.objects.count() == before
    assert not AuditLog.objects.filter(action="motif.created").exists()


def test_creation_needs_at_least_one_organisation(alice):
    refuse(
        "organisations_required",
        services.create_territory_motifs,
        as_agent(alice.territory_admin, alice.territory),
        [],
        {},
    )


def test_creation_refuses_an_organisation_of_another_espace(alice, bob):
    refuse(
        "forbidden",
        services.create_territory_motifs,
        as_agent(alice.territory_admin, alice.territory),
        [alice.organisation, bob.organisation],
        configuration(alice),
    )
    assert not Motif.objects.exists()


def test_organisation_admin_creates_a_motif_in_their_organisation(alice):
    motif = services.create_motif(as_agent(alice.organisation_admin, alice.organisation), configuration(alice))

    assert motif.organisation == alice.organisation
    assert AuditLog.objects.get(action="motif.created").actor == alice.organisation_admin


# Configuration rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "field", "words"),
    [
        ({"name": "   "}, "name_required", "name", "obligatoire"),
        ({"name": "x" * 201}, "name_too_long", "name", "200 caractères"),
        ({"color": ""}, "color_required", "color", "couleur est obligatoire"),
        ({"color": "rouge"}, "color_invalid", "color", "hexadécimal"),
        ({"color": "#12345g"}, "color_invalid", "color", "hexadécimal"),
        ({"default_duration_minutes": 0}, "duration_invalid", "default_duration_minutes", "supérieur à zéro"),
        ({"default_duration_minutes": -15}, "duration_invalid", "default_duration_minutes", "supérieur à zéro"),
        ({"default_duration_minutes": "abc"}, "duration_invalid", "default_duration_minutes", "nombre entier"),
        ({"default_duration_minutes": 1441}, "duration_too_long", "default_duration_minutes", "une journée"),
        ({"location_type": "moon"}, "location_type_invalid", "location_type", "type de rendez-vous"),
        ({"bookable_by": "robots"}, "bookable_by_invalid", "bookable_by", "qui peut réserver"),
        ({"service": None}, "service_required", "service", "service"),
        (
            {"collective": True, "location_type": LocationType.PHONE},
            "collective_not_on_site",
            "collective",
            "sur place",
        ),
        ({"collective": True, "max_participants": None}, "max_participants_invalid", "max_participants", "maximum"),
        ({"collective": True, "max_participants": 1}, "max_participants_invalid", "max_participants", "entre 2"),
        ({"collective": True, "max_participants": 1001}, "max_participants_invalid", "max_participants", "1000"),
    ],
)
def test_bad_configuration_is_refused_with_a_french_message(alice, overrides, code, field, words):
    error = refuse(
        code,
        services.create_territory_motifs,
        as_agent(alice.territory_admin, alice.territory),
        [alice.organisation],
        configuration(alice, **overrides),
    )

    assert error.field == field
    assert words in error.message
    assert not Motif.objects.exists()


def test_the_service_must_be_active_in_the_espace(alice):
    error = refuse(
        "service_inactive",
        services.create_motif,
        as_agent(alice.territory_admin, alice.organisation),
        configuration(alice, service=alice.inactive_service),
    )
    assert "Insertion" in error.message
    assert not Motif.objects.exists()


def test_a_motif_cannot_belong_to_the_secretariat_service(alice):
    secretariat = factories.ServiceFactory(name="Secrétariat")
    factories.TerritoryServiceFactory(territory=alice.territory, service=secretariat)

    refuse(
        "service_is_secretariat",
        services.create_motif,
        as_agent(alice.territory_admin, alice.organisation),
        configuration(alice, service=secretariat),
    )


def test_a_collective_motif_on_site_keeps_its_capacity(alice):
    motif = services.create_motif(
        as_agent(alice.territory_admin, alice.organisation), configuration(alice, collective=True, max_participants=12)
    )
    assert motif.collective and motif.max_participants == 12


def test_an_individual_motif_has_no_capacity(alice):
    motif = services.create_motif(
        as_agent(alice.territory_admin, alice.organisation), configuration(alice, max_participants=8)
    )
    assert motif.max_participants is None


def test_name_is_unique_per_organisation_service_and_type_ignoring_case_and_spaces(alice, motif):
    error = refuse(
        "motif_name_taken",
        services.create_motif,
        as_agent(alice.territory_admin, alice.organisation),
        configuration(alice, name="  premier   ACCUEIL "),
    )
    assert "« Premier accueil »" in error.message
    assert "sur place" in error.message and "Service social" in error.message
    assert Motif.objects.count() == 1


def test_same_name_is_allowed_with_another_type_or_another_organisation(alice, motif):
    services.create_motif(
        as_agent(alice.territory_admin, alice.organisation), configuration(alice, location_type=LocationType.PHONE)
    )
    services.create_motif(as_agent(alice.territory_admin, alice.other_organisation), configuration(alice))

    assert Motif.objects.filter(name="Premier accueil").count() == 3


def test_renaming_onto_another_motif_is_refused(alice, motif):
    other = services.create_motif(
        as_agent(alice.territory_admin, alice.organisation), configuration(alice, name="Suivi")
    )

    refuse(
        "motif_name_taken",
        services.update_motif_configuration,
        as_agent(alice.territory_admin, other),
        other,
        configuration(alice, name="Premier Accueil"),
    )
    other.refresh_from_db()
    assert other.name == "Suivi"


def test_configuration_update_changes_only_its_tab_and_is_logged(alice, motif):
    services.update_motif_online_booking(as_agent(alice.territory_admin, motif), motif, {"bookable_online": True})

    changed = services.update_motif_configuration(
        as_agent(alice.territory_admin, motif),
        motif,
        configuration(alice, default_duration_minutes=45, location_type="phone"),
    )

    motif.refresh_from_db()
    assert changed == [motif]
    assert motif.default_duration_minutes == 45 and motif.location_type == "phone"
    assert motif.bookable_online is True
    log = AuditLog.objects.get(action="motif.configuration_updated")
    assert log.changes == {"default_duration_minutes": [30, 45], "location_type": ["Sur place", "Par téléphone"]}


def test_an_unchanged_configuration_writes_nothing(alice, motif):
    assert (
        services.update_motif_configuration(as_agent(alice.territory_admin, motif), motif, configuration(alice)) == []
    )
    assert not AuditLog.objects.filter(action="motif.configuration_updated").exists()


def test_a_motif_keeps_its_service_after_the_service_is_deactivated(alice, motif):
    from rdv.territories.models import TerritoryService

    TerritoryService.objects.filter(territory=alice.territory, service=alice.service).delete()

    services.update_motif_configuration(
        as_agent(alice.territory_admin, motif), motif, configuration(alice, name="Accueil")
    )
    motif.refresh_from_db()
    assert motif.name == "Accueil" and motif.service == alice.service


# The lock on type and collective ---------------------------------------------------------------------


def test_without_rdvs_the_type_can_change(alice, motif):
    assert services.motif_has_rdvs(motif) is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"location_type": LocationType.VISIO}, "location_type"),
        ({"collective": True, "max_participants": 5}, "collective"),
    ],
)
def test_type_and_collective_are_locked_once_rdvs_exist(alice, motif, monkeypatch, overrides, field):
    monkeypatch.setattr(services, "motif_has_rdvs", lambda m: True)

    error = refuse(
        "motif_in_use",
        services.update_motif_configuration,
        as_agent(alice.territory_admin, motif),
        motif,
        configuration(alice, **overrides),
    )

    assert error.field == field
    assert "rendez-vous existent déjà" in error.message and "Dupliquez" in error.message
    motif.refresh_from_db()
    assert motif.location_type == LocationType.PUBLIC_OFFICE and motif.collective is False


def test_other_fields_still_change_once_rdvs_exist(alice, motif, monkeypatch):
    monkeypatch.setattr(services, "motif_has_rdvs", lambda m: True)

    services.update_motif_configuration(
        as_agent(alice.territory_admin, motif), motif, configuration(alice, default_duration_minutes=20)
    )

    motif.refresh_from_db()
    assert motif.default_duration_minutes == 20


# Online booking ------------------------------------------------------------------------------------


def test_online_booking_is_saved_with_its_delays(alice, motif):
    services.update_motif_online_booking(
        as_agent(alice.territory_admin, motif),
        motif,
        {
            "bookable_online": True,
            "min_booking_delay_minutes": 120,
            "max_booking_delay_minutes": 60 * 24 * 30,
            "usager_can_move": False,
            "usager_can_cancel": True,
            "visibility": Visibility.VISIBLE_NOT_NOTIFIED,
        },
    )

    motif.refresh_from_db()
    assert motif.bookable_online and motif.min_booking_delay_minutes == 120
    assert motif.max_booking_delay_minutes == 43200 and motif.usager_can_move is False
    assert motif.visibility == Visibility.VISIBLE_NOT_NOTIFIED
    assert Motif.objects.online().get() == motif
    assert AuditLog.objects.get(action="motif.online_booking_updated").changes["bookable_online"] == [False, True]


def test_new_motifs_have_the_default_delays(alice, motif):
    assert motif.min_booking_delay_minutes == 30
    assert motif.max_booking_delay_minutes == 90 * 24 * 60


@pytest.mark.parametrize(
    ("minimum", "maximum", "code", "field"),
    [
        (29, 600, "min_delay_too_short", "min_booking_delay_minutes"),
        (0, 600, "min_delay_too_short", "min_booking_delay_minutes"),
        (60, 20, "max_delay_too_short", "max_booking_delay_minutes"),
        (60, 60, "max_delay_not_after_min", "max_booking_delay_minutes"),
        (600, 120, "max_delay_not_after_min", "max_booking_delay_minutes"),
        (60, 366 * 24 * 60, "max_delay_too_long", "max_booking_delay_minutes"),
        ("soon", 600, "min_delay_invalid", "min_booking_delay_minutes"),
    ],
)
def test_bad_delays_are_refused_and_nothing_changes(alice, motif, minimum, maximum, code, field):
    error = refuse(
        code,
        services.update_motif_online_booking,
        as_agent(alice.territory_admin, motif),
        motif,
        {"bookable_online": True, "min_booking_delay_minutes": minimum, "max_booking_delay_minutes": maximum},
    )

    assert error.field == field
    assert "délai" in error.message.lower()
    motif.refresh_from_db()
    assert motif.bookable_online is False and motif.min_booking_delay_minutes == 30


def test_bad_visibility_is_refused(alice, motif):
    refuse(
        "visibility_invalid",
        services.update_motif_online_booking,
        as_agent(alice.territory_admin, motif),
        motif,
        {"visibility": "everywhere"},
    )


def test_a_motif_booked_by_agents_only_cannot_be_opened_to_usagers(alice):
    motif = services.create_motif(
        as_agent(alice.territory_admin, alice.organisation), configuration(alice, bookable_by=BookableBy.AGENTS)
    )

    error = refuse(
        "online_needs_usagers",
        services.update_motif_online_booking,
        as_agent(alice.territory_admin, motif),
        motif,
        {"bookable_online": True},
    )
    assert "Qui peut réserver" in error.message


def test_restricting_an_online_motif_to_agents_closes_it_online(alice, motif):
    """One rule (issue 17, point 7): « Qui peut réserver » without usagers closes the motif online,
    instead of being refused until « Ouvert aux usagers » is unticked on the other tab."""
    ctx = as_agent(alice.territory_admin, motif)
    services.update_motif_online_booking(ctx, motif, {"bookable_online": True})

    changed = services.update_motif_configuration(
        ctx, motif, configuration(alice, bookable_by=BookableBy.AGENTS_AND_PRESCRIPTEURS)
    )

    assert [m.pk for m in changed] == [motif.pk] and changed[0].closed_online
    motif.refresh_from_db()
    assert (motif.bookable_by, motif.bookable_online) == (BookableBy.AGENTS_AND_PRESCRIPTEURS, False)
    entry = AuditLog.objects.filter(action="motif.configuration_updated").get()
    assert entry.changes["bookable_online"] == [True, False]


def test_an_online_motif_stays_online_with_another_usager_choice(alice, motif):
    ctx = as_agent(alice.territory_admin, motif)
    services.update_motif_online_booking(ctx, motif, {"bookable_online": True})

    changed = services.update_motif_configuration(
        ctx, motif, configuration(alice, bookable_by=BookableBy.AGENTS_PRESCRIPTEURS_INVITED_USAGERS)
    )

    assert not changed[0].closed_online
    motif.refresh_from_db()
    assert motif.bookable_online


# Applying a tab to the motifs created together ---------------------------------------------------------


def test_a_tab_can_be_applied_to_the_motifs_created_together(alice, batch):
    first, second = batch

    changed = services.update_motif_online_booking(
        as_agent(alice.territory_admin, alice.territory), first, {"bookable_online": True}, also=[second]
    )

    assert {m.pk for m in changed} == {first.pk, second.pk}
    assert Motif.objects.online().count() == 2
    assert AuditLog.objects.filter(action="motif.online_booking_updated").count() == 2


def test_applying_to_the_batch_is_all_or_nothing(alice, batch):
    first, second = batch
    factories.MotifFactory(organisation=alice.other_organisation, service=alice.service, name="Budget")

    error = refuse(
        "motif_name_taken",
        services.update_motif_configuration,
        as_agent(alice.territory_admin, alice.territory),
        first,
        configuration(alice, name="Budget"),
        also=[second],
    )

    assert "alice Nord" in error.message
    first.refresh_from_db()
    assert first.name == "Entretien budget"


def test_only_motifs_of_the_same_batch_can_be_updated_together(alice, batch, motif):
    refuse(
        "not_same_batch",
        services.update_motif_online_booking,
        as_agent(alice.territory_admin, batch[0]),
        batch[0],
        {"bookable_online": True},
        also=[motif],
    )
    assert not Motif.objects.online().exists()


# Instructions ----------------------------------------------------------------------------------------


def test_instructions_are_sanitised_before_they_are_stored(alice, motif):
    services.update_motif_instructions(
        as_agent(alice.territory_admin, motif),
        motif,
        {
            "instructions_before": "Apportez :\n<script>alert(1)</script>votre <strong>livret</strong>",
            "instructions_after": '<a href="javascript:alert(1)">ici</a> <a href="https://exemple.fr">site</a>',
            "cancellation_warning": '<img src=x onerror="alert(1)">Prévenez-nous',
        },
    )

    motif.refresh_from_db()
    assert motif.instructions_before == "Apportez :<br>votre <strong>livret</strong>"
    assert "javascript" not in motif.instructions_after
    assert '<a href="https://exemple.fr" rel="noopener noreferrer">site</a>' in motif.instructions_after
    assert motif.cancellation_warning == "Prévenez-nous"
    assert AuditLog.objects.filter(action="motif.instructions_updated").count() == 1


def test_the_journal_records_instructions_as_typed_not_as_stored_html(alice, motif):
    services.update_motif_instructions(
        as_agent(alice.territory_admin, motif),
        motif,
        {"instructions_before": "Si a > b :\n<strong>venez</strong> & appelez"},
    )

    log = AuditLog.objects.get(action="motif.instructions_updated")
    motif.refresh_from_db()
    assert motif.instructions_before == "Si a &gt; b :<br><strong>venez</strong> &amp; appelez"
    assert log.changes["instructions_before"] == ["", "Si a > b :\n<strong>venez</strong> & appelez"]


def test_too_long_instructions_are_refused(alice, motif):
    error = refuse(
        "text_too_long",
        services.update_motif_instructions,
        as_agent(alice.territory_admin, motif),
        motif,
        {"instructions_before": "a" * 5001},
    )
    assert error.field == "instructions_before"
    motif.refresh_from_db()
    assert motif.instructions_before == ""


# Duplicate, archive, restore -------------------------------------------------------------------------


def test_duplicating_copies_every_setting_under_a_suffixed_name(alice, motif):
    services.update_motif_online_booking(
        as_agent(alice.territory_admin, motif), motif, {"bookable_online": True, "min_booking_delay_minutes": 90}
    )
    services.update_motif_instructions(as_agent(alice.territory_admin, motif), motif, {"instructions_after": "Merci"})
    motif.refresh_from_db()

    copy = services.duplicate_motif(as_agent(alice.territory_admin, motif), motif)

    assert copy.pk != motif.pk and copy.name == "Premier accueil (copie)"
    for field in ("organisation", "service", "location_type", "default_duration_minutes", "color", "bookable_by"):
        assert getattr(copy, field) == getattr(motif, field)
    assert copy.bookable_online and copy.min_booking_delay_minutes == 90 and copy.instructions_after == "Merci"
    assert copy.creation_batch != motif.creation_batch
    assert AuditLog.objects.get(action="motif.duplicated").changes["name"] == "Premier accueil (copie)"


def test_duplicating_twice_numbers_the_copies(alice, motif):
    services.duplicate_motif(as_agent(alice.territory_admin, motif), motif)
    second = services.duplicate_motif(as_agent(alice.territory_admin, motif), motif)
    assert second.name == "Premier accueil (copie 2)"


def test_the_copy_can_offer_another_type(alice, motif):
    copy = services.duplicate_motif(as_agent(alice.territory_admin, motif), motif)

    services.update_motif_configuration(
        as_agent(alice.territory_admin, copy),
        copy,
        configuration(alice, name="Premier accueil", location_type=LocationType.PHONE),
    )

    assert set(Motif.objects.values_list("name", "location_type")) == {
        ("Premier accueil", "public_office"),
        ("Premier accueil", "phone"),
    }


def test_archived_motifs_are_not_offered_but_kept(alice, motif):
    services.update_motif_online_booking(as_agent(alice.territory_admin, motif), motif, {"bookable_online": True})

    services.archive_motif(as_agent(alice.territory_admin, motif), motif)

    motif.refresh_from_db()
    assert motif.is_archived
    assert not Motif.objects.active().exists() and not Motif.objects.online().exists()
    assert Motif.objects.archived().get() == motif
    assert AuditLog.objects.filter(action="motif.archived").count() == 1


def test_archiving_twice_is_refused(alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)
    refuse("motif_already_archived", services.archive_motif, as_agent(alice.territory_admin, motif), motif)


def test_an_archived_motif_cannot_be_edited(alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)
    refuse(
        "motif_archived",
        services.update_motif_configuration,
        as_agent(alice.territory_admin, motif),
        motif,
        configuration(alice, name="Autre"),
    )


def test_an_archived_name_can_be_reused(alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)

    services.create_motif(as_agent(alice.territory_admin, alice.organisation), configuration(alice))

    assert Motif.objects.filter(name="Premier accueil").count() == 2


def test_restoring_brings_the_motif_back(alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)

    services.restore_motif(as_agent(alice.territory_admin, motif), motif)

    motif.refresh_from_db()
    assert not motif.is_archived
    assert AuditLog.objects.filter(action="motif.restored").count() == 1


def test_restoring_onto_a_reused_name_is_refused(alice, motif):
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)
    services.create_motif(as_agent(alice.territory_admin, alice.organisation), configuration(alice))

    error = refuse("motif_name_taken", services.restore_motif, as_agent(alice.territory_admin, motif), motif)

    assert error.message.startswith("Impossible de restaurer ce motif")
    motif.refresh_from_db()
    assert motif.is_archived


def test_restoring_an_active_motif_is_refused(alice, motif):
    refuse("motif_not_archived", services.restore_motif, as_agent(alice.territory_admin, motif), motif)


def test_every_change_is_in_the_espace_journal(alice, motif):
    services.duplicate_motif(as_agent(alice.territory_admin, motif), motif)
    services.archive_motif(as_agent(alice.territory_admin, motif), motif)

    logs = AuditLog.objects.for_territory(alice.territory)
    assert set(logs.values_list("action", flat=True)) == {"motif.created", "motif.duplicated", "motif.archived"}
    assert set(logs.values_list("organisation", flat=True)) == {alice.organisation.pk}


def test_the_database_refuses_a_duplicate_name_that_slipped_past_the_check(alice, motif, monkeypatch):
    """Two concurrent creations both pass the check; the unique constraint stops the second."""
    monkeypatch.setattr(services, "find_name_clash", lambda *args, **kwargs: None)

    refuse(
        "motif_name_taken",
        services.create_motif,
        as_agent(alice.territory_admin, alice.organisation),
        configuration(alice),
    )

    assert Motif.objects.count() == 1


def test_a_real_rdv_locks_the_type_of_its_motif(alice, motif):
    from datetime import timedelta

    from django.utils import timezone

    from rdv.bookings.models import Rdv

    start = timezone.now() + timedelta(days=2)
    Rdv.objects.create(
        organisation=motif.organisation, motif=motif, starts_at=start, ends_at=start + timedelta(minutes=30)
    )

    assert services.motif_has_rdvs(motif) is True
    refuse(
        "motif_in_use",
        services.update_motif_configuration,
        as_agent(alice.territory_admin, motif),
        motif,
        configuration(alice, location_type=LocationType.HOME),
    )
