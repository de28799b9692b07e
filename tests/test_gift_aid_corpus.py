"""A hostile corpus of Gift Aid donors through the real forms: the online donation form (paid
by a signed Stripe webhook; a few through the Stripe sandbox in full) and the organiser's
offline form. Each donor is either accepted, and then HMRC's reader finds nothing wrong with
the exported claim and reads exactly the name the form showed; or refused, with a message on
the field to change.

The expected lines are written out by hand: what HMRC should read, not what the code says."""

import html
import re
from dataclasses import dataclass, replace

import pytest

from app import payments
from app.extensions import db
from app.models import Donation, DonationStatus
from app.organiser import gift_aid_export
from tests import hmrc_reader
from tests import stripe_events as se
from tests.accounts import AuthActions
from tests.test_bad_input import FakeCheckout
from tests.test_checkout import form_token, pay, session_id_of


@dataclass(frozen=True)
class Donor:
    """What a donor typed, and either the line HMRC should read or the field refused."""

    title: str = ""
    first_name: str = "Fiona"
    last_name: str = "Campbell"
    house: str = "12"
    postcode: str = "G12 8QQ"
    overseas: bool = False
    reads: tuple[str, str, str, str, str] | None = None  # title, first, last, house, postcode
    refused: tuple[str, str] | None = None  # (field, words in its message)
    shown: bool = False  # the form shows how HMRC will read it before the donor pays
    offline: bool = False  # typed in by an organiser from a paper form


def ok(title, first, last, house, postcode, typed=None, shown=False, **kwargs) -> Donor:
    """A donor accepted, reading `title first last house postcode` (as typed unless `typed`)."""
    typed = typed or {}
    return Donor(
        title=typed.get("title", title),
        first_name=typed.get("first_name", first),
        last_name=typed.get("last_name", last),
        house=typed.get("house", house),
        postcode=typed.get("postcode", postcode),
        reads=(title, first, last, house, postcode),
        shown=shown,
        **kwargs,
    )


def no(field_name, words, **typed) -> Donor:
    """A donor refused: the field's message has `words`."""
    return Donor(refused=(field_name, words), **typed)


