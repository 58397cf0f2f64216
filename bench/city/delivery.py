"""Webhook delivery from the outbox (issue 10) beside a plain keep-alive sender, same receiver.

``measure(url)`` works on a copy of the city (``<name>_delivery``, dropped at the end), so the
outbox has the city's million inbox rows around the webhooks. It starts a small threaded
HTTP/1.1 keep-alive receiver on loopback in a process of its own, then:

- the baseline: one process posting ``COUNT`` bodies of the same size, one after another,
  over one kept-alive connection (``requests.Session``), no database: messages per second;
- the application: ``COUNT`` webhook rows written to the outbox for a company whose webhook is
  that receiver, delivered by ``WORKERS`` worker-like processes at once (each calls
  ``deliver_pending`` until the outbox is empty, as the ``deliver_notifications`` task does;
  the claims' ``SKIP LOCKED`` shares the rows out): messages per second from the first start
  to the last end, the ratio to the baseline, SQL statements and commits per delivered
  notification, the largest worker's peak RSS.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework .venv/bin/python bench/city/delivery.py [city url] [count]
"""
from __future__ import annotations

import json
import multiprocessing
import resource
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.city.common import Row, StatementCounter, app_for, city_url  # noqa: E402
from bench.city.common import copy_database, drop_database  # noqa: E402

COUNT = 100_000  # the memory bound is for delivering 100,000
WORKERS = 4  # a worker's default concurrency on this machine, as the issue measured it
BODY = json.dumps({"id": 1, "kind": "reminder", "subject": "即将到期：WO-1 (B-1)",
                   "data": {"event": "reminder", "workorder": 1, "case": "B-1",
                            "due_at": "2026-11-27T00:00:00+00:00"}}, ensure_ascii=False).encode()


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(port) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    port.value = server.server_port
    server.serve_forever()


def _plain(url: str, count: int) -> float:
    import requests

    session = requests.Session()
    session.trust_env = False
    started = time.perf_counter()
    for _ in range(count):
        response = session.post(url, data=BODY, headers={"Content-Type": "application/json"},
                                timeout=10, allow_redirects=False)
        response.close()
        assert response.status_code == 200
    return count / (time.perf_counter() - started)


def _fill(db_url: str, hook_url: str, count: int) -> dict:
    """Writes ``count`` webhooks to the outbox for a company whose webhook is the receiver."""
    from casework import clock
    from casework.extensions import db

    app = app_for(db_url, CASEWORK_RING_DOORBELL=False)
    with app.app_context():
        company_id = db.session.execute(text(
            "INSERT INTO companies (name, webhook_url, webhook_secret, created_at) "
            "VALUES ('基准物业', :url, 'whsec-bench', now()) RETURNING id"),
            {"url": hook_url}).scalar()
        now = clock.now()
        db.session.execute(text(
            "INSERT INTO notifications (channel, kind, company_id, address, subject, body, "
            "payload, created_at, attempts, next_attempt_at) "
            "SELECT 'webhook', 'reminder', :company, :url, '即将到期：WO-' || g, '到期提醒', "
            "json_build_object('event', 'reminder', 'workorder', g), :now, 0, :now "
            "FROM generate_series(1, :count) g"),
            {"company": company_id, "url": hook_url, "now": now, "count": count})
        db.session.commit()
    return {"written": count}


def _deliver(db_url: str) -> dict:
    """One worker-like process: ``deliver_pending`` until the outbox is empty."""
    from casework.extensions import db
    from casework.notifications.delivery import deliver_pending

    app = app_for(db_url, CASEWORK_RING_DOORBELL=False)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        commits: list[int] = []

        def commit(conn) -> None:
            commits.append(1)

        event.listen(db.engine, "commit", commit)
        with StatementCounter(db.engine, keep_parameters=False) as counter:
            started = time.time()
            sent = 0
            while done := deliver_pending():
                sent += done
            ended = time.time()
        event.remove(db.engine, "commit", commit)
    return {"sent": sent, "started": started, "ended": ended, "statements": counter.count,
            "commits": len(commits),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _children(args: list[list[str]]) -> list[dict]:
    running = [subprocess.Popen([sys.executable, __file__, *a], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for a in args]
    results = []
    for child in running:
        out, err = child.communicate()
        if child.returncode:
            raise RuntimeError(err[-3000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def measure(url: str, count: int = COUNT) -> list[Row]:
    port = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    copy = None
    try:
        while not port.value:
            time.sleep(0.05)
        hook_url = f"http://127.0.0.1:{port.value}/hook"
        plain = _plain(hook_url, count)
        copy = copy_database(url, f"{make_url(url).database}_delivery")
        _children([["--fill", copy, hook_url, str(count)]])
        workers = _children([["--deliver", copy]] * WORKERS)
        ours = {"sent": sum(w["sent"] for w in workers),
                "seconds": max(w["ended"] for w in workers) - min(w["started"] for w in workers),
                "statements": sum(w["statements"] for w in workers),
                "commits": sum(w["commits"] for w in workers),
                "rss_mb": max(w["rss_mb"] for w in workers)}
    finally:
        server.terminate()
        if copy:
            drop_database(copy)
    rate = ours["sent"] / ours["seconds"]
    per = ours["statements"] / ours["sent"]
    return [
        Row(figure=f"webhook delivery, {ours['sent']:,} to a loopback keep-alive receiver, "
                   f"{WORKERS} worker-like processes", value=rate, unit="/s", baseline=plain,
            baseline_name="plain keep-alive sender (requests.Session), one process",
            ratio=rate / plain, target="≥ 0.20 of the plain sender", met=rate / plain >= 0.20),
        Row(figure="SQL statements per delivered webhook (each result one autocommit "
                   f"statement; {ours['commits']} explicit commits, the claims')",
            value=per, unit="statements", target="≤ 2 statements and 1 commit",
            met=per <= 2 and ours["commits"] / ours["sent"] <= 1.05),
        Row(figure=f"delivery peak RSS ({ours['sent']:,} webhooks)", value=ours["rss_mb"],
            unit="MB (largest of the workers)", target="< 300 MB", met=ours["rss_mb"] < 300),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fill"]:
        print(json.dumps(_fill(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    elif sys.argv[1:2] == ["--deliver"]:
        print(json.dumps(_deliver(sys.argv[2])))
    else:
        target = sys.argv[1] if len(sys.argv) > 1 else city_url()
        for row in measure(target, int(sys.argv[2]) if len(sys.argv) > 2 else COUNT):
            print(f"{row.figure}: {row.value:.2f} {row.unit}"
                  + (f" | {row.baseline_name} {row.baseline:.1f} | ratio {row.ratio:.3f}"
                     if row.baseline else "") + f" | {row.target} | met={row.met}")
