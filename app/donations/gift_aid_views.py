"""A donor completes their own Gift Aid details, from the link in the email an organiser sent
(organiser/gift_aid_fix.py). The link opens this one donation's declaration and nothing else."""

from flask import Blueprint, render_template
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from app.donations.forms import DonorGiftAidFields, donor_gift_aid_fields
from app.donations.gift_aid import (
    OVERSEAS_POSTCODE,
    claim_pence,
    claim_problems,
    declaration_text,
    gift_aid_on,
    sponsorship_version,
    sponsorship_wording,
)
from app.events.service import get_event
from app.organiser.gift_aid_fix import AskLinkExpired, complete_by_donor, donation_for_ask_link

bp = Blueprint("gift_aid_details", __name__, url_prefix="/gift-aid")


class DonorGiftAidForm(DonorGiftAidFields, FlaskForm):
    """The donor's own name and home address, the declaration and the sponsorship answer."""

    title, first_name, last_name, house, postcode, overseas = donor_gift_aid_fields()
    declare = BooleanField(
        "Yes, I want to Gift Aid this donation",
        validators=[DataRequired("Tick the box to make the Gift Aid declaration")],
    )
    confirm = BooleanField(
        "I confirm", validators=[DataRequired("Tick the box to confirm the statement above")]
    )


def _closed(reason: str, status: int = 200):
    return render_template("donations/gift_aid_details_closed.html", reason=reason), status


@bp.route("/<token>", methods=["GET", "POST"])
def complete(token: str):
    """The donor's form: their details as we have them, to complete and confirm."""
    try:
        donation = donation_for_ask_link(token)
    except AskLinkExpired:
        return _closed("expired", 410)
    if donation is None or not donation.gift_aid:
        return _closed("broken", 404)
    if not claim_problems(donation):
        return _closed("complete")
    if donation.gift_aid_flag:
        return _closed("organiser")
    event = get_event()
    overseas = donation.gift_aid_postcode == OVERSEAS_POSTCODE
    form = DonorGiftAidForm(
        title=donation.gift_aid_title,
        first_name=donation.gift_aid_first_name,
        last_name=donation.gift_aid_last_name,
        house=donation.gift_aid_house,
        postcode="" if overseas else donation.gift_aid_postcode,
        overseas=overseas,
    )
    valid = form.validate_on_submit()
    if valid and not form.gift_aid_unseen():
        done = complete_by_donor(donation.id, form.gift_aid_details())
        if done is None:
            return _closed("complete")
        still = claim_problems(done)
        return render_template(
            "donations/gift_aid_details_done.html",
            donation=done,
            problems=still,
            event=event,
        )
    return render_template(
        "donations/gift_aid_details.html",
        form=form,
        donation=donation,
        event=event,
        problems=claim_problems(donation),
        gift_aid=gift_aid_on(claim_pence(donation)),
        declaration=declaration_text(donation.amount_pence, event.charity_name),
        sponsorship=sponsorship_wording(sponsorship_version(event.charity_pays_event_costs)),
        preview=form.gift_aid_preview(),
        check_gift_aid=valid,  # valid, but not yet seen as HMRC will read it
    ), 422 if form.errors else 200
