"""Two sets of books for the same money, and where they disagree.

Stripe's book is read from Stripe's own API (the sandbox's, here): every succeeded charge of
every Checkout Session, less its succeeded refunds, less what its disputes withdrew and did not
reinstate. Plunge's book is read from its tables: what each donation counts (raised and fee
covered) and what it holds for review, and the event's totals row. `problems` lists every
difference; for the money model to hold there must be none. `make bench-chaos` and
`tests/test_money_invariant.py` both judge by it."""

from collections import defaultdict
from dataclasses import dataclass, field

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    EVENT_SCOPE,
    CheckoutSession,
    Contribution,
    Donation,
    DonationStatus,
    Totals,
)
from app.money import format_pence


@dataclass
class Charge:
    """One succeeded charge at Stripe, and what is left of it."""

    id: str
    session_id: str
    donation_id: int | None
    amount: int
    refunded: int  # succeeded refunds only
    withdrawn: int  # disputes' withdrawals not reinstated

    @property
    def kept(self) -> int:
        """What the charity still has of this charge, by Stripe's account."""
        return self.amount - self.refunded - self.withdrawn


@dataclass
class StripeBook:
    """Stripe's figures: each succeeded charge, and the sessions that were paid."""

    charges: list[Charge] = field(default_factory=list)

    def kept_by_donation(self) -> dict[int | None, int]:
        """What Stripe says the charity keeps, per donation (None: no donation named)."""
        kept: dict[int | None, int] = defaultdict(int)
        for charge in self.charges:
            kept[charge.donation_id] += charge.kept
        return dict(kept)

    @property
    def taken(self) -> int:
        """Everything Stripe took and still holds for the charity."""
        return sum(charge.kept for charge in self.charges)


def stripe_book(api_url: str, key: str = "sk_test_plunge_ledger") -> StripeBook:
    """Read Stripe's figures through its API, as any client of Stripe could."""
    client = stripe.StripeClient(key, base_addresses={"api": api_url}, max_network_retries=2)
    book = StripeBook()
    sessions = client.v1.checkout.sessions.list(
        params={"limit": 100, "expand": ["data.payment_intent.latest_charge"]}
    )
    for listed in sessions.auto_paging_iter():
        session = listed.to_dict()
        intent = session["payment_intent"]
        charge = intent["latest_charge"] if isinstance(intent, dict) else None
        if not isinstance(charge, dict) or charge["status"] != "succeeded":
            continue
        refunds = client.v1.refunds.list(params={"payment_intent": intent["id"], "limit": 100})
        disputes = client.v1.disputes.list(params={"payment_intent": intent["id"], "limit": 100})
        raw = (intent.get("metadata") or {}).get("donation_id")
        book.charges.append(
            Charge(
                id=charge["id"],
                session_id=session["id"],
                donation_id=int(raw) if raw and raw.isdigit() else None,
                amount=charge["amount"],
                refunded=sum(
                    r.amount for r in refunds.auto_paging_iter() if r.status == "succeeded"
                ),
                withdrawn=-sum(
                    movement["amount"]
                    for dispute in disputes.auto_paging_iter()
                    for movement in dispute.to_dict()["balance_transactions"]
                ),
            )
        )
    return book


@dataclass
class PlungeBook:
    """Plunge's figures: each donation's contribution, its sessions, and the totals row."""

    donations: dict[int, Donation]
    contributions: dict[int, Contribution]
    paid_sessions: dict[str, CheckoutSession]  # sessions whose money is in `taken_pence`
    totals: Totals

    def counted(self, donation_id: int) -> int:
        """Money a donation counts in the totals: its gift and the fee it covered."""
        found = self.contributions.get(donation_id, Contribution())
        return found.raised_pence + found.fees_covered_pence

    def held(self, donation_id: int) -> int:
        """Money a donation holds for an organiser's review."""
        return self.contributions.get(donation_id, Contribution()).held_pence

    @property
    def counted_total(self) -> int:
        """What the event's totals row counts: raised plus fees covered."""
        return self.totals.raised_pence + self.totals.fees_covered_pence

    @property
    def held_total(self) -> int:
        """What the event's totals row holds for review."""
        return self.totals.held_pence

    def held_for_review(self) -> list[Donation]:
        """Every donation an organiser must decide on, oldest first."""
        return [d for _, d in sorted(self.donations.items()) if d.held_for_review]


