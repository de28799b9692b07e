"""Paper sponsorship forms for teams: a sheet series belongs to a sponsor page or a team,
exactly one of them

Revision ID: 9b4e2f71c6a3
Revises: 3d0189a0301f
Create Date: 2026-12-02 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b4e2f71c6a3'
down_revision = '3d0189a0301f'
branch_labels = None
depends_on = None

OWNER = (
    "(sponsor_page_id IS NOT NULL AND team_id IS NULL)"
    " OR (sponsor_page_id IS NULL AND team_id IS NOT NULL)"
)


def upgrade():
    # batch_alter_table: SQLite rebuilds the table (it cannot alter a column in place);
    # PostgreSQL alters it directly.
    with op.batch_alter_table('paper_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.alter_column('sponsor_page_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_paper_series_team_id'), ['team_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_paper_series_team_id_teams'), 'teams', ['team_id'], ['id']
        )
        batch_op.create_check_constraint(op.f('ck_paper_series_page_or_team_owner'), OWNER)


def downgrade():
    # A team's series has no page to keep it under: its sheets, lines and claim choices
    # cannot survive a schema without teams' forms. Their donations stay (team gifts).
    team_series = "SELECT id FROM paper_series WHERE team_id IS NOT NULL"
    team_sheets = f"SELECT id FROM paper_sheets WHERE series_id IN ({team_series})"
    op.execute(f"DELETE FROM paper_lines WHERE sheet_id IN ({team_sheets})")
    op.execute(f"DELETE FROM paper_sheets WHERE series_id IN ({team_series})")
    op.execute("DELETE FROM paper_series WHERE team_id IS NOT NULL")
    with op.batch_alter_table('paper_series', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_paper_series_page_or_team_owner'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_paper_series_team_id_teams'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_paper_series_team_id'), type_='unique')
        batch_op.alter_column('sponsor_page_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('team_id')
