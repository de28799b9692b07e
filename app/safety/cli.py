"""`flask --app wsgi safety ...`: seed the checklist, make and rotate keys, purge after the day."""

import click
from flask.cli import AppGroup

from app.extensions import db
from app.safety import checklist, crypto, service
from app.timefmt import format_datetime

safety_cli = AppGroup("safety", help="The safety and consent checklist.")


@safety_cli.command("seed-checklist")
def seed_checklist_command():
    """Create the default checklist for an abseil, if there is none yet."""
    created = checklist.ensure_checklist()
    db.session.commit()
    click.echo(
        f"Created the default checklist with {len(checklist.items())} items."
        if created
        else "The checklist already exists; leaving it as it is."
    )


@safety_cli.command("new-key")
def new_key_command():
    """Print a new random key for SAFETY_ENCRYPTION_KEY."""
    click.echo(crypto.new_key())


@safety_cli.command("rotate-key")
def rotate_key_command():
    """Re-encrypt every stored answer with SAFETY_ENCRYPTION_KEY (old keys in
    SAFETY_ENCRYPTION_OLD_KEYS); afterwards the old keys can be dropped."""
    try:
        count = service.rotate_keys()
    except crypto.SafetyKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Re-encrypted {count} answers with the current key.")


@safety_cli.command("purge")
@click.option("--force", is_flag=True, help="Delete now, even before the retention period ends.")
def purge_command(force: bool):
    """Delete health answers and emergency contacts SAFETY_RETENTION_DAYS after the event."""
    try:
        counts = service.purge(force=force)
    except service.SafetyError as exc:
        due = service.purge_date()
        when = format_datetime(due) if due else "the event is configured"
        raise click.ClickException(
            f"Not yet: safety answers are kept until {when}. Use --force to delete them now."
        ) from exc
    click.echo(
        f"Deleted {counts['medical']} medical declarations and "
        f"{counts['emergency_contact']} emergency contacts."
    )
