"""HMRC's rules at the door: what a person types becomes what HMRC will read (one function for
every form), what cannot be sent is refused with what to write, and a donor whose letters
changed sees how HMRC will read them before paying, with or without JavaScript."""

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import payments
from app.donations import service
from app.donations.gift_aid import (
    GiftAidDetails,
    clean_for_hmrc,
    details_problems,
)
from app.extensions import db
from app.models import Donation
from tests import hmrc_reader
from tests.test_bad_input import FakeCheckout
from tests.test_donations import GOOD
from tests.test_gift_aid_one_figure import _ask_link


def typed(**fields) -> GiftAidDetails:
    return GiftAidDetails(
        **{
            "title": "",
            "first_name": "Fiona",
            "last_name": "Campbell",
            "house": "12",
            "postcode": "G12 8QQ",
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("fields", "stored", "changed"),
    [
        ({"first_name": "Łukasz"}, {"first_name": "Lukasz"}, ("first_name",)),
        ({"last_name": "Llŷr", "house": "Tŷ Ŵyn"}, {"last_name": "Llyr", "house": "Ty Wyn"}, None),
        ({"last_name": "Żółć"}, {"last_name": "Zólc"}, ("last_name",)),  # ó is HMRC's own
        ({"last_name": "Lœb"}, {"last_name": "Loeb"}, ("last_name",)),
        (
            {"first_name": "Zoë", "last_name": "Weiß"},
            {"first_name": "Zoë", "last_name": "Weiß"},
            (),
        ),
        ({"first_name": "Zoe\u0308"}, {"first_name": "Zoë"}, ()),  # decomposed: NFC
        ({"last_name": "O’Neill"}, {"last_name": "O'Neill"}, ()),
        ({"last_name": "Oʼ Neill"}, {"last_name": "O' Neill"}, ()),
        ({"house": "12–14"}, {"house": "12-14"}, ()),
        ({"first_name": " Mary \t\n Ann  "}, {"first_name": "Mary Ann"}, ()),
        ({"first_name": "\u202eFi\u200bona\ufeff\u2060"}, {"first_name": "Fiona"}, ()),
        ({"last_name": "Mac\u00adKenzie"}, {"last_name": "MacKenzie"}, ()),
        ({"house": "Flat\u00a02"}, {"house": "Flat 2"}, ()),
        ({"first_name": "Fiona 🌸"}, {"first_name": "Fiona"}, ("first_name",)),
        ({"first_name": "👍🏽Fiona"}, {"first_name": "Fiona"}, ("first_name",)),
        ({"title": "Dr."}, {"title": "Dr"}, ()),
        ({"title": "MRS."}, {"title": "Mrs"}, ()),
        ({"title": "dr"}, {"title": "Dr"}, ()),
        ({"title": "Professor"}, {"title": "Prof"}, ()),
        ({"title": "Herr"}, {"title": "Herr"}, ()),
        ({"postcode": " sw1a1aa "}, {"postcode": "SW1A 1AA"}, ()),
        ({"postcode": "ｇ１２ ８ｑｑ"}, {"postcode": "G12 8QQ"}, ()),
        ({"postcode": "x"}, {"postcode": "X"}, ()),
    ],
)
def test_what_is_typed_becomes_what_hmrc_will_read(fields, stored, changed):
    cleaned = clean_for_hmrc(typed(**fields))
    assert cleaned.problems == {}
    for name, value in stored.items():
        assert getattr(cleaned.details, name) == value
    if changed is not None:
        assert cleaned.changed == changed
    assert details_problems(cleaned.details) == []


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"first_name": "李小龍"}, "first_name", "Latin letters"),
        ({"first_name": "Fiona 李"}, "first_name", "Latin letters"),  # never half a name
        ({"last_name": "عبد الله"}, "last_name", "Latin letters"),
        ({"last_name": "🎉"}, "last_name", "Latin letters"),
        ({"last_name": "..."}, "last_name", "Latin letters"),
        ({"house": "🏠"}, "house", "Latin letters and numbers"),
        ({"title": "Sister"}, "title", "2 to 4 letters"),
        ({"title": "M"}, "title", "2 to 4 letters"),
        ({"title": "🎩"}, "title", "2 to 4 letters"),
        ({"first_name": "A" * 36}, "first_name", "35 characters or fewer (this is 36; an initial"),
        ({"last_name": "x" * 10_000}, "last_name", "(this is 10000)"),
        ({"last_name": "Œ" + "a" * 34}, "last_name", "(this is 36)"),  # after cleaning, œ is 2
        ({"house": "H" * 41}, "house", "40 characters or fewer"),
        ({"house": "-1"}, "house", "not '-'"),
        ({"postcode": "BFPO 105"}, "postcode", "starts BF1"),
        ({"postcode": "NOT A CODE"}, "postcode", "UK postcode"),
        ({"postcode": "G3 3CC"}, "postcode", "UK postcode"),
    ],
)
def test_what_hmrc_would_refuse_is_refused_on_its_field_saying_what_to_write(fields, field, words):
    cleaned = clean_for_hmrc(typed(**fields))
    assert words in cleaned.problems[field], cleaned.problems
    assert list(cleaned.problems) == [field]


