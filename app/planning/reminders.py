"""The weekly reminder: an email to each person in a group who has decisions waiting for
their say. At most one a week each, however often `flask planning remind` runs; anyone can
turn it off from the email's link or the planning page."""

from datetime import datetime

from flask import current_app, has_request_context
from sqlalchemy import select, update

from app import outbox
from app.database import begin_write
from app.extensions import db
from app.models import PlanningMember, PlanningReminders, User, utcnow
from app.planning import service
from app.planning.people import make_token, read_token
from app.urls import absolute_url

PURPOSE = "planning-reminders"


def week_of(moment: datetime) -> str:
    """The ISO week, e.g. "2027-W14"."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def settings_for(user_id: int) -> PlanningReminders:
    """Someone's reminder settings (made on first use)."""
    settings = db.session.get(PlanningReminders, user_id)
    if settings is None:
        settings = PlanningReminders(user_id=user_id)
        db.session.add(settings)
        db.session.flush()
    return settings


def is_on(user_id: int) -> bool:
    """True unless this person turned the weekly email off."""
    settings = db.session.get(PlanningReminders, user_id)
    return settings is None or settings.off_at is None


def turn(user_id: int, on: bool) -> None:
    """Turn someone's weekly email on or off."""
    begin_write()
    settings = settings_for(user_id)
    settings.off_at = None if on else (settings.off_at or utcnow())
    db.session.commit()


def link_token(user_id: int) -> str:
    """The token in the email's "stop these emails" link (it does not expire)."""
    return make_token(PURPOSE, user_id)


def user_for_link(token: str) -> User | None:
    """Whose reminders a link is for, or None if it is forged."""
    user_id = read_token(PURPOSE, token)
    return db.session.get(User, user_id) if isinstance(user_id, int) else None


def _claim_week(user_id: int, week: str) -> bool:
    """Mark this week's email as sent, unless it was (or reminders are off): one winner."""
    settings_for(user_id)
    claimed = db.session.execute(
        update(PlanningReminders)
        .where(
            PlanningReminders.user_id == user_id,
            PlanningReminders.off_at.is_(None),
            PlanningReminders.last_week != week,
        )
        .values(last_week=week)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def send_reminders(now: datetime | None = None) -> int:
    """Queue this week's reminder for everyone with decisions waiting; returns how many."""
    if not has_request_context():  # from cron: links are built on SITE_URL anyway
        with current_app.test_request_context(base_url=current_app.config["SITE_URL"]):
            return send_reminders(now)
    week = week_of(now or utcnow())
    people = db.session.scalars(
        select(User)
        .where(User.id.in_(select(PlanningMember.user_id)), User.password_hash != "")
        .order_by(User.id)
    ).all()
    page = service.planning_page()
    waiting_all = page.to_report_back + page.open
    sent = 0
    for person in people:
        waiting = [r for r in waiting_all if r.waiting_for(person.id)]
        if not waiting:
            continue
        begin_write()
        if not _claim_week(person.id, week):
            db.session.rollback()
            continue
        stop_url = absolute_url("planning.reminder_settings", token=link_token(person.id))
        outbox.queue(
            person.email,
            "Your say is needed on the event plans",
            "planning_reminder",
            headers={"List-Unsubscribe": f"<{stop_url}>"},
            name=person.name,
            waiting=waiting,
            planning_url=absolute_url("planning.home"),
            stop_url=stop_url,
        )
        db.session.commit()
        sent += 1
    return sent
