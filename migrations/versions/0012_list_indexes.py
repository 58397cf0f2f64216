"""Lists at a city's scale: an index in the order of each list and filter, read by keyset
cursors, and on PostgreSQL GIN indexes of the character pairs that case search looks for
(pg_trgm cannot index a two-character Chinese word).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 01:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

UNREAD = sa.text("channel = 'inbox' AND read_at IS NULL")

# Every pair of adjacent characters of the lowercased text (ILIKE compares lowercased text, so
# a row that ILIKE finds holds every pair of the searched words).
BIGRAMS = """
CREATE OR REPLACE FUNCTION casework_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lowered, i, 2)), '{}'::text[])
    FROM (SELECT lower(value) AS lowered) AS text_of,
         generate_series(1, char_length(lowered) - 1) AS i
$$
"""
# What casework.cases.queries searches, written the same way there.
SEARCHED_TEXT = "casework_bigrams(ref || ' ' || address || ' ' || description)"

NEWEST_FIRST = (
    ('cases', 'ix_cases_created', ['created_at', 'id']),
    ('cases', 'ix_cases_zone_created', ['zone_id', 'created_at', 'id']),
    ('cases', 'ix_cases_state_created', ['state', 'created_at', 'id']),
    ('cases', 'ix_cases_compound_created', ['compound_id', 'created_at', 'id']),
    ('cases', 'ix_cases_officer_created', ['officer_id', 'created_at', 'id']),
    ('workorders', 'ix_workorders_created', ['created_at', 'id']),
    ('workorders', 'ix_workorders_company_created', ['company_id', 'created_at', 'id']),
    ('workorders', 'ix_workorders_state_created', ['state', 'created_at', 'id']),
)
# Each replaced by one that leads with the same columns, in the list's order.
REPLACED = (
    ('cases', 'ix_cases_created_at', ['created_at']),
    ('cases', 'ix_cases_compound_id', ['compound_id']),
    ('cases', 'ix_cases_officer_id', ['officer_id']),
)


def upgrade():
    for table, name, columns in NEWEST_FIRST:
        op.create_index(name, table, columns)
    for table, name, _columns in REPLACED:
        op.drop_index(name, table_name=table)
    op.drop_index('ix_notifications_inbox', table_name='notifications')
    op.create_index('ix_notifications_inbox', 'notifications',
                    ['user_id', 'channel', 'created_at', 'id'])
    op.drop_index('ix_notifications_unread', table_name='notifications')
    op.create_index('ix_notifications_unread', 'notifications', ['user_id', 'created_at', 'id'],
                    postgresql_where=UNREAD, sqlite_where=UNREAD)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(BIGRAMS)
        op.execute(f"CREATE INDEX ix_cases_search_bigrams ON cases USING gin ({SEARCHED_TEXT})")
        op.execute("CREATE INDEX ix_cases_owner_bigrams ON cases "
                   "USING gin (casework_bigrams(owner_name))")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_cases_owner_bigrams")
        op.execute("DROP INDEX ix_cases_search_bigrams")
        op.execute("DROP FUNCTION casework_bigrams(text)")
    op.drop_index('ix_notifications_unread', table_name='notifications')
    op.create_index('ix_notifications_unread', 'notifications', ['user_id'],
                    postgresql_where=UNREAD, sqlite_where=UNREAD)
    op.drop_index('ix_notifications_inbox', table_name='notifications')
    op.create_index('ix_notifications_inbox', 'notifications', ['user_id', 'channel', 'created_at'])
    for table, name, columns in REPLACED:
        op.create_index(name, table, columns)
    for table, name, _columns in NEWEST_FIRST:
        op.drop_index(name, table_name=table)
