"""Arbitrary input at every form and JSON endpoint (Hypothesis): strings of any kind, numbers,
missing and repeated fields, unknown fields, junk in URLs, and webhooks with any body and any
signature. The site never answers with a server error, and no total ever moves.

The CSRF token is always valid here (test_csrf.py covers its absence), so every request
reaches the form it is aimed at. Examples share one world per test, as a busy site would."""

import itertools
import json
import re
import string
from dataclasses import fields
from io import BytesIO
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app import payments, totals
from app.donations.gift_aid import details_of, details_problems
from app.extensions import db
from app.models import Contribution, Donation, DonationStatus, Totals
from app.payments.webhooks import HANDLED
from app.security import STRIPE_CHECKOUT_ORIGIN as STRIPE
from tests import stripe_events
from tests.world import build_world, log_in_as

COLUMNS = [f.name for f in fields(Contribution)]
# Modest and repeatable: the whole file runs in seconds, and CI sees the same examples.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1e9",
    "NaN",
    "inf",
    "£",
    "£-5",
    "10.001",
    "9" * 400,
    "\x00",
    "a\x00b",
    "\r\n",
    "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes, int() agrees, money must not
    "²",  # isdigit() says yes, int() says no
    "<script>alert(1)</script>",
    "'; DROP TABLE donations; --",
    "../../etc/passwd",
    "%00",
    "\ud7ff\ue000\U0010ffff",
    "x" * 5000,
]
# Any Unicode a person might paste: other scripts, right-to-left and invisible marks, emoji.
unicode_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"])
    | st.sampled_from("\u200b\u200f\u202e\ufeff🌸"),
    max_size=60,
)
header_text = st.text(alphabet=st.characters(exclude_characters="\r\n"), max_size=80)
numbers = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)).map(str)
value = st.one_of(st.text(max_size=60), numbers, st.sampled_from(NASTY))
values = st.one_of(value, st.lists(value, min_size=2, max_size=3))  # a field sent twice


def form(*fields: str):
    """Any subset of `fields` (missing ones are missing), any values, maybe an unknown field."""
    known = st.dictionaries(st.sampled_from(fields), values, max_size=len(fields))
    unknown = st.dictionaries(st.text(min_size=1, max_size=8), value, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, unknown)


DONATION_FIELDS = (
    "attempt_key",
    "amount_preset",
    "other_amount",
    "cover_fee",
    "donor_name",
    "donor_email",
    "message",
    "anonymous",
    "hide_amount",
    "gift_aid",
    "title",
    "first_name",
    "last_name",
    "house",
    "postcode",
    "overseas",
    "gift_aid_confirm",
    "gift_aid_checked",
)
# Mostly-valid donations, so the deeper checks (Gift Aid, limits, fees) run too.
plausible_donation = st.fixed_dictionaries(
    {
        "amount_preset": st.sampled_from(["1000", "2000", "other", "", "abc", "१०००"]),
        "other_amount": value,
        "donor_name": st.sampled_from(["Fiona", "", "x" * 101]) | value,
        "donor_email": st.sampled_from(["fiona@example.org", "not-an-email"]) | value,
        "gift_aid": st.sampled_from(["y", ""]),
        "first_name": value | unicode_text,
        "last_name": value | unicode_text,
        "house": value | unicode_text | st.just("x" * 10_000),
        "postcode": st.sampled_from(["G12 8QQ", "g128qq", "XX", "JE2 3AB", "BFPO 1"]) | value,
        "overseas": st.sampled_from(["y", ""]),
        "title": st.sampled_from(["Dr.", "", "Profe"]) | unicode_text,
        "gift_aid_confirm": st.sampled_from(["y", ""]),
        "gift_aid_checked": st.sampled_from(["", "Dr|Ann|Lee|1|G12 8QQ"]) | value,
        "cover_fee": st.sampled_from(["y", ""]),
    }
)


VALID_DONATION = {
    "amount_preset": "1000",
    "donor_name": "Fiona",
    "donor_email": "fiona@example.org",
}


