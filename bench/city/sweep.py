"""The deadline sweep of a city (issue 10) beside a set-based hand-written SQL sweep.

``measure(url)`` works on a copy of the city (``<name>_sweep``, dropped at the end). Each sweep
runs in a child process of its own, so its peak RSS is its own (``ru_maxrss``):

- the application's first sweep (``casework.deadlines.operations.sweep``) of everything due,
  rolled back, and the hand-written baseline (one statement: the due cases' alert keys claimed
  by ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``, and one inbox row per recipient of
  each claimed alert, officer or the zone's supervisors, its text built in SQL), rolled back,
  alternated three times on the same data: medians and their ratio;
- the application's first sweep committed, then a repeat sweep (nothing left to raise);
- the memory of a sweep that writes over 100,000 notifications: ``LATE`` more open cases of
  the copy made four days late at once (each then owes an overdue notice to its officer, an
  escalation and a second escalation to its zone's supervisor), swept and committed in a
  child process: its peak RSS and the notifications it wrote;
- the same due rows among 1,000,000 and among 100,000 cases, in two databases this module
  generates (``<name>_sweep_1m``, ``<name>_sweep_100k``, each with 10,000 due), first sweep
  timed in each: the ratio shows whether the cost follows the due rows or the table;
- the ``EXPLAIN (ANALYZE, BUFFERS)`` of the sweep's statements (captured while it runs, then
  explained in a rolled-back transaction).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework .venv/bin/python bench/city/sweep.py [city url]
"""
from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/sweep_due_rows's imports

from bench.city.common import (Row, StatementCounter, app_for, city_url,  # noqa: E402
                               copy_database, drop_database)


ROUNDS = 3
DUE = 10_000
LATE = 36_000  # three notifications each: over 100,000 written by one sweep
MANY_NOTIFICATIONS = 100_000
FINAL = "('closed', 'dismissed', 'demolished')"

BASELINE = f"""
WITH due AS (
    SELECT c.id, c.due_at, c.zone_id, c.officer_id, c.ref, c.address, cp.name AS compound
    FROM cases c JOIN compounds cp ON cp.id = c.compound_id
    WHERE c.due_at <= :horizon AND c.state NOT IN {FINAL}
), keys AS (
    SELECT 'case' AS subject, due.id, due.due_at, k.kind FROM due
    CROSS JOIN (VALUES ('reminder'), ('overdue'), ('escalation'), ('second_escalation')) k(kind)
    WHERE (k.kind = 'reminder' AND due.due_at > :now)
       OR (k.kind IN ('overdue', 'escalation') AND due.due_at <= :now)
       OR (k.kind = 'second_escalation' AND due.due_at <= :second)
), claimed AS (
    INSERT INTO alerts (subject, subject_id, occasion, kind, created_at)
    SELECT subject, id, due_at, kind, :now FROM keys ORDER BY subject, id, due_at, kind
    ON CONFLICT DO NOTHING RETURNING subject_id, kind
), supervisors AS (
    SELECT uz.zone_id, u.id AS user_id FROM users u JOIN user_zones uz ON uz.user_id = u.id
    WHERE u.role = 'supervisor' AND u.active
), recipients AS (
    SELECT cl.kind, d.*, o.id AS user_id FROM claimed cl JOIN due d ON d.id = cl.subject_id
    JOIN users o ON o.id = d.officer_id AND o.active
    WHERE cl.kind IN ('reminder', 'overdue')
    UNION ALL
    SELECT cl.kind, d.*, s.user_id FROM claimed cl JOIN due d ON d.id = cl.subject_id
    JOIN supervisors s ON s.zone_id = d.zone_id
    WHERE cl.kind IN ('escalation', 'second_escalation')
       OR NOT EXISTS (SELECT 1 FROM users o WHERE o.id = d.officer_id AND o.active)
)
INSERT INTO notifications (channel, kind, user_id, case_id, subject, body, payload, created_at,
                           attempts, sent_at)
SELECT 'inbox', kind, user_id, id, kind || '：' || ref || '（' || to_char(due_at, 'YYYY-MM-DD HH24:MI') || '）',
       ref || '（' || compound || ' ' || address || '）' || to_char(due_at, 'YYYY-MM-DD HH24:MI'),
       '{{}}', :now, 0, :now
FROM recipients
"""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(url: str, what: str) -> dict:
    """One sweep in this (child) process: ``app`` or ``baseline``, then ``commit`` or not."""
    from casework import clock
    from casework.deadlines.operations import sweep
    from casework.extensions import db

    app = app_for(url, CASEWORK_RING_DOORBELL=False)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        plans: list[str] = []
        # Only the run to be explained keeps each statement's parameters: kept in the other
        # runs, the notifications' arrays would count in the sweep's peak RSS.
        with StatementCounter(db.engine, keep_parameters=what == "app_explain") as counter:
            started = time.perf_counter()
            if what.startswith("baseline"):
                now = clock.now()
                from datetime import timedelta
                from casework.settings import setting
                params = {"now": now,
                          "horizon": now + timedelta(hours=setting("CASEWORK_REMINDER_HOURS")),
                          "second": now - timedelta(days=setting("CASEWORK_SECOND_ESCALATION_DAYS"))}
                raised = db.session.execute(text(BASELINE), params).rowcount
            else:
                report = sweep()
                raised = sum(report.raised.values())
            if what.endswith("commit"):
                db.session.commit()
            seconds = time.perf_counter() - started
        if what.endswith("rollback"):
            db.session.rollback()
        if what == "app_explain":
            plans = _explain(db, counter)
        db.session.rollback()
    return {"seconds": seconds, "raised": raised, "statements": counter.count,
            "rss_mb": _rss_mb(), "plans": plans}


