"""On-the-day items are signed off only on the event day, from a set number of hours before
the start (default 2) until the end of that day

Revision ID: 1385c172c783
Revises: 3731568a8216
Create Date: 2026-12-01 21:24:54.159374

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1385c172c783'
down_revision = '3731568a8216'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('safety_settings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('on_the_day_hours_before', sa.Integer(), server_default='2', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('safety_settings', schema=None) as batch_op:
        batch_op.drop_column('on_the_day_hours_before')
