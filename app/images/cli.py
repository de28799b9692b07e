"""`flask --app wsgi images import-files`: photos from the old upload folder into the database."""

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.images import service
from app.images.importing import import_files

images_cli = AppGroup("images", help="Photos, kept in the database.")


def _old_folder() -> Path:
    """Where photos were kept before: UPLOAD_FOLDER if set, else instance/uploads."""
    return Path(os.environ.get("UPLOAD_FOLDER") or Path(current_app.instance_path, "uploads"))


@images_cli.command("import-files")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The old upload folder (default: $UPLOAD_FOLDER, else instance/uploads).",
)
@click.option("--keep-files", is_flag=True, help="Leave each file in the folder once moved.")
def import_files_command(folder: Path | None, keep_files: bool) -> None:
    """Move sponsor page photos from the old upload folder into the database. Safe to run
    again: a photo already moved is not moved twice. Exits 1 if any could not be moved."""
    folder = folder or _old_folder()
    report = import_files(folder, keep_files=keep_files)
    for moved in report.moved:
        click.echo(f"Moved {moved.slug}'s photo ({moved.filename}) as /images/{moved.sha256}.jpg")
    for slug in report.superseded:
        click.echo(f"{slug} has uploaded a new photo since; the old file is not needed.")
    for problem in report.not_moved:
        click.echo(
            f"Could not move {problem.slug}'s photo ({problem.filename}): {problem.reason}",
            err=True,
        )
    if not (report.moved or report.not_moved or report.superseded):
        click.echo("Nothing to move: every photo is in the database.")
    else:
        click.echo(f"Moved {_photos(len(report.moved))} from {folder} into the database.")
    if report.strays:
        click.echo(f"Left in {folder}, as no page names them: {', '.join(report.strays)}")
    if report.not_moved:
        click.echo(
            f"{_photos(len(report.not_moved))} could not be moved: those pages show no photo "
            "until their participant uploads one, or the file is put back and this is run again.",
            err=True,
        )
        raise SystemExit(1)


@images_cli.command("prune")
def prune_command() -> None:
    """Delete stored images that nothing refers to any more (replacing or removing a photo
    already does; this is for anything left by hand or by a crash)."""
    gone = service.prune()
    click.echo(f"Deleted {_photos(len(gone))} that nothing refers to.")


def _photos(count: int) -> str:
    return f"{count} photo" if count == 1 else f"{count} photos"
