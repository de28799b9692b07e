"""Every HTML email as a mail client shows it, in Chromium: axe-clean (contrast included) at
desktop and phone widths and with its <style> dropped, as some clients do; nothing fetched
(no images, fonts or pixels); a screenshot of each under the test's tmp dir."""

import re

import pytest

from tests.mail_cases import CASES, render_all

pytestmark = pytest.mark.browser

STYLE = re.compile(r"<style>.*?</style>", re.S)


@pytest.fixture
def emails(event):
    """Every email, as the app makes them."""
    return render_all(event)


@pytest.fixture
def mail_client(chromium):
    """A tab that shows an email as a mail client would, refusing (and noting) any fetch."""
    context = chromium.new_context(
        locale="en-GB", timezone_id="Europe/London", viewport={"width": 800, "height": 900}
    )
    fetched: list[str] = []
    context.route("**/*", lambda route: (fetched.append(route.request.url), route.abort()))
    tab = context.new_page()
    yield tab, fetched
    context.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_email_reads_well_and_fetches_nothing(mail_client, axe, emails, name, tmp_path):
    tab, fetched = mail_client
    html = emails[name].html
    tab.set_content(html, wait_until="load")
    assert axe(tab) == [], name
    # Contrast was judged on every piece of text, none left undecided ("needs review").
    contrast = tab.evaluate(
        "() => axe.run(document, {runOnly: {type: 'rule', values: ['color-contrast']}})"
    )
    assert contrast["passes"] and not contrast["violations"] and not contrast["incomplete"]
    assert tab.locator("h1").count() == 1
    assert tab.title() == emails[name].subject
    tab.screenshot(path=tmp_path / f"{name}.png", full_page=True)

    # On a phone: no sideways scrolling, and still clean.
    tab.set_viewport_size({"width": 360, "height": 740})
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    assert axe(tab) == [], name
    tab.screenshot(path=tmp_path / f"{name}-phone.png", full_page=True)

    # A client that drops <style> keeps the inlined styles: the same colours, still clean.
    tab.set_viewport_size({"width": 800, "height": 900})
    tab.set_content(STYLE.sub("", html), wait_until="load")
    assert axe(tab) == [], name
    masthead = tab.locator("header")
    assert masthead.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 92, 142)"
    tab.screenshot(path=tmp_path / f"{name}-inline-only.png", full_page=True)

    assert fetched == [], f"{name} fetched {fetched}"
