"""The demo data lets anyone try the public booking with `make run`: sectorised organisations in
the Drôme espace (none in the Ardèche one), motifs open online to everyone and one to prescripteurs,
with instructions, and plages carrying them in the coming weeks."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from rdv.bookings.availability import find_slots
from rdv.motifs.models import BookableBy, Motif
from rdv.territories.models import Territory
from rdv.territories.selectors import organisations_for_place

PARIS = timezone.get_default_timezone()
NOW = datetime(2027, 3, 10, 8, 0, tzinfo=PARIS)  # a Wednesday


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
        yield Territory.objects.get(name="Drôme (démo)"), Territory.objects.get(name="Ardèche (démo)")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("26000", ["MDS Valence"]),
        ("26362", ["MDS Valence"]),
        ("Bourg-lès-Valence", ["MDS Valence"]),
        ("bourg", ["MDS Romans-sur-Isère", "MDS Valence"]),
        ("romans sur isere", ["MDS Romans-sur-Isère"]),
        ("26100", ["MDS Romans-sur-Isère"]),
        ("07000", []),
    ],
)
def test_the_drome_espace_is_sectorised(demo, query, expected):
    drome, _ = demo
    assert [organisation.name for organisation in organisations_for_place(drome, query)] == expected


def test_the_ardeche_espace_offers_its_organisations_everywhere(demo):
    _, ardeche = demo
    assert [organisation.name for organisation in organisations_for_place(ardeche, "26000")] == ["MDS Privas"]


def _online_motifs(territory):
    return Motif.objects.active().filter(organisation__territory=territory).select_related("organisation__territory")


def test_motifs_open_online_to_everyone_and_to_prescripteurs_have_instructions(demo):
    drome, _ = demo
    everyone = _online_motifs(drome).filter(bookable_online=True, bookable_by=BookableBy.EVERYONE)
    prescripteurs = _online_motifs(drome).filter(bookable_by=BookableBy.AGENTS_AND_PRESCRIPTEURS)
    assert len({motif.name for motif in everyone}) >= 2
    assert {motif.organisation.name for motif in everyone} == {"MDS Valence", "MDS Romans-sur-Isère"}
    assert prescripteurs.count() >= 1
    for motif in [*everyone, *prescripteurs]:
        assert motif.instructions_before and motif.instructions_after, motif


def test_each_online_motif_has_free_slots_in_the_coming_weeks(demo):
    drome, _ = demo
    motifs = list(
        _online_motifs(drome).filter(
            bookable_by__in=[BookableBy.EVERYONE, BookableBy.AGENTS_AND_PRESCRIPTEURS], collective=False
        )
    )
    assert motifs
    today = NOW.date()
    for motif in motifs:
        with time_machine.travel(NOW, tick=False):
            slots = find_slots([motif], today, today + timedelta(days=20), now=NOW, online=True)[motif.pk]
        assert len(slots) >= 5, (motif.organisation.name, motif.name)