class FakeCheckout:
    """Stand-in for Stripe: a valid donation gets a Checkout Session (not paid, so it counts
    for nothing), and a made-up session id is one Stripe has never heard of."""

    def __init__(self):
        self.created = itertools.count(1)

    def create(self, donation, params):
        """What Stripe answers to a new Checkout Session."""
        number = next(self.created)
        session = {
            "id": f"cs_fuzz_{number}",
            "amount_total": sum(i["price_data"]["unit_amount"] for i in params["line_items"]),
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "created": 1_800_000_000,
            "metadata": params["metadata"],
        }
        return SimpleNamespace(url=f"{STRIPE}/c/pay/cs_fuzz_{number}", to_dict=lambda: session)

    def retrieve(self, session_id):
        """Stripe has no such session."""
        return None


@pytest.fixture
def site(app, make, monkeypatch):
    """The world, a client per role (CSRF token in a header) and a snapshot of the money."""
    stripe = FakeCheckout()
    monkeypatch.setattr(payments, "create_checkout_session", stripe.create)
    monkeypatch.setattr(payments, "retrieve_checkout_session", stripe.retrieve)
    monkeypatch.setattr(payments, "retrieve_payment_intent_metadata", lambda _id: {})
    monkeypatch.setattr(payments, "list_refunds", lambda **_: [])
    app.config["STRIPE_WEBHOOK_SECRET"] = stripe_events.WEBHOOK_SECRET
    world = build_world(make)
    return Site(app, world)


def _add(a: Contribution, b: Contribution) -> Contribution:
    return Contribution(**{name: getattr(a, name) + getattr(b, name) for name in COLUMNS})


class Site:
    """Send requests as someone, and say whether anything that counts has moved."""

    def __init__(self, app, world):
        self.app, self.world = app, world
        self.clients = {}
        self.money = self._money()

    def client(self, role: str = "visitor"):
        """A logged-in (or not) client whose requests carry a valid CSRF token."""
        if role not in self.clients:
            client = self.app.test_client()
            log_in_as(client, self.world, role)
            page = client.get("/privacy").text
            client.environ_base["HTTP_X_CSRFTOKEN"] = page.split('"X-CSRFToken": "')[1][:200].split(
                '"'
            )[0]
            self.clients[role] = client
        return self.clients[role]

    def _money(self):
        with self.app.app_context():
            totals = [
                (
                    t.scope,
                    t.raised_pence,
                    t.online_pence,
                    t.offline_pence,
                    t.gift_aid_eligible_pence,
                    t.fees_covered_pence,
                    t.refunded_pence,
                    t.disputed_pence,
                    t.supporters,
                )
                for t in db.session.query(Totals).order_by(Totals.scope)
            ]
            paid = db.session.query(Donation).filter_by(status=DonationStatus.PAID).count()
            return totals, paid

    def assert_totals_add_up(self) -> None:
        """Every totals row equals the sum of what its donations contribute."""
        with self.app.app_context():
            expected = {t.scope: Contribution() for t in db.session.query(Totals)}
            for donation in db.session.query(Donation):
                scopes = totals.scopes_of(donation)
                if donation.sponsor_page_id is not None:  # a member's page counts for its team
                    scopes.append(totals.page_team_scope(donation.sponsor_page_id))
                for scope in filter(None, scopes):
                    expected[scope] = _add(expected[scope], donation.contribution())
            for row in db.session.query(Totals):
                stored = Contribution(**{name: getattr(row, name) for name in COLUMNS})
                assert stored == expected[row.scope], f"totals for {row.scope} drifted"

    def check(self, response, what: str) -> None:
        """No server error, and the totals and paid donations are as they were."""
        status = response.status_code
        response.close()
        assert status < 500, f"{what} answered {status}"
        assert self._money() == self.money, f"{what} moved the money"


# Forms --------------------------------------------------------------------------------


@FUZZ
@given(data=form(*DONATION_FIELDS) | plausible_donation, to_page=st.booleans())
@example(data={**VALID_DONATION, "donor_name": "F\x00"}, to_page=False)  # NUL: PostgreSQL
@example(data=VALID_DONATION, to_page=True)
def test_donation_form(site, data, to_page):
    url = "/donate/aisha" if to_page else "/donate"
    site.check(site.client().post(url, data=data), f"POST {url} {data!r}")


@FUZZ
@given(data=form(*DONATION_FIELDS) | plausible_donation, changed=header_text)
def test_inline_donation_check(site, data, changed):
    headers = {"HX-Request": "true", "X-Changed-Field": changed.encode("utf-8").decode("latin-1")}
    response = site.client().post("/donate/check", data=data, headers=headers)
    site.check(response, f"POST /donate/check {data!r} (changed {changed!r})")


