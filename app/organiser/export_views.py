"""Downloads: every donation as CSV, and HMRC's Gift Aid schedule as CSV or ODS."""

from flask import Blueprint, Response, abort, render_template, stream_with_context

from app.auth.sessions import recent_password_required
from app.models import utcnow
from app.organiser import gift_aid_export
from app.organiser.donations_export import donations_csv
from app.timefmt import to_london

bp = Blueprint("exports", __name__, url_prefix="/exports")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "zip": "application/zip",
}


def _today() -> str:
    return to_london(utcnow()).strftime("%Y-%m-%d")


def _attachment(data, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # personal data: keep it out of caches
    return response


@bp.get("")
def show_exports():
    """What can be downloaded, and the donations HMRC would refuse, with why."""
    schedule = gift_aid_export.build_schedule()
    return render_template(
        "organiser/exports.html",
        schedule=schedule,
        files=len(schedule.files()),
        rows_per_file=gift_aid_export.ROWS_PER_FILE,
    )


@bp.get("/donations.csv")
@recent_password_required()
def download_donations():
    """Every donation, in every state, as CSV."""
    return _attachment(
        stream_with_context(donations_csv()), MIMETYPES["csv"], f"donations-{_today()}.csv"
    )


@bp.get("/gift-aid.<fmt>")
@recent_password_required()
def download_gift_aid(fmt: str):
    """HMRC's Gift Aid schedule: one file, or a zip of files of 1,000 donations each."""
    if fmt not in gift_aid_export.FORMATS:
        abort(404)
    stem = f"gift-aid-schedule-{_today()}"
    files = gift_aid_export.schedule_files(gift_aid_export.build_schedule(), fmt, stem)
    if len(files) == 1:
        name, data = files[0]
        return _attachment(data, MIMETYPES[fmt], name)
    return _attachment(gift_aid_export.zipped(files), MIMETYPES["zip"], f"{stem}-{fmt}.zip")
