"""Embedding: the public search pages may be framed by the product and by the sites the espace of the
page lists; every other page refuses to be framed."""

import pytest
import time_machine
from django.urls import reverse

from rdv.territories.models import Territory
from rdv.www.public.embedding import origins_of
from tests.helpers import log_in
from tests.www.public.search_world import NOW, PARTNER, build_journey


@pytest.fixture
def journey(alice):
    with time_machine.travel(NOW, tick=False):
        yield build_journey(alice)


def frame_ancestors(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("frame-ancestors"))


def test_pages_of_an_espace_may_be_framed_by_its_sites_only(client, journey):
    pages = [
        (reverse("public:start"), {"espace": journey.territory.pk}),
        (reverse("public:services"), {"organisation": journey.organisation.pk, "liste": "1"}),
        (reverse("public:lieux"), {"motif": journey.motif.pk}),
        (reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk}),
        (reverse("public:instructions"), {"motif": journey.instructions_motif.pk}),
    ]
    for path, params in pages:
        response = client.get(path, params)
        assert response.status_code == 200, path
        assert frame_ancestors(response) == f"frame-ancestors 'self' {PARTNER}", path
        assert "X-Frame-Options" not in response, path
        assert "script-src 'self'" in response["Content-Security-Policy"]  # the rest of the policy stays


def test_malformed_origins_never_reach_the_header(journey):
    territory = journey.territory
    territory.embedding_origins = "\n".join(
        [
            "https://ok.example.fr/",
            "https://OK.example.fr",
            "https://evil.example.fr; script-src *",
            "javascript:alert(1)",
            "https://port.example.fr:8443",
            "*",
            "'unsafe-inline'",
            "",
        ]
    )
    assert origins_of(territory) == ["https://ok.example.fr", "https://port.example.fr:8443"]
    assert origins_of(None) == []


def test_pages_without_an_espace_yet_may_be_framed_by_the_product_only(client, journey):
    for response in (
        client.get(reverse("public:start")),
        client.get(reverse("public:start"), {"q": "26500", "liste": "1"}),
        client.get(reverse("public:week"), {"motif": "abc"}),  # error page
    ):
        assert frame_ancestors(response) == "frame-ancestors 'self'"
        assert "X-Frame-Options" not in response


def test_another_espace_s_sites_may_not_frame_this_espace_s_pages(client, journey, bob):
    bob.territory.embedding_origins = "https://bob.example.fr"
    bob.territory.save()
    response = client.get(reverse("public:services"), {"organisation": journey.organisation.pk, "liste": "1"})
    assert "bob.example.fr" not in frame_ancestors(response)
    response = client.get(reverse("public:start"), {"espace": bob.territory.pk})
    assert frame_ancestors(response) == "frame-ancestors 'self' https://bob.example.fr"


def test_an_espace_without_sites_allows_the_product_only(client, journey):
    Territory.objects.filter(pk=journey.territory.pk).update(embedding_origins="")
    response = client.get(reverse("public:week"), {"motif": journey.motif.pk, "lieu": journey.lieu.pk})
    assert frame_ancestors(response) == "frame-ancestors 'self'"


def test_other_pages_still_refuse_to_be_framed(client, journey):
    for response in (
        client.get(reverse("login")),
        client.get(reverse("home")),
        log_in(client, journey.agent).get(reverse("organisation_home", args=[journey.organisation.pk])),
    ):
        assert response.status_code == 200
        assert frame_ancestors(response) == "frame-ancestors 'none'"
        assert response["X-Frame-Options"] == "DENY"
