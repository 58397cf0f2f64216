"""The inbox notice of many failed logins: a notification kind of its own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 19:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

KINDS = ('transition', 'workorder_assigned', 'reminder', 'overdue', 'escalation',
         'second_escalation', 'digest')
KIND_CHECK = 'ck_notifications_notification_kind'


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _replace_kind_check(kinds):
    # SQLite changes a CHECK by rebuilding the table, and dropping the old one cascades to
    # the delivery attempts (foreign keys cannot be switched off inside the migration's
    # transaction): they are kept aside meanwhile and put back.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('CREATE TEMPORARY TABLE kept_delivery_attempts AS '
                   'SELECT * FROM delivery_attempts')
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_constraint(op.f(KIND_CHECK), type_='check')
        batch_op.create_check_constraint(op.f(KIND_CHECK), _kinds(kinds))
    if sqlite:
        op.execute('INSERT INTO delivery_attempts SELECT * FROM kept_delivery_attempts '
                   'WHERE id NOT IN (SELECT id FROM delivery_attempts)')
        op.execute('DROP TABLE kept_delivery_attempts')


def upgrade():
    _replace_kind_check(KINDS + ('login_failures',))


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'login_failures'")
    _replace_kind_check(KINDS)
