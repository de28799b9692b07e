"""A participant's whole journey in a real browser: sign up, confirm by email, build a page
with a photo, publish it, and see it as a visitor would, QR code and all."""

import re
import time
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "abseiling is fine really"
# Password hashing and photo processing are slow on purpose; allow for a busy CI machine.
SLOW = 15_000


def _wait_for_mail(smtp, address: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = smtp.to(address)
        if messages:
            return messages[-1]
        time.sleep(0.1)
    raise AssertionError(f"no email reached {address}")


@pytest.fixture
def photo_file(tmp_path):
    """A photo on disk, as a participant's phone would have it."""
    path = tmp_path / "morag.jpg"
    Image.new("RGB", (1800, 1200), "teal").save(path, "JPEG")
    return path


def test_sign_up_build_publish_and_share_a_page(
    live_server, page, chromium, smtp, axe, photo_file, event
):
    event.config["SITE_URL"] = live_server  # links in emails and QR codes point here

    # Sign up: a mistake first, shown beside the fields without a reload.
    page.goto(live_server + "/auth/signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#name-error")).to_contain_text("Enter your name")
    expect(page.locator("#password-error")).to_contain_text("Choose a password")
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    assert axe(page) == []

    page.get_by_label("Your name").fill("Morag Fraser")
    page.get_by_label("Email address").fill("morag@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible(timeout=SLOW)

    # The emailed link, then the button that confirms it.
    body = _wait_for_mail(smtp, "morag@example.org").get_body(("plain",)).get_content()
    page.goto(re.search(r"http://\S+/auth/confirm/\S+", body).group(0))
    page.get_by_role("button", name="Confirm my account").click()
    expect(page.get_by_text("Welcome, Morag Fraser!")).to_be_visible(timeout=SLOW)

    # Build the page; the address is checked as it is typed.
    page.get_by_role("link", name="Create your sponsor page").first.click()
    slug = page.get_by_label("Web address")
    expect(slug).to_have_value("morag-fraser")
    slug.fill("admin")
    expect(page.locator("#slug-status")).to_contain_text("kept for the website itself")
    slug.fill("morag-abseils")
    expect(page.locator("#slug-status")).to_contain_text("/p/morag-abseils")
    page.get_by_label("Title").fill("Morag faces her fear of heights")
    page.get_by_label("Your target, in pounds").fill("400")
    page.get_by_label("Your story").fill(
        "I'm scared of heights.\n\nThe group taught me more than any lecture: "
        "https://example.org/group"
    )
    assert axe(page) == []
    page.get_by_role("button", name="Create my page").click()
    expect(page.get_by_text("Your page is saved as a draft.")).to_be_visible(timeout=SLOW)

    page.get_by_label("Choose a photo").set_input_files(photo_file)
    page.get_by_label("Describe your photo").fill("Morag in a red helmet, grinning")
    page.get_by_role("button", name="Upload photo").click()
    expect(page.get_by_text("Your photo is saved.")).to_be_visible(timeout=SLOW)
    preview = page.locator("img.photo-preview")
    expect(preview).to_have_attribute("alt", "Morag in a red helmet, grinning")
    # The draft's photo, from the database, shown to its participant.
    expect(preview).to_have_attribute("src", re.compile(r"^/images/[0-9a-f]{64}\.jpg$"))
    expect(preview).to_have_js_property("naturalWidth", 1200)
    assert axe(page) == []  # the editor, with every section showing

    page.get_by_role("button", name="Publish my page").click()
    expect(page.get_by_text("Your page is live! Now share it.")).to_be_visible(timeout=SLOW)
    assert axe(page) == []  # the participant's home, with the share panel
    expect(page.get_by_role("link", name="Copy link")).to_have_attribute(
        "href", f"{live_server}/p/morag-abseils"
    )

    # A visitor, not logged in, sees the page, its photo and its QR code.
    visitor = chromium.new_context(locale="en-GB")
    tab = visitor.new_page()
    tab.goto(live_server + "/p/morag-abseils")
    expect(tab.get_by_role("heading", name="Morag faces her fear of heights")).to_be_visible()
    expect(tab.get_by_role("link", name="https://example.org/group")).to_have_attribute(
        "rel", "nofollow ugc noopener"
    )
    photo = tab.get_by_alt_text("Morag in a red helmet, grinning")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 1200
    served = visitor.request.get(live_server + photo.get_attribute("src"))
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    qr = tab.locator(".qr img")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    png = visitor.request.get(live_server + "/p/morag-abseils/qr.png?download=1")
    assert png.ok
    assert Image.open(BytesIO(png.body())).size[0] >= 1000
    assert axe(tab) == []
    visitor.close()


def test_copy_link_copies_with_javascript_and_is_a_plain_link_without(live_server, chromium, make):
    make.participant()
    page_url = make.app.config["SITE_URL"] + "/p/aisha"
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    tab.goto(live_server + "/p/aisha")
    tab.get_by_role("link", name="Copy link").click()
    expect(tab.locator("[data-copy-status]")).to_have_text("Link copied")
    assert tab.evaluate("navigator.clipboard.readText()") == page_url
    assert tab.url == live_server + "/p/aisha"
    context.close()

    no_js = chromium.new_context(java_script_enabled=False)
    tab = no_js.new_page()
    tab.goto(live_server + "/p/aisha")
    expect(tab.locator("#progress-page-1 .raised")).to_have_text("£0.00")
    expect(tab.get_by_role("link", name="Copy link")).to_have_attribute("href", page_url)
    no_js.close()


def test_the_editor_works_without_javascript(live_server, chromium, make):
    make.participant()
    context = chromium.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(live_server + "/auth/login")
    tab.get_by_label("Email address").fill("aisha@example.org")
    tab.get_by_label("Password").fill("correct horse battery staple")
    tab.get_by_role("button", name="Log in").click()
    tab.goto(live_server + "/me/page")
    tab.get_by_label("Web address").fill("no spaces allowed")
    tab.get_by_role("button", name="Save changes").click()
    expect(tab.locator("#slug-error")).to_contain_text("Use only lowercase letters")
    expect(tab.get_by_role("alert")).to_contain_text("There is a problem")
    tab.get_by_label("Web address").fill("aisha-abseils")
    tab.get_by_role("button", name="Save changes").click()
    expect(tab.get_by_text("Your changes are saved.")).to_be_visible(timeout=SLOW)
    context.close()


def test_thank_donors_and_post_updates_without_a_reload(live_server, page, make, axe):
    page_id = make.participant()
    make.donation(2500, page_id=page_id, donor_name="Fiona", message="Go Aisha!")
    make.donation(1000, page_id=page_id, donor_name="Secret Sam", anonymous=True)
    page.goto(live_server + "/auth/login")
    page.get_by_label("Email address").fill("aisha@example.org")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("(anonymous to the public)")).to_be_visible(timeout=SLOW)
    page.evaluate("window.__notReloaded = true")

    page.get_by_text("Say thank you to Fiona").click()
    page.get_by_label("Your reply to Fiona").fill("Thank you so much, Fiona!")
    page.get_by_role("button", name="Save reply").first.click()
    # The same words are copied into #announcer for screen readers; look where they are shown.
    expect(
        page.get_by_role("region", name="Your donors").get_by_text(
            "Reply saved and emailed to them."
        )
    ).to_be_visible()

    page.get_by_role("button", name="Post update").click()
    expect(page.locator("#update-body-error")).to_contain_text("Write your update first")
    page.get_by_label("Post an update").fill("Training at the climbing wall tonight.")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator("#sponsor-updates")).to_contain_text("Training at the climbing wall")
    assert page.evaluate("window.__notReloaded") is True
    assert axe(page) == []

    page.goto(live_server + "/p/aisha")
    expect(page.get_by_text("Aisha Rahman replied:")).to_be_visible()
    expect(page.get_by_text("Thank you so much, Fiona!")).to_be_visible()
    expect(page.get_by_text("Secret Sam")).to_have_count(0)
