"""The espace's online booking settings and the sectorisation codes, through their services: bounds
at their edges, normalised origins, all or nothing, the journal."""

import pytest

from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.territories import services
from rdv.territories.models import SectorCode, Territory
from tests.helpers import as_agent

VALID = {
    "online_hold_minutes": 10,
    "online_max_upcoming_per_contact": 1,
    "online_max_bookings_per_ip_per_day": 10,
    "online_cancel_min_hours": 4,
    "online_move_min_hours": 48,
    "embedding_origins": "",
}


def _settings(territory) -> tuple:
    territory = Territory.objects.get(pk=territory.pk)
    return (*(getattr(territory, name) for name in VALID), AuditLog.objects.count())


def _admin(world):
    return as_agent(world.territory_admin, world.territory)


def test_the_defaults_are_those_of_the_issue(alice):
    territory = Territory.objects.get(pk=alice.territory.pk)
    assert [getattr(territory, name) for name in VALID] == list(VALID.values())


def test_online_settings_are_saved_logged_and_returned_as_changes(alice):
    ctx = _admin(alice)
    changes = services.set_online_booking_settings(
        ctx,
        **{
            **VALID,
            "online_hold_minutes": 15,
            "online_move_min_hours": 72,
            "embedding_origins": "HTTPS://www.LaDrome.fr/\nhttps://valence.fr:443\n\nhttps://www.ladrome.fr",
        },
    )

    territory = Territory.objects.get(pk=alice.territory.pk)
    assert territory.online_hold_minutes == 15 and territory.online_move_min_hours == 72
    assert territory.embedding_origins == "https://www.ladrome.fr\nhttps://valence.fr"
    assert territory.embedding_origin_list == ["https://www.ladrome.fr", "https://valence.fr"]
    assert changes == {
        "online_hold_minutes": [10, 15],
        "online_move_min_hours": [48, 72],
        "embedding_origins": [None, "https://www.ladrome.fr, https://valence.fr"],
    }
    entry = AuditLog.objects.get(action="territory.online_booking_updated")
    assert entry.actor == alice.territory_admin and entry.territory_id == alice.territory.pk
    assert entry.changes == changes
    # The context's espace is up to date for the rest of the request.
    assert ctx.territory.online_hold_minutes == 15


def test_saving_the_same_values_changes_nothing_and_logs_nothing(alice):
    before = _settings(alice.territory)
    assert services.set_online_booking_settings(_admin(alice), **VALID) == {}
    assert _settings(alice.territory) == before


@pytest.mark.parametrize(
    ("name", "low", "high", "message"),
    [
        ("online_hold_minutes", 2, 60, "entre 2 et 60 minutes"),
        ("online_max_upcoming_per_contact", 1, 50, "entre 1 et 50 rendez-vous"),
        ("online_max_bookings_per_ip_per_day", 1, 1000, "entre 1 et 1000 réservations"),
        ("online_cancel_min_hours", 0, 168, "entre 0 et 168 heures"),
        ("online_move_min_hours", 0, 720, "entre 0 et 720 heures"),
    ],
)
def test_each_number_is_accepted_at_its_bounds_and_refused_beyond(alice, name, low, high, message):
    ctx = _admin(alice)
    for bad in (low - 1, high + 1, None, "12", 1.5, True):
        before = _settings(alice.territory)
        with pytest.raises(DomainError) as caught:
            services.set_online_booking_settings(ctx, **{**VALID, name: bad})
        assert caught.value.field == name
        assert message in caught.value.message
        assert _settings(alice.territory) == before
    for good in (low, high):
        services.set_online_booking_settings(ctx, **{**VALID, name: good})
        assert getattr(Territory.objects.get(pk=alice.territory.pk), name) == good


def test_a_bad_origin_refuses_everything_and_names_the_line(alice):
    before = _settings(alice.territory)
    with pytest.raises(DomainError) as caught:
        services.set_online_booking_settings(
            _admin(alice),
            **{**VALID, "online_hold_minutes": 20, "embedding_origins": "https://ok.fr\nhttp://pas-sur.fr"},
        )
    assert caught.value.field == "embedding_origins"
    assert caught.value.message == "Ligne 2 (« http://pas-sur.fr ») : seules les adresses en https:// sont acceptées."
    assert _settings(alice.territory) == before


def test_more_than_twenty_origins_are_refused(alice):
    with pytest.raises(DomainError, match="Indiquez au plus 20 sites"):
        services.set_online_booking_settings(
            _admin(alice), **{**VALID, "embedding_origins": "\n".join(f"https://s{n}.fr" for n in range(21))}
        )


def test_one_espace_s_settings_do_not_touch_another(alice, bob):
    services.set_online_booking_settings(_admin(alice), **{**VALID, "online_hold_minutes": 30})
    assert Territory.objects.get(pk=bob.territory.pk).online_hold_minutes == 10


