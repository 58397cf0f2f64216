"""How long does each report take on a district of N cases, beside hand-written SQL?

Builds a PostgreSQL database of its own (``<DATABASE_URL's name>_reports_bench``) by the real
migrations, loads 9 zones, 93 compounds, 18 officers and N cases (default 1,000,000) with
set-based ``INSERT ... SELECT generate_series`` (states, kinds, difficulties, deadlines and
closing dates spread as in a campaign ten weeks old), plans a campaign, runs ``VACUUM
ANALYZE``, then times, for the district's supervisor (every zone) and a zone's supervisor:

- each report as the API and the pages call it (``backlog_report(user)`` ..., the grouped
  queries, the Python that shapes the answer and the pydantic model that carries it);
- two hand-written SQL baselines computing the same figures in one statement per report, with
  the rows fetched (no shaping into JSON): over the cases themselves ("raw"), and over the
  kept counts and the partial indexes the reports read ("kept").

The load goes through the triggers that keep the counts; the script checks them against a
``GROUP BY`` over the cases before timing.

Each is run ``--runs`` times after two warm-up runs; p50 and p95 are printed with their ratio.
Target (issue 7): every report's p95 at most 2x the hand-written SQL and under 300 ms.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework .venv/bin/python bench/reports.py [--cases N] [--runs R] [--keep]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from benchdb import bench_url, recreate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casework import clock, create_app  # noqa: E402
from casework.accounts.models import User  # noqa: E402
from casework.extensions import db  # noqa: E402
from casework.reports.progress import progress_report  # noqa: E402
from casework.reports.queries import backlog_report, board_report, officers_report  # noqa: E402

REPORTS = {"backlog": backlog_report, "board": board_report, "progress": progress_report,
           "officers": officers_report}




def _load(cases: int) -> None:
    """Places, people, ``cases`` cases and a campaign, one set-based statement each."""
    statements = [
        "INSERT INTO zones (code, name) SELECT 'Z' || g, '片区' || g FROM generate_series(1, 9) g",
        "INSERT INTO compounds (zone_id, name, address) "
        "SELECT 1 + (g - 1) % 9, '小区' || g, '' FROM generate_series(1, 93) g",
        "INSERT INTO users (username, display_name, password_hash, role, active, created_at, locale) "
        "SELECT 'officer' || g, '干部' || g, 'x', 'officer', true, now(), 'zh' "
        "FROM generate_series(1, 18) g",
        "INSERT INTO user_zones (user_id, zone_id) SELECT id, 1 + (id - 1) % 9 FROM users",
        "INSERT INTO users (username, display_name, password_hash, role, active, created_at, locale) "
        "VALUES ('district', '区指挥部', 'x', 'supervisor', true, now(), 'zh'), "
        "('sup1', '一片区指挥部', 'x', 'supervisor', true, now(), 'zh')",
        "INSERT INTO user_zones (user_id, zone_id) SELECT id, 1 FROM users WHERE username = 'sup1'",
        "SELECT setseed(0.2026)",
        # Compound c is in zone 1 + (c - 1) % 9; officer o works zone 1 + (o - 1) % 9.
        f"""INSERT INTO cases (ref, kind, zone_id, compound_id, address, description, difficulty,
                owner_unknown, state, state_entered_at, due_at, officer_id, created_by_id,
                version, created_at, updated_at)
            SELECT 'B-' || g,
                CASE WHEN k < 0.43 THEN 'illegal_structure' ELSE 'shed' END,
                1 + (c - 1) % 9, c, '', '', 1 + g % 5, false, state, entered,
                CASE WHEN state IN ('closed', 'dismissed') THEN NULL
                     ELSE now() + (d * 40 - 12) * interval '1 day' END,
                1 + (c - 1) % 9 + 9 * (g % 2), 1, 1,
                entered - d * interval '20 days', entered
            FROM (SELECT g, 1 + g % 93 AS c, random() AS k, random() AS d,
                         now() - random() * interval '75 days' AS entered,
                         CASE WHEN r < 0.52 THEN 'closed' WHEN r < 0.54 THEN 'dismissed'
                              WHEN r < 0.62 THEN 'demolished' WHEN r < 0.74 THEN 'negotiated'
                              WHEN r < 0.78 THEN 'disputed' WHEN r < 0.86 THEN 'ownership_verified'
                              ELSE 'identified' END AS state
                  FROM (SELECT g, random() AS r FROM generate_series(1, {cases}) g) numbered) s""",
        "INSERT INTO campaigns (name, start_date, end_date, version, created_at, updated_at) "
        "VALUES ('清违专项行动', current_date - 70, current_date + 56, 1, now(), now())",
        "INSERT INTO campaign_zones (campaign_id, zone_id, target, milestones) "
        "VALUES (1, 1, NULL, ('[{\"date\": \"' || (current_date - 7) || '\", \"cumulative_done\": 1000}]')::json)",
    ]
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


# The same figures, by hand: one statement per report, rows fetched, nothing shaped. Over the
# cases themselves (what a report without kept counts must do) ...
HAND_SQL = {
    "backlog": """
        SELECT zone_id, state, kind, difficulty, count(*),
               count(*) FILTER (WHERE due_at <= now() AND state NOT IN ('closed', 'dismissed')),
               min(created_at)
        FROM cases {where} GROUP BY zone_id, state, kind, difficulty""",
    "board": """
        SELECT p.id, p.zone_id, p.name, c.state, c.n, c.late
        FROM compounds p LEFT JOIN (
            SELECT compound_id, state, count(*) AS n,
                   count(*) FILTER (WHERE due_at <= now()
                                    AND state NOT IN ('closed', 'dismissed')) AS late
            FROM cases {where} GROUP BY compound_id, state) c ON c.compound_id = p.id
        {compound_where}""",
    "progress": """
        SELECT zone_id,
               CASE WHEN state = 'closed' THEN date_trunc('week', state_entered_at
                                                          AT TIME ZONE 'Asia/Shanghai') END,
               count(*),
               count(*) FILTER (WHERE state = 'closed'
                                AND state_entered_at > now() - interval '28 days')
        FROM cases {where_and} state <> 'dismissed' GROUP BY 1, 2""",
    "officers": """
        SELECT officer_id,
               count(*) FILTER (WHERE state NOT IN ('closed', 'dismissed')),
               count(*) FILTER (WHERE due_at <= now() AND state NOT IN ('closed', 'dismissed')),
               count(*) FILTER (WHERE state IN ('closed', 'dismissed')
                                AND state_entered_at >= now() - interval '30 days')
        FROM cases {where_and} officer_id IS NOT NULL GROUP BY officer_id""",
}


OPEN = "state NOT IN ('closed', 'dismissed')"
# ... and over the kept counts and the partial indexes of the open and finished cases, as a
# person would write them against the same tables (whole hours only: the part of an hour a
# boundary cuts, which the reports count from the cases, is left out).
HAND_SQL_COUNTS = {
    "backlog": f"""
        SELECT 'n', zone_id, state, kind, difficulty, sum(n), NULL::timestamptz
        FROM case_counts {{where}} GROUP BY zone_id, state, kind, difficulty
        UNION ALL
        SELECT 'late', zone_id, NULL, NULL, NULL, count(*), NULL FROM cases
        {{where_and}} {OPEN} AND due_at <= now() GROUP BY zone_id
        UNION ALL
        SELECT 'oldest', z.id, s.state, NULL, NULL, NULL,
               (SELECT min(created_at) FROM cases c
                WHERE c.zone_id = z.id AND c.state = s.state AND c.{OPEN})
        FROM zones z CROSS JOIN (VALUES ('identified'), ('ownership_verified'), ('negotiated'),
                                        ('demolished'), ('disputed')) AS s (state)
        {{zone_where}}""",
    "board": f"""
        SELECT p.id, p.zone_id, p.name, c.state, c.n, l.late
        FROM compounds p
        LEFT JOIN (SELECT compound_id, state, sum(n) AS n FROM case_counts {{where}}
                   GROUP BY compound_id, state) c ON c.compound_id = p.id
        LEFT JOIN (SELECT compound_id, count(*) AS late FROM cases
                   {{where_and}} {OPEN} AND due_at <= now() GROUP BY compound_id) l
               ON l.compound_id = p.id
        {{compound_where}}""",
    "progress": """
        SELECT zone_id, date_trunc('week', hour AT TIME ZONE 'Asia/Shanghai'), sum(n),
               sum(n) FILTER (WHERE hour > now() - interval '28 days')
        FROM case_closures {where_and} state = 'closed' GROUP BY 1, 2
        UNION ALL
        SELECT zone_id, NULL, sum(n), NULL FROM case_counts {where_and} state <> 'dismissed'
        GROUP BY zone_id""",
    "officers": f"""
        SELECT 'n', officer_id, sum(n) FILTER (WHERE {OPEN}), sum(n) FROM case_counts
        {{where_and}} officer_id <> 0 GROUP BY officer_id
        UNION ALL
        SELECT 'late', officer_id, count(*), NULL FROM cases
        {{where_and}} {OPEN} AND due_at <= now() AND officer_id IS NOT NULL GROUP BY officer_id
        UNION ALL
        SELECT 'done', officer_id, sum(n), NULL FROM case_closures
        {{where_and}} hour >= now() - interval '30 days' AND officer_id <> 0 GROUP BY officer_id""",
}


def _hand_sql(name: str, zone_id: int | None, *, counts: bool = False) -> str:
    where = f"WHERE zone_id = {zone_id}" if zone_id else ""
    return (HAND_SQL_COUNTS if counts else HAND_SQL)[name].format(
        where=where, where_and=f"{where} AND" if where else "WHERE",
        compound_where=f"WHERE p.zone_id = {zone_id}" if zone_id else "",
        zone_where=f"WHERE z.id = {zone_id}" if zone_id else "")


def _counts_are_exact() -> bool:
    """The kept counts against a GROUP BY over the cases, both ways."""
    return not db.session.scalar(text("""
        SELECT count(*) FROM (
            (SELECT zone_id, compound_id, coalesce(officer_id, 0), state, kind, difficulty,
                    count(*) FROM cases GROUP BY 1, 2, 3, 4, 5, 6
             EXCEPT SELECT zone_id, compound_id, officer_id, state, kind, difficulty, n
                    FROM case_counts WHERE n <> 0)
            UNION ALL
            (SELECT zone_id, compound_id, officer_id, state, kind, difficulty, n
             FROM case_counts WHERE n <> 0
             EXCEPT SELECT zone_id, compound_id, coalesce(officer_id, 0), state, kind,
                           difficulty, count(*) FROM cases GROUP BY 1, 2, 3, 4, 5, 6)) AS diff"""))


def _time(call, runs: int) -> list[float]:
    for _ in range(2):
        call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return timings


def _p(timings: list[float], q: int) -> float:
    return statistics.quantiles(timings, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="Reuse the loaded database.")
    args = parser.parse_args()
    url = bench_url("reports_bench")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CASEWORK_RING_DOORBELL": False})
    with app.app_context():
        if not args.keep:
            recreate(url)
            from flask_migrate import upgrade
            upgrade()
            started = time.perf_counter()
            _load(args.cases)
            print(f"loaded {args.cases:,} cases in {time.perf_counter() - started:.1f} s")
        total = db.session.scalar(text("SELECT count(*) FROM cases"))
        kept = db.session.scalar(text("SELECT count(*) FROM case_counts"))
        hours = db.session.scalar(text("SELECT count(*) FROM case_closures"))
        print(f"{total:,} cases; {kept:,} case_counts rows, {hours:,} case_closures rows; "
              f"counts equal to GROUP BY over the cases: {_counts_are_exact()}")
        print(f"{args.runs} runs each after 2 warm-up runs; times in ms; 'raw' is hand SQL over "
              "the cases, 'kept' over the kept counts\n")
        print(f"{'report':<9} {'viewer':<9} {'p50':>7} {'p95':>7}   {'raw p50':>8} "
              f"{'raw p95':>8} {'kept p50':>8} {'kept p95':>8}   {'/raw':>5} {'/kept':>5}")
        for username in ("district", "sup1"):
            for name, report in REPORTS.items():
                db.session.expire_all()
                user = db.session.scalar(select(User).where(User.username == username))
                zone_id = None if username == "district" else user.zones[0].id
                ours = _time(lambda: report(user), args.runs)
                raw_sql = text(_hand_sql(name, zone_id))
                raw = _time(lambda: db.session.execute(raw_sql).all(), args.runs)
                kept_sql = text(_hand_sql(name, zone_id, counts=True))
                kept = _time(lambda: db.session.execute(kept_sql).all(), args.runs)
                print(f"{name:<9} {username:<9} {_p(ours, 50):7.1f} {_p(ours, 95):7.1f}   "
                      f"{_p(raw, 50):8.1f} {_p(raw, 95):8.1f} {_p(kept, 50):8.1f} "
                      f"{_p(kept, 95):8.1f}   {_p(ours, 95) / _p(raw, 95):5.2f} "
                      f"{_p(ours, 95) / _p(kept, 95):5.2f}")
        today = clock.local_today()
        print(f"\n(campaign {today - timedelta(days=70)} to {today + timedelta(days=56)})")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