READ_FIELDS = ("title", "first_name", "last_name", "house", "postcode")
LATIN = "in Latin letters"
ACCEPTED = [
    ok("Ms", "Fiona", "Campbell", "12", "G12 8QQ", {"postcode": "g12 8qq"}),
    # Polish, Welsh, and other Latin letters HMRC would delete: transliterated and shown.
    ok("Dr", "Lukasz", "Wróbel", "5", "EH1 1YZ", {"title": "Dr.", "first_name": "Łukasz"}, True),
    ok("Mrs", "Siân", "Llwyd", "Ty Gwyn", "CF10 1AA", {"title": "mrs", "house": "Tŷ Gwyn"}, True),
    ok("", "Gwyn", "ap Rhys", "3", "LL55 4UR", {"first_name": "Gŵyn"}, True),
    ok(
        "Mr",
        "Dafydd",
        "Wynne",
        "Bryn Wyn",
        "SA1 1AA",
        {"last_name": "Ŵynne", "house": "Bryn Ŵyn"},
        True,
    ),
    ok("Mrs", "Anna", "Kowalska Zuk", "7", "W1A 1AA", {"last_name": "Kowalska-Żuk"}, True),
    ok(
        "Mr",
        "Pawel",
        "Swiatek",
        "9",
        "M1 1AE",
        {"first_name": "Paweł", "last_name": "Świątek"},
        True,
    ),
    ok(
        "Mrs",
        "Malgorzata",
        "Wisniewska",
        "2",
        "B33 8TH",
        {"first_name": "Małgorzata", "last_name": "Wiśniewska"},
        True,
    ),
    ok(
        "",
        "Jerzy",
        "Brzeczyszczykiewicz",
        "1",
        "CR2 6XH",
        {"last_name": "Brzęczyszczykiewicz"},
        True,
    ),
    ok(
        "Mr",
        "Stefan",
        "Turcanu",
        "4",
        "DN55 1PT",
        {"first_name": "Ștefan", "last_name": "Țurcanu"},
        True,
    ),
    ok("", "Pál", "Erdos", "6", "EC1A 1BB", {"last_name": "Erdős"}, True),
    ok(
        "Ms",
        "Çagla",
        "Agaoglu",
        "8",
        "N16 4HY",
        {"first_name": "Çağla", "last_name": "Ağaoğlu"},
        True,
    ),
    ok("Ms", "Chloé", "Loeuillet", "10", "G1 1AA", {"last_name": "Lœuillet"}, True),
    ok("", "Antonín", "Dvorák", "11", "G2 2BB", {"last_name": "Dvořák"}, True),
    ok("Mr", "Van", "Nguyen", "13", "G3 3BX", {"last_name": "Nguyễn"}, True),
    ok("Ms", "Fiona", "Campbell", "12", "G12 8QQ", {"first_name": "Fiona 🌸"}, True),
    ok("Ms", "Fiona", "Campbell", "12", "G12 8QQ", {"first_name": "Ｆｉｏｎａ"}, True),
    # Letters HMRC keeps stay exactly as typed.
    ok("Ms", "Zoë", "Brontë", "Haworth", "BD22 8DR"),
    ok("Mr", "Seán", "Ó Briain", "14", "BT1 1AA"),
    ok("Herr", "Jürgen", "Weiß", "15", "G4 4DD"),
    ok("", "Søren", "Ødegård", "16", "G5 5EE"),
    ok("Sra", "Begoña", "Muñoz", "17", "G11 6FF"),
    ok("", "Þórunn", "Jónsdóttir", "18", "G13 7GG"),
    # Apostrophes, straight and curly, and hyphens.
    ok("Mr", "Conor", "O'Neill", "19", "BT2 8HH"),
    ok("Mr", "Conor", "O'Neill", "20", "BT3 9JJ", {"last_name": "O’Neill"}),
    ok("Ms", "Jo", "D'Arcy", "21", "G14 0LL", {"last_name": "D‘Arcy"}),
    ok("Ms", "Jo", "D'Arcy Smith", "22", "G15 1NN", {"last_name": "D'Arcy-Smith"}),
    ok("", "Mary-Jane", "Watson", "23", "G20 2PP"),
    ok("", "Ann", "House Martin", "24", "G21 3QQ", {"last_name": "House – Martin"}),
    ok("", "Ann", "Lee", "St Mary's Lodge", "G22 4RR", {"house": "St Mary’s Lodge"}),
    ok("", "Ann", "Lee", "12-14", "G23 5SS", {"house": "12–14"}),
    # Initials and titles as people write them.
    ok("", "J", "Smith", "25", "G31 6TT"),
    ok("", "J. R.", "Hartley", "26", "G32 7UU"),
    ok("Prof", "Ada", "Lovelace", "27", "G33 8WW", {"title": "PROF."}),
    ok("Rev", "Richard", "Coles", "28", "G34 9XX", {"title": "Rev."}),
    ok("Mx", "Alex", "Taylor", "29", "G40 1YY", {"title": "mx"}),
    ok("Dr", "Ann", "Lee", "30", "G41 2ZZ", {"title": "Doctor"}),
    ok("Miss", "Ann", "Lee", "31", "G42 3AB", {"title": " Miss. "}),
    # Crown dependencies (shown: not the UK for tax), a BFPO's postcode, and homes abroad.
    ok("", "Ann", "Le Brocq", "32", "JE2 3AB", {"postcode": "je2 3ab"}, True),
    ok("", "Ann", "Le Page", "33", "GY1 1AA", shown=True),
    ok("", "Ann", "Kewley", "34", "IM1 1AA", {"postcode": "im11aa"}, True),
    ok("Sgt", "Ann", "Lee", "35", "BF1 4FB"),
    ok("", "Ann", "Lee", "4 Rue de la Paix, Paris", "X", overseas=True),
    ok("", "Ann", "Lee", "Calle Mayor 5, Madrid", "X", {"postcode": "x"}),
    ok(
        "",
        "Ann",
        "Lee",
        "Kossuth tér 1, Gyor",
        "X",
        {"house": "Kossuth tér 1, Győr"},
        True,
        overseas=True,
    ),
    # Limits exactly, invisible characters, spaces, line breaks, decomposed accents.
    ok("", "A" * 35, "B" * 35, "H" * 40, "G43 4BD"),
    ok(
        "",
        "Fiona",
        "Campbell",
        "36",
        "G44 5DE",
        {"first_name": "  Fiona  ", "last_name": "Campbell "},
    ),
    ok("", "Mary Ann", "Lee", "37", "G45 6EF", {"first_name": "Mary   Ann"}),
    ok("", "Fiona", "Campbell", "38", "G46 7FG", {"last_name": "Camp\u200bbell"}),
    ok("", "Fiona", "Lee", "39", "G51 8GH", {"first_name": "\ufeffFiona"}),
    ok("", "Ann", "Lee", "Flat 2", "G52 9HJ", {"house": "Flat\u00a02"}),
    ok("", "Ann", "Lee", "12 High Street", "G53 1JL", {"house": "12\tHigh Street"}),
    ok("", "Ann", "Lee", "Rose Cottage", "G54 1JL", {"house": "Rose\r\nCottage\n"}),
    ok("", "Renée", "Lee", "40", "G60 2LN", {"first_name": "Rene\u0301e"}),
    ok("", "Ann", "MacKenzie", "41", "G61 3NP", {"last_name": "Mac\u00adKenzie"}),
    ok("", "Fiona", "Lee", "42", "G62 4PR", {"first_name": "\u200fFiona\u200e"}),
    ok("", "Ann", "Lee", "44", "SW1A 1AA", {"postcode": "sw1a1aa"}),
    ok("", "Ann", "Lee", "45", "G64 6ST", {"postcode": " g64   6st "}),
]
REFUSED = [
    no("first_name", LATIN, first_name="李小龍"),
    no("first_name", LATIN, first_name="Иван"),
    no("last_name", LATIN, last_name="محمد"),
    no("last_name", LATIN, last_name="Παπαδόπουλος"),
    no("last_name", LATIN, last_name="🎉🎉"),
    no("first_name", LATIN, first_name="Fiona 李"),
    no("first_name", "first name", first_name="\u200b\u200d"),
    no("first_name", "first name", first_name=""),
    no("last_name", "35 characters or fewer (this is 10000)", last_name="x" * 10_000),
    no("last_name", "(this is 36)", last_name="Lœ" + "a" * 33),
    no("title", "2 to 4 letters, like Mr", title="Sister"),
    no("title", "2 to 4 letters, like Mr", title="M"),
    no("title", "2 to 4 letters, like Mr", title="李"),
    no("title", "2 to 4 letters, like Mr", title="👑"),
    no("house", "40 characters or fewer (this is 41)", house="H" * 41),
    no(
        "house",
        "address outside the UK",
        house="Flat 3, 100 Avenue des Champs-Élysées, 75008 Paris",
        overseas=True,
    ),
    no("house", "Latin letters and numbers", house="🏠"),
    no("house", "not '@'", house="@SUM(1+1)"),
    no("first_name", "not '='", first_name="=cmd|' /C calc'!A0"),
    no("postcode", "starts BF1", postcode="BFPO 105"),
    no("postcode", "Enter a UK postcode, like G12 8QQ", postcode="NOT A CODE"),
    no("postcode", "Enter a UK postcode, like G12 8QQ", postcode="75008"),
    no("postcode", "postcode", postcode=""),
]
# Typed by an organiser from paper forms: every tenth donor or so, accepted and refused.
OFFLINE = {3, 7, 18, 25, 33, 38, 41, 44, 50}
OFFLINE_REFUSED = {0, 8, 14, 18}


