"""Downloads: every donation as CSV. (HMRC's Gift Aid schedule is a claim's file: see
claim_views.py, so a donation is claimed once.)"""

from flask import Blueprint, Response, render_template, stream_with_context

from app.auth.sessions import recent_password_required
from app.models import utcnow
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


def attachment(data, mimetype: str, filename: str) -> Response:
    """A download of personal data: saved under `filename`, kept out of every cache."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
def show_exports():
    """What can be downloaded."""
    return render_template("organiser/exports.html")


@bp.get("/donations.csv")
@recent_password_required()
def download_donations():
    """Every donation, in every state, as CSV."""
    return attachment(
        stream_with_context(donations_csv()), MIMETYPES["csv"], f"donations-{_today()}.csv"
    )