@FUZZ
@given(data=form("name", "email", "password"), htmx=st.booleans())
@example(data={"name": "M\x00", "email": "m@example.org", "password": "0123456789"}, htmx=False)
def test_sign_up(site, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    site.check(site.client().post("/auth/signup", data=data, headers=headers), f"signup {data!r}")


@FUZZ
@given(data=form("email", "password"), next_url=value)
@example(data={"email": "aisha@example.org\x00", "password": "x"}, next_url="/\x00")
def test_log_in(site, data, next_url):
    client = site.app.test_client()  # a fresh one: a lucky guess must not log in the others
    client.environ_base.update(site.client().environ_base)
    client.set_cookie("session", site.client().get_cookie("session").value)
    url = "/auth/login?next=" + quote(next_url, safe="")
    site.check(client.post(url, data=data), f"login {data!r}")


@FUZZ
@given(data=form("email"))
@example(data={"email": "aisha@example.org\x00"})
def test_reset_request(site, data):
    site.check(site.client().post("/auth/reset", data=data), f"reset {data!r}")


@FUZZ
@given(data=form("password"), token=st.sampled_from(["real", "forged"]) | value)
def test_reset_with_a_link(site, data, token):
    token = site.world.reset_token if token == "real" else token
    url = "/auth/reset/" + quote(token, safe="")
    site.check(site.client().post(url, data=data), f"POST {url} {data!r}")


@FUZZ
@given(data=form("title", "slug", "target", "story"), htmx=st.booleans())
@example(data={"title": "T\x00", "slug": "aisha", "target": "100", "story": ""}, htmx=False)
def test_page_editor(site, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = site.client("participant").post("/me/page", data=data, headers=headers)
    site.check(response, f"POST /me/page {data!r}")


@FUZZ
@given(content=st.binary(max_size=2000), alt=value, filename=st.text(max_size=30))
def test_photo_upload(site, content, alt, filename):
    data = {"photo-file": (BytesIO(content), filename), "photo-alt": alt}
    response = site.client("participant").post(
        "/me/page/photo", data=data, content_type="multipart/form-data"
    )
    site.check(response, f"photo upload {content[:20]!r}")


@FUZZ
@given(data=form("update-body"), htmx=st.booleans())
@example(data={"update-body": "a\x00b"}, htmx=True)
def test_updates(site, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = site.client("participant").post("/me/updates", data=data, headers=headers)
    site.check(response, f"POST /me/updates {data!r}")


@FUZZ
@given(reply=values, htmx=st.booleans(), mine=st.booleans())
@example(reply="thanks\x00", htmx=False, mine=True)
def test_thank_you_replies(site, reply, htmx, mine):
    donation = site.world.donation_id if mine else site.world.other_donation_id
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"/me/donations/{donation}/thanks"
    data = {f"thanks-{donation}-reply": reply}
    site.check(site.client("participant").post(url, data=data, headers=headers), f"{url} {data!r}")


@FUZZ
@given(data=form("moderate-action", "moderate-reason"))
@example(data={"moderate-action": "hide", "moderate-reason": "\x00"})
def test_moderation(site, data):
    response = site.client("organiser").post("/p/aisha/moderation", data=data)
    site.check(response, f"moderation {data!r}")


GIFT_AID_FIELDS = ("title", "first_name", "last_name", "house", "postcode", "overseas")
gift_aid_details = st.fixed_dictionaries(
    dict.fromkeys(GIFT_AID_FIELDS[:5], value | unicode_text),
    optional={"overseas": st.sampled_from(["y", ""])},
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def gift_aid_ids(site) -> set[int]:
    """The donations with a Gift Aid declaration now."""
    with site.app.app_context():
        return set(db.session.scalars(select(Donation.id).where(Donation.gift_aid.is_(True))))


def check_gift_aid_answer(site, response, data, what: str, saved: set[int]) -> None:
    """A Gift Aid form's answer to any text: saved only as HMRC will read it (303), sent back
    with what to change (422), or refused whole for a control character (400); never a 500.
    `saved`: the donations a 303 wrote the details of."""
    status, page = response.status_code, response.get_data(as_text=True)
    response.close()
    sent = "".join(v if isinstance(v, str) else "".join(v) for v in data.values())
    if status == 400:
        assert CONTROL.search(sent), f"{what}: 400 without a control character"
    elif status == 422:
        assert "There is a problem" in page, f"{what}: sent back without saying why"
    else:
        assert status == 303 and saved, f"{what} answered {status}"
        with site.app.app_context():
            for donation_id in saved:
                details = details_of(db.session.get(Donation, donation_id))
                assert details_problems(details) == [], f"{what} stored {details!r}"


@FUZZ
@given(details=gift_aid_details)
@example(
    details={
        "title": "Dr.",
        "first_name": "Łukasz",
        "last_name": "李",
        "house": "1",
        "postcode": "x",
    }
)
@example(
    details={
        "title": "",
        "first_name": "\u200b",
        "last_name": "x" * 10_000,
        "house": "🏠",
        "postcode": "",
    }
)
@example(
    details={
        "title": "Dr.",
        "first_name": "Łukasz",
        "last_name": "Wróbel",
        "house": "1",
        "postcode": "x",
    }
)
def test_offline_gift_aid_fields(site, details):
    data = {"recipient": "event", "method": "cash", "amount": "5", "gift_aid": "y", **details}
    before = gift_aid_ids(site)
    response = site.client("organiser").post("/organiser/offline/new", data=data)
    check_gift_aid_answer(site, response, data, f"offline {data!r}", gift_aid_ids(site) - before)


@FUZZ
@given(details=gift_aid_details)
@example(
    details={
        "title": "mrs",
        "first_name": "Siân",
        "last_name": "Ŵyn",
        "house": "Tŷ",
        "postcode": "ll55 4ur",
    }
)
def test_gift_aid_correction_fields(site, details):
    with site.app.app_context():
        donation = db.session.get(Donation, site.world.donation_id)
        donation.gift_aid = True
        db.session.commit()
    data = {f"giftaid-{name}": text for name, text in details.items()}
    data["giftaid-reason"] = "The donor wrote"
    url = f"/organiser/donations/{site.world.donation_id}/gift-aid"
    response = site.client("organiser").post(url, data=data)
    saved = {site.world.donation_id} if response.status_code == 303 else set()
    check_gift_aid_answer(site, response, data, f"correction {data!r}", saved)


# Junk in URLs ---------------------------------------------------------------------------

segment = st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(NASTY[1:]))
number = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 2**31]))


