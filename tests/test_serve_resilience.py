"""bin/serve under attack and under failure, as a real server on a free port: clients that
trickle their headers do not starve it, and a killed worker is replaced while the web keeps
answering, with never more than one beat."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _processes(group: int) -> dict[int, list[str]]:
    """Live processes of a process group, from the process table: pid → argv."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # ended meanwhile
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state != "Z":
            found[int(entry.name)] = [arg.decode(errors="replace") for arg in argv if arg]
    return found


def _celery(group: int, command: str) -> list[int]:
    return sorted(pid for pid, argv in _processes(group).items()
                  if any(arg.endswith("celery") for arg in argv[:3]) and command in argv)


def _health(base: str, timeout: float = 5) -> int:
    with urllib.request.urlopen(f"{base}/healthz", timeout=timeout) as response:
        json.loads(response.read())
        return response.status


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    """bin/serve on a small demo district prepared beforehand (so it starts in seconds)."""
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CASEWORK_UPLOAD_DIR")}
    env.update(CASEWORK_INSTANCE_DIR=str(tmp / "instance"), PORT=str(port),
               CASEWORK_DEMO_PASSWORD="demo-password-for-test", WEB_WORKERS="2")
    for command in (["db", "upgrade"], ["demo", "--structures", "20"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "casework", *command], cwd=ROOT,
                       env=env, check=True, capture_output=True)
    log_path = tmp / "serve.log"
    log = open(log_path, "w+")
    process = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=tmp, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, log_path.read_text()
        try:
            return _health(base, timeout=2) == 200
        except OSError:
            return False

    try:
        wait_until(answers, 180, lambda: log_path.read_text()[-3000:], step=1)
        wait_until(lambda: len(_celery(process.pid, "worker")) == 1, 60, "a worker")
        yield SimpleNamespace(process=process, base=base, port=port, env=env, log=log_path,
                              instance=tmp / "instance")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            log.close()
    assert process.returncode == 0, "bin/serve did not stop cleanly on SIGTERM"


def test_clients_trickling_their_headers_do_not_stall_the_server(serve):
    """The slowloris attack: many connections, each sending one header line a second and never
    finishing. Every other client is still answered, each within seconds."""
    slow = []
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", serve.port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(sock)
    stop = threading.Event()

    def trickle() -> None:
        n = 0
        while not stop.wait(1.0):
            n += 1
            for sock in slow:
                try:
                    sock.sendall(f"X-Slow-{n}: 1\r\n".encode())
                except OSError:
                    pass  # the server may drop a client this slow; that is its right

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        time.sleep(2)  # every slow connection has been accepted and is mid-headers
        answered = []
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            answered.append(_health(serve.base, timeout=5))  # raises if stalled for 5 s
            time.sleep(0.5)
    finally:
        stop.set()
        trickler.join(timeout=5)
        for sock in slow:
            sock.close()
    assert answered and set(answered) == {200}


def test_a_killed_worker_is_replaced_while_the_web_keeps_serving_and_one_beat_runs(serve):
    group = serve.process.pid
    wait_until(lambda: len(_celery(group, "beat")) == 1, 60, "a beat process of its own")
    [worker] = _celery(group, "worker")
    [beat] = _celery(group, "beat")

    os.kill(worker, signal.SIGKILL)
    for _ in range(6):
        assert _health(serve.base) == 200
        time.sleep(0.5)
    wait_until(lambda: len(_celery(group, "worker")) == 1 and _celery(group, "worker") != [worker],
               60, lambda: serve.log.read_text()[-3000:])
    assert serve.process.poll() is None
    assert _celery(group, "beat") == [beat]
    # The new worker has connected to the broker and takes tasks.
    wait_until(lambda: serve.log.read_text().count(" ready.") >= 2, 60,
               lambda: serve.log.read_text()[-3000:])

    # A beat that dies is started again; there is still exactly one.
    os.kill(beat, signal.SIGKILL)
    wait_until(lambda: len(_celery(group, "beat")) == 1 and _celery(group, "beat") != [beat],
               60, lambda: serve.log.read_text()[-3000:])
    assert _health(serve.base) == 200


def _schedule_lock_is_held(schedule: Path) -> bool:
    """Read from /proc/locks, so that looking never takes the lock from the beat."""
    lock = Path(f"{schedule}.lock")
    if not lock.exists():
        return False
    inode = f":{lock.stat().st_ino} "
    return any("FLOCK" in line and inode in line + " "
               for line in Path("/proc/locks").read_text().splitlines())


def test_a_second_beat_on_the_same_schedule_stops_at_once(serve):
    # The beat of bin/serve may have just been started again by the test before this one:
    # the second beat is started only once the first holds the schedule's lock.
    schedule = serve.instance / "celerybeat-schedule"
    wait_until(lambda: _schedule_lock_is_held(schedule), 60, lambda: serve.log.read_text()[-3000:])
    second = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat",
         "--schedule", str(serve.instance / "celerybeat-schedule")],
        cwd=ROOT, env=serve.env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 3, second.stdout + second.stderr
    assert "another beat already runs" in second.stdout + second.stderr
    assert len(_celery(serve.process.pid, "beat")) == 1
