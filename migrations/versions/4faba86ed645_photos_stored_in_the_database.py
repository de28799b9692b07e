"""Photos are stored in the database: an images table named by content hash, and each sponsor
page's photo referring to one. Nothing is shared on disk between hosts any more.

Existing photos stay where they were (sponsor_pages.photo_filename, renamed
old_photo_filename, names each file) until `flask images import-files` moves them into the
new table: run it straight after this upgrade.

On SQLite the column is added and renamed with ALTER TABLE, not by copying the table
(Alembic's batch mode), which the foreign keys that point at sponsor_pages would refuse once
it holds pages.

Revision ID: 4faba86ed645
Revises: ad67341a5b8a
Create Date: 2026-12-02 01:11:26.974369

"""
import sqlalchemy as sa
from alembic import op

import app.models.types

# revision identifiers, used by Alembic.
revision = '4faba86ed645'
down_revision = 'ad67341a5b8a'
branch_labels = None
depends_on = None

FK = 'fk_sponsor_pages_photo_sha256_images'


def upgrade():
    op.create_table('images',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_images'))
    )
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE sponsor_pages ADD COLUMN photo_sha256 VARCHAR(64) '
            f'CONSTRAINT {FK} REFERENCES images (sha256)'
        )
    else:
        op.add_column('sponsor_pages', sa.Column('photo_sha256', sa.String(length=64), nullable=True))
        op.create_foreign_key(FK, 'sponsor_pages', 'images', ['photo_sha256'], ['sha256'])
    op.create_index(op.f('ix_sponsor_pages_photo_sha256'), 'sponsor_pages', ['photo_sha256'], unique=False)
    op.execute('ALTER TABLE sponsor_pages RENAME COLUMN photo_filename TO old_photo_filename')


def downgrade():
    # The photos in the database go with the table; their files, if any were imported, are
    # still in the old upload folder only if nobody deleted them after the import.
    op.execute('ALTER TABLE sponsor_pages RENAME COLUMN old_photo_filename TO photo_filename')
    op.drop_index(op.f('ix_sponsor_pages_photo_sha256'), table_name='sponsor_pages')
    with op.batch_alter_table('sponsor_pages', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':  # SQLite's copy leaves the unnamed key out
            batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_column('photo_sha256')
    op.drop_table('images')