# Sectorisation -------------------------------------------------------------------------------------


def _codes(organisation) -> list[tuple[str, str]]:
    return list(SectorCode.objects.filter(organisation=organisation).values_list("code", "commune"))


def test_codes_are_added_with_their_commune_and_logged(alice):
    result = services.add_sector_codes(
        _admin(alice), alice.organisation, "26000 Valence\n2a004 Ajaccio\n26500 Bourg-lès-Valence\n26100"
    )

    assert [str(code) for code in result.added] == [
        "26000 Valence",
        "2A004 Ajaccio",
        "26500 Bourg-lès-Valence",
        "26100",
    ]
    assert result.already_present == []
    assert sorted(_codes(alice.organisation)) == [
        ("26000", "Valence"),
        ("26100", ""),
        ("26500", "Bourg-lès-Valence"),
        ("2A004", "Ajaccio"),
    ]
    assert SectorCode.objects.get(code="26500").commune_key == "bourg les valence"
    entry = AuditLog.objects.get(action="sector_codes.added")
    assert entry.organisation_id == alice.organisation.pk and entry.territory_id == alice.territory.pk
    assert entry.changes == {"sector_codes": ["26000 Valence", "2A004 Ajaccio", "26500 Bourg-lès-Valence", "26100"]}


def test_codes_already_present_are_reported_not_added_twice(alice):
    ctx = _admin(alice)
    services.add_sector_codes(ctx, alice.organisation, "26000 Valence")
    result = services.add_sector_codes(ctx, alice.organisation, "26000 VALENCE\n26000 valence\n26362 Valence")

    assert [str(code) for code in result.added] == ["26362 Valence"]
    assert [str(entry) for entry in result.already_present] == ["26000 VALENCE"]
    assert sorted(_codes(alice.organisation)) == [("26000", "Valence"), ("26362", "Valence")]
    assert AuditLog.objects.filter(action="sector_codes.added").count() == 2


def test_adding_only_present_codes_logs_nothing(alice):
    ctx = _admin(alice)
    services.add_sector_codes(ctx, alice.organisation, "26000 Valence")
    services.add_sector_codes(ctx, alice.organisation, "26000 Valence")
    assert AuditLog.objects.filter(action="sector_codes.added").count() == 1


def test_the_same_code_in_another_organisation_is_its_own(alice):
    ctx = _admin(alice)
    services.add_sector_codes(ctx, alice.organisation, "26500 Bourg-lès-Valence")
    result = services.add_sector_codes(ctx, alice.other_organisation, "26500 Bourg-lès-Valence")
    assert len(result.added) == 1


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("26000 Valence\n2600 Valence", "sector_codes_invalid", "Ligne 2 (« 2600 Valence ») : un code postal"),
        ("", "sector_codes_required", "Saisissez au moins un code postal ou un code INSEE"),
        ("\n  \n", "sector_codes_required", "Saisissez au moins un code postal ou un code INSEE"),
        ("26000 <script>", "sector_codes_invalid", "le nom de la commune ne peut contenir que"),
    ],
)
def test_any_bad_line_adds_nothing(alice, text, code, message):
    before = (_codes(alice.organisation), AuditLog.objects.count())
    with pytest.raises(DomainError) as caught:
        services.add_sector_codes(_admin(alice), alice.organisation, text)
    assert caught.value.code == code and caught.value.field == "codes"
    assert message in caught.value.message
    assert (_codes(alice.organisation), AuditLog.objects.count()) == before


def test_the_organisation_admin_manages_the_codes_of_their_organisation_only(alice):
    ctx = as_agent(alice.organisation_admin, alice.organisation)
    services.add_sector_codes(ctx, alice.organisation, "26000 Valence")
    with pytest.raises(DomainError) as caught:
        services.add_sector_codes(ctx, alice.other_organisation, "26000 Valence")
    assert caught.value.code == "forbidden"
    assert _codes(alice.other_organisation) == []


def test_a_code_is_deleted_once_and_logged(alice):
    ctx = _admin(alice)
    services.add_sector_codes(ctx, alice.organisation, "26000 Valence\n26362 Valence")
    code = SectorCode.objects.get(code="26000")

    assert services.delete_sector_code(ctx, code) is True
    assert services.delete_sector_code(ctx, code) is False
    assert _codes(alice.organisation) == [("26362", "Valence")]
    entry = AuditLog.objects.get(action="sector_codes.deleted")
    assert entry.changes == {"sector_codes": ["26000 Valence"]} and entry.organisation_id == alice.organisation.pk


def test_the_system_seeds_codes(alice):
    services.add_sector_codes(Context.system(alice.territory), alice.organisation, "26000 Valence")
    assert _codes(alice.organisation) == [("26000", "Valence")]
