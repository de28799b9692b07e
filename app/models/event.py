"""The one event this install serves."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

EVENT_ID = 1


class Event(db.Model):
    """What, when, where and why, the target, the charity, and the rules for donations."""

    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_event"),
        CheckConstraint("target_pence > 0", name="target_positive"),
        CheckConstraint("min_donation_pence >= 100", name="min_at_least_a_pound"),
        CheckConstraint("max_donation_pence >= min_donation_pence", name="limits_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=EVENT_ID)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    where_money_goes: Mapped[str] = mapped_column(Text, default="")
    above_target_text: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    target_pence: Mapped[int] = mapped_column(default=500_000)

    charity_name: Mapped[str] = mapped_column(String(160))
    charity_number: Mapped[str] = mapped_column(String(20))
    # Scottish charities must say they are regulated by OSCR on every page.
    charity_is_scottish: Mapped[bool] = mapped_column(default=True)

    donations_open: Mapped[bool] = mapped_column(default=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    min_donation_pence: Mapped[int] = mapped_column(default=100)
    max_donation_pence: Mapped[int] = mapped_column(default=1_000_000)
    # Cover-the-card-fee formula, default UK standard cards: 1.5% + 20p.
    fee_basis_points: Mapped[int] = mapped_column(default=150)
    fee_fixed_pence: Mapped[int] = mapped_column(default=20)
    # Sponsored-event Gift Aid rule: connected donors may not claim if the charity pays costs.
    charity_pays_event_costs: Mapped[bool] = mapped_column(default=False)
    gift_aid_fills_target: Mapped[bool] = mapped_column(default=False)
    pages_need_approval: Mapped[bool] = mapped_column(default=False)
    # Organisers see donors' details and health data: this makes a second factor a must.
    organisers_need_second_factor: Mapped[bool] = mapped_column(default=False)
    # Fundraiser nudges (app/nudges), each of which the organisers can switch off for everyone.
    nudge_first_donation: Mapped[bool] = mapped_column(default=True)
    nudge_halfway: Mapped[bool] = mapped_column(default=True)
    nudge_target_reached: Mapped[bool] = mapped_column(default=True)
    nudge_quiet_week: Mapped[bool] = mapped_column(default=True)
    # Instructors may post safety news to the event page's feed on the day (app/news).
    instructors_post_safety_news: Mapped[bool] = mapped_column(default=False)

    # The campaign look: a picture of the event and the charity's logo, in the images table.
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("images.sha256"), nullable=True)
    image_alt: Mapped[str] = mapped_column(String(200), default="", server_default="")
    logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("images.sha256"), nullable=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    image: Mapped["StoredImage | None"] = relationship(foreign_keys=[image_sha256])  # noqa: F821
    logo: Mapped["StoredImage | None"] = relationship(foreign_keys=[logo_sha256])  # noqa: F821

    def is_closed(self, now: datetime | None = None) -> bool:
        """True once the event's close time has passed: live progress stops polling."""
        return self.closes_at is not None and (now or utcnow()) >= self.closes_at

    @property
    def charity_statement(self) -> str:
        """The regulator's wording required on every page."""
        if self.charity_is_scottish:
            return (
                f"{self.charity_name} is a Scottish charity, {self.charity_number}, "
                "regulated by the Scottish Charity Regulator (OSCR)."
            )
        return f"{self.charity_name} is a registered charity, number {self.charity_number}."
