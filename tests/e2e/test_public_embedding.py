"""Issue 18, « Links and embedding », in a real browser: a partner site that the espace lists shows
the public booking in an iframe, and a member of the public books through it.

The partner page is served by a second HTTP server on another site (127.0.0.1 when the product is
at localhost, and the reverse), so the frame is a third-party context: the browser neither sends
nor stores the product's SameSite=Lax cookies inside it. The search steps are plain links and work
inside the frame; choosing a time opens the rest of the booking (coordinates, code, confirmation)
in the whole window (`target="_top"`), where the session and CSRF cookies are first-party.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from rdv.bookings.models import CreatedBy, Rdv
from tests.e2e import test_public_booking_journey as journey
from tests.e2e.axe import assert_accessible
from tests.e2e.test_public_booking_journey import PERSON, heading, label
from tests.online.fixtures import last_code

# The espace of the phone journey (a motif with instructions, two lieux, Thursday 11 March free).
travelled = journey.travelled
espace = journey.espace


def _partner_server(frame_url: str):
    page = (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Site partenaire</title></head>"
        "<body><h1>Mairie de Valence</h1>"
        f"<iframe title='Prendre rendez-vous' src='{frame_url}' width='420' height='900'></iframe>"
        "</body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def partner(live_server, espace):
    """The partner's origin and page, on another site than the product, listed by the espace."""
    product = urlsplit(live_server.url)
    partner_host = "127.0.0.1" if product.hostname == "localhost" else "localhost"
    server = _partner_server(live_server.url + reverse("public:short_motif", args=[espace.motif.pk]))
    origin = f"http://{partner_host}:{server.server_address[1]}"
    territory = espace.organisation.territory
    territory.embedding_origins = origin
    territory.save(update_fields=["embedding_origins"])
    yield origin
    server.shutdown()


def test_a_visitor_books_through_a_partner_site_that_frames_the_public_pages(page: Page, espace, partner):
    page.goto(partner + "/")
    expect(page.get_by_role("heading", name="Mairie de Valence")).to_be_visible()
    frame = page.frame_locator("iframe[title='Prendre rendez-vous']")
    # In the frame: the motif's instructions, the lieu, the week.
    expect(frame.get_by_role("heading", level=1)).to_contain_text("Avant de choisir un créneau")
    frame.locator("label", has_text="J'ai lu ces informations").click()
    frame.get_by_role("button", name="Continuer").click()
    expect(frame.get_by_role("heading", level=1)).to_contain_text("Où exactement ?")
    frame.get_by_role("link", name="Choisir MDS Centre").click()
    expect(frame.get_by_role("heading", level=1)).to_contain_text("Quand ?")
    frame.get_by_role("button", name="jeudi 11 mars à 10 h 00").click()

    # The booking goes on in the whole window, on the product's site.
    heading(page, "Vos coordonnées")
    assert not page.url.startswith(partner)
    expect(page.get_by_text("Ce créneau vous est réservé jusqu'à")).to_be_visible()
    assert_accessible(page)
    page.get_by_label(label("Prénom", whole=True)).fill(PERSON["first_name"])
    page.get_by_label(label("Nom", whole=True)).fill(PERSON["last_name"])
    page.get_by_label(label("Adresse e-mail")).fill(PERSON["email"])
    page.get_by_role("button", name="Recevoir le code de confirmation").click()
    heading(page, "Confirmez avec le code reçu")
    assert_accessible(page)
    page.get_by_label(label("Code de confirmation")).fill(last_code(PERSON["email"]))
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    heading(page, "Rendez-vous confirmé")
    assert_accessible(page)

    rdv = Rdv.objects.get()
    assert rdv.created_by == CreatedBy.USAGER
    assert rdv.motif == espace.motif and rdv.lieu == espace.centre


def test_a_site_the_espace_does_not_list_cannot_frame_the_public_pages(page: Page, espace, live_server):
    product = urlsplit(live_server.url)
    other_host = "127.0.0.1" if product.hostname == "localhost" else "localhost"
    server = _partner_server(live_server.url + reverse("public:short_motif", args=[espace.motif.pk]))
    try:
        blocked = []
        page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
        page.goto(f"http://{other_host}:{server.server_address[1]}/")
        expect(page.get_by_role("heading", name="Mairie de Valence")).to_be_visible()
        frame = page.frame_locator("iframe[title='Prendre rendez-vous']")
        expect(frame.get_by_role("heading", level=1)).to_have_count(0)
        page.wait_for_timeout(300)
        assert blocked, "the browser reports the refused frame (CSP frame-ancestors)"
    finally:
        server.shutdown()
