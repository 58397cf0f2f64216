"""A notification being sent is marked, so that a send whose worker died before recording the
outcome is recorded as an attempt when the row is taken again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 22:30:00

"""
from alembic import op
import sqlalchemy as sa

import casework.common.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('notifications', sa.Column('sending_since', casework.common.types.UtcDateTime(timezone=True),
                                             nullable=True))


def downgrade():
    op.drop_column('notifications', 'sending_since')
