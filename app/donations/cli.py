"""`flask --app wsgi stripe reconcile`: nothing is lost when a webhook never arrives."""

import click
from flask.cli import AppGroup

from app import payments
from app.payments.reconcile import reconcile

stripe_cli = AppGroup("stripe", help="Card payments through Stripe.")


@stripe_cli.command("reconcile")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 400))
def reconcile_command(days: int) -> None:
    """Compare every card donation of the last DAYS days with Stripe; fix or flag each
    difference. Run it from cron or a systemd timer (see README)."""
    try:
        run = reconcile(days)
    except payments.PaymentsUnavailable as exc:
        raise click.ClickException(f"Stripe could not be reached: {exc}") from exc
    click.echo(
        f"Checked {run.checked} donations of the last {days} days against Stripe: "
        f"{run.fixed} fixed, {len(run.findings)} for an organiser to look at."
    )
    for finding in run.findings:
        donation = f"PLG-{finding['donation_id']:06d}" if finding["donation_id"] else "no donation"
        click.echo(f"  {donation} {finding['stripe_id']}: {finding['what']}")
