"""The work orders a company still owes, by due date, so that the deadline sweep reads only
those (the due-date index holds every finished work order too: at 700,000 work orders the
sweep's query stepped over half a million finished ones to find a thousand owed).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 04:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

OWED = sa.text("state IN ('assigned', 'accepted', 'rejected')")


def upgrade():
    op.create_index('ix_workorders_owed_due_at', 'workorders', ['due_at'],
                    postgresql_where=OWED, sqlite_where=OWED)


def downgrade():
    op.drop_index('ix_workorders_owed_due_at', table_name='workorders')