@FUZZ
@given(part=segment, role=st.sampled_from(["visitor", "participant", "organiser"]))
@example(part="a\x00b", role="participant")
def test_any_text_in_a_url(site, part, role):
    quoted = quote(part, safe="")
    urls = [
        f"/p/{quoted}",
        f"/p/{quoted}/progress",
        f"/images/{quoted}.jpg",
        f"/p/{quoted}/qr.svg",
        f"/donate/{quoted}",
        f"/auth/reset/{quoted}",
        f"/auth/confirm/{quoted}",
        f"/donate/resume/{quoted}",
        f"/donate/thanks?session_id=cs_{quoted}",
        f"/me/page/slug?slug={quoted}",
    ]
    for url in urls:
        site.check(site.client(role).get(url), f"GET {url}")


@FUZZ
@given(update_id=number, donation_id=number)
@example(update_id=2**31, donation_id=10**30)  # past what an INTEGER column holds
@example(update_id=2**63, donation_id=-1)
def test_any_number_in_a_url(site, update_id, donation_id):
    client = site.client("participant")
    for url in (
        f"/me/updates/{update_id}/delete",
        f"/me/donations/{donation_id}/thanks",
        f"/p/aisha/updates/{update_id}/hide",
    ):
        site.check(client.post(url, data={}), f"POST {url}")


# The Stripe webhook ---------------------------------------------------------------------


