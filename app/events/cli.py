"""Organiser commands: `flask --app wsgi event configure|show` and `flask --app wsgi demo seed`."""

import click
from flask.cli import AppGroup

from app.events import service
from app.money import format_pence, parse_pounds
from app.timefmt import format_datetime, parse_london

event_cli = AppGroup("event", help="Set up and inspect the event.")
demo_cli = AppGroup("demo", help="Made-up data to look around with.")


class Pounds(click.ParamType):
    """A click parameter for an amount in pounds, stored as pence."""

    name = "pounds"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_pounds(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class LondonTime(click.ParamType):
    """A click parameter for a UK local time 'YYYY-MM-DD HH:MM', stored in UTC."""

    name = "time"

    def convert(self, value, param, ctx):
        try:
            return parse_london(value)
        except ValueError:
            self.fail("use the form YYYY-MM-DD HH:MM, in UK time", param, ctx)


@event_cli.command("configure")
@click.option("--name")
@click.option("--starts-at", type=LondonTime(), help="UK time, YYYY-MM-DD HH:MM")
@click.option("--venue")
@click.option("--description")
@click.option("--where-money-goes")
@click.option("--above-target-text", help="What happens to money above the target.")
@click.option("--contact-email")
@click.option("--target", "target_pence", type=Pounds(), help="In pounds; default 5000.")
@click.option("--charity-name")
@click.option("--charity-number")
@click.option("--scottish/--not-scottish", "charity_is_scottish", default=None)
@click.option("--closes-at", type=LondonTime(), help="UK time; live updates stop then.")
@click.option("--donations-open/--donations-closed", default=None)
@click.option(
    "--pages-need-approval/--pages-go-live",
    default=None,
    help="Whether an organiser approves each sponsor page before it is public.",
)
def configure_command(**options):
    """Create the event, or change the settings given."""
    settings = {key: value for key, value in options.items() if value is not None}
    if service.get_event() is None:
        required = ("name", "starts_at", "venue", "charity_name", "charity_number")
        missing = [f"--{key.replace('_', '-')}" for key in required if key not in settings]
        if missing:
            raise click.UsageError("A new event needs " + ", ".join(missing))
    elif not settings:
        raise click.UsageError("Nothing to change: give at least one option.")
    event = service.configure_event(**settings)
    click.echo(f"Saved: {event.name}, {format_datetime(event.starts_at)} at {event.venue}.")


@event_cli.command("show")
def show_command():
    """Print the event's settings and totals."""
    event = service.get_event()
    if event is None:
        raise click.ClickException("No event yet: run `flask --app wsgi event configure`.")
    progress = service.event_progress()
    click.echo(f"{event.name}\n{format_datetime(event.starts_at)} at {event.venue}")
    raised, gift_aid = format_pence(progress.raised_pence), format_pence(progress.gift_aid_pence)
    click.echo(
        f"Target {format_pence(event.target_pence)}; raised {raised}"
        f" from {progress.supporters} supporters (+ {gift_aid} Gift Aid)"
    )
    click.echo(event.charity_statement)


@demo_cli.command("seed")
def seed_command():
    """Fill an empty database with a believable demo event, participants and donations."""
    from app.events.demo import seed_demo

    if service.get_event() is not None:
        click.echo("The database already has an event; leaving it as it is.")
        return
    summary = seed_demo()
    click.echo(summary)
