"""Which sheets a participant or a team prints: their series code, made on first print, and
the references of the sheets they ask for (`P-...` for a participant's, `T-...` a team's)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.events.service import get_event
from app.extensions import db
from app.models import SponsorPage, Team
from app.models.paper import PaperSeries
from app.pages import sharing
from app.paper import reference
from app.paper.printing import FormFacts
from app.timefmt import format_datetime

# One print run: enough for the office fridge and the family, not a typing slip.
MAX_SHEETS_AT_ONCE = 10

Owner = SponsorPage | Team


def _owned_by(owner: Owner):
    if isinstance(owner, Team):
        return PaperSeries.team_id == owner.id
    return PaperSeries.sponsor_page_id == owner.id


def _new_series(owner: Owner) -> PaperSeries:
    if isinstance(owner, Team):
        return PaperSeries(team_id=owner.id, code=reference.new_code(), sheets=0)
    return PaperSeries(sponsor_page_id=owner.id, code=reference.new_code(), sheets=0)


def series_for(owner: Owner) -> PaperSeries:
    """The page's (or team's) series of sheets, made with an unused code the first time it is
    asked for. Codes are unique across participants and teams alike."""
    series = db.session.scalar(select(PaperSeries).where(_owned_by(owner)))
    while series is None:
        candidate = _new_series(owner)
        db.session.add(candidate)
        try:
            db.session.commit()
            series = candidate
        except IntegrityError:  # the code was taken, or another request made the series
            db.session.rollback()
            series = db.session.scalar(select(PaperSeries).where(_owned_by(owner)))
    return series


def references(series: PaperSeries, first: int, last: int) -> list[str]:
    """The references of sheets `first` to `last` of a series, with its kind's letter."""
    return [reference.reference(series.code, n, series.kind) for n in range(first, last + 1)]


def print_sheets(owner: Owner, count: int, start: int | None = None) -> list[str]:
    """References for `count` sheets: new sheets follow those printed before (so every sheet
    ever printed has its own number), unless `start` reprints from an earlier one."""
    series = series_for(owner)
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
    return references(series, first, last)


def form_facts(owner: Owner, printed: list[str]) -> FormFacts:
    """Everything a printed form says, for the PDF and the print page alike: the participant
    or the team, the event, the charity, and the QR code of their page (/p/ or /t/)."""
    event = get_event()
    if isinstance(owner, Team):
        name, url = owner.name, sharing.team_url(owner)
    else:
        name, url = owner.participant.name, sharing.page_url(owner)
    return FormFacts(
        participant=name,
        event=event.name if event else "",
        event_date=format_datetime(event.starts_at, "%-d %B %Y") if event else "",
        charity_name=event.charity_name if event else "",
        charity_number=event.charity_number if event else "",
        page_url=url,
        qr_png=sharing.qr_png_of(url),
        references=tuple(printed),
    )