@FUZZ
@given(body=st.binary(max_size=500), signature=header_text)
def test_webhook_with_any_body_and_any_signature(site, body, signature):
    headers = {"Stripe-Signature": signature.encode("utf-8").decode("latin-1")}
    response = site.client().post("/stripe/webhook", data=body, headers=headers)
    assert response.status_code == 400
    site.check(response, f"webhook {body!r} {signature!r}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@FUZZ
@given(event=json_values | st.dictionaries(st.sampled_from(["id", "type", "data"]), json_values))
def test_webhook_with_any_json_correctly_signed(site, event):
    """Signed is not sensible: JSON that is not an event is refused, not half-applied."""
    body = json.dumps(event).encode()
    headers = {"Stripe-Signature": stripe_events.sign(body), "Content-Type": "application/json"}
    response = site.client().post("/stripe/webhook", data=body, headers=headers)
    site.check(response, f"signed webhook {event!r}")


# Events shaped as Stripe sends them, with any values: ids of real donations or none,
# statuses Stripe has or has not, amounts of any size Stripe allows.
donation_ids = st.one_of(
    st.integers(min_value=-3, max_value=8).map(str),
    st.sampled_from(["", "abc", "99999999999999999999", "1.5", " 2"]),
)
stripe_ids = st.sampled_from(["", "pi_1", "pi_2", "ch_1", "cs_1"]) | st.text(
    alphabet=string.ascii_letters + string.digits + "_", max_size=24
)
# Every field the handlers read, as Stripe always sends them (its objects have fixed shapes).
stripe_objects = st.fixed_dictionaries(
    {
        "id": stripe_ids,
        "metadata": st.fixed_dictionaries({}, optional={"donation_id": donation_ids}),
        "client_reference_id": st.none() | donation_ids,
        "payment_intent": st.none() | stripe_ids,
        "payment_status": st.sampled_from(["paid", "unpaid", "no_payment_required", "?"]),
        "status": st.sampled_from(["complete", "expired", "open", "lost", "won", "?"]),
        "amount_total": st.integers(min_value=0, max_value=99_999_999),
        "amount": st.integers(min_value=0, max_value=99_999_999),
        "amount_refunded": st.integers(min_value=0, max_value=99_999_999),
        "created": st.integers(min_value=1, max_value=2**32),
    }
)
stripe_events_any_values = st.fixed_dictionaries(
    {
        "object": st.just("event"),
        "type": st.sampled_from(sorted(HANDLED)) | st.text(max_size=20),
        "data": st.fixed_dictionaries({"object": stripe_objects}),
        "created": st.integers(min_value=1, max_value=2**32),
    }
)
_event_ids = itertools.count(1)
# The same events with any field missing or of the wrong kind: a string where a number belongs,
# metadata that is not an object, an empty object, a number where an id belongs.
odd_objects = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "metadata",
            "client_reference_id",
            "payment_intent",
            "payment_status",
            "status",
            "amount_total",
            "amount",
            "amount_refunded",
            "created",
            "charge",
            "balance_transactions",
            "failure_reason",
            "reason",
        ]
    ),
    json_values | st.sampled_from(["1000", "1e3", -1, 2**70, 1.5, True, [], {}, "cs_1"]),
    max_size=8,
)
odd_events = st.fixed_dictionaries(
    {
        "object": st.just("event"),
        "type": st.sampled_from(sorted(HANDLED)),
        "data": st.fixed_dictionaries({"object": odd_objects}),
        "created": st.one_of(st.integers(min_value=1, max_value=2**32), json_values),
        "api_version": st.one_of(st.just("2026-10-28.endive"), json_values),
    }
)


@FUZZ
@given(event=stripe_events_any_values)
def test_webhook_events_with_any_values(site, event):
    """Whatever a signed event says, the endpoint answers and the totals still add up to
    the donations they count (a real Stripe event may, rightly, mark a donation paid)."""
    # A new id each time: Stripe's ids are unique, and a repeat is (rightly) ignored.
    body = json.dumps({"id": f"evt_fuzz_{next(_event_ids)}", **event}).encode()
    headers = {"Stripe-Signature": stripe_events.sign(body), "Content-Type": "application/json"}
    response = site.client().post("/stripe/webhook", data=body, headers=headers)
    status = response.status_code
    response.close()
    assert status < 500, f"signed webhook {event!r} answered {status}"
    site.assert_totals_add_up()


@FUZZ
@given(event=odd_events)
@example(
    event={
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {}},
        "created": 1,
        "api_version": None,
    }
)
def test_signed_events_with_odd_fields_are_refused_whole(site, event):
    """A correctly signed event with missing or odd fields is answered 400 (or 200 when there
    is nothing of ours in it), never 500, and the money stays as it was."""
    body = json.dumps({"id": f"evt_odd_{next(_event_ids)}", **event}).encode()
    headers = {"Stripe-Signature": stripe_events.sign(body), "Content-Type": "application/json"}
    response = site.client().post("/stripe/webhook", data=body, headers=headers)
    status = response.status_code
    response.close()
    assert status in (200, 400), f"signed webhook {event!r} answered {status}"
    site.assert_totals_add_up()
