"""`flask planning remind`: the weekly reminder, for cron."""

import click
from flask.cli import AppGroup

from app.planning import reminders

planning_cli = AppGroup("planning", help="Planning the event together.")


@planning_cli.command("remind")
def remind_command() -> None:
    """Email everyone with decisions waiting for their say (once a week each, at most)."""
    sent = reminders.send_reminders()
    click.echo(f"Queued {sent} reminder{'s' if sent != 1 else ''}.")