def test_nothing_is_cut_short():
    cleaned = clean_for_hmrc(typed(last_name="x" * 10_000))
    assert cleaned.details.last_name == "x" * 10_000  # refused whole, never truncated


def test_an_address_abroad_has_postcode_x_and_its_own_limit():
    abroad = clean_for_hmrc(
        typed(house="4 Rue de la Paix, Paris", postcode="ignored"), overseas=True
    )
    assert (abroad.details.house, abroad.details.postcode, abroad.problems) == (
        "4 Rue de la Paix, Paris",
        "X",
        {},
    )
    too_long = clean_for_hmrc(
        typed(house="Flat 3, 100 Avenue des Champs-Élysées, Paris"), overseas=True
    )
    assert "the house number, street and town will do" in too_long.problems["house"]


@pytest.mark.parametrize(
    ("postcode", "place"),
    [("je2 3ab", "Jersey"), ("GY1 1AA", "Guernsey"), ("IM1 1AA", "The Isle of Man")],
)
def test_crown_dependencies_are_accepted_as_hmrc_does_and_told_about_uk_tax(postcode, place):
    cleaned = clean_for_hmrc(typed(postcode=postcode))
    assert cleaned.problems == {}
    [note] = cleaned.notes
    assert note.startswith(f"{place} is not part of the UK for tax")
    assert clean_for_hmrc(typed(postcode="BF1 4FB")).notes == ()


def test_empty_and_invisible_fields_are_missing_not_unreadable():
    cleaned = clean_for_hmrc(typed(first_name="\u200b \u200d", house="", postcode=" "))
    assert cleaned.missing == ("first_name", "house", "postcode")


# Mostly Latin text with the characters that cause trouble mixed in, so many examples pass.
troublesome = st.sampled_from("’‘ʼ–—\u200b\u200d\ufeff\u00ad\u202e\u00a0\t 🌸👍🏽李ŵŷŁżśœ=@-")
typed_text = st.text(alphabet=st.characters(max_codepoint=0x2FF) | troublesome, max_size=42)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    title=st.text(max_size=8) | st.sampled_from(["Dr.", "mrs", "PROF", ""]),
    first_name=typed_text | st.text(max_size=40),
    last_name=typed_text,
    house=typed_text,
    postcode=st.text(max_size=10) | st.sampled_from(["g12 8qq", "JE2 3AB", "x", "BF1 4FB"]),
    overseas=st.booleans(),
)
def test_whatever_the_door_accepts_hmrc_reads_unchanged(
    title, first_name, last_name, house, postcode, overseas
):
    """No drift between the door and the claim: anything accepted is accepted by the export's
    own rules, and HMRC's reader (deleting what it deletes) changes not one character."""
    cleaned = clean_for_hmrc(
        GiftAidDetails(title, first_name, last_name, house, postcode), overseas=overseas
    )
    if cleaned.problems or cleaned.missing:
        return
    assert details_problems(cleaned.details) == []
    for value in cleaned.as_sent.__dict__.values():
        assert hmrc_reader.clean(value, one_space=True) == value


# The donation form -----------------------------------------------------------------------

GIFT_AID = {
    **GOOD,
    "gift_aid": "y",
    "title": "Dr.",
    "first_name": "Łukasz",
    "last_name": "Wróbel",
    "house": "12",
    "postcode": "g12 8qq",
    "gift_aid_confirm": "y",
}


@pytest.fixture
def donating(event, monkeypatch):
    event.config["WTF_CSRF_ENABLED"] = False
    monkeypatch.setattr(payments, "create_checkout_session", FakeCheckout().create)
    return event


def stored(app) -> list[Donation]:
    with app.app_context():
        found = db.session.query(Donation).order_by(Donation.id).all()
        db.session.expunge_all()
        return found


