"""Who may do what: every route in the URL map, tried as a visitor, as the participant whose
things it names (Aisha), as another participant (Callum), as an organiser (Sandra) and as a
planner (Pat, invited only to plan: never donors, money or health data), and each answer
checked against this table. A route without an entry fails
`test_every_route_is_in_the_access_table`, so nobody adds a page without deciding who sees it.

Answers are a status code, or for redirects the status and where to (a path prefix). URLs use
the real ids, slugs and tokens of the world in tests/world.py: Aisha's page is live, with a
photo, an update and a donation; Callum's page is a draft with a photo and a donation of its
own. Each page's old address redirects to its current one, for those who may see it there."""

import re
from dataclasses import dataclass, field

import pytest

from tests import stripe_events
from tests.world import ROLES, build_world, log_in_as

LOGIN = "302 /auth/login"
HOME = "303 /me"


def everyone(answer: str) -> dict[str, str]:
    """The same answer for every role."""
    return dict.fromkeys(ROLES, answer)


def answers(
    visitor: str, participant: str, other: str, organiser: str, *, planner: str
) -> dict[str, str]:
    """One answer per role: visitor, participant (Aisha), other participant, organiser, and
    (always said outright) the planner."""
    return dict(zip(ROLES, (visitor, participant, other, organiser, planner), strict=True))


def members(participant: str, other: str | None = None, organiser: str | None = None):
    """Logged-in only: visitors are sent to log in. A planner has no page or checklist of their
    own, and is refused everything under /me and /safety."""
    other = participant if other is None else other
    organiser = participant if organiser is None else organiser
    return answers(LOGIN, participant, other, organiser, planner="403")


def account_holders(answer: str) -> dict[str, str]:
    """Everyone's own account (sessions, password): visitors are sent to log in, every kind of
    account answered alike, planners included."""
    return answers(LOGIN, answer, answer, answer, planner=answer)


def organisers(answer: str) -> dict[str, str]:
    """Organiser pages: visitors are sent to log in, participants and planners refused,
    organisers answered."""
    return answers(LOGIN, "403", "403", answer, planner="403")


def organising_group(answer: str, planner: str | None = None) -> dict[str, str]:
    """Planning pages: for organisers and planners (the organising group) only."""
    return answers(LOGIN, "403", "403", answer, planner=answer if planner is None else planner)


# A draft is seen only by its participant (Callum: "other participant") and the organisers.
DRAFT = answers("404", "404", "200", "200", planner="404")


def moved(path: str, draft: bool = False) -> dict[str, str]:
    """An old address: 301 to the current one, for whoever may see the page there."""
    if draft:
        return answers("404", "404", f"301 {path}", f"301 {path}", planner="404")
    return everyone(f"301 {path}")


# A hidden team is seen only by organisers (its captain too; nobody in the world captains it).
HIDDEN_TEAM = answers("404", "404", "404", "200", planner="404")
ORGANISERS_ONLY = answers(LOGIN, "403", "403", "303 /p/aisha", planner="403")
# Organisers are staff: logged in, they start on the dashboard, not a participant's home;
# planners start on the planning page.
DASHBOARD = "303 /organiser"
PLANNING = "303 /planning"
LOGGED_IN_GO_HOME = answers("200", HOME, HOME, DASHBOARD, planner=PLANNING)


@dataclass(frozen=True)
class Try:
    """One request: method, URL (with {placeholders} from the world), form data or raw body."""

    method: str
    url: str
    expect: dict[str, str]
    data: dict | bytes | None = field(default=None)


