"""`flask --app wsgi giftaid claim ...`: HMRC Gift Aid claims from the command line, as on the
Gift Aid claims page: start one for a period, list them, write a claim's files, record the day
it was submitted, or discard it before then."""

from datetime import date, datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from app.money import format_pence
from app.organiser import gift_aid_claims, gift_aid_export
from app.organiser.gift_aid_claims import ClaimNotPossible, Period

giftaid_cli = AppGroup("giftaid", help="HMRC Gift Aid claims.")
claim_cli = AppGroup("claim", help="Start, list, file, mark submitted or discard a claim.")
giftaid_cli.add_command(claim_cli)


class _Day(click.ParamType):
    """A UK date written YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"{value!r} is not a date like 2027-03-31", param, ctx)


DAY = _Day()


def _refused(refusals, heading: str) -> None:
    for refusal in refusals:
        click.echo(
            f"{heading} donation {refusal.donation_id} ({refusal.donor}): "
            + "; ".join(refusal.reasons),
            err=True,
        )


def _summary(claim) -> str:
    box_2 = format_pence(claim.overclaimed_pence) if claim.overclaimed_pence else "blank"
    return (
        f"{claim.period_from:%Y-%m-%d} to {claim.period_to:%Y-%m-%d}: {claim.line_count} "
        f"donations, {format_pence(claim.amount_pence)} claimed on, Gift Aid "
        f"{format_pence(claim.gift_aid_pence)}, Box 2 {box_2}"
    )


@claim_cli.command("start")
@click.option("--from", "first_day", required=True, type=DAY, help="First day (UK date).")
@click.option("--to", "last_day", required=True, type=DAY, help="Last day (UK date), included.")
def start_command(first_day: date, last_day: date) -> None:
    """Freeze the claimable donations received in the period into a new claim."""
    period = Period(first_day, last_day)
    try:
        claim, found = gift_aid_claims.start(period)
    except ClaimNotPossible as refusal:
        _left_out(gift_aid_claims.preview(period))
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Started claim #{claim.id}, {_summary(claim)}.")
    click.echo(f"Write its files with: flask --app wsgi giftaid claim file {claim.id}")
    _left_out(found)


def _left_out(found) -> None:
    _refused(found.schedule.refused, "Left out (HMRC would refuse it)")
    _refused(found.too_old, "Left out (too old)")
    if found.schedule.refused:
        click.echo(
            f"{len(found.schedule.refused)} donations were left out: correct them (the "
            "donation's page, Correct the Gift Aid details) and they go in the next claim.",
            err=True,
        )


@claim_cli.command("list")
def list_command() -> None:
    """Every claim, newest first, and the tax over-claimed since, for the next claim's Box 2."""
    for claim in gift_aid_claims.claims():
        if claim.status == "submitted":
            status = f"submitted {claim.submitted_on:%Y-%m-%d}"
            if claim.hmrc_reference:
                status += f" (HMRC reference {claim.hmrc_reference})"
        else:
            status = claim.status.value
        click.echo(f"#{claim.id} {status}: {_summary(claim)}")
    overclaims = gift_aid_claims.overclaims()
    for overclaim in overclaims:
        line = overclaim.line
        click.echo(
            f"Over-claimed: donation {line.donation_id} in claim #{line.claim_id}, claimed on "
            f"{format_pence(line.amount_pence)}, held now {format_pence(overclaim.now_pence)}: "
            f"tax {format_pence(overclaim.tax_pence)} to repay"
        )
    if overclaims:
        total = sum(overclaim.tax_pence for overclaim in overclaims)
        click.echo(f"Box 2 of the next claim: {format_pence(total)}")


@claim_cli.command("file")
@click.argument("claim_id", type=int)
@click.option("--format", "fmt", type=click.Choice(gift_aid_export.FORMATS), default="ods")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Folder to write into (default: here).",
)
def file_command(claim_id: int, fmt: str, out: Path) -> None:
    """Write the claim's schedule: gift-aid-claim-ID.ods, or -1, -2... per 1,000 lines."""
    claim = gift_aid_claims.claim_or_none(claim_id)
    if claim is None:
        raise click.ClickException(f"There is no claim #{claim_id}")
    if claim.status == "discarded":
        raise click.ClickException(f"Claim #{claim_id} was discarded: it has no file")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in gift_aid_claims.files(claim, fmt):
        (out / name).write_bytes(data)
        click.echo(f"Wrote {out / name}")


@claim_cli.command("submitted")
@click.argument("claim_id", type=int)
@click.option("--on", "on", required=True, type=DAY, help="The UK date it went to HMRC.")
@click.option("--reference", default="", help="HMRC's reference for the claim (optional).")
def submitted_command(claim_id: int, on: date, reference: str) -> None:
    """Record the day the claim was submitted to HMRC: its donations are then claimed."""
    reference = reference.strip()
    if len(reference) > 60 or any(ord(ch) < 32 or ord(ch) == 127 for ch in reference):
        raise click.BadParameter("at most 60 characters, on one line", param_hint="--reference")
    try:
        claim = gift_aid_claims.mark_submitted(claim_id, on, reference)
    except ClaimNotPossible as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Claim #{claim.id} is marked submitted on {on:%Y-%m-%d}.")


@claim_cli.command("discard")
@click.argument("claim_id", type=int)
@click.option("--reason", default="", help="Why, for the history (optional).")
def discard_command(claim_id: int, reason: str) -> None:
    """Discard a claim not yet submitted: its donations can go in the next claim."""
    try:
        claim = gift_aid_claims.discard(claim_id, reason=reason.strip()[:500])
    except ClaimNotPossible as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Claim #{claim.id} is discarded; its {claim.line_count} donations are released.")