def _corpus() -> list[Donor]:
    accepted = [replace(d, offline=n in OFFLINE) for n, d in enumerate(ACCEPTED)]
    refused = [replace(d, offline=n in OFFLINE_REFUSED) for n, d in enumerate(REFUSED)]
    return accepted + refused


CORPUS = _corpus()


def _gift_aid_fields(donor: Donor, prefix: str = "") -> dict:
    fields = {
        "title": donor.title,
        "first_name": donor.first_name,
        "last_name": donor.last_name,
        "house": donor.house,
        "postcode": donor.postcode,
    }
    if donor.overseas:
        fields["overseas"] = "y"
    return {prefix + name: value for name, value in fields.items()}


def _error(page: str, field_name: str) -> str:
    found = re.search(rf'class="error-message" id="{field_name}-error">([^<]*)<', page)
    return html.unescape(found[1]) if found else ""


def _shown_name(page: str) -> str | None:
    found = re.search(r"We'll send HMRC your name as: <strong>([^<]*)</strong>", page)
    return html.unescape(found[1]) if found else None


class Donating:
    """The donation form, sent as a browser without JavaScript would."""

    def __init__(self, app, number: int):
        self.client = app.test_client()
        self.number = number

    def form(self, donor: Donor, **extra) -> dict:
        return {
            "amount_preset": "other",
            "other_amount": f"{10 + self.number}.00",
            "donor_name": f"Donor {self.number}",
            "donor_email": f"donor{self.number}@example.org",
            "gift_aid": "y",
            "gift_aid_confirm": "y",
            **_gift_aid_fields(donor),
            **extra,
        }

    def send(self, donor: Donor):
        """Send the form; if it shows how HMRC will read the details, check that and send the
        page's form again, as the donor would. Returns (response, name shown or None)."""
        response = self.client.post("/donate", data=self.form(donor))
        page = response.get_data(as_text=True)
        shown = _shown_name(page)
        if response.status_code == 200 and "Check your Gift Aid details" in page:
            checked = re.search(r'name="gift_aid_checked" value="([^"]*)"', page)[1]
            again = self.form(donor, gift_aid_checked=html.unescape(checked))
            response = self.client.post("/donate", data=again)
        return response, shown