def checked(page: str) -> str:
    return html.unescape(re.search(r'name="gift_aid_checked" value="([^"]*)"', page)[1])


def test_without_javascript_a_donor_sees_how_hmrc_will_read_them_before_paying(client, donating):
    first = client.post("/donate", data=GIFT_AID)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and stored(donating) == []
    assert "Check your Gift Aid details" in page
    assert "We'll send HMRC your name as: <strong>Dr Lukasz Wróbel</strong>" in page
    assert 'value="Łukasz"' in page  # what they typed stays, to change if they like
    assert checked(page) == "Dr|Lukasz|Wróbel|12|G12 8QQ"
    # They change their mind about the name: that version is shown in its turn.
    changed = client.post(
        "/donate", data={**GIFT_AID, "first_name": "Łucja", "gift_aid_checked": checked(page)}
    )
    assert "your name as: <strong>Dr Lucja Wróbel</strong>" in changed.get_data(as_text=True)
    assert stored(donating) == []
    # Sent again as shown: on to payment, stored as HMRC will read it.
    paying = client.post("/donate", data={**GIFT_AID, "gift_aid_checked": checked(page)})
    assert paying.status_code == 303
    [donation] = stored(donating)
    assert (donation.gift_aid_title, donation.gift_aid_first_name) == ("Dr", "Lukasz")
    assert donation.gift_aid_postcode == "G12 8QQ"


def test_nothing_to_show_goes_straight_to_payment(client, donating):
    plain = {**GIFT_AID, "title": "dr", "first_name": "Zoë", "last_name": "O’Neill-Brontë"}
    assert client.post("/donate", data=plain).status_code == 303
    [donation] = stored(donating)
    assert (donation.gift_aid_title, donation.gift_aid_last_name) == ("Dr", "O'Neill-Brontë")


def test_without_gift_aid_the_gift_aid_fields_are_not_looked_at(client, donating):
    response = client.post("/donate", data={**GIFT_AID, "gift_aid": "", "first_name": "李"})
    assert response.status_code == 303
    [donation] = stored(donating)
    assert not donation.gift_aid and donation.gift_aid_first_name == ""


