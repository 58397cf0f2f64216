"""The unread count every page shows, from a partial index of the unread inbox rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 22:35:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UNREAD = sa.text("channel = 'inbox' AND read_at IS NULL")


def upgrade():
    op.create_index('ix_notifications_unread', 'notifications', ['user_id'],
                    postgresql_where=UNREAD, sqlite_where=UNREAD)


def downgrade():
    op.drop_index('ix_notifications_unread', table_name='notifications')
