"""Gift Aid has one figure: the totals count only Gift Aid that can be claimed (HMRC's rules,
app/donations/gift_aid.claim_problems) on what the donor gave, card-fee cover included, and
count the rest as needing attention. Each donation keeps the sponsorship wording its donor
confirmed, a flag for a participant's own gift to their own page, and when the donor was asked
to complete their details.

Existing declarations get the wording the event's setting shows today (the best knowledge we
have of what their donors saw), and the Gift Aid columns of every totals row are counted again.

Revision ID: 5c1e7a9b2d40
Revises: 1385c172c783
Create Date: 2026-12-02 01:40:00

"""
from collections import defaultdict
from types import SimpleNamespace

import sqlalchemy as sa

import app.models.types
from alembic import op

from app.donations.gift_aid import claim_pence, claim_problems, own_page_flag, sponsorship_version

# revision identifiers, used by Alembic.
revision = '5c1e7a9b2d40'
down_revision = '1385c172c783'
branch_labels = None
depends_on = None

_DONATION_COLUMNS = (
    "id, sponsor_page_id, status, review_reason, amount_pence, fee_cover_pence, refunded_pence, "
    "disputed_pence, paid_at, donor_email, gift_aid, gift_aid_declaration_version, "
    "gift_aid_declared_at, gift_aid_title, gift_aid_first_name, gift_aid_last_name, "
    "gift_aid_house, gift_aid_postcode, gift_aid_confirmed_sponsorship"
)


def upgrade():
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('gift_aid_sponsorship_version', sa.String(40), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('gift_aid_flag', sa.String(300), server_default='', nullable=False))
        batch_op.add_column(
            sa.Column('gift_aid_asked_at', app.models.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('totals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gift_aid_attention', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(
            sa.Column('gift_aid_attention_pence', sa.Integer(), server_default='0', nullable=False)
        )
    _carry_over(op.get_bind())


def _carry_over(bind) -> None:
    pays = bind.execute(sa.text("SELECT charity_pays_event_costs FROM event")).scalar()
    bind.execute(
        sa.text(
            "UPDATE donations SET gift_aid_sponsorship_version = 'paper' "
            "WHERE gift_aid AND gift_aid_declaration_version = 'paper'"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE donations SET gift_aid_sponsorship_version = :version "
            "WHERE gift_aid AND gift_aid_confirmed_sponsorship "
            "AND gift_aid_declaration_version <> 'paper'"
        ),
        {"version": sponsorship_version(bool(pays))},
    )
    owners = dict(
        bind.execute(
            sa.text("SELECT p.id, u.email FROM sponsor_pages p JOIN users u ON u.id = p.participant_id")
        ).all()
    )
    eligible: dict[str, int] = defaultdict(int)
    attention: dict[str, int] = defaultdict(int)
    attention_pence: dict[str, int] = defaultdict(int)
    rows = bind.execute(sa.text(f"SELECT {_DONATION_COLUMNS} FROM donations WHERE gift_aid"))
    for row in rows.mappings().all():
        donation = SimpleNamespace(**row)
        donation.gift_aid_sponsorship_version = (
            "paper" if donation.gift_aid_declaration_version == "paper"
            else sponsorship_version(bool(pays)) if donation.gift_aid_confirmed_sponsorship else ""
        )
        donation.gift_aid_flag = own_page_flag(
            donation.gift_aid_sponsorship_version,
            donation.donor_email or "",
            owners.get(donation.sponsor_page_id),
        )
        if donation.gift_aid_flag:
            bind.execute(
                sa.text("UPDATE donations SET gift_aid_flag = :flag WHERE id = :id"),
                {"flag": donation.gift_aid_flag, "id": donation.id},
            )
        gone = (donation.refunded_pence or 0) + (donation.disputed_pence or 0)
        donation.net_pence = max(0, donation.amount_pence - gone)
        donation.kept_pence = max(0, donation.amount_pence + donation.fee_cover_pence - gone)
        counted = donation.status == "paid" and not donation.review_reason and donation.net_pence
        if not counted:
            continue
        scopes = ["event"] + ([f"page:{donation.sponsor_page_id}"] if donation.sponsor_page_id else [])
        problems = claim_problems(donation)
        for scope in scopes:
            if problems:
                attention[scope] += 1
                attention_pence[scope] += claim_pence(donation)
            else:
                eligible[scope] += claim_pence(donation)
    for (scope,) in bind.execute(sa.text("SELECT scope FROM totals")).all():
        bind.execute(
            sa.text(
                "UPDATE totals SET gift_aid_eligible_pence = :eligible, gift_aid_attention = :n, "
                "gift_aid_attention_pence = :pence, version = version + 1 WHERE scope = :scope"
            ),
            {
                "eligible": eligible[scope],
                "n": attention[scope],
                "pence": attention_pence[scope],
                "scope": scope,
            },
        )


def downgrade():
    with op.batch_alter_table('totals', schema=None) as batch_op:
        batch_op.drop_column('gift_aid_attention_pence')
        batch_op.drop_column('gift_aid_attention')
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_column('gift_aid_asked_at')
        batch_op.drop_column('gift_aid_flag')
        batch_op.drop_column('gift_aid_sponsorship_version')
    # Gift Aid as counted before: every counted declaration's gift after refunds.
    op.execute(
        "UPDATE totals SET gift_aid_eligible_pence = 0, version = version + 1"
    )
    op.execute(
        "UPDATE totals SET gift_aid_eligible_pence = (SELECT COALESCE(SUM(d.amount_pence - "
        "d.refunded_pence - d.disputed_pence), 0) FROM donations d WHERE d.gift_aid "
        "AND d.status = 'paid' AND d.review_reason = '' "
        "AND d.refunded_pence + d.disputed_pence < d.amount_pence "
        "AND (totals.scope = 'event' OR totals.scope = 'page:' || d.sponsor_page_id))"
    )
