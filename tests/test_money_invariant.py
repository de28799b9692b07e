"""The money invariant, by Hypothesis, over real HTTP: the live app, the official stripe library
and the sandbox, with Stripe at its least kind.

Each example is a fresh world (empty tables, a reset sandbox): a few donors fill in the form
(some twice at once with the same attempt key, some while Stripe loses its replies), pay (on
declined and 3-D Secure cards, some twice), the organiser refunds (lost replies, refusals,
refunds pending or failing later) and banks dispute, while webhooks are held and released out of
order, sent twice and sent days late, and reconcile sometimes runs. Once everything has arrived,
for every donation and for the event's totals row: what Plunge counts plus what it holds for
review is exactly what Stripe kept (`bench.ledger.problems` is empty)."""

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import event as tally
from hypothesis import strategies as st

from app.events.service import configure_event
from app.extensions import db
from app.models import Role, User
from app.timefmt import parse_london
from bench.chaos_world import (
    DECLINED,
    OK,
    REFUND_FAILS,
    REFUND_PENDING,
    THREE_D_SECURE,
    THREE_D_SECURE_DECLINED,
    DisputePlan,
    Gift,
    Plan,
    RefundPlan,
    World,
)
from bench.ledger import plunge_book, problems, stripe_book
from tests.accounts import PASSWORD, password_hash
from tests.conftest import _empty_tables, _wait_for_connections

# Few and repeatable: each example is a whole day's worth of HTTP, and CI sees the same ones.
INVARIANT = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: each example takes seconds, so shrinking a failure would take many minutes.
    # A failure prints its plan and what the world noted, which is enough to replay it.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

CARD_ATTEMPTS = st.sampled_from(
    [
        ((OK, None),),
        ((OK, None),),
        ((REFUND_PENDING, None),),
        ((REFUND_FAILS, None),),
        ((THREE_D_SECURE, "complete"),),
        ((THREE_D_SECURE, "fail"), (OK, None)),
        ((DECLINED, None), (REFUND_PENDING, None)),
        ((DECLINED, None),),  # never paid: the page expires
        ((THREE_D_SECURE_DECLINED, "complete"),),
    ]
)
SHARES = st.integers(1, 100).map(lambda percent: percent / 100)
REFUNDS = st.builds(
    RefundPlan,
    share=SHARES,
    lost_replies=st.sampled_from([0, 0, 1, 3]),
    refused=st.sampled_from([False, False, False, True]),
    settle=st.sampled_from([None, None, "succeeded", "failed", "canceled"]),
)


@st.composite
def disputes(draw) -> DisputePlan:
    """An inquiry (which may escalate) or a chargeback, moved on and perhaps closed."""
    inquiry = draw(st.booleans())
    steps = []
    if inquiry:
        if draw(st.booleans()):
            steps.append("warning_under_review")
        escalates = draw(st.booleans())
        if escalates:
            steps.append("needs_response")
        closings = [None, "won", "lost"] if escalates else [None, "warning_closed", "prevented"]
    else:
        closings = [None, "won", "lost"]
    if (not inquiry or escalates) and draw(st.booleans()):
        steps.append("under_review")
    return DisputePlan(
        inquiry=inquiry,
        share=draw(st.sampled_from([0.3, 1.0]) | SHARES),
        steps=tuple(steps),
        close=draw(st.sampled_from(closings)),
    )


GIFTS = st.builds(
    Gift,
    pence=st.integers(100, 20_000),
    cover_fee=st.booleans(),
    twin_pence=st.none() | st.integers(100, 20_000),
    pay_twin=st.booleans(),
    double_click=st.booleans(),
    lost_creates=st.sampled_from([0, 0, 1, 3]),
    attempts=CARD_ATTEMPTS,
    late=st.sampled_from([False, False, True]),
    thanks=st.booleans(),
    stray_pence=st.sampled_from([None, None, None, 1500]),
    refunds=st.lists(REFUNDS, max_size=2).map(tuple),
    dispute=st.none() | disputes(),
)
HOLDS = st.sampled_from([None, "fifo", "reversed", "shuffled"])
PLANS = st.builds(
    Plan,
    gifts=st.lists(GIFTS, min_size=1, max_size=3).map(tuple),
    hold_payments=HOLDS,
    hold_reversals=HOLDS,
    redeliver=st.integers(0, 4),
    late_refund_events=st.sampled_from([0, 0, 2]),
    reconcile_midway=st.sampled_from([False, False, True]),
    reconcile_at_end=st.sampled_from([False, False, False, True]),
    seed=st.integers(0, 2**16),
)


@INVARIANT
@given(plan=PLANS)
# The gift and part of its fee cover refunded: the rest of the fee cover is still counted.
@example(plan=Plan(gifts=(Gift(1000, cover_fee=True, refunds=(RefundPlan(share=0.98),)),)))
def test_what_plunge_counts_and_holds_is_what_stripe_kept(event, live_server, stripe_sandbox, plan):
    """However the day goes, no penny is lost, invented or counted twice."""
    fresh_world(event, stripe_sandbox)
    runner = event.test_cli_runner()
    world = World(
        live_server,
        stripe_sandbox.url,
        lambda: runner.invoke(args=["stripe", "reconcile", "--days", "7"]).output,
        organiser=("sandra@example.org", PASSWORD),
    )
    world.run(plan)
    for what in world.stats:
        tally(what)  # shown by --hypothesis-show-statistics: what the examples reached
    assert world.undelivered() == []
    with event.app_context():
        plunge = plunge_book(db.session)
        db.session.remove()
    assert problems(stripe_book(stripe_sandbox.url), plunge) == [], world.notes


def fresh_world(app, sandbox) -> None:
    """Nothing in the database but the event and its organiser; nothing in the sandbox."""
    sandbox.wait_for_webhooks(10)
    sandbox.reset()
    with app.app_context():
        db.session.remove()
        _wait_for_connections(db.engine)
        _empty_tables()
        configure_event(
            name="Sponsored Abseil 2027",
            starts_at=parse_london("2027-04-17 10:00"),
            venue="Queen Margaret Tower, Glasgow",
            contact_email="abseil@example.org",
            charity_name="Carers Voice",
            charity_number="SC012345",
            charity_is_scottish=True,
        )
        db.session.add(
            User(
                email="sandra@example.org",
                name="Sandra Organiser",
                role=Role.ORGANISER,
                password_hash=password_hash(),
            )
        )
        db.session.commit()
