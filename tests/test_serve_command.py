"""The README's run command, as a newcomer runs it: bin/serve on the embedded defaults sets up
the database, loads the demo district, serves the API and runs a worker with beat whose
deadline sweep escalates the demo's overdue cases to supervisors' inboxes."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_bin_serve_runs_the_application_with_demo_data(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CASEWORK_UPLOAD_DIR")}
    env.update(CASEWORK_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port),
               CASEWORK_DEMO_PASSWORD="demo-password-for-test",
               CASEWORK_SWEEP_INTERVAL_SECONDS="5")
    log = open(tmp_path / "serve.log", "w+")
    process = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=tmp_path, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                status, health = _call(f"{base}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(1)
        assert status == 200 and health["database"] is True
        # The site's address is the sign-in page, with its files, served by the same command.
        with urllib.request.urlopen(f"{base}/", timeout=30) as response:
            page = response.read().decode()
            assert response.url == f"{base}/login" and 'name="password"' in page
        with urllib.request.urlopen(f"{base}/static/vendor/htmx-2.0.11/htmx.min.js",
                                    timeout=30) as response:
            assert response.status == 200 and b"htmx" in response.read()

        status, login = _call(f"{base}/api/v1/auth/login",
                              {"username": "district", "password": "demo-password-for-test"})
        assert status == 200, login
        status, cases = _call(f"{base}/api/v1/cases?per_page=5", token=login["token"])
        assert status == 200
        assert cases["total"] == 1245
        status, zones = _call(f"{base}/api/v1/zones", token=login["token"])
        assert len(zones["items"]) == 9
        # The embedded worker (kombu's SQLAlchemy transport on SQLite, beat inside the worker)
        # sweeps the demo's deadlines: an overdue case of zone 1 reaches sup1's inbox.
        status, login = _call(f"{base}/api/v1/auth/login",
                              {"username": "sup1", "password": "demo-password-for-test"})
        deadline = time.monotonic() + 120
        while True:
            status, inbox = _call(f"{base}/api/v1/notifications?kind=escalation&per_page=5",
                                  token=login["token"])
            assert status == 200
            if inbox["total"] > 0:
                break
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-5000:]
            time.sleep(2)
        escalation = inbox["items"][0]
        status, case = _call(f"{base}/api/v1/cases/{escalation['case_id']}", token=login["token"])
        assert status == 200 and case["overdue"] is True
        assert case["ref"] in escalation["subject"]
        output = (tmp_path / "serve.log").read_text()
        assert "Every demo user has the password: demo-password-for-test" in output
        assert (tmp_path / "instance" / "casework.db").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # what Ctrl-C in a terminal amounts to
        try:
            process.wait(timeout=40)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # nothing may outlive the test
            except ProcessLookupError:
                pass
            log.close()
    assert process.returncode == 0, "bin/serve did not stop cleanly on SIGTERM"
