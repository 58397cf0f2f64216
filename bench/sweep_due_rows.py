"""Does the deadline sweep's cost follow the number of due cases, not the table size?

Loads N cases into a PostgreSQL database of its own (``<DATABASE_URL's name>_bench``), of which
DUE are due (deadline within the reminder window or past), then:

1. prints the query plan (EXPLAIN ANALYZE, BUFFERS) of the sweep's case query, to show it reads
   the due rows through the ``due_at`` index and not the table;
2. times a full sweep (raising every alert) and a repeat sweep (nothing left to raise);
3. does the same with a baseline table ten times smaller and the same number of due cases, and
   reports the ratio of the two timings (the machines here are noisy: compare ratios).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework .venv/bin/python bench/sweep_due_rows.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlalchemy import text

from benchdb import bench_url, recreate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casework import clock, create_app  # noqa: E402
from casework.deadlines.operations import due_cases, sweep  # noqa: E402
from casework.extensions import db  # noqa: E402

DUE = 1_000




def load_cases(total: int, due: int) -> None:
    """Places, users and ``total`` cases in one statement each; ``due`` of them due."""
    statements = [
        "INSERT INTO zones (code, name) SELECT 'Z' || g, 'zone ' || g FROM generate_series(1, 9) g",
        "INSERT INTO compounds (zone_id, name, address) SELECT 1 + g % 9, 'compound ' || g, '' "
        "FROM generate_series(1, 93) g",
        "INSERT INTO users (username, display_name, password_hash, role, active, created_at, locale) "
        "SELECT 'officer' || g, 'officer ' || g, 'x', 'officer', true, now(), 'zh' "
        "FROM generate_series(1, 18) g",
        "INSERT INTO users (username, display_name, password_hash, role, active, created_at, locale) "
        "SELECT 'sup' || g, 'sup ' || g, 'x', 'supervisor', true, now(), 'zh' FROM generate_series(1, 9) g",
        "INSERT INTO user_zones (user_id, zone_id) SELECT id, 1 + (id - 1) % 9 FROM users",
        # Due cases: deadlines spread from five days ago to twelve hours ahead.
        f"""INSERT INTO cases (ref, kind, zone_id, compound_id, address, description, difficulty,
            owner_unknown, state, state_entered_at, due_at, officer_id, created_by_id, version,
            created_at, updated_at)
        SELECT 'B-' || g, 'shed', 1 + g % 93 % 9, 1 + g % 93, '', '', 3, false,
            'negotiated', now(), now() - interval '5 days' + (g * interval '1 second' * {470_000 // due}),
            1 + g % 18, 1, 1, now(), now() FROM generate_series(1, {due}) g""",
        # The rest: closed (no deadline) or due weeks from now.
        f"""INSERT INTO cases (ref, kind, zone_id, compound_id, address, description, difficulty,
            owner_unknown, state, state_entered_at, due_at, officer_id, created_by_id, version,
            created_at, updated_at)
        SELECT 'B-' || g, 'illegal_structure', 1 + g % 93 % 9, 1 + g % 93, '', '', 3, false,
            CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'ownership_verified' END, now(),
            CASE WHEN g % 2 = 0 THEN NULL ELSE now() + interval '10 days' + g * interval '1 second' END,
            1 + g % 18, 1, 1, now(), now() FROM generate_series({due} + 1, {total}) g""",
        "ANALYZE",
    ]
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()


def _plan() -> str:
    query = due_cases(clock.now())
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in db.session.execute(
        text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")))


def _run(total: int) -> dict:
    url = bench_url("bench")
    recreate(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CASEWORK_RING_DOORBELL": False})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        load_cases(total, DUE)
        plan = _plan()
        started = time.perf_counter()
        report = sweep()
        db.session.commit()
        first = time.perf_counter() - started
        db.session.execute(text("ANALYZE"))
        plan_after = _plan()
        started = time.perf_counter()
        again = sweep()
        db.session.commit()
        repeat = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {"total": total, "plan": plan, "plan_after": plan_after, "first": first, "repeat": repeat,
            "raised": report.raised, "raised_again": again.raised}


def main() -> None:
    big = _run(100_000)
    small = _run(10_000)
    print(f"== sweep query plan, {big['total']:,} cases, {DUE:,} due ==")
    print(big["plan"])
    print("\n== the same query once every due case has its alerts (the steady state) ==")
    print(big["plan_after"])
    for result in (small, big):
        print(f"\n{result['total']:>7,} cases, {DUE:,} due: first sweep {result['first']:.2f} s "
              f"raising {result['raised']}; repeat sweep {result['repeat'] * 1000:.0f} ms "
              f"raising {result['raised_again'] or 'nothing'}")
    print(f"\nratio 100k / 10k: first sweep {big['first'] / small['first']:.2f}, "
          f"repeat sweep {big['repeat'] / small['repeat']:.2f} (1.0 = independent of table size)")


if __name__ == "__main__":
    main()
