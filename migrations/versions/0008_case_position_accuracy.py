"""Where a structure stands: the accuracy, in metres, of the position the phone gave.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 22:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('accuracy_m', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_column('accuracy_m')
