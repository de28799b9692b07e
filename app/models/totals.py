"""Running totals per scope (the event, each sponsor page): read in O(1), updated atomically."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.donations.gift_aid import gift_aid_on
from app.extensions import db

EVENT_SCOPE = "event"


class Totals(db.Model):
    """One row per scope. `version` goes up on every change and is the progress partial's ETag."""

    __tablename__ = "totals"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    raised_pence: Mapped[int] = mapped_column(default=0)
    online_pence: Mapped[int] = mapped_column(default=0)
    offline_pence: Mapped[int] = mapped_column(default=0)
    gift_aid_eligible_pence: Mapped[int] = mapped_column(default=0)
    # Declared Gift Aid that cannot be claimed yet: how many donations, and what they gave.
    gift_aid_attention: Mapped[int] = mapped_column(default=0)
    gift_aid_attention_pence: Mapped[int] = mapped_column(default=0)
    fees_covered_pence: Mapped[int] = mapped_column(default=0)
    refunded_pence: Mapped[int] = mapped_column(default=0)
    disputed_pence: Mapped[int] = mapped_column(default=0)
    # Money Stripe took for donations held for an organiser's review: not in raised_pence.
    held_pence: Mapped[int] = mapped_column(default=0)
    supporters: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    @property
    def gift_aid_pence(self) -> int:
        """The Gift Aid the charity can claim: 25p per eligible £1."""
        return gift_aid_on(self.gift_aid_eligible_pence)
