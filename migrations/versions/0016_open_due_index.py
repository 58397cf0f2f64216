"""The open cases by deadline, so that counting the overdue cases of a list reads only the
overdue entries (the reports' index of open cases leads with the zone).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 03:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OPEN = sa.text("state NOT IN ('closed', 'dismissed')")


def upgrade():
    op.create_index('ix_cases_open_due_at', 'cases', ['due_at'],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade():
    op.drop_index('ix_cases_open_due_at', table_name='cases')