TABLE: dict[str, list[Try]] = {
    # The site ------------------------------------------------------------------------------
    "static": [Try("GET", "/static/css/plunge.css", everyone("200"))],
    "health.healthz": [Try("GET", "/healthz", everyone("200"))],
    "health.readyz": [Try("GET", "/readyz", everyone("200"))],
    "security.security_txt": [Try("GET", "/.well-known/security.txt", everyone("200"))],
    "events.show_favicon": [Try("GET", "/favicon.ico", everyone("200"))],
    # The link is the key: no log-in, whoever holds it (one address, one kind of email).
    "mailing.unsubscribe": [
        Try("GET", "/mailing/unsubscribe/{unsubscribe_token}", everyone("200")),
        Try("GET", "/mailing/unsubscribe/forged", everyone("404")),
        Try("POST", "/mailing/unsubscribe/forged", everyone("404"), {"scope": "all"}),
        Try(
            "POST",
            "/mailing/unsubscribe/{unsubscribe_token}",
            everyone("200"),
            {"List-Unsubscribe": "One-Click"},
        ),
    ],
    "events.show_event": [Try("GET", "/", everyone("200"))],
    "events.show_progress": [Try("GET", "/progress", everyone("200"))],
    "events.show_share_image": [Try("GET", "/share.png", everyone("200"))],
    # News on the day: the feed for everyone; posting for organisers (and instructors, if
    # allowed: tests/test_news.py); hiding for organisers.
    "news.show_feed": [Try("GET", "/news", everyone("200"))],
    "news.new_item": [Try("GET", "/news/post", organisers("200"))],
    "news.post_item": [Try("POST", "/news/post", organisers("422"), {"body": ""})],
    "news.hide_item": [Try("POST", "/news/999/hide", organisers("404"))],
    "events.show_privacy": [Try("GET", "/privacy", everyone("200"))],
    "events.show_accessibility": [Try("GET", "/accessibility", everyone("200"))],
    # Accounts ------------------------------------------------------------------------------
    "auth.signup": [
        Try("GET", "/auth/signup", LOGGED_IN_GO_HOME),
        Try(
            "POST",
            "/auth/signup",
            answers("422", HOME, HOME, DASHBOARD, planner=PLANNING),
            {"name": ""},
        ),
    ],
    "auth.check_email": [Try("GET", "/auth/check-email", everyone("302 /auth/login"))],
    "auth.confirm_signup": [
        Try("GET", "/auth/confirm/{signup_token}", everyone("200")),  # the link is the key
        Try("POST", "/auth/confirm/forged", everyone("404")),
    ],
    "auth.login": [
        Try("GET", "/auth/login", LOGGED_IN_GO_HOME),
        Try(
            "POST",
            "/auth/login",
            answers("422", HOME, HOME, DASHBOARD, planner=PLANNING),
            {"email": ""},
        ),
    ],
    "auth.logout": [Try("POST", "/auth/logout", everyone("303 /"))],
    "auth.request_reset": [
        Try("GET", "/auth/reset", everyone("200")),
        Try("POST", "/auth/reset", everyone("422"), {"email": "not an address"}),
    ],
    "auth.reset_password": [
        Try("GET", "/auth/reset/{reset_token}", everyone("200")),  # the link is the key
        Try("GET", "/auth/reset/forged", everyone("404")),
        Try("POST", "/auth/reset/forged", everyone("404"), {"password": "a new password!"}),
    ],
    # Two steps to log in with a second factor: nobody in the world is waiting for a code.
    "auth.enter_code": [
        Try("GET", "/auth/login/code", everyone("303 /auth/login")),
        Try("POST", "/auth/login/code", everyone("303 /auth/login"), {"code": "123456"}),
    ],
    "auth.confirm_password": [
        Try("GET", "/auth/confirm-password", account_holders("200")),
        Try("POST", "/auth/confirm-password", account_holders("422"), {"password": ""}),
    ],
    "auth.account.show_account": [Try("GET", "/auth/account", account_holders("200"))],
    "auth.account.log_out_everywhere": [
        Try("POST", "/auth/account/logout-everywhere", account_holders("303 /auth/login"))
    ],
    # Sandra has no second factor yet: she is sent to set one up before renewing its codes.
    "auth.account.renew_recovery_codes": [
        Try("POST", "/auth/account/recovery-codes", organisers("303 /auth/two-factor"))
    ],
    "auth.two_factor.enrol": [
        Try("GET", "/auth/two-factor", organisers("200")),
        Try("POST", "/auth/two-factor", organisers("422"), {"code": "nope"}),
    ],
    "auth.accept_invite": [
        Try("GET", "/auth/invite/forged", everyone("404")),  # only a real emailed link works
        Try("POST", "/auth/invite/forged", everyone("404"), {"password": "a new password!"}),
    ],
    # Sponsor pages -------------------------------------------------------------------------
    "pages.show_page": [
        Try("GET", "/p/{slug}", everyone("200")),
        Try("GET", "/p/{draft_slug}", DRAFT),
        Try("GET", "/p/{old_slug}", moved("/p/aisha")),
        Try("GET", "/p/{old_draft_slug}", moved("/p/callum", draft=True)),
    ],
    "pages.show_progress": [
        Try("GET", "/p/{slug}/progress", everyone("200")),
        Try("GET", "/p/{draft_slug}/progress", DRAFT),
        Try("GET", "/p/{old_slug}/progress", moved("/p/aisha/progress")),
        Try("GET", "/p/{old_draft_slug}/progress", moved("/p/callum/progress", draft=True)),
    ],
    # Photos by content hash: a live page's for everyone, a draft's as the draft itself.
    "images.show_image": [
        Try("GET", "/images/{photo}.jpg", everyone("200")),
        Try("GET", "/images/{draft_photo}.jpg", DRAFT),
        Try("GET", "/images/" + "0" * 64 + ".jpg", everyone("404")),
        Try("GET", "/images/not-a-hash.jpg", everyone("404")),
    ],
    "pages.show_share_image": [
        Try("GET", "/p/{slug}/share.png", everyone("200")),
        Try("GET", "/p/{draft_slug}/share.png", DRAFT),
        Try("GET", "/p/{old_slug}/share.png", moved("/p/aisha/share.png")),
    ],
    "pages.qr_svg": [
        Try("GET", "/p/{slug}/qr.svg", everyone("200")),
        Try("GET", "/p/{draft_slug}/qr.svg", DRAFT),
        Try("GET", "/p/{old_slug}/qr.svg", moved("/p/aisha/qr.svg")),
        Try("GET", "/p/{old_draft_slug}/qr.svg", moved("/p/callum/qr.svg", draft=True)),
    ],
    "pages.qr_png": [
        Try("GET", "/p/{slug}/qr.png", everyone("200")),
        Try("GET", "/p/{old_slug}/qr.png", moved("/p/aisha/qr.png")),
    ],
    "pages.moderate_page": [
        Try("POST", "/p/{slug}/moderation", ORGANISERS_ONLY, {"moderate-action": "approve"}),
        # A form loaded before the address changed is sent again to the new one.
        Try(
            "POST",
            "/p/{old_slug}/moderation",
            answers(LOGIN, "403", "403", "308 /p/aisha/moderation", planner="403"),
            {"moderate-action": "approve"},
        ),
    ],
    "pages.hide_update": [Try("POST", "/p/{slug}/updates/{update_id}/hide", ORGANISERS_ONLY)],
    # Teams (app/teams): Aisha captains Summit seekers; organisers hid Quiet ones. --------------
    "teams.show_team": [
        Try("GET", "/t/{team_slug}", everyone("200")),
        Try("GET", "/t/{hidden_team_slug}", HIDDEN_TEAM),
        Try("GET", "/t/no-such-team", everyone("404")),
    ],
    "teams.show_progress": [
        Try("GET", "/t/{team_slug}/progress", everyone("200")),
        Try("GET", "/t/{hidden_team_slug}/progress", HIDDEN_TEAM),
    ],
    "teams.show_share_image": [
        Try("GET", "/t/{team_slug}/share.png", everyone("200")),
        Try("GET", "/t/{hidden_team_slug}/share.png", HIDDEN_TEAM),
        Try("GET", "/t/no-such-team/share.png", everyone("404")),
    ],
    "teams.sponsor_team": [
        Try("GET", "/t/{team_slug}/sponsor", everyone("200")),
        Try("GET", "/t/{team_slug}/sponsor?to=team", everyone("303 /donate")),
        Try("GET", "/t/{team_slug}/sponsor?to=aisha", everyone("303 /donate/aisha")),
        Try("GET", "/t/{team_slug}/sponsor?to=nobody", everyone("422")),
        Try("GET", "/t/{hidden_team_slug}/sponsor", everyone("404")),
    ],
    "teams.list_teams": [Try("GET", "/teams", everyone("200"))],
    "teams.show_leaderboard": [Try("GET", "/teams/leaderboard", everyone("200"))],
    # Anyone with a sponsor page (a draft too) may start a team; organisers for others.
    "teams.create_team": [
        Try("GET", "/teams/new", members("200", organiser="200")),
        Try("POST", "/teams/new", members("422", organiser="422"), {"name": ""}),
    ],
    "teams.edit_team": [
        Try("GET", "/t/{team_slug}/edit", answers(LOGIN, "200", "403", "200", planner="403")),
        Try(
            "POST",
            "/t/{team_slug}/edit",
            answers(LOGIN, "422", "403", "422", planner="403"),
            {"name": ""},
        ),
    ],
    "teams.upload_photo": [
        Try("POST", "/t/{team_slug}/photo", answers(LOGIN, "422", "403", "422", planner="403"))
    ],
    "teams.join_team": [
        Try(
            "POST",
            "/t/{team_slug}/join",
            members("303 /t/summit", "303 /t/summit", "403"),
        ),
        Try(
            "POST", "/t/{hidden_team_slug}/join", answers(LOGIN, "404", "404", "404", planner="404")
        ),
    ],
    "teams.leave_team": [Try("POST", "/teams/leave", members("303 /teams", "303 /teams", "403"))],
    "teams.approve_member": [
        Try(
            "POST",
            "/t/{team_slug}/members/{page_id}/approve",
            answers(LOGIN, "303 /t/summit", "403", "303 /t/summit", planner="403"),
        )
    ],
    "teams.set_visibility": [
        Try(
            "POST",
            "/t/{team_slug}/visibility",
            organisers("303 /t/summit"),
            {"action": "unhide"},
        )
    ],
    "teams.merge_team": [
        Try("POST", "/t/{team_slug}/merge", organisers("303 /t/summit"), {"into": ""})
    ],
    # The participant's own (/me): nothing names another person's page ---------------------
    "me.home": [Try("GET", "/me", members("200"))],
    "me.edit_page": [
        Try("GET", "/me/page", members("200")),
        Try("POST", "/me/page", members("422"), {"title": ""}),
    ],
    "me.check_slug": [Try("GET", "/me/page/slug?slug=aisha", members("200"))],
    # Sandra, an organiser, has no page of her own to change.
    "me.upload_photo": [Try("POST", "/me/page/photo", members("422", organiser="404"), {})],
    "me.delete_photo": [
        Try("POST", "/me/page/photo/delete", members("303 /me/page", "303 /me/page", "404"))
    ],
    "me.publish_page": [Try("POST", "/me/page/publish", members(HOME, HOME, "404"))],
    "me.unpublish_page": [
        Try("POST", "/me/page/unpublish", members("303 /me/page", "303 /me/page", "404"))
    ],
    "me.post_update": [
        Try("POST", "/me/updates", members(HOME, HOME, "404"), {"update-body": "Hello!"})
    ],
    "me.delete_update": [
        Try("POST", "/me/updates/{update_id}/delete", members(HOME, "404", "404")),
    ],
    # Cash a participant collected: recorded as waiting for an organiser; Sandra has no page.
    "me.report_cash": [Try("POST", "/me/cash", members("422", organiser="404"), {})],
    # Paper sponsorship forms: a participant prints their own; staff have no page to print.
    "paper.print_form": [
        Try("GET", "/paper/form", answers(LOGIN, "200", "200", "404", planner="404")),
        Try("POST", "/paper/form", answers(LOGIN, "422", "422", "404", planner="404"), {}),
    ],
    # Typing returned sheets in is organisers' work; the world has no printed sheet, so a
    # reference leads nowhere (tests/test_paper_entry.py walks a real one).
    "paper.find_sheet": [
        Try("GET", "/paper/enter", organisers("200")),
        Try("POST", "/paper/enter", organisers("422"), {}),
    ],
    "paper.enter_sheet": [
        Try("GET", "/paper/sheets/P-ZZZZ-1", organisers("404")),
        Try("POST", "/paper/sheets/P-ZZZZ-1", organisers("404"), {}),
    ],
    "paper.check_row": [Try("POST", "/paper/sheets/P-ZZZZ-1/rows/0", organisers("404"), {})],
    # A pledge line is its own participant's; the world has none, so nobody finds one.
    "paper.mark_pledge_paid": [
        Try("POST", "/paper/pledges/1/paid", answers(LOGIN, "404", "404", "404", planner="404"))
    ],
    # How a claim lists paper sponsorship: organisers only. The world's claim has no paper
    # lines, so choosing the sponsored-event method is refused (409) and no participant's
    # address can be kept for it (404).
    "paper.show_claim_method": [
        Try("GET", "/paper/claims/{claim_id}/method", organisers("200")),
    ],
    "paper.choose_claim_method": [
        Try("POST", "/paper/claims/{claim_id}/method", organisers("409"), {"method": "sponsored"}),
    ],
    "paper.save_participant_address": [
        Try("POST", "/paper/claims/{claim_id}/participants/1/address", organisers("404"), {}),
    ],
    "paper.download_form": [
        Try(
            "GET",
            "/paper/form.pdf",
            answers(LOGIN, "303 /paper/form", "303 /paper/form", "404", planner="404"),
        )
    ],
    # A team's form: its captain (Aisha runs "summit") and organisers print it; another
    # participant is refused a team they can see (403), and a hidden team is not there for
    # them (404), as for the team's other management pages.
    "paper.print_team_form": [
        Try(
            "GET",
            "/paper/teams/{team_slug}/form",
            answers(LOGIN, "200", "403", "200", planner="403"),
        ),
        Try(
            "POST",
            "/paper/teams/{team_slug}/form",
            answers(LOGIN, "422", "403", "422", planner="403"),
            {},
        ),
        Try(
            "GET",
            "/paper/teams/{hidden_team_slug}/form",
            answers(LOGIN, "404", "404", "200", planner="404"),
        ),
        Try(
            "GET",
            "/paper/teams/no-such-team/form",
            answers(LOGIN, "404", "404", "404", planner="404"),
        ),
    ],
    "paper.download_team_form": [
        Try(
            "GET",
            "/paper/teams/{team_slug}/form.pdf",
            answers(
                LOGIN,
                "303 /paper/teams/summit/form",
                "403",
                "303 /paper/teams/summit/form",
                planner="403",
            ),
        ),
        Try(
            "GET",
            "/paper/teams/{hidden_team_slug}/form.pdf",
            answers(LOGIN, "404", "404", "303 /paper/teams/quiet/form", planner="404"),
        ),
    ],
    "me.thank_donor": [
        Try(
            "POST",
            "/me/donations/{donation_id}/thanks",
            members(HOME, "404", "404"),
            {"thanks-{donation_id}-reply": "Thank you!"},
        ),
        Try(
            "POST",
            "/me/donations/{other_donation_id}/thanks",
            members("404", HOME, "404"),
            {"thanks-{other_donation_id}-reply": "Thank you!"},
        ),
    ],
    # Deleting one's own account (app/privacy): organisers are told to ask another organiser.
    "me.delete_account": [
        Try("GET", "/me/delete", members("200")),
        Try("POST", "/me/delete", members("422", organiser="409"), {}),
    ],
    # Fundraiser nudges: each person's own choice; nothing names anyone else.
    "nudges.edit_choices": [Try("GET", "/me/emails", members("200"))],
    "nudges.save_choices": [Try("POST", "/me/emails", members("303 /me/emails"), {"halfway": "y"})],
    # Donating: open to everyone, to live pages only -----------------------------------------
    "donations.donate_to_event": [
        Try("GET", "/donate", everyone("200")),
        Try("POST", "/donate", everyone("422"), {"donor_name": ""}),
        # A gift to a team itself; a hidden team takes none.
        Try("GET", "/donate?team={team_slug}", everyone("200")),
        Try("POST", "/donate?team={team_slug}", everyone("422"), {"donor_name": ""}),
        Try("GET", "/donate?team={hidden_team_slug}", everyone("404")),
    ],
    "donations.donate": [
        Try("GET", "/donate/{slug}", everyone("200")),
        Try("GET", "/donate/{draft_slug}", everyone("404")),  # even for its participant
        Try("POST", "/donate/{slug}", everyone("422"), {"donor_name": ""}),
        Try("POST", "/donate/{draft_slug}", everyone("404"), {"donor_name": ""}),
        Try("GET", "/donate/{old_slug}", everyone("301 /donate/aisha")),
        Try("GET", "/donate/{old_draft_slug}", everyone("404")),
        # A form loaded before the address changed is sent again, as it was, to the new one.
        Try("POST", "/donate/{old_slug}", everyone("308 /donate/aisha"), {"donor_name": ""}),
        Try("POST", "/donate/{old_draft_slug}", everyone("404"), {"donor_name": ""}),
    ],
    "donations.check_field": [
        Try("POST", "/donate/check", everyone("200"), {"amount_preset": "2000"}),
        Try("POST", "/donate/{slug}/check", everyone("200"), {"amount_preset": "2000"}),
    ],
    "donations.thank_donor": [Try("GET", "/donate/thanks", everyone("404"))],
    "donations.resume_donation": [
        Try("GET", "/donate/resume/{resume_token}", everyone("200")),  # the link is the key
        Try("GET", "/donate/resume/forged", everyone("404")),
    ],
    "gift_aid_details.complete": [
        Try("GET", "/gift-aid/{gift_aid_token}", everyone("200")),  # the link is the key
        Try("POST", "/gift-aid/{gift_aid_token}", everyone("422"), {}),
        Try("GET", "/gift-aid/forged", everyone("404")),
    ],
    # Safety: each participant's own checklist; the board, records and roster for organisers.
    "safety.show_checklist": [Try("GET", "/safety", members("200"))],
    "safety.save_section": [Try("POST", "/safety/items/{item_id}", members("422"), {})],
    "safety.withdraw_consent": [Try("POST", "/safety/consent/withdraw", members("303 /safety"))],
    "safety.show_board": [Try("GET", "/safety/board", organisers("200"))],
    "safety.show_person": [Try("GET", "/safety/people/{user_id}", organisers("200"))],
    # Nothing answered yet, so there is nothing to sign off: a conflict, not a sign-off.
    "safety.sign_off": [
        Try("POST", "/safety/people/{user_id}/items/{item_id}/sign-off", organisers("409"))
    ],
    "safety.revoke": [
        Try(
            "POST",
            "/safety/people/{user_id}/items/{item_id}/revoke",
            organisers("303 /safety/board"),
        )
    ],
    "safety.check_in": [
        Try("POST", "/safety/people/{user_id}/check-in", organisers("303 /safety/board"))
    ],
    # Aisha is not checked in, so she cannot be checked out as having done it.
    "safety.check_out_completed": [
        Try("POST", "/safety/people/{user_id}/done-it", organisers("409"))
    ],
    "safety.send_reminders": [Try("POST", "/safety/reminders", organisers("303 /safety/board"))],
    "safety.show_roster": [Try("GET", "/safety/roster", organisers("200"))],
    "safety.download_roster": [Try("GET", "/safety/roster.csv", organisers("200"))],
    "safety.edit_checklist": [
        Try("GET", "/safety/checklist", organisers("200")),
        Try("POST", "/safety/checklist", organisers("422"), {"min_age": "x"}),
    ],
    "safety.add_item": [
        Try("GET", "/safety/checklist/items/new", organisers("200")),
        Try("POST", "/safety/checklist/items/new", organisers("422"), {}),
    ],
    "safety.edit_item": [
        Try("GET", "/safety/checklist/items/{item_id}", organisers("200")),
        Try("POST", "/safety/checklist/items/{item_id}", organisers("422"), {}),
    ],
    "safety.move_item": [
        Try("POST", "/safety/checklist/items/{item_id}/move", organisers("303 /safety/checklist"))
    ],
    "safety.remove_item": [
        Try("POST", "/safety/checklist/items/{item_id}/remove", organisers("303 /safety/checklist"))
    ],
    # Organisers: money, moderation, exports, settings -----------------------------------------
    "organiser.dashboard": [Try("GET", "/organiser", organisers("200"))],
    "organiser.show_totals": [Try("GET", "/organiser/totals", organisers("200"))],
    "organiser.list_donations": [Try("GET", "/organiser/donations", organisers("200"))],
    "organiser.show_donation": [
        Try("GET", "/organiser/donations/{donation_id}", organisers("200"))
    ],
    "organiser.list_participants": [Try("GET", "/organiser/participants", organisers("200"))],
    "organiser.show_history": [Try("GET", "/organiser/history", organisers("200"))],
    "organiser.money.record_offline": [
        Try("GET", "/organiser/offline/new", organisers("200")),
        Try("POST", "/organiser/offline/new", organisers("422"), {}),
    ],
    # A paid card donation is not a cash report waiting for confirmation.
    "organiser.money.confirm_cash": [
        Try("POST", "/organiser/donations/{donation_id}/confirm", organisers("404"))
    ],
    "organiser.money.reject_cash": [
        Try("POST", "/organiser/donations/{donation_id}/reject", organisers("422"), {})
    ],
    "organiser.money.refund_donation": [
        Try("POST", "/organiser/donations/{donation_id}/refund", organisers("422"), {})
    ],
    "organiser.money.decide_held_donation": [
        Try("POST", "/organiser/donations/{donation_id}/review", organisers("422"), {})
    ],
    "organiser.money.correct_donation_gift_aid": [
        Try("POST", "/organiser/donations/{donation_id}/gift-aid", organisers("422"), {})
    ],
    "organiser.gift_aid.needs_attention": [
        Try("GET", "/organiser/gift-aid/attention", organisers("200"))
    ],
    "organiser.gift_aid.ask": [
        Try(
            "POST",
            "/organiser/gift-aid/attention/{donation_id}/ask",
            organisers("303 /organiser/gift-aid/attention"),
            {},
        )
    ],
    "organiser.gift_aid.claim_flagged": [
        Try("POST", "/organiser/gift-aid/attention/{donation_id}/claim", organisers("422"), {})
    ],
    "organiser.moderation.show_moderation": [
        Try("GET", "/organiser/moderation", organisers("200"))
    ],
    "organiser.moderation.moderate_page": [
        Try("POST", "/organiser/pages/{page_id}/moderate", organisers("422"), {})
    ],
    "organiser.moderation.moderate_message": [
        Try("POST", "/organiser/donations/{donation_id}/message", organisers("422"), {})
    ],
    "organiser.moderation.moderate_update": [
        Try("POST", "/organiser/updates/{update_id}/moderate", organisers("422"), {})
    ],
    "organiser.exports.show_exports": [Try("GET", "/organiser/exports", organisers("200"))],
    "organiser.exports.download_donations": [
        Try("GET", "/organiser/exports/donations.csv", organisers("200"))
    ],
    # People's data rights: the address goes in the form, never the URL.
    "organiser.privacy.find_person": [Try("GET", "/organiser/privacy", organisers("200"))],
    "organiser.privacy.show_person": [
        Try("POST", "/organiser/privacy/person", organisers("422"), {}),
        Try("POST", "/organiser/privacy/person", organisers("200"), {"email": "aisha@example.org"}),
    ],
    "organiser.privacy.download": [
        Try("POST", "/organiser/privacy/download", organisers("422"), {}),
    ],
    "organiser.privacy.correct_person": [
        Try("POST", "/organiser/privacy/correct", organisers("422"), {}),
    ],
    "organiser.privacy.review_erasure": [
        Try("POST", "/organiser/privacy/erase/check", organisers("422"), {}),
        Try(
            "POST",
            "/organiser/privacy/erase/check",
            organisers("200"),
            {"email": "aisha@example.org"},
        ),
    ],
    "organiser.privacy.erase_person": [
        Try("POST", "/organiser/privacy/erase", organisers("422"), {}),
    ],
    "organiser.claims.list_claims": [
        Try("GET", "/organiser/gift-aid/claims", organisers("200")),
        Try("GET", "/organiser/gift-aid/claims?first_day=x", organisers("422")),
    ],
    "organiser.claims.start_claim": [
        Try("POST", "/organiser/gift-aid/claims", organisers("422"), {}),
    ],
    "organiser.claims.show_claim": [
        Try("GET", "/organiser/gift-aid/claims/{claim_id}", organisers("200"))
    ],
    "organiser.claims.download_claim": [
        Try("GET", "/organiser/gift-aid/claims/{claim_id}/claim.csv", organisers("200")),
        Try("GET", "/organiser/gift-aid/claims/{claim_id}/claim.ods", organisers("200")),
    ],
    "organiser.claims.mark_submitted": [
        Try("POST", "/organiser/gift-aid/claims/{claim_id}/submitted", organisers("422"), {})
    ],
    "organiser.claims.discard_claim": [
        Try(
            "POST",
            "/organiser/gift-aid/claims/{claim_id}/discard",
            organisers("303 /organiser/gift-aid/claims"),
            {},
        )
    ],
    "organiser.settings.edit_settings": [
        Try("GET", "/organiser/settings", organisers("200")),
        Try("POST", "/organiser/settings", organisers("422"), {"name": ""}),
    ],
    "organiser.settings.upload_picture": [
        Try("POST", "/organiser/settings/pictures/logo", organisers("422"), {}),
        Try("POST", "/organiser/settings/pictures/banner", organisers("404"), {}),
    ],
    "organiser.settings.delete_picture": [
        Try(
            "POST",
            "/organiser/settings/pictures/logo/delete",
            organisers("303 /organiser/settings#pictures"),
            {},
        ),
    ],
    "organiser.settings.list_organisers": [Try("GET", "/organiser/organisers", organisers("200"))],
    "organiser.after_event.edit_message": [
        Try("GET", "/organiser/after-event", organisers("200")),
        Try("POST", "/organiser/after-event", organisers("422"), {"subject": ""}),
    ],
    "organiser.after_event.send_test": [
        Try("POST", "/organiser/after-event/test", organisers("303 /organiser/after-event")),
    ],
    # Unconfirmed: a 422, and nothing is sent (the world has no message written anyway).
    "organiser.after_event.send_message": [
        Try("POST", "/organiser/after-event/send", organisers("422")),
    ],
    "organiser.after_event.show_status": [
        Try("GET", "/organiser/after-event/status", organisers("200")),
    ],
    # {user_id} is Aisha, a participant: she has no organiser's second factor to reset.
    "organiser.settings.reset_second_factor": [
        Try("POST", "/organiser/organisers/{user_id}/second-factor/reset", organisers("404"))
    ],
    "organiser.settings.invite_organiser": [
        Try("POST", "/organiser/organisers/invite", organisers("422"), {})
    ],
    # Planning together: the organising group (organisers and planners) -------------------
    "planning.home": [Try("GET", "/planning", organising_group("200"))],
    "planning.propose": [
        Try("GET", "/planning/decisions/new", organising_group("200")),
        Try("POST", "/planning/decisions/new", organising_group("422"), {}),
    ],
    "planning.record_alone": [
        Try("GET", "/planning/decisions/alone", organising_group("200")),
        Try("POST", "/planning/decisions/alone", organising_group("422"), {}),
    ],
    "planning.show_decision": [
        Try("GET", "/planning/decisions/{decision_id}", organising_group("200")),
        Try("GET", "/planning/decisions/{alone_decision_id}", organising_group("200")),
        Try("GET", "/planning/decisions/99999", organising_group("404")),
    ],
    "planning.add_say": [
        Try("POST", "/planning/decisions/{decision_id}/say", organising_group("422"), {}),
        # Pat is in a group that was asked; Sandra too. Nobody else gets this far.
        Try(
            "POST",
            "/planning/decisions/{decision_id}/say",
            organising_group("303 /planning/decisions/{decision_id}"),
            {"stance": "agree"},
        ),
    ],
    "planning.close_decision": [
        Try("POST", "/planning/decisions/{decision_id}/close", organising_group("422"), {}),
    ],
    "planning.show_report": [
        Try("GET", "/planning/report", organising_group("200")),
        Try("GET", "/planning/report?since=2026-01-01", organising_group("200")),
    ],
    "planning.list_groups": [Try("GET", "/planning/groups", organising_group("200"))],
    # Only organisers change the groups, who is in them, and invite planners.
    "planning.add_group": [
        Try("POST", "/planning/groups", organising_group("422", planner="403"), {})
    ],
    "planning.edit_group": [
        Try("POST", "/planning/groups/{group_id}", organising_group("422", planner="403"), {})
    ],
    "planning.set_member_groups": [
        Try(
            "POST",
            "/planning/people/{planner_id}/groups",
            organising_group("303 /planning/groups", planner="403"),
            {"member-{planner_id}-groups": "{group_id}"},
        ),
        # Aisha is a participant: not someone who plans.
        Try(
            "POST",
            "/planning/people/{user_id}/groups",
            organising_group("404", planner="403"),
            {},
        ),
    ],
    "planning.invite_planner": [
        Try("POST", "/planning/planners/invite", organising_group("422", planner="403"), {})
    ],
    "planning.accept_invite": [
        Try("GET", "/planning/join/{planner_invite_token}", everyone("200")),  # the link is the key
        Try("GET", "/planning/join/forged", everyone("404")),
        Try("POST", "/planning/join/forged", everyone("404"), {"password": "a new password!"}),
    ],
    "planning.turn_my_reminders": [
        Try("POST", "/planning/reminders", organising_group("303 /planning"), {"reminders": "on"})
    ],
    "planning.reminder_settings": [
        Try("GET", "/planning/reminders/{reminders_token}", everyone("200")),  # the email's link
        Try("POST", "/planning/reminders/{reminders_token}", everyone("200"), {"reminders": "on"}),
        Try("GET", "/planning/reminders/forged", everyone("404")),
        Try("POST", "/planning/reminders/forged", everyone("404"), {}),
    ],
    "planning.show_published": [Try("GET", "/how-we-organised-this", everyone("200"))],
    # Stripe signs its webhook; nobody else can make it do anything.
    "webhooks.receive_stripe_event": [Try("POST", "/stripe/webhook", everyone("400"), b"{}")],
}

