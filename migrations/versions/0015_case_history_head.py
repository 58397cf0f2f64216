"""Each case keeps the head of its history (the last event's number and hash), so appending
an event reads nothing: the next event's number and previous hash are on the locked case.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 01:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade():
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('history_seq', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('history_hash', sa.String(length=64), nullable=False,
                                   server_default=GENESIS))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            UPDATE cases SET history_seq = head.seq, history_hash = head.hash
            FROM (SELECT DISTINCT ON (case_id) case_id, seq, hash FROM case_events
                  ORDER BY case_id, seq DESC) AS head
            WHERE head.case_id = cases.id
        """)
    else:
        op.execute("""
            UPDATE cases SET
              history_seq = (SELECT seq FROM case_events WHERE case_id = cases.id
                             ORDER BY seq DESC LIMIT 1),
              history_hash = (SELECT hash FROM case_events WHERE case_id = cases.id
                              ORDER BY seq DESC LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM case_events WHERE case_id = cases.id)
        """)


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('history_hash')
        batch.drop_column('history_seq')
