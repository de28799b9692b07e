"""Printing a paper sponsorship form: the sheet references (with their check character), the
print page and the PDF, which is read back for its reference, declaration and QR code."""

import re
from io import BytesIO

import pytest
import segno
from pypdf import PdfReader

from app.paper import reference
from tests.accounts import AuthActions


@pytest.fixture
def participant(make, app) -> AuthActions:
    make.participant()
    auth = AuthActions(app.test_client())
    auth.login("aisha@example.org")
    return auth


def test_a_reference_carries_a_check_character_that_catches_slips():
    ref = reference.reference("7K3", 2)
    assert reference.parse(ref) == ("7K3", 2, "P")
    assert reference.parse(f"  {ref.lower().replace('-', ' ')} ") == ("7K3", 2, "P")
    code, check = ref[2:5], ref[5]
    for slip in ("7K4", "K73", "7X3"):
        with pytest.raises(reference.ReferenceError, match="check"):
            reference.parse(f"P-{slip}{check}-2")
    with pytest.raises(reference.ReferenceError, match="check"):
        reference.parse(f"P-{code}{check}-3")
    for nonsense in ("", "hello", "P-7K3Q-200", "P-1I0Q-2", "P-李李李Q-2", "\x00"):
        with pytest.raises(reference.ReferenceError):
            reference.parse(nonsense)


def _pdf(participant, sheets=2):
    response = participant.post("/paper/form", {"sheets": str(sheets), "kind": "pdf"})
    assert response.status_code == 303
    pdf = participant.client.get(response.headers["Location"])
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    return PdfReader(BytesIO(pdf.data))


def test_the_pdf_has_the_reference_declaration_and_instructions_on_every_sheet(participant):
    reader = _pdf(participant, sheets=2)
    assert len(reader.pages) == 2
    refs = []
    for number, page in enumerate(reader.pages, start=1):  # the first print: sheets 1 and 2
        text = " ".join(page.extract_text().split())
        ref = next(word for word in text.split() if word.startswith("P-") and len(word) > 6)
        assert reference.parse(ref)[1] == number
        refs.append(ref)
        assert f"Sheet {number}" in text
        assert "Aisha Rahman" in text
        assert "Carers Voice, charity number SC012345" in text
        assert "I confirm that I am a UK Income or Capital Gains taxpayer" in text
        assert "No ditto marks" in text and "not a work address" in text
        assert "Mr and Mrs Smith" in text
        for column in ("Postcode", "Amount pledged", "Amount paid", "Date paid", "Gift Aid"):
            assert column in text
        assert "/p/aisha" in text, text
    assert len(set(refs)) == 2
    # The next print carries on the numbering: every sheet has its own reference.
    again = _pdf(participant, sheets=1)
    assert "Sheet 3" in again.pages[0].extract_text()


def test_the_pdf_qr_code_opens_the_sponsor_page(participant):
    page = _pdf(participant, sheets=1).pages[0]
    (url,) = re.findall(r"https?://\S+", page.extract_text())
    assert url.endswith("/p/aisha")
    (image,) = page.images
    picture = image.image.convert("L")
    # Read module by module, the code is exactly the QR code of the address printed beside it.
    expected = segno.make(url, error="m", micro=False)
    modules = len(expected.matrix) + 8  # the quiet zone: 4 modules each side
    size = picture.width / modules
    read = [
        [
            picture.getpixel((int((4 + x + 0.5) * size), int((4 + y + 0.5) * size))) < 128
            for x in range(len(row))
        ]
        for y, row in enumerate(expected.matrix)
    ]
    assert read == [[bool(cell) for cell in row] for row in expected.matrix]


def test_the_print_page_shows_the_sheets_for_the_browser_to_print(participant):
    response = participant.post("/paper/form", {"sheets": "1", "kind": "html"})
    assert response.status_code == 303
    page = participant.client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="paper-sheet"' in text and "<svg" in text
    assert "No ditto marks" in text
    assert "/paper/form.pdf?" in text


def test_bad_counts_are_refused_beside_the_field(participant):
    for bad in ("0", "11", "lots", ""):
        response = participant.post("/paper/form", {"sheets": bad, "kind": "pdf"})
        assert response.status_code == 422
        assert "sheets" in response.get_data(as_text=True)
    # Sheets never printed are not printed by guessing their numbers.
    response = participant.client.get("/paper/form.pdf?first=5&count=3")
    assert response.status_code == 303


def test_organisers_and_visitors_have_no_form_of_their_own(client, organiser):
    assert client.get("/paper/form").status_code == 404
