"""Which sheets a participant prints: their series code, made on first print, and the
references of the sheets they ask for."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.events.service import get_event
from app.extensions import db
from app.models import SponsorPage
from app.models.paper import PaperSeries
from app.pages import sharing
from app.paper import reference
from app.paper.printing import FormFacts
from app.timefmt import format_datetime

# One print run: enough for the office fridge and the family, not a typing slip.
MAX_SHEETS_AT_ONCE = 10


def series_for(page: SponsorPage) -> PaperSeries:
    """The page's series of sheets, made with an unused code the first time it is asked for."""
    series = db.session.scalar(select(PaperSeries).where(PaperSeries.sponsor_page_id == page.id))
    while series is None:
        candidate = PaperSeries(sponsor_page_id=page.id, code=reference.new_code(), sheets=0)
        db.session.add(candidate)
        try:
            db.session.commit()
            series = candidate
        except IntegrityError:  # the code was taken, or another request made the series
            db.session.rollback()
            series = db.session.scalar(
                select(PaperSeries).where(PaperSeries.sponsor_page_id == page.id)
            )
    return series


def print_sheets(page: SponsorPage, count: int, start: int | None = None) -> list[str]:
    """References for `count` sheets: new sheets follow those printed before (so every sheet
    ever printed has its own number), unless `start` reprints from an earlier one."""
    series = series_for(page)
    first = start if start is not None else series.sheets + 1
    first = max(1, min(first, reference.MAX_SHEETS))
    last = min(first + count - 1, reference.MAX_SHEETS)
    if last > series.sheets:
        db.session.execute(
            PaperSeries.__table__.update()
            .where(PaperSeries.id == series.id, PaperSeries.sheets < last)
            .values(sheets=last)
        )
        db.session.commit()
    return [reference.reference(series.code, n) for n in range(first, last + 1)]


def form_facts(page: SponsorPage, references: list[str]) -> FormFacts:
    """Everything a printed form says, for the PDF and the print page alike."""
    event = get_event()
    return FormFacts(
        participant=page.participant.name,
        event=event.name if event else "",
        event_date=format_datetime(event.starts_at, "%-d %B %Y") if event else "",
        charity_name=event.charity_name if event else "",
        charity_number=event.charity_number if event else "",
        page_url=sharing.page_url(page),
        qr_png=sharing.qr_png(page),
        references=tuple(references),
    )
