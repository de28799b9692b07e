"""`flask --app wsgi organiser create EMAIL`: the first organiser (organisers can't sign up)."""

import click
from email_validator import EmailNotValidError, validate_email
from flask.cli import AppGroup

from app.auth import service

organiser_cli = AppGroup("organiser", help="Organiser accounts.")


def _check_password(_ctx, _param, value: str) -> str:
    if len(value) < service.MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"must be at least {service.MIN_PASSWORD_LENGTH} characters long")
    return value


@organiser_cli.command("create")
@click.argument("email")
@click.option("--name", prompt="Name", help="Shown to participants and in emails.")
@click.password_option(
    "--password", prompt="Password", confirmation_prompt=True, callback=_check_password
)
def create_command(email: str, name: str, password: str) -> None:
    """Create an organiser account that logs in with EMAIL."""
    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    if service.user_by_email(address) is not None:
        raise click.ClickException(f"{address} already has an account.")
    if not name.strip():
        raise click.BadParameter("give the organiser's name", param_hint="--name")
    user = service.create_organiser(address, name, password)
    click.echo(f"Organiser {user.name} <{user.email}> can now log in.")