def _explain(db, counter) -> list[str]:
    """Re-runs each distinct statement the sweep sent under EXPLAIN ANALYZE (SELECTs as they
    were; the inserts with their first batch of parameters), in a transaction rolled back."""
    seen, plans = set(), []
    for statement, parameters in zip(counter.statements, counter.parameters):
        shape = statement.split("VALUES")[0]
        if shape in seen:
            continue
        seen.add(shape)
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("SAVEPOINT explained")
            try:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            except Exception as exc:  # noqa: BLE001 - a batch sent as several: say so
                cursor.execute("ROLLBACK TO SAVEPOINT explained")
                plans.append(f"{statement[:300]}\n(not explained: {exc})")
                continue
            plans.append(statement[:2000] + "\n" + "\n".join(r[0] for r in cursor.fetchall()))
    return plans


def _run_child(url: str, what: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", url, what],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{what} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _make_late(url: str, count: int) -> None:
    """``count`` open cases whose deadline is days away made four days late, as if the sweep
    had not run for that long."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("""
            UPDATE cases SET due_at = now() - interval '4 days' - (id % 3600) * interval '1 second'
            WHERE id IN (SELECT id FROM cases WHERE state NOT IN ('closed', 'dismissed')
                         AND due_at > now() + interval '2 days' ORDER BY id LIMIT :count)"""),
            {"count": count})
    engine.dispose()


def _notifications(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM notifications")).scalar_one()
    engine.dispose()
    return count


def _synthetic(url: str, name: str, total: int) -> str:
    """A database of ``total`` cases with the same ``DUE`` due ones (bench/sweep_due_rows.py's
    generator), upgraded to the migrations' head."""
    from bench.sweep_due_rows import load_cases
    from casework.extensions import db

    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    app = app_for(target, CASEWORK_RING_DOORBELL=False)
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        load_cases(total, DUE)
        db.session.remove()
        db.engine.dispose()
    return target


def measure(url: str) -> list[Row]:
    rows: list[Row] = []
    copy = copy_database(url, f"{make_url(url).database}_sweep")
    try:
        ours, hand = [], []
        for _ in range(ROUNDS):
            hand.append(_run_child(copy, "baseline_rollback"))
            ours.append(_run_child(copy, "app_rollback"))
        explained = _run_child(copy, "app_explain")
        first = _run_child(copy, "app_commit")
        repeat = _run_child(copy, "app_commit")
        _make_late(copy, LATE)
        before = _notifications(copy)
        many = _run_child(copy, "app_commit")
        many["written"] = _notifications(copy) - before
    finally:
        drop_database(copy)
    ours_s = statistics.median(r["seconds"] for r in ours)
    hand_s = statistics.median(r["seconds"] for r in hand)
    rows.append(Row(figure=f"first sweep, city ({ours[0]['raised']:,} alerts, "
                           f"{ours[0]['statements']} statements; baseline wrote "
                           f"{hand[0]['raised']:,} inbox rows)",
                    value=ours_s, unit="s", baseline=hand_s,
                    baseline_name="set-based hand SQL (one INSERT … SELECT … ON CONFLICT)",
                    target="< 10 s and ≤ 5× baseline",
                    met=ours_s < 10 and ours_s <= 5 * hand_s, plans=explained["plans"]))
    rows.append(Row(figure=f"first sweep committed, city ({first['raised']:,} alerts)",
                    value=first["seconds"], unit="s", target="< 10 s",
                    met=first["seconds"] < 10))
    rows.append(Row(figure="repeat sweep, city (nothing left to raise)",
                    value=repeat["seconds"], unit="s", target="< 1 s",
                    met=repeat["seconds"] < 1))
    peak = max(r["rss_mb"] for r in ours + [first, repeat])
    rows.append(Row(figure="sweep peak RSS (child process)", value=peak, unit="MB",
                    target="< 300 MB", met=peak < 300))
    rows.append(Row(figure=f"sweep peak RSS, {LATE:,} cases four days late at once "
                           f"({many['written']:,} notifications, {many['raised']:,} alerts "
                           f"in {many['seconds']:.1f} s)",
                    value=many["rss_mb"], unit="MB", target="< 300 MB, ≥ 100,000 notifications",
                    met=many["rss_mb"] < 300 and many["written"] >= MANY_NOTIFICATIONS))
    base = make_url(url).database
    big = _synthetic(url, f"{base}_sweep_1m", 1_000_000)
    small = _synthetic(url, f"{base}_sweep_100k", 100_000)
    try:
        big_r, small_r = _run_child(big, "app_commit"), _run_child(small, "app_commit")
    finally:
        drop_database(big)
        drop_database(small)
    rows.append(Row(figure=f"first sweep, {DUE:,} due among 1,000,000 vs among 100,000 cases",
                    value=big_r["seconds"], unit="s", baseline=small_r["seconds"],
                    baseline_name="the same sweep, 100,000 cases", target="ratio ≤ 1.5",
                    met=big_r["seconds"] <= 1.5 * small_r["seconds"]))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_child(sys.argv[2], sys.argv[3])))
    else:
        for row in measure(sys.argv[1] if len(sys.argv) > 1 else city_url()):
            print(f"{row.figure}: {row.value:.3f} {row.unit}"
                  + (f" | {row.baseline_name} {row.baseline:.3f} | ratio {row.ratio:.2f}"
                     if row.baseline else "") + f" | {row.target} | met={row.met}")
