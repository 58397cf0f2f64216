"""Case transitions over HTTP at a city's scale (issue 10), beside pgbench's raw transaction.

``measure(url)`` takes the URL of a generated city database and works on a copy of it
(``<name>_transitions``, made from it as a template, upgraded to the migrations' head, dropped
at the end). On the copy it:

- counts the SQL statements of one transition with its history and notifications, in-process
  (a supervisor disputes a case: the officer and the zone's other supervisors are told);
- starts gunicorn (``--workers``, gthread so that connections are kept alive, the app loaded
  before the workers fork) on a free loopback port and drives transitions from 4 client
  processes, each with one kept-alive connection and cases of its own spread over the city:
  the district's supervisor disputes a case and resolves the dispute, again and again (each
  transition writes its event and notifications). The first 10 seconds warm every worker
  (its connections, SQLAlchemy's compiled statements, the templates) and are not counted;
- runs pgbench on the same database with the raw three statements of a transition
  (``SELECT ... FOR UPDATE``, ``UPDATE``, ``INSERT`` of the event) and the same 4 clients.

Figures: req/s against pgbench's transactions/s (target: ratio at least 0.10), p50 and p99
(target p99 < 50 ms), statements per transition (target at most 7).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework \\
        .venv/bin/python bench/city/transition_rate.py [--city NAME] [--seconds 20] [--workers 4]

(the city is ``casework_city`` on DATABASE_URL's server unless ``--city`` names another).
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

# Run as a script, the repository must be on the path for ``bench.city``.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.city.common import (ROOT, Row, StatementCounter, app_for,  # noqa: E402
                               city_url, copy_database, drop_database, p)

CLIENTS = 4
CASES_PER_CLIENT = 200
RATIO_TARGET, P99_TARGET_MS, STATEMENTS_TARGET = 0.10, 50.0, 7
PGBENCH_SCRIPT = """\
\\set n random(0, {last})
BEGIN;
SELECT id, version, history_seq, history_hash FROM cases WHERE id = (ARRAY[{ids}])[:n + 1] FOR UPDATE;
UPDATE cases SET version = version + 1, updated_at = now(), history_seq = history_seq + 1
  WHERE id = (ARRAY[{ids}])[:n + 1] RETURNING history_seq AS seq \\gset
INSERT INTO case_events (case_id, seq, trigger, from_state, to_state, actor_id, actor, role, at,
  note, data, prev_hash, hash)
  VALUES ((ARRAY[{ids}])[:n + 1], :seq, 'bench', 'ownership_verified', 'ownership_verified',
  NULL, 'pgbench', 'supervisor', now(), 'bench', '{{}}', repeat('0', 64), repeat('1', 64));