@pytest.fixture
def site(event, make, monkeypatch):
    """Card payments faked at the Stripe boundary (paid by a signed webhook), and an organiser."""
    event.config["WTF_CSRF_ENABLED"] = False
    event.config["STRIPE_WEBHOOK_SECRET"] = se.WEBHOOK_SECRET
    stripe = FakeCheckout()
    monkeypatch.setattr(payments, "create_checkout_session", stripe.create)
    make.user()
    organiser = AuthActions(event.test_client())
    organiser.login("sandra@example.org")
    return event, organiser


def _pay_by_webhook(app, client) -> None:
    """Stripe says the newest pending donation's Checkout Session was paid."""
    with app.app_context():
        donation = db.session.query(Donation).order_by(Donation.id.desc()).first()
        session = se.checkout_session(
            donation.id, donation.amount_pence, session_id=donation.stripe_session_id
        )
    body = se.event("checkout.session.completed", session)
    response = client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": se.sign(body), "Content-Type": "application/json"},
    )
    response.close()
    assert response.status_code == 200


def _offline(organiser: AuthActions, donor: Donor, number: int):
    data = {
        "recipient": "event",
        "method": "cash",
        "amount": f"{10 + number}.00",
        "donor_name": f"Donor {number}",
        "gift_aid": "y",
        **_gift_aid_fields(donor),
    }
    return organiser.client.post("/organiser/offline/new", data=data)


def test_the_corpus_is_hostile_enough():
    assert len(CORPUS) >= 60
    assert sum(d.offline for d in CORPUS) >= 10
    typed = "".join(d.first_name + d.last_name + d.house + d.postcode for d in CORPUS)
    for needed in ("ŵ", "ŷ", "Ł", "ż", "ś", "’", "'", "-", "\u200b", "李", "🎉", "محمد", "je2"):
        assert needed.lower() in typed.lower(), needed