# Run the participant last: their own destructive requests (delete the photo, the update)
# must not change what the others were tried against.
ORDER = ("visitor", "other participant", "organiser", "planner", "participant")


def _routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def missing_from_table(app) -> list[str]:
    """What to add to TABLE for every route (and method) it does not cover yet."""
    tried = {(endpoint, t.method) for endpoint, tries in TABLE.items() for t in tries}
    return [
        f"add {endpoint} ({method}) to the access table in tests/test_access.py"
        for endpoint, method in sorted(_routes(app) - tried)
    ]


def test_every_route_is_in_the_access_table(app):
    missing = missing_from_table(app)
    assert not missing, "\n".join(missing)
    tried = {(endpoint, t.method) for endpoint, tries in TABLE.items() for t in tries}
    stale = sorted(tried - _routes(app))
    assert not stale, f"no such routes any more, remove them from the access table: {stale}"


def test_a_new_route_without_an_entry_is_caught(app):
    app.add_url_rule("/organiser/new-board", "organiser.new_board", lambda: "the board")
    assert "add organiser.new_board (GET) to the access table in tests/test_access.py" in (
        missing_from_table(app)
    )


def _send(client, attempt: Try, values: dict, token: str):
    url = attempt.url.format(**values)
    headers = {"X-CSRFToken": token}
    if isinstance(attempt.data, bytes):
        headers.update({"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=bad"})
        return client.open(url, method=attempt.method, data=attempt.data, headers=headers)
    data = {
        key.format(**values): value.format(**values) if isinstance(value, str) else value
        for key, value in (attempt.data or {}).items()
    }
    return client.open(url, method=attempt.method, data=data, headers=headers)


