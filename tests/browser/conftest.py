"""Real-browser fixtures: the app on a local port, and Debian's Chromium driven by Playwright."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, skip_or_fail

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Flags as root in a closed network: no sandbox, no background calls to Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, launched headless once per run."""
    if not Path(CHROMIUM).exists():
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser tab with its own cookies; fails the test on any JavaScript error."""
    context = chromium.new_context(locale="en-GB", timezone_id="Europe/London")
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if _is_error(msg) else None)
    yield tab
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


def _is_error(message) -> bool:
    # Chrome logs every 4xx page as an error. These are answers we mean to give: a form with
    # errors (422), a refusal explained in place (409), and a declined card on the Stripe
    # sandbox's page (402, as Stripe does).
    expected = ("status of 402", "status of 409", "status of 422")
    return message.type == "error" and not any(text in message.text for text in expected)


@pytest.fixture
def axe():
    """Check a page with axe-core; returns the violations (WCAG 2.x A and AA rules)."""
    if not AXE.exists():
        skip_or_fail("axe-core is not installed (npm ci)")
    source = AXE.read_text()

    def check(tab) -> list[dict]:
        # After a click that navigates, text can be visible before the stylesheet applies;
        # unstyled, every link is a tiny target. Judge the page as people get it: loaded.
        tab.wait_for_load_state("load")
        tab.evaluate(source)  # through DevTools, so the page's CSP (rightly) does not block it
        result = tab.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
        )
        return [
            {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]]}
            for v in result["violations"]
        ]

    return check