def test_every_donor_is_claimed_as_shown_or_refused_at_the_door(site):
    app, organiser = site
    expected_lines = []
    for number, donor in enumerate(CORPUS):
        what = f"donor {number}: {donor}"
        if donor.offline:
            response, shown = _offline(organiser, donor, number), None
            page = response.get_data(as_text=True)
        else:
            donating = Donating(app, number)
            response, shown = donating.send(donor)
            page = response.get_data(as_text=True)
        if donor.refused:
            field_name, words = donor.refused
            assert response.status_code == 422, what
            assert words in _error(page, field_name), (what, _error(page, field_name))
            assert "There is a problem" in page
            continue
        assert response.status_code in (302, 303), (what, response.status_code, page[:2000])
        if not donor.offline:
            _pay_by_webhook(app, donating.client)
            # What the form showed is exactly the name HMRC reads; it shows only real changes.
            title, first, last = donor.reads[:3]
            assert shown == (
                " ".join(p for p in (title, first, last) if p) if donor.shown else None
            ), what
        expected_lines.append((number, donor.reads))

    with app.app_context():
        assert db.session.query(Donation).filter_by(status=DonationStatus.PAID).count() == len(
            expected_lines
        )
        schedule = gift_aid_export.build_schedule()
        assert schedule.refused == []
        [(_, data)] = gift_aid_export.schedule_files(schedule, "ods", "claim")
    read = hmrc_reader.read(data)
    assert read.problems == []
    lines = sorted((line for line in read.lines), key=lambda line: float(line["amount"]))
    got = [
        (line["title"], line["first_name"], line["last_name"], line["house"], line["postcode"])
        for line in lines
    ]
    assert got == [reads for _, reads in expected_lines]
    assert [line["amount"] for line in lines] == [f"{10 + n}.00" for n, _ in expected_lines]
    # HMRC's reader changes none of it: every character is one HMRC keeps.
    for line in lines:
        for name in ("title", "first_name", "last_name", "house", "postcode"):
            assert hmrc_reader.clean(line[name], one_space=True) == line[name]


# A handful all the way through Stripe's (sandbox) checkout, as a real browser would go --------

ROUND_TRIP = [ACCEPTED[n] for n in (1, 24, 38, 41, 42)]  # Ł, ’, Jersey, BFPO, abroad


def test_a_handful_pay_through_the_stripe_sandbox_and_are_claimed_as_shown(
    donor, stripe_sandbox, event
):
    for number, person in enumerate(ROUND_TRIP):
        data = {**form_token(donor, "/donate"), **Donating(event, number).form(person)}
        response = donor.post(donor.base + "/donate", data=data, allow_redirects=False)
        if person.shown:
            assert response.status_code == 200 and "Check your Gift Aid details" in response.text
            checked = re.search(r'name="gift_aid_checked" value="([^"]*)"', response.text)[1]
            data["gift_aid_checked"] = html.unescape(checked)
            response = donor.post(donor.base + "/donate", data=data, allow_redirects=False)
        assert response.status_code == 303, response.text[:2000]
        pay(stripe_sandbox, session_id_of(response))
    with event.app_context():
        schedule = gift_aid_export.build_schedule()
        [(_, data)] = gift_aid_export.schedule_files(schedule, "ods", "claim")
    read = hmrc_reader.read(data)
    assert read.problems == []
    got = [tuple(line[name] for name in READ_FIELDS) for line in read.lines]
    assert got == [person.reads for person in ROUND_TRIP]


# Control characters: the site refuses the whole form, whichever field -----------------------


def test_a_control_character_in_any_gift_aid_field_is_refused_plainly(site):
    """NUL and its kin are never typed (and PostgreSQL refuses NUL): the site's rule for every
    form is a plain page saying so, with nothing saved; here on both Gift Aid forms."""
    app, organiser = site
    for number, (name, character) in enumerate(
        (name, character) for name in READ_FIELDS for character in ("\x00", "\x1b")
    ):
        donor = replace(ACCEPTED[0], **{name: f"Fi{character}ona"})
        for response in (Donating(app, number).send(donor)[0], _offline(organiser, donor, 2)):
            assert response.status_code == 400, (name, character)
            assert "a character that can't be typed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Donation).count() == 0
