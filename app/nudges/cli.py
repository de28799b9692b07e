"""`flask nudges send`: the quiet-week nudge, for a timer (deploy/plunge-nudges.timer)."""

import click
from flask.cli import AppGroup

from app.nudges import service

nudges_cli = AppGroup("nudges", help="Fundraiser nudges.")


@nudges_cli.command("send")
def send_command() -> None:
    """Email each fundraiser whose page has had a week with no donation (once each)."""
    queued = service.send_quiet_week()
    click.echo(f"Queued {queued} quiet-week nudge{'s' if queued != 1 else ''}.")
