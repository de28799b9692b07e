"""`flask --app wsgi stripe reconcile`: nothing is lost when a webhook never arrives."""

import click
from flask.cli import AppGroup

from app import payments
from app.payments.fulfil import reconcile

stripe_cli = AppGroup("stripe", help="Card payments through Stripe.")


@stripe_cli.command("reconcile")
def reconcile_command() -> None:
    """Ask Stripe about every donation still waiting for its webhook, and fix each one."""
    try:
        outcome = reconcile(payments.retrieve_checkout_session)
    except payments.PaymentsUnavailable as exc:
        raise click.ClickException(f"Stripe could not be reached: {exc}") from exc
    click.echo(
        f"Checked {outcome['checked']}: {outcome['paid']} now paid, {outcome['expired']} expired, "
        f"{outcome['unchanged']} still waiting."
    )
