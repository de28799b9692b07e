"""The participant's choice of nudges: one tick box per kind."""

from flask_wtf import FlaskForm
from wtforms import BooleanField

from app.models import NudgeKind
from app.nudges.service import LABELS


class NudgeChoicesForm(FlaskForm):
    """Which fundraiser emails to get; a kind left unticked is not sent."""

    first_donation = BooleanField(LABELS[NudgeKind.FIRST_DONATION])
    halfway = BooleanField(LABELS[NudgeKind.HALFWAY])
    target_reached = BooleanField(LABELS[NudgeKind.TARGET_REACHED])
    quiet_week = BooleanField(LABELS[NudgeKind.QUIET_WEEK])

    def wanted(self) -> set[NudgeKind]:
        """The kinds ticked."""
        return {kind for kind in NudgeKind if self[kind.value].data}
