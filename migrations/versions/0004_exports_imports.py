"""The export log (who took which data out, and whether it held owners' personal data) and
the survey reference that makes a re-imported survey create nothing twice.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 19:00:27.963219

"""
from alembic import op
import sqlalchemy as sa

import casework.common.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.Enum('cases', 'workorders', 'events', 'dossier', name='export_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('personal_data', sa.Boolean(), nullable=False),
    sa.Column('created_at', casework.common.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_export_log_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log'))
    )
    op.create_index(op.f('ix_export_log_case_id'), 'export_log', ['case_id'], unique=False)
    op.create_index(op.f('ix_export_log_created_at'), 'export_log', ['created_at'], unique=False)
    op.create_index(op.f('ix_export_log_user_id'), 'export_log', ['user_id'], unique=False)

    # A plain ADD COLUMN and a unique index: SQLite can do both without rebuilding the cases
    # table (which the append-only history references).
    op.add_column('cases', sa.Column('survey_ref', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_cases_survey_ref'), 'cases', ['survey_ref'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_cases_survey_ref'), table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('survey_ref')
    op.drop_index(op.f('ix_export_log_user_id'), table_name='export_log')
    op.drop_index(op.f('ix_export_log_created_at'), table_name='export_log')
    op.drop_index(op.f('ix_export_log_case_id'), table_name='export_log')
    op.drop_table('export_log')
