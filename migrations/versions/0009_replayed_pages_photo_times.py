"""A page's form can be retried with an Idempotency-Key (the replay redirects where the first
answer did), and a photo keeps the time it was taken when the browser scaled it down.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 22:30:00

"""
from alembic import op
import sqlalchemy as sa

import casework.common.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('idempotency_records', sa.Column('location', sa.String(length=500), nullable=True))
    op.add_column('attachments', sa.Column('taken_at', casework.common.types.UtcDateTime(timezone=True),
                                           nullable=True))


def downgrade():
    op.drop_column('attachments', 'taken_at')
    op.drop_column('idempotency_records', 'location')
