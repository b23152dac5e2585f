"""Browser tests: Playwright (sync API) driving Debian's Chromium against Django's live server.

Every test under tests/e2e is marked `e2e` (deselect them with `-m "not e2e"`). Without
/usr/bin/chromium they are skipped, so the rest of the suite still runs anywhere.

The live server runs in a thread of the test process: the test reads the database and the
locmem e-mail outbox (`django.core.mail.outbox`) directly.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# Playwright's sync API runs an event loop in the main thread; Django refuses ORM calls from a
# thread with a running loop unless told it is safe (it is: nothing here is actually async).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling home, which floods a closed network with refused connections.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    "Chromium est absent (/usr/bin/chromium) : tests navigateur ignorés. "
    "Installez-le avec : apt-get install -y chromium chromium-driver"
)
E2E_DIR = Path(__file__).resolve().parent
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder `e2e`, and skip them when Chromium is missing. The live
    server's public pages read through the "replica" connection (a test mirror of the default
    database, docs/adr/0017-read-replica.md): the tests may use it."""
    chromium_missing = not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK))
    for item in items:
        if E2E_DIR not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(databases=["default", "replica"]))
        if chromium_missing:
            item.add_marker(pytest.mark.skip(reason=MISSING_CHROMIUM))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def playwright():
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(request, browser, live_server, django_db_serialized_rollback, tmp_path):
    """A fresh browser context (no cookies) per test, in French, on the live server.

    `serialized_rollback` restores the data created by migrations (the service catalogue…)
    that the flush after each transactional test removes.

    After a passing test, checks that `assert_accessible` ran on every page the browser
    showed. After a failing one, saves a screenshot and the HTML in the test's tmp_path.
    """
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.a11y_checked = set()
    visited: list[str] = []
    js_errors: list[str] = []

    def on_navigation(frame):
        if frame == page.main_frame and frame.url.startswith(live_server.url):
            visited.append(frame.url.split("#", 1)[0])

    page.on("framenavigated", on_navigation)
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    yield page

    failed = getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed
    try:
        if failed:
            page.screenshot(path=str(tmp_path / "echec.png"), full_page=True)
            (tmp_path / "echec.html").write_text(page.content(), encoding="utf-8")
            print(f"Capture de la page au moment de l'échec : {tmp_path / 'echec.png'}")
    finally:
        context.close()
    if not failed:
        assert not js_errors, f"Erreurs JavaScript dans la page : {js_errors}"
        checked = {url.split("#", 1)[0] for url in page.a11y_checked}
        unchecked = [url for url in dict.fromkeys(visited) if url not in checked]
        assert not unchecked, f"Pages affichées sans contrôle d'accessibilité (assert_accessible) : {unchecked}"
