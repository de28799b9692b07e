"""Moving photos from the upload folder of old (one file per photo, shared over NFS between
hosts) into the database, once, after upgrading."""

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.images import service
from app.models import SponsorPage
from app.pages import photos


@dataclass(frozen=True)
class Moved:
    """A page's photo, now in the database."""

    slug: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class NotMoved:
    """A page whose photo file could not be moved, and why; the page still names the file."""

    slug: str
    filename: str
    reason: str


@dataclass
class ImportReport:
    """What one run did: moved, could not move, superseded by a newer upload, and files in the
    folder that no page names."""

    moved: list[Moved] = field(default_factory=list)
    not_moved: list[NotMoved] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)


def import_files(folder: Path, keep_files: bool = False) -> ImportReport:
    """Move each page's photo file from `folder` into the database, cleaned as an upload is,
    committing page by page; a moved file is deleted unless `keep_files`. Running it again
    moves nothing more."""
    report = ImportReport()
    waiting = select(SponsorPage.id).where(SponsorPage.old_photo_filename.is_not(None))
    for page_id in list(db.session.scalars(waiting.order_by(SponsorPage.id))):
        _import_one(page_id, folder, keep_files, report)
    report.strays = _strays(folder)
    return report


def _import_one(page_id: int, folder: Path, keep_files: bool, report: ImportReport) -> None:
    # Locked, so a participant uploading a new photo at this moment is not overwritten.
    page = db.session.get(SponsorPage, page_id, with_for_update=True)
    filename = page.old_photo_filename if page else None
    if filename is None:
        db.session.rollback()
        return
    path = folder / filename
    if page.photo_sha256 is not None:  # a new photo was uploaded since the upgrade
        page.old_photo_filename = None
        db.session.commit()
        report.superseded.append(page.slug)
        if _plain(filename):
            _remove(path, keep_files)
        return
    problem = _problem(filename, path)
    if problem is None:
        try:
            with path.open("rb") as stream:
                image = service.store(photos.clean_jpeg(stream))
        except photos.PhotoError as exc:
            problem = f"it fails the checks an upload gets ({exc})"
    if problem is not None:
        db.session.rollback()
        report.not_moved.append(NotMoved(page.slug, filename, problem))
        return
    page.photo, page.old_photo_filename = image, None
    slug = page.slug
    db.session.commit()
    report.moved.append(Moved(slug, filename, image.sha256))
    _remove(path, keep_files)


def _problem(filename: str, path: Path) -> str | None:
    # The app named every file itself, but the folder is outside the database: trust nothing.
    if not _plain(filename):
        return "not a plain file name"
    if not path.is_file():
        return f"no such file in {path.parent}"
    return None


def _plain(filename: str) -> bool:
    return Path(filename).name == filename and not filename.startswith(".")


def _remove(path: Path, keep_files: bool) -> None:
    if not keep_files and _plain(path.name):
        path.unlink(missing_ok=True)


def _strays(folder: Path) -> list[str]:
    """Files in the folder that no page names (left from before, or kept with --keep-files)."""
    if not folder.is_dir():
        return []
    named = set(
        db.session.scalars(
            select(SponsorPage.old_photo_filename).where(
                SponsorPage.old_photo_filename.is_not(None)
            )
        )
    )
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in named)
