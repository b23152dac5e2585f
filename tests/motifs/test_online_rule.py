"""« Qui peut réserver » (Configuration) and « Ouvert aux usagers » (Réservation en ligne) follow one
rule, explained next to both controls (issue 17, point 7): a motif is open online only while usagers
may book it. Choosing a « Qui peut réserver » without usagers closes the motif online and says so;
the online checkbox says what « Qui peut réserver » must be, and what it is."""

from rdv.core.models import AuditLog
from rdv.motifs import services
from rdv.motifs.models import BookableBy, Motif
from tests.helpers import as_agent, page_text
from tests.motifs.conftest import as_post, configuration, log_in, online
from tests.motifs.test_pages import espace_url


def open_online(alice, *motifs):
    ctx = as_agent(alice.territory_admin, alice.territory)
    services.update_motif_online_booking(ctx, motifs[0], {"bookable_online": True}, also=motifs[1:])


def test_choosing_agents_only_closes_an_online_motif_and_says_so(client, alice, motif):
    open_online(alice, motif)
    log_in(client, alice.territory_admin)

    response = client.post(
        espace_url(alice, "espace_motif_configuration", motif.pk),
        as_post(configuration(alice, bookable_by=BookableBy.AGENTS)),
        follow=True,
    )

    page = page_text(response)
    assert "Onglet « Configuration » enregistré." in page
    assert (
        "Le motif n'est plus ouvert aux usagers : « Qui peut réserver » n'inclut plus les usagers, la réservation "
        "en ligne est donc fermée." in page
    )
    motif.refresh_from_db()
    assert (motif.bookable_by, motif.bookable_online) == (BookableBy.AGENTS, False)
    assert AuditLog.objects.filter(action="motif.configuration_updated").get().changes["bookable_online"] == [
        True,
        False,
    ]


def test_motifs_created_together_are_closed_together_and_named(client, alice, batch):
    open_online(alice, *batch)
    log_in(client, alice.territory_admin)
    data = as_post(configuration(alice, name="Entretien budget", bookable_by=BookableBy.AGENTS_AND_PRESCRIPTEURS))
    data["apply_to_batch"] = "on"

    response = client.post(espace_url(alice, "espace_motif_configuration", batch[0].pk), data, follow=True)

    assert "Le motif n'est plus ouvert aux usagers (alice Centre, alice Nord)" in page_text(response)
    assert not Motif.objects.online().exists()


def test_the_rule_is_explained_next_to_both_controls(client, alice, motif):
    log_in(client, alice.territory_admin)
    services.update_motif_configuration(
        as_agent(alice.territory_admin, motif), motif, configuration(alice, bookable_by=BookableBy.AGENTS)
    )

    page = page_text(client.get(espace_url(alice, "espace_motif", motif.pk)))

    rule = (
        "La réservation en ligne n'est possible que si « Qui peut réserver » (onglet « Configuration ») inclut les "
        "usagers : « Agents, prescripteurs et usagers invités » ou « Tout le monde »."
    )
    configuration_tab, online_tab = page.split('for="reservation_bookable_online"', 1)
    assert rule + " Un autre choix ferme le motif à la réservation en ligne." in configuration_tab
    assert (
        rule + " Actuellement : « Agents de l'organisation uniquement » : changez d'abord « Qui peut réserver »."
        in (online_tab)
    )


def test_an_online_motif_says_which_choices_keep_it_online(client, alice, motif):
    open_online(alice, motif)
    log_in(client, alice.territory_admin)

    page = page_text(client.get(espace_url(alice, "espace_motif", motif.pk)))

    assert "Ce motif est ouvert aux usagers (réservation en ligne). Il le reste avec" in page
    assert "Possible : « Qui peut réserver » vaut « Tout le monde »." in page


def test_opening_online_a_motif_reserved_to_agents_is_refused_with_the_rule(client, alice, motif):
    services.update_motif_configuration(
        as_agent(alice.territory_admin, motif), motif, configuration(alice, bookable_by=BookableBy.AGENTS)
    )
    log_in(client, alice.territory_admin)

    response = client.post(espace_url(alice, "espace_motif_online_booking", motif.pk), online())

    assert response.status_code == 200
    assert "Ce motif ne peut pas être ouvert aux usagers" in page_text(response)
    motif.refresh_from_db()
    assert not motif.bookable_online