END;
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    from casework.extensions import db

    app = app_for(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


def _set_missing_heads(url: str) -> None:
    """A city written behind the application's back (histories inserted with SQL) may hold
    cases whose history head was never set: set it from each case's last event, as migration
    0015 does, or every transition would be refused on the history's unique key."""
    from casework.extensions import db

    app = app_for(url)
    with app.app_context():
        missing = db.session.scalar(text("""
            SELECT EXISTS (SELECT 1 FROM cases c WHERE c.history_seq = 0
                           AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id))"""))
        if missing:
            print("setting the history heads the city was generated without", file=sys.stderr)
            db.session.execute(text("""
                UPDATE cases SET history_seq = head.seq, history_hash = head.hash
                FROM (SELECT DISTINCT ON (case_id) case_id, seq, hash FROM case_events
                      ORDER BY case_id, seq DESC) AS head
                WHERE head.case_id = cases.id AND cases.history_seq <> head.seq"""))
            db.session.commit()
        db.engine.dispose()


def _cast(url: str) -> dict:
    """The district's supervisor (attached to no zone: sees every case) and its token, with
    cases in ownership_verified or disputed that have an officer, spread over the city (so
    that the clients' transitions meet on no row, as a city's would rarely)."""
    from casework.accounts.models import User
    from casework.accounts.operations import issue_token
    from casework.extensions import db

    app = app_for(url)
    with app.app_context():
        supervisor_id = db.session.scalar(text("""
            SELECT min(id) FROM users WHERE role = 'supervisor' AND active
              AND id NOT IN (SELECT user_id FROM user_zones)"""))
        if supervisor_id is None:
            raise SystemExit("The city has no district supervisor.")
        cases = db.session.execute(text("""
            SELECT id, state, version FROM cases
            WHERE state IN ('ownership_verified', 'disputed') AND officer_id IS NOT NULL
            ORDER BY md5(id::text) LIMIT :n"""), {"n": CLIENTS * CASES_PER_CLIENT + 1}).all()
        token = issue_token(db.session.get(User, supervisor_id))
        db.session.commit()
        db.engine.dispose()
    if len(cases) < CLIENTS * 2 + 1:
        raise SystemExit("The city has too few cases in ownership_verified or disputed.")
    return {"token": token, "cases": [tuple(c) for c in cases]}


def _body(state: str, version: int) -> dict:
    trigger = "dispute" if state == "ownership_verified" else "resolve_dispute"
    return {"trigger": trigger, "expected_version": version, "note": "bench"}


def _count_statements(url: str, token: str, case: tuple) -> int:
    """The statements one transition sends, through the real API in-process."""
    from casework.extensions import db

    app = app_for(url)
    client = app.test_client()
    case_id, state, version = case
    with app.app_context():
        with StatementCounter(db.engine) as counter:
            response = client.post(f"/api/v1/cases/{case_id}/transitions",
                                   json=_body(state, version),
                                   headers={"Authorization": f"Bearer {token}"})
        db.engine.dispose()
    if response.status_code != 200:
        raise SystemExit(f"transition refused: {response.get_json()}")
    return counter.count


def _client(port: int, token: str, cases: list[tuple], until: float, start: float,
            out) -> None:
    """One client: one kept-alive connection, its own cases in turn; latencies of the
    requests sent after ``start``."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    state = {case_id: (case_state, version) for case_id, case_state, version in cases}
    order = [case_id for case_id, _, _ in cases]
    latencies, errors, n = [], 0, 0
    while (now := time.perf_counter()) < until:
        case_id = order[n % len(order)]
        n += 1
        case_state, version = state[case_id]
        connection.request("POST", f"/api/v1/cases/{case_id}/transitions",
                           json.dumps(_body(case_state, version)), headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        took = (time.perf_counter() - now) * 1000
        if response.status != 200:
            errors += 1
            continue
        state[case_id] = (payload["state"], payload["version"])
        if now >= start:
            latencies.append(took)
    out.put((latencies, errors))


def _gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url,
               CASEWORK_UPLOAD_DIR=tempfile.mkdtemp(prefix="bench-transitions-"))
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--preload", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", "1", "--keep-alive", "30",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "casework:create_app()"],
        cwd=ROOT, env=env, start_new_session=True)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def _http(url: str, cast: dict, seconds: float, warmup: float, workers: int
          ) -> tuple[float, list[float], int]:
    port = _free_port()
    server = _gunicorn(url, port, workers)
    try:
        cases = cast["cases"][1:]
        shares = [cases[i::CLIENTS] for i in range(CLIENTS)]
        start = time.perf_counter() + warmup
        until = start + seconds
        out = multiprocessing.Queue()
        clients = [multiprocessing.Process(target=_client,
                                           args=(port, cast["token"], share, until, start, out))
                   for share in shares]
        for client in clients:
            client.start()
        results = [out.get() for _ in clients]
        for client in clients:
            client.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    latencies = [ms for got, _ in results for ms in got]
    errors = sum(errors for _, errors in results)
    return len(latencies) / seconds, latencies, errors


def _pgbench(url: str, cast: dict, seconds: float) -> float:
    ids = ",".join(str(case_id) for case_id, _, _ in cast["cases"][1:])
    script = PGBENCH_SCRIPT.format(ids=ids, last=len(cast["cases"]) - 2)
    parsed = make_url(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    try:
        result = subprocess.run(
            ["pgbench", "-n", "-f", handle.name, "-c", str(CLIENTS), "-j", str(CLIENTS),
             "-T", str(int(seconds)), "-h", parsed.host or "127.0.0.1",
             "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres",
             parsed.database], capture_output=True, text=True, check=True,
            env=dict(os.environ, PGPASSWORD=parsed.password or ""))
    finally:
        os.unlink(handle.name)
    for line in result.stdout.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    raise SystemExit(f"pgbench said no tps:\n{result.stdout}\n{result.stderr}")


def measure(url: str, seconds: float = 20.0, warmup: float = 10.0,
            workers: int = 4) -> list[Row]:
    name = make_url(url).database
    copy = copy_database(url, f"{name}_transitions")
    try:
        _upgrade(copy)
        _set_missing_heads(copy)
        cast = _cast(copy)
        statements = _count_statements(copy, cast["token"], cast["cases"][0])
        rate, latencies, errors = _http(copy, cast, seconds, warmup, workers)
        tps = _pgbench(copy, cast, seconds)
    finally:
        drop_database(copy)
    ratio = rate / tps
    p50, p99 = p(latencies, 50), p(latencies, 99)
    baseline = f"pgbench -n -f (SELECT ... FOR UPDATE, UPDATE, INSERT), {CLIENTS} clients"
    http = f"HTTP, gunicorn {workers} gthread workers, {CLIENTS} kept-alive clients"
    return [
        Row(f"transition throughput, {http}", round(rate, 1), "req/s", round(tps, 1),
            baseline, round(ratio, 3), f"ratio >= {RATIO_TARGET}",
            ratio >= RATIO_TARGET and errors == 0),
        Row("transition latency p50", round(p50, 1), "ms", None, "", None, "–", None),
        Row("transition latency p99", round(p99, 1), "ms", None, "", None,
            f"< {P99_TARGET_MS:.0f} ms", p99 < P99_TARGET_MS),
        Row("SQL statements per transition (history, notifications)", statements,
            "statements", 3, "the raw transaction's three", round(statements / 3, 2),
            f"<= {STATEMENTS_TARGET}", statements <= STATEMENTS_TARGET),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--city", default=None, help="the city database's name")
    args = parser.parse_args()
    for row in measure(city_url(args.city), seconds=args.seconds, workers=args.workers):
        ratio = "" if row.ratio is None else f", ratio {row.ratio}"
        baseline = "" if row.baseline is None else f" (baseline {row.baseline}: {row.baseline_name})"
        print(f"{row.figure}: {row.value} {row.unit}{baseline}{ratio}; target {row.target}: "
              f"{'-' if row.met is None else ('met' if row.met else 'NOT met')}")


if __name__ == "__main__":
    main()
