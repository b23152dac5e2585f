"""Who reaches which motif page: everything outside one's rights is a 404, anonymous visitors log in."""

import pytest
from django.urls import reverse

from rdv.motifs.models import Motif
from tests.helpers import as_agent
from tests.motifs.conftest import as_post, configuration, log_in, online

pytestmark = pytest.mark.django_db

# (url name, method, extra POST data builder)
ESPACE_PAGES = [
    ("espace_motifs", "get", None),
    ("espace_motif_create", "get", None),
    ("espace_motif", "get", None),
    ("espace_motif_configuration", "post", "configuration"),
    ("espace_motif_online_booking", "post", "online"),
    ("espace_motif_instructions", "post", "instructions"),
    ("espace_motif_duplicate", "post", None),
    ("espace_motif_archive", "post", None),
    ("espace_motif_restore", "post", None),
]
ORGANISATION_PAGES = [(name.replace("espace_", "organisation_"), method, data) for name, method, data in ESPACE_PAGES]
NEEDS_MOTIF = {"motif", "configuration", "online_booking", "instructions", "duplicate", "archive", "restore"}


def url_for(name: str, tenant_pk: int, motif) -> str:
    suffix = name.split("_", 1)[1].removeprefix("motif_") if "_motif_" in name else ""
    if name.endswith("_motif") or suffix in NEEDS_MOTIF:
        return reverse(name, args=[tenant_pk, motif.pk])
    return reverse(name, args=[tenant_pk])


def post_data(kind, world):
    if kind == "configuration":
        return as_post(configuration(world, name="Changé"))
    if kind == "online":
        return online()
    if kind == "instructions":
        return {"instructions_before": "Changé"}
    return {}


def request(client, method, url, data):
    return client.get(url) if method == "get" else client.post(url, data)


def snapshot():
    return list(Motif.objects.order_by("pk").values())


ACTORS = ["territory_admin", "organisation_admin", "agent", "other_territory_admin", "anonymous"]


def actor_of(alice, bob, actor):
    return {
        "territory_admin": alice.territory_admin,
        "organisation_admin": alice.organisation_admin,
        "agent": alice.agent,
        "other_territory_admin": bob.territory_admin,
        "anonymous": None,
    }[actor]


# Espace pages: espace admins only --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method", "data"), ESPACE_PAGES)
@pytest.mark.parametrize("actor", ACTORS)
def test_espace_motif_pages_matrix(client, alice, bob, motif, name, method, data, actor):
    agent = actor_of(alice, bob, actor)
    if agent:
        log_in(client, agent)
    if name == "espace_motif_restore":
        Motif.objects.filter(pk=motif.pk).update(archived_at="2026-01-01T00:00:00Z")
    before = snapshot()

    response = request(client, method, url_for(name, alice.territory.pk, motif), post_data(data, alice))

    if actor == "territory_admin":
        assert response.status_code == (200 if method == "get" else 302)
        assert method == "get" or not response.url.startswith(reverse("login"))
        return
    if actor == "anonymous":
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    else:
        assert response.status_code == 404
    assert snapshot() == before


# Organisation pages: members read the list, organisation admins manage -----------------------------------


@pytest.mark.parametrize(("name", "method", "data"), ORGANISATION_PAGES)
@pytest.mark.parametrize("actor", ACTORS)
def test_organisation_motif_pages_matrix(client, alice, bob, motif, name, method, data, actor):
    agent = actor_of(alice, bob, actor)
    if agent:
        log_in(client, agent)
    if name == "organisation_motif_restore":
        Motif.objects.filter(pk=motif.pk).update(archived_at="2026-01-01T00:00:00Z")
    before = snapshot()

    response = request(client, method, url_for(name, alice.organisation.pk, motif), post_data(data, alice))

    # The espace admin of the fixtures is also an admin of this organisation.
    allowed = actor in ("territory_admin", "organisation_admin") or (actor == "agent" and name == "organisation_motifs")
    if allowed:
        assert response.status_code == (200 if method == "get" else 302)
        assert method == "get" or not response.url.startswith(reverse("login"))
        return
    if actor == "anonymous":
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    else:
        assert response.status_code == 404
    assert snapshot() == before


# Tenant isolation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method", "data"), ESPACE_PAGES[2:])
def test_a_motif_of_another_espace_is_not_found_through_ones_own_espace(client, alice, bob, motif, name, method, data):
    log_in(client, bob.territory_admin)
    before = snapshot()

    response = request(client, method, url_for(name, bob.territory.pk, motif), post_data(data, bob))

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(("name", "method", "data"), ORGANISATION_PAGES[2:])
def test_a_motif_of_another_organisation_is_not_found_through_ones_own(client, alice, motif, name, method, data):
    other = Motif.objects.create(
        organisation=alice.other_organisation, service=alice.service, name="Ailleurs", color="#000000"
    )
    log_in(client, alice.organisation_admin)
    before = snapshot()

    response = request(client, method, url_for(name, alice.organisation.pk, other), post_data(data, alice))

    assert response.status_code == 404
    assert snapshot() == before


def test_an_organisation_admin_cannot_reach_another_organisation_of_the_espace(client, alice):
    log_in(client, alice.organisation_admin)

    response = client.get(reverse("organisation_motifs", args=[alice.other_organisation.pk]))

    assert response.status_code == 404


def test_the_espace_list_shows_only_the_espace_motifs(client, alice, bob, motif):
    from rdv.motifs import services

    services.create_motif(as_agent(bob.territory_admin, bob.organisation), configuration(bob, name="Motif de Bob"))
    log_in(client, alice.territory_admin)

    page = client.get(reverse("espace_motifs", args=[alice.territory.pk])).content.decode()

    assert "Premier accueil" in page and "Motif de Bob" not in page


def test_the_espace_filters_offer_only_the_espace_organisations(client, alice, bob, motif):
    log_in(client, alice.territory_admin)

    response = client.get(reverse("espace_motifs", args=[alice.territory.pk]) + f"?organisation={bob.organisation.pk}")

    page = response.content.decode()
    assert response.status_code == 200
    assert "bob Centre" not in page
    assert "Premier accueil" in page  # an invalid filter is ignored, not applied to another espace


def test_sibling_motifs_outside_the_page_scope_are_not_updated(client, alice, batch):
    """From the organisation pages, "apply to the motifs created together" reaches nothing outside it."""
    first = batch[0]
    log_in(client, alice.organisation_admin)

    client.post(
        reverse("organisation_motif_online_booking", args=[alice.organisation.pk, first.pk]),
        online(apply_to_batch="on"),
    )

    assert list(Motif.objects.online()) == [first]
