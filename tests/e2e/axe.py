"""Accessibility check of the page shown in the browser, with axe-core (bundled by axe-playwright-python)."""

import pytest
from axe_playwright_python.sync_playwright import Axe

FAILING_IMPACTS = ("serious", "critical")

_axe = Axe()


def axe_violations(page, impacts=FAILING_IMPACTS) -> list[dict]:
    """The axe violations of the current page whose impact is one of `impacts`."""
    violations = _axe.run(page).response["violations"]
    return [violation for violation in violations if violation.get("impact") in impacts]


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} violation(s) d'accessibilité (axe) sur {url} :"]
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation['impact']}] {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}")
            if node.get("failureSummary"):
                lines.extend(f"      {line}" for line in node["failureSummary"].splitlines())
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """Fail the test when axe finds a serious or critical violation on the current page.

    The page's URL is recorded, so the `page` fixture can check that every page visited
    during the test was checked.
    """
    page.wait_for_load_state()
    violations = axe_violations(page)
    checked = getattr(page, "a11y_checked", None)
    if checked is not None:
        checked.add(page.url)
    if violations:
        pytest.fail(format_violations(page.url, violations), pytrace=False)