def test_a_name_hmrc_cannot_read_is_refused_kindly(client, donating):
    response = client.post("/donate", data={**GIFT_AID, "first_name": "李小龍"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Please write the name as it is on the bank card." in page
    marked = 'aria-describedby="first_name-error gift-aid-preview" aria-invalid="true"'
    assert marked in response.get_data(as_text=True)
    assert stored(donating) == []


def test_with_htmx_the_preview_follows_the_typing_and_counts_as_seen(htmx_client, client, donating):
    response = htmx_client.post(
        "/donate/check", data=GIFT_AID, headers={"X-Changed-Field": "first_name"}
    )
    body = response.get_data(as_text=True)
    assert '<div id="gift-aid-preview" hx-swap-oob="innerHTML">' in body
    assert "We'll send HMRC your name as: <strong>Dr Lukasz Wróbel</strong>" in body
    # The page now carries that version, so sending it goes straight to payment.
    paying = client.post("/donate", data={**GIFT_AID, "gift_aid_checked": checked(body)})
    assert paying.status_code == 303
    plain = htmx_client.post(
        "/donate/check",
        data={**GIFT_AID, "first_name": "Fiona"},
        headers={"X-Changed-Field": "first_name"},
    )
    assert "We'll send HMRC" not in plain.get_data(as_text=True)
    assert checked(plain.get_data(as_text=True)) == ""


def test_a_donor_living_abroad_says_so_on_the_online_form(client, donating):
    abroad = {**GIFT_AID, "first_name": "Ann", "title": "", "postcode": "", "overseas": "y"}
    abroad["house"] = "4 Rue de la Paix, Paris"
    assert client.post("/donate", data=abroad).status_code == 303
    [donation] = stored(donating)
    assert (donation.gift_aid_house, donation.gift_aid_postcode) == ("4 Rue de la Paix, Paris", "X")
    page = client.get("/donate").get_data(as_text=True)
    assert '<label for="overseas">I live outside the UK</label>' in page


def test_a_stored_x_comes_back_as_the_box_ticked(donating):
    with donating.test_request_context():
        form = service.new_form(service.event_or_404(), gift_aid=True, postcode="X")
        assert form.overseas.data is True and form.postcode.data == ""


def test_the_usual_titles_are_offered_and_no_field_cuts_typing_short(client, donating):
    page = client.get("/donate").get_data(as_text=True)
    assert 'list="gift-aid-titles"' in page
    for title in ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Rev"):
        assert f'<option value="{title}">' in page
    gift_aid_inputs = re.findall(
        r'<input[^>]*name="(?:title|first_name|last_name|house)"[^>]*>', page
    )
    assert len(gift_aid_inputs) == 4
    assert not any("maxlength" in tag for tag in gift_aid_inputs)


# The organiser's forms ---------------------------------------------------------------------


PAPER = {
    "recipient": "event",
    "method": "cash",
    "amount": "20.00",
    "gift_aid": "y",
    "title": "MR.",
    "first_name": "Dafydd",
    "last_name": "Ŵynne",
    "house": "Bryn Ŵyn",
    "postcode": "ll55 4ur",
}


def test_the_offline_form_stores_what_hmrc_will_read_and_says_so(organiser, app):
    response = organiser.post("/organiser/offline/new", PAPER, follow_redirects=True)
    assert "HMRC will read the Gift Aid details as: Mr Dafydd Wynne, Bryn Wyn." in html.unescape(
        response.get_data(as_text=True)
    )
    [donation] = stored(app)
    assert (donation.gift_aid_title, donation.gift_aid_last_name) == ("Mr", "Wynne")
    assert (donation.gift_aid_house, donation.gift_aid_postcode) == ("Bryn Wyn", "LL55 4UR")


def test_the_correction_form_applies_the_same_rules(organiser, app, make):
    donation_id = make.donation(
        1000, gift_aid=True, gift_aid_first_name="?", gift_aid_last_name="?"
    )
    url = f"/organiser/donations/{donation_id}/gift-aid"
    fields = {
        "giftaid-first_name": "Łukasz",
        "giftaid-last_name": "Wróbel",
        "giftaid-house": "12",
        "giftaid-postcode": "",
        "giftaid-reason": "The donor emailed",
    }
    refused = organiser.post(url, {**fields, "giftaid-first_name": "Łukasz 李"}, prefix="giftaid")
    assert refused.status_code == 422
    assert "HMRC can only read names in Latin letters" in html.unescape(
        refused.get_data(as_text=True)
    )
    no_postcode = organiser.post(url, fields, prefix="giftaid")
    assert "Enter a UK postcode, like G12 8QQ, or tick" in html.unescape(
        no_postcode.get_data(as_text=True)
    )
    saved = organiser.post(
        url,
        {**fields, "giftaid-overseas": "y", "giftaid-house": "Ul. Długa 5, Gdańsk"},
        prefix="giftaid",
    )
    assert saved.status_code == 303
    [donation] = stored(app)
    assert (donation.gift_aid_first_name, donation.gift_aid_house, donation.gift_aid_postcode) == (
        "Lukasz",
        "Ul. Dluga 5, Gdansk",
        "X",
    )


def test_the_donors_own_completion_form_applies_the_same_rules_and_shows_the_change(
    organiser, app, make, client
):
    donation_id = make.donation(
        2000, gift_aid=True, gift_aid_confirmed_sponsorship=False, gift_aid_sponsorship_version=""
    )
    organiser.post(f"/organiser/gift-aid/attention/{donation_id}/ask")
    path = "/" + _ask_link(app, donation_id).split("/", 3)[3]
    organiser.logout()  # the donor opens the link in their own browser
    page = client.get(path).get_data(as_text=True)
    assert 'list="gift-aid-titles"' in page and "maxlength" not in page
    fields = {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1],
        "title": "Dr.",
        "first_name": "Łukasz",
        "last_name": "Wróbel",
        "house": "12",
        "postcode": "g12 8qq",
        "declare": "y",
        "confirm": "y",
    }
    refused = client.post(path, data={**fields, "first_name": "李小龍"})
    assert refused.status_code == 422
    assert "HMRC can only read names in Latin letters" in html.unescape(
        refused.get_data(as_text=True)
    )
    check = client.post(path, data=fields)
    shown = check.get_data(as_text=True)
    assert check.status_code == 200 and "Check your Gift Aid details" in shown
    assert "your name as: <strong>Dr Lukasz Wróbel</strong>" in shown
    assert "press “Save my Gift Aid details” again" in shown
    assert stored(app)[0].gift_aid_first_name != "Lukasz"  # nothing saved before it is seen
    done = client.post(path, data={**fields, "gift_aid_checked": checked(shown)})
    assert "will claim Gift Aid" in done.get_data(as_text=True)
    [donation] = stored(app)
    assert (donation.gift_aid_title, donation.gift_aid_first_name) == ("Dr", "Lukasz")
