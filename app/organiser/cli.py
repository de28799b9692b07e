"""`flask --app wsgi giftaid export --out FILE`: HMRC's Gift Aid schedule from the command line."""

from pathlib import Path

import click
from flask.cli import AppGroup

from app.donations.gift_aid import gift_aid_on
from app.money import format_pence
from app.organiser import gift_aid_export

giftaid_cli = AppGroup("giftaid", help="HMRC Gift Aid claims.")


@giftaid_cli.command("export")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.csv or FILE.ods; over 1,000 donations makes FILE-1.csv, FILE-2.csv, ...",
)
def export_command(out: Path) -> None:
    """Write the Gift Aid schedule; list any donation HMRC would refuse (and exit 1 if so)."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in gift_aid_export.FORMATS:
        raise click.BadParameter("the file name must end in .csv or .ods", param_hint="--out")
    schedule = gift_aid_export.build_schedule()
    stem = str(out.with_suffix(""))
    for name, data in gift_aid_export.schedule_files(schedule, fmt, stem):
        Path(name).write_bytes(data)
        click.echo(f"Wrote {name}")
    click.echo(
        f"{len(schedule.rows)} donations, {format_pence(schedule.total_pence)} claimed on "
        f"(Gift Aid {format_pence(gift_aid_on(schedule.total_pence))})."
    )
    for refusal in schedule.refused:
        reasons = "; ".join(refusal.reasons)
        click.echo(f"Refused donation {refusal.donation_id} ({refusal.donor}): {reasons}", err=True)
    if schedule.refused:
        click.echo(
            f"{len(schedule.refused)} donations were left out: correct them and export again.",
            err=True,
        )
        raise SystemExit(1)
