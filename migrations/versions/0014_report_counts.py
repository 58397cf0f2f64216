"""The reports' counts, kept by triggers on cases, and partial indexes of the open and the
finished cases, so that a report reads a few thousand rows instead of every case.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-27 01:30:00

"""
from alembic import op
import sqlalchemy as sa

import casework.common.types


revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

OPEN = sa.text("state NOT IN ('closed', 'dismissed')")
DONE = sa.text("state IN ('closed', 'dismissed')")
DONE_SQL = "state IN ('closed', 'dismissed')"

COUNT_KEY = "zone_id, compound_id, officer_id, state, kind, difficulty"
CLOSURE_KEY = "zone_id, state, hour, officer_id"


def upgrade():
    op.create_table(
        'case_counts',
        sa.Column('zone_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('compound_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('officer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('difficulty', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('zone_id', 'compound_id', 'officer_id', 'state', 'kind',
                                'difficulty', name=op.f('pk_case_counts')))
    op.create_table(
        'case_closures',
        sa.Column('zone_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('hour', casework.common.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column('officer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('zone_id', 'state', 'hour', 'officer_id',
                                name=op.f('pk_case_closures')))
    op.create_index('ix_cases_open_due', 'cases', ['zone_id', 'due_at'],
                    postgresql_include=['compound_id', 'officer_id', 'state', 'kind',
                                        'difficulty'],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_cases_open_created', 'cases', ['zone_id', 'state', 'created_at'],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_cases_done_at', 'cases', ['state_entered_at'],
                    postgresql_include=['zone_id', 'officer_id', 'state'],
                    postgresql_where=DONE, sqlite_where=DONE)
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    _backfill()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_counts_{action} ON cases")
            op.execute(f"DROP FUNCTION IF EXISTS case_counts_{action}()")
    else:
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_counts_{action}")
    op.drop_index('ix_cases_done_at', table_name='cases')
    op.drop_index('ix_cases_open_created', table_name='cases')
    op.drop_index('ix_cases_open_due', table_name='cases')
    op.drop_table('case_closures')
    op.drop_table('case_counts')


def _hour(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"date_trunc('hour', {column}, 'UTC')"
    # SQLite keeps UTC times as text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return f"strftime('%Y-%m-%d %H:00:00.000000', {column})"


def _backfill():
    op.execute(f"""
        INSERT INTO case_counts ({COUNT_KEY}, n)
        SELECT zone_id, compound_id, coalesce(officer_id, 0), state, kind, difficulty, count(*)
        FROM cases GROUP BY zone_id, compound_id, coalesce(officer_id, 0), state, kind,
                            difficulty""")
    op.execute(f"""
        INSERT INTO case_closures ({CLOSURE_KEY}, n)
        SELECT zone_id, state, {_hour('state_entered_at')}, coalesce(officer_id, 0), count(*)
        FROM cases WHERE {DONE_SQL}
        GROUP BY zone_id, state, {_hour('state_entered_at')}, coalesce(officer_id, 0)""")


# PostgreSQL: one trigger per statement. The rows a statement added count +1, the rows it
# removed -1 (an UPDATE both), summed per key; keys whose sum is 0 (an UPDATE that changed
# nothing counted) are left alone, the others upserted in key order.

def _changes(sources: list[tuple[str, int]], columns: str, where: str = "") -> str:
    return "\n                UNION ALL\n".join(
        f"SELECT {columns}, {sign} AS delta FROM {table}{where}" for table, sign in sources)


COUNTED = ("zone_id", "compound_id", "officer_id", "state", "kind", "difficulty",
           "state_entered_at")


def _postgresql_upserts(sources: list[tuple[str, int]]) -> str:
    count_columns = "zone_id, compound_id, coalesce(officer_id, 0) AS officer_id, state, kind, " \
                    "difficulty"
    closure_columns = (f"zone_id, state, {_hour('state_entered_at')} AS hour, "
                       "coalesce(officer_id, 0) AS officer_id")
    finished = " OR ".join(f"EXISTS (SELECT FROM {table} WHERE {DONE_SQL})"
                           for table, _sign in sources)
    return f"""
            INSERT INTO case_counts AS counted ({COUNT_KEY}, n)
            SELECT {COUNT_KEY}, sum(delta) FROM (
                {_changes(sources, count_columns)}) AS changes
            GROUP BY {COUNT_KEY} HAVING sum(delta) <> 0 ORDER BY {COUNT_KEY}
            ON CONFLICT ({COUNT_KEY}) DO UPDATE SET n = counted.n + excluded.n;
            IF {finished} THEN
                INSERT INTO case_closures AS counted ({CLOSURE_KEY}, n)
                SELECT {CLOSURE_KEY}, sum(delta) FROM (
                    {_changes(sources, closure_columns, f" WHERE {DONE_SQL}")}) AS changes
                GROUP BY {CLOSURE_KEY} HAVING sum(delta) <> 0 ORDER BY {CLOSURE_KEY}
                ON CONFLICT ({CLOSURE_KEY}) DO UPDATE SET n = counted.n + excluded.n;
            END IF;"""


def _postgresql_triggers():
    # An UPDATE that changes none of the counted columns (an edit of the address, a new
    # deadline) costs one join of its old and new rows.
    unchanged = f"""
            IF NOT EXISTS (
                SELECT FROM old_cases o JOIN new_cases n ON n.id = o.id
                WHERE ({', '.join(f'o.{c}' for c in COUNTED)})
                      IS DISTINCT FROM ({', '.join(f'n.{c}' for c in COUNTED)})) THEN
                RETURN NULL;
            END IF;"""
    for action, sources, referencing, guard in (
            ("insert", [("new_cases", 1)], "NEW TABLE AS new_cases", ""),
            ("update", [("new_cases", 1), ("old_cases", -1)],
             "OLD TABLE AS old_cases NEW TABLE AS new_cases", unchanged),
            ("delete", [("old_cases", -1)], "OLD TABLE AS old_cases", "")):
        op.execute(f"""
            CREATE FUNCTION case_counts_{action}() RETURNS trigger AS $$
            BEGIN{guard}{_postgresql_upserts(sources)}
            RETURN NULL;
            END;
            $$ LANGUAGE plpgsql""")
        op.execute(f"""
            CREATE TRIGGER case_counts_{action} AFTER {action.upper()} ON cases
            REFERENCING {referencing}
            FOR EACH STATEMENT EXECUTE FUNCTION case_counts_{action}()""")


# SQLite: row triggers doing the same, one row at a time.

def _sqlite_upserts(row: str, sign: int) -> str:
    return f"""
            INSERT INTO case_counts ({COUNT_KEY}, n)
            VALUES ({row}.zone_id, {row}.compound_id, coalesce({row}.officer_id, 0),
                    {row}.state, {row}.kind, {row}.difficulty, {sign})
            ON CONFLICT ({COUNT_KEY}) DO UPDATE SET n = n + excluded.n;
            INSERT INTO case_closures ({CLOSURE_KEY}, n)
            SELECT {row}.zone_id, {row}.state, {_hour(f'{row}.state_entered_at')},
                   coalesce({row}.officer_id, 0), {sign}
            WHERE {row}.state IN ('closed', 'dismissed')
            ON CONFLICT ({CLOSURE_KEY}) DO UPDATE SET n = n + excluded.n;"""


def _sqlite_triggers():
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in COUNTED)
    op.execute(f"""
        CREATE TRIGGER case_counts_insert AFTER INSERT ON cases
        BEGIN{_sqlite_upserts('new', 1)}
        END""")
    op.execute(f"""
        CREATE TRIGGER case_counts_update AFTER UPDATE OF {', '.join(COUNTED)} ON cases
        WHEN {changed}
        BEGIN{_sqlite_upserts('old', -1)}{_sqlite_upserts('new', 1)}
        END""")
    op.execute(f"""
        CREATE TRIGGER case_counts_delete AFTER DELETE ON cases
        BEGIN{_sqlite_upserts('old', -1)}
        END""")
