"""`flask --app wsgi privacy purge`: remove donors' contact details after the retention period."""

import click
from flask.cli import AppGroup

from app.privacy import retention
from app.timefmt import format_datetime

privacy_cli = AppGroup("privacy", help="People's data: retention.")


@privacy_cli.command("purge")
@click.option("--force", is_flag=True, help="Remove now, even before the retention period ends.")
def purge_command(force: bool):
    """Remove donors' names and email addresses DONOR_CONTACT_RETENTION_MONTHS after the event,
    unless a Gift Aid declaration or their consent to hear more keeps them."""
    try:
        report = retention.purge(force=force)
    except retention.TooEarly as exc:
        due = retention.purge_date()
        when = format_datetime(due) if due else "the event is configured"
        raise click.ClickException(
            f"Not yet: donors' contact details are kept until {when}. "
            "Use --force to remove them now."
        ) from exc
    click.echo(
        f"Removed the name and email address from {report.donations_cleared} donations "
        f"({report.addresses} addresses) and deleted {report.emails_deleted} sent emails. "
        f"Kept {report.kept_for_gift_aid} donations with a Gift Aid declaration (HMRC: 6 years) "
        f"and {report.kept_for_consent} whose donor asked to hear how the event goes."
    )
