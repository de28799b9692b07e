"""/images/<sha256>.jpg: stored images by content hash, to those who may see what shows them."""

from flask import Blueprint, abort, request

from app.images import service
from app.pages.service import photo_audience
from app.teams.service import team_photo_audience

bp = Blueprint("images", __name__)


@bp.get("/images/<sha256>.jpg")
def show_image(sha256: str):
    """A photo by its content hash: cached for a year where everyone may see it, else
    checked on every use; 404 for anyone who may not see a page that shows it. `?size=96`:
    its square thumbnail, for the avatars in lists."""
    size = request.args.get("size", type=int)
    asked_size = "size" in request.args
    if not service.SHA256.fullmatch(sha256) or asked_size and size not in service.THUMBNAIL_SIZES:
        abort(404)
    audiences = {photo_audience(sha256), team_photo_audience(sha256)}
    audience = "public" if "public" in audiences else "private" if "private" in audiences else None
    if audience is None:
        abort(404)
    return service.response(sha256, service.JPEG, public=audience == "public", size=size)