def plunge_book(session: Session) -> PlungeBook:
    """Read Plunge's figures from its tables (detached, so they outlive `session`)."""
    donations = {d.id: d for d in session.scalars(select(Donation))}
    paid = {
        s.id: s
        for s in session.scalars(
            select(CheckoutSession).where(CheckoutSession.paid_at.is_not(None))
        )
    }
    totals = session.get(Totals, EVENT_SCOPE)
    contributions = {donation_id: d.contribution() for donation_id, d in donations.items()}
    session.expunge_all()
    return PlungeBook(donations, contributions, paid, totals)


def problems(stripe_figures: StripeBook, plunge: PlungeBook) -> list[str]:
    """Every way the two books disagree, in words; empty when the money model holds."""
    found = []
    kept = stripe_figures.kept_by_donation()
    for charge in stripe_figures.charges:
        donation = plunge.donations.get(charge.donation_id)
        if donation is None:
            found.append(f"{charge.id}: Stripe took {_p(charge.amount)} for no donation")
        elif (
            donation.status != DonationStatus.PAID or charge.session_id not in plunge.paid_sessions
        ):
            found.append(
                f"{charge.id}: Stripe took {_p(charge.amount)} for donation {donation.id} "
                f"(session {charge.session_id}), which neither counts nor holds it: "
                f"{_state(donation)}"
            )
    by_donation: dict[int, list[Charge]] = defaultdict(list)
    for charge in stripe_figures.charges:
        by_donation[charge.donation_id].append(charge)
    for session_id, record in plunge.paid_sessions.items():
        if not any(c.session_id == session_id for c in by_donation.get(record.donation_id, [])):
            found.append(f"{session_id}: counted for donation {record.donation_id}, never paid")
    for donation_id in sorted(set(plunge.donations) | {k for k in kept if k is not None}):
        donation = plunge.donations.get(donation_id)
        if donation is None:
            continue  # reported above, charge by charge
        charges = by_donation.get(donation_id, [])
        mine = plunge.counted(donation_id) + plunge.held(donation_id)
        if mine != kept.get(donation_id, 0):
            found.append(
                f"donation {donation_id}: counted {_p(plunge.counted(donation_id))} + held "
                f"{_p(plunge.held(donation_id))}, but Stripe keeps {_p(kept.get(donation_id, 0))}"
                f" ({_describe(charges)}; Plunge: {_state(donation)})"
            )
        taken = sum(c.amount for c in charges)
        if (donation.taken_pence or 0) != taken:
            found.append(
                f"donation {donation_id}: taken {_p(donation.taken_pence or 0)}, Stripe took "
                f"{_p(taken)}"
            )
        for name, stripe_pence in (
            ("refunded", sum(c.refunded for c in charges)),
            ("disputed", sum(c.withdrawn for c in charges)),
        ):
            pence = getattr(donation, f"{name}_pence") or 0
            if pence != stripe_pence:
                found.append(
                    f"donation {donation_id}: {name} {_p(pence)}, at Stripe {_p(stripe_pence)}"
                )
    found += _totals_problems(stripe_figures, plunge)
    return found


def _totals_problems(stripe_figures: StripeBook, plunge: PlungeBook) -> list[str]:
    found = []
    summed = Contribution()
    for contribution in plunge.contributions.values():
        summed = Contribution(
            **{
                name: getattr(summed, name) + getattr(contribution, name)
                for name in Contribution.__dataclass_fields__
            }
        )
    for name in Contribution.__dataclass_fields__:
        row = getattr(plunge.totals, name)
        if row != getattr(summed, name):
            found.append(
                f"totals row {name} is {row}, but the donations add up to {getattr(summed, name)}"
            )
    difference = stripe_figures.taken - plunge.counted_total - plunge.held_total
    if difference:
        found.append(
            f"totals row: Stripe keeps {_p(stripe_figures.taken)}, Plunge counts "
            f"{_p(plunge.counted_total)} and holds {_p(plunge.held_total)}: {_p(difference)} apart"
        )
    return found


def _describe(charges: list[Charge]) -> str:
    return (
        ", ".join(
            f"{c.id} {_p(c.amount)} - refunds {_p(c.refunded)} - disputes {_p(c.withdrawn)}"
            for c in charges
        )
        or "no charges"
    )


def _state(donation: Donation) -> str:
    return (
        f"{donation.status}, taken {_p(donation.taken_pence or 0)}, refunded "
        f"{_p(donation.refunded_pence or 0)}, disputed {_p(donation.disputed_pence or 0)}"
        + (f", held: {donation.review_reason}" if donation.review_reason else "")
    )


def _p(pence: int) -> str:
    return format_pence(pence)