def _answer(response) -> str:
    if response.status_code in (301, 302, 303, 307, 308):
        return f"{response.status_code} {response.headers['Location']}"
    return str(response.status_code)


def _matches(answer: str, expected: str) -> bool:
    # A redirect matches on its status and path; what follows (?next=..., #photo) may vary.
    return answer == expected or answer.startswith((expected + "?", expected + "#"))


INLINE_CODE = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def _check_html(response, url: str) -> None:
    """What the CSP forbids is not in the markup (no inline script, style or handler), and
    every full page, error pages included, links the accessibility and privacy statements."""
    if response.status_code in (301, 302, 303, 307, 308) or response.mimetype != "text/html":
        return  # a redirect, a photo, a QR code
    inline = INLINE_CODE.search(response.text)
    assert inline is None, f"{url} has inline code the CSP would block: {inline.group(0)!r}"
    if not response.text.startswith("<!doctype html>"):
        return  # a fragment for htmx
    for path in ("/accessibility", "/privacy"):
        assert f'<a href="{path}">' in response.text, f"{url} does not link {path} in its footer"


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_each_role_gets_the_answer_in_the_table(app, make, endpoint):
    app.config["STRIPE_WEBHOOK_SECRET"] = stripe_events.WEBHOOK_SECRET
    world = build_world(make)
    values = world.values()
    wrong = []
    for role in ORDER:
        client = app.test_client()
        log_in_as(client, world, role)
        token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/privacy").text).group(1)
        for attempt in TABLE[endpoint]:
            response = _send(client, attempt, values, token)
            answer = _answer(response)
            _check_html(response, attempt.url)
            response.close()
            if not _matches(answer, attempt.expect[role].format(**values)):
                wrong.append(
                    f"{role}: {attempt.method} {attempt.url} answered {answer}, "
                    f"the table says {attempt.expect[role]}"
                )
            assert "Content-Security-Policy" in response.headers
    assert not wrong, "\n".join(wrong)
