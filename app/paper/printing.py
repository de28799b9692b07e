"""The paper sponsorship form as a PDF: A4 landscape, black on white, a reference and the
Gift Aid wording on every sheet. ReportLab draws it (pure Python, no system libraries)."""

from dataclasses import dataclass
from io import BytesIO

from reportlab.graphics.barcode import code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from app.paper.wording import ENGLISH, Wording

LINES_PER_SHEET = 12
PAGE = landscape(A4)
MARGIN = 12 * mm
# Column widths in mm, summing to the printable width of A4 landscape.
_WIDTHS_MM = (68, 88, 25, 22, 22, 22, 26)


@dataclass(frozen=True)
class FormFacts:
    """What a form says about whose it is."""

    participant: str
    event: str
    event_date: str
    charity_name: str
    charity_number: str
    page_url: str
    qr_png: bytes
    references: tuple[str, ...]  # one per sheet, in order


_SMALL = ParagraphStyle("small", fontName="Helvetica", fontSize=8, leading=10)
_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11.5)
_HEAD = ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=8, leading=10)


def form_pdf(facts: FormFacts, wording: Wording = ENGLISH) -> bytes:
    """The form's sheets, one A4 page each, as a PDF."""
    out = BytesIO()
    canvas = Canvas(out, pagesize=PAGE, invariant=True)
    canvas.setTitle(f"{wording.heading}: {facts.participant}")
    canvas.setAuthor(facts.charity_name)
    for reference in facts.references:
        _sheet(canvas, facts, wording, int(reference.rsplit("-", 1)[1]), reference)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _sheet(canvas: Canvas, facts: FormFacts, w: Wording, number: int, reference: str) -> None:
    width, height = PAGE
    top = height - MARGIN
    canvas.setFillColor(colors.black)
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(MARGIN, top - 16, w.heading)
    canvas.setFont("Courier-Bold", 16)
    canvas.drawRightString(width - MARGIN - 34 * mm, top - 16, reference)
    canvas.setFont("Helvetica", 9)
    canvas.drawRightString(
        width - MARGIN - 34 * mm, top - 28, w.sheet.format(number=number, reference=reference)
    )
    # The reference as a Code 128 barcode too: a scanner types it into "Enter a sponsorship form".
    barcode = code128.Code128(reference, barHeight=9 * mm, barWidth=0.85, quiet=True)
    barcode.drawOn(canvas, width - MARGIN - 34 * mm - barcode.width, top - 32 - 9 * mm)
    canvas.drawImage(
        ImageReader(BytesIO(facts.qr_png)),
        width - MARGIN - 30 * mm,
        top - 30 * mm,
        30 * mm,
        30 * mm,
    )
    lines = (
        f"{w.participant}: {facts.participant}",
        f"{w.participant_address}: " + "_" * 60,
        f"{w.event}: {facts.event}, {facts.event_date}",
        w.charity.format(name=facts.charity_name, number=facts.charity_number),
        f"{w.online} {facts.page_url}",
    )
    canvas.setFont("Helvetica", 10)
    for i, text in enumerate(lines):
        canvas.drawString(MARGIN, top - 34 - 12 * i, text)
    y = top - 34 - 12 * len(lines) - 4
    frame_width = width - 2 * MARGIN - 34 * mm
    for text, style in (
        (
            f"<b>{w.declaration_heading}.</b> "
            + _escape(w.declaration.format(charity=facts.charity_name)),
            _BODY,
        ),
        (_escape(w.connected), _SMALL),
        (" ".join(_escape(line) for line in w.instructions), _HEAD),
    ):
        paragraph = Paragraph(text, style)
        _, used = paragraph.wrap(frame_width if y > top - 30 * mm else width - 2 * MARGIN, y)
        paragraph.drawOn(canvas, MARGIN, y - used)
        y -= used + 3
    _lines_table(canvas, w, y - 2)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(MARGIN, MARGIN - 4, w.footer.format(reference=reference))


def _lines_table(canvas: Canvas, w: Wording, top: float) -> None:
    header = [Paragraph(_escape(column), _HEAD) for column in w.columns]
    rows = [header] + [[""] * len(w.columns) for _ in range(LINES_PER_SHEET)]
    row_height = (top - MARGIN - 4) / (LINES_PER_SHEET + 1.6)
    table = Table(
        rows,
        colWidths=[c * mm for c in _WIDTHS_MM],
        rowHeights=[row_height * 1.6] + [row_height] * LINES_PER_SHEET,
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
            ]
        )
    )
    _, used = table.wrap(0, 0)
    table.drawOn(canvas, MARGIN, top - used)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
