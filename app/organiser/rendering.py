"""The one donation page, shared by the view that shows it and the forms that act on it (which
show it again, with their errors, when something needs fixing)."""

from flask import abort, render_template

from app import audit
from app.donations.gift_aid import (
    claim_pence,
    claim_problems,
    gift_aid_on,
    sponsorship_wording,
)
from app.models import DonationSource, DonationStatus
from app.organiser import forms, service
from app.organiser.refunds import refundable_pence
from app.payments.reconcile import last_run


def forms_for(make, failed: dict | None = None):
    """For a page with one form per item: `get(key)` is the form that failed for that item
    (with its errors), or a fresh one made by `make(key)`."""
    failed = failed or {}

    def get(key: str):
        return failed.get(key) or make(key)

    return get


def dashboard_page(reject_form=None) -> str:
    """The dashboard: live totals, cash waiting for confirmation, the latest changes."""
    figures = service.dashboard_totals()
    if figures is None:
        abort(404)
    return render_template(
        "organiser/dashboard.html",
        figures=figures,
        waiting=service.waiting_cash(),
        reject_form=reject_form
        or forms_for(lambda key: forms.RejectForm(formdata=None, prefix=key)),
        held=service.held_donations(),
        reconcile_run=last_run(),
        history=audit.entries(limit=8),
        describe=audit.describe,
    )


def donation_or_404(donation_id: int):
    """The donation, or a 404 page."""
    donation = service.donation_or_none(donation_id)
    if donation is None:
        abort(404)
    return donation


def donation_page(donation_id: int, status: int = 200, **given_forms):
    """Render the donation's page, with fresh forms except those passed in (with errors)."""
    donation = donation_or_404(donation_id)
    refundable = refundable_pence(donation)
    offline = donation.source == DonationSource.OFFLINE
    waiting = offline and donation.status == DonationStatus.PENDING
    page_forms = {
        "refund_form": forms.RefundForm(formdata=None, refundable_pence=refundable),
        "reject_form": forms.RejectForm(formdata=None, prefix=f"reject-{donation.id}"),
        "hide_form": forms.HideForm(formdata=None, prefix=f"message-{donation.id}"),
        "gift_aid_form": forms.GiftAidCorrectionForm(
            formdata=None,
            title=donation.gift_aid_title,
            first_name=donation.gift_aid_first_name,
            last_name=donation.gift_aid_last_name,
            house=donation.gift_aid_house,
            postcode="" if donation.gift_aid_postcode == "X" else donation.gift_aid_postcode,
            overseas=donation.gift_aid_postcode == "X",
        ),
        "confirm_form": forms.ConfirmForm(formdata=None),
        "review_form": forms.ReviewForm(formdata=None),
        **given_forms,
    }
    return render_template(
        "organiser/donation.html",
        donation=donation,
        refundable=refundable,
        waiting=waiting,
        status_label=service.status_label(donation),
        stripe=service.stripe_records(donation),
        history=audit.entries(donation_id=donation.id, limit=200),
        describe=audit.describe,
        gift_aid_problems=claim_problems(donation) if donation.gift_aid else [],
        sponsorship_wording=sponsorship_wording(donation.gift_aid_sponsorship_version),
        gift_aid_claimable={
            "given": claim_pence(donation),
            "gift_aid": gift_aid_on(claim_pence(donation)),
        },
        **page_forms,
    ), status
