"""database refuses changes to the append-only histories

Revision ID: fc894e0a2d51
Revises: 7d7f486817ef
Create Date: 2026-11-26 21:55:18.033547

The ORM already refused to update or delete a line of `safety_history` (who signed off what, and
when) or `audit_entries` (every change to money and moderation); raw SQL, `flask shell` or a
Core `update()` could still rewrite them. These triggers make the database refuse UPDATE and
DELETE on both tables: on PostgreSQL one plpgsql function raising restrict_violation, called by a
BEFORE UPDATE OR DELETE trigger per table; on SQLite a BEFORE UPDATE and a BEFORE DELETE trigger
per table doing RAISE(ABORT, ...).

No exception is carved out (no session setting, no WHEN clause) because no legitimate flow needs
one: `flask safety purge` deletes answers and adds a "purged" line, consent withdrawal deletes
answers and sign-offs and adds lines, `flask safety rotate-key` re-encrypts `safety_answers`
only, and nothing deletes an account. `safety_sign_offs` (the current state, deleted on revoke)
is deliberately left out. TRUNCATE and DDL remain possible for whoever owns the tables.

The SQL comes from app.models.append_only, which the models also attach to their tables, so a
schema made by create_all (the tests) has the same triggers as a migrated one. The table list is
this revision's own. A later migration altering either table in SQLite batch mode rebuilds the
table and loses its triggers: it must create them again with append_only.create_sql().
"""
from alembic import op

from app.models import append_only


# revision identifiers, used by Alembic.
revision = 'fc894e0a2d51'
down_revision = '7d7f486817ef'
branch_labels = None
depends_on = None

TABLES = ('safety_history', 'audit_entries')


def upgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in append_only.create_sql(table, dialect):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in append_only.drop_sql(table, dialect):
            op.execute(statement)
    if dialect == 'postgresql':
        op.execute(append_only.drop_pg_function_sql())
