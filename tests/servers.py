"""Real servers on loopback for the tests that need them: an SMTP server (aiosmtpd), a webhook
receiver, a Redis of the test's own, and Celery worker processes.

Tests that stop or break a server start their own instance on a free port and break that
one, never the machine's shared servers.
"""
from __future__ import annotations

import asyncio
import email
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, what: str | Callable[[], str],
               step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            detail = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout}s waiting for {detail}")
        time.sleep(step)


class SmtpSink:
    """An SMTP server that keeps what it accepts. ``hold_at=n`` makes it stall on the n-th
    message until ``release()``; a message whose client vanishes while stalled is never
    accepted (the server had not answered 250), as with a real mail server."""

    def __init__(self, port: int | None = None, hold_at: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[email.message.Message] = []
        self.hold_at = hold_at
        self.holding = threading.Event()
        self._released = threading.Event()
        self._seen = 0
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self._seen += 1
        if self.hold_at is not None and self._seen == self.hold_at:
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)  # cancelled if the client disconnects meanwhile
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def release(self) -> None:
        self._released.set()

    def start(self) -> "SmtpSink":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def notification_ids(self) -> list[int]:
        return [int(m["X-Casework-Notification"]) for m in self.messages]


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What the README tells a company to do with ``Casework-Signature``, written from the
    README alone: parse t and v1, recompute HMAC-SHA256 over "<t>." + body, compare in
    constant time, refuse old timestamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


class WebhookReceiver:
    """A company's HTTP endpoint: verifies the signature, answers 401 to a forged one, and can
    be told to fail the next N requests with 500."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.accepted: list[dict] = []
        self.rejected: list[bytes] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not verify_signature(receiver.secret, self.headers.get("Casework-Signature", ""), body):
                    receiver.rejected.append(body)
                    self.send_response(401)
                elif receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                else:
                    receiver.accepted.append({"delivery": self.headers.get("Casework-Delivery"),
                                              "event": self.headers.get("Casework-Event"),
                                              "body": json.loads(body)})
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/casework-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RedisServer:
    """A redis-server of the test's own on a free loopback port, keeping nothing on disk."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            # Without the program these tests cannot run here; in CI that is a failure.
            import pytest

            if os.environ.get("CI") == "true" or os.environ.get("CASEWORK_REQUIRE_SERVICES"):
                pytest.fail("redis-server is not installed")
            pytest.skip("redis-server is not installed on this machine")
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, 10, f"redis on port {self.port}")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class CeleryWorker:
    """``celery -A workers.celery_app worker --beat`` as its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path, beat: bool = True) -> None:
        self.env = {**os.environ, **env}
        self.beat = beat
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "CeleryWorker":
        self.log = open(self.log_path, "ab")
        schedule = Path(self.env["CASEWORK_INSTANCE_DIR"]) / f"beat-{time.monotonic_ns()}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
             *(["--beat", "--schedule", str(schedule)] if self.beat else []),
             "--pool", "solo", "--loglevel", "INFO",
             "--hostname", f"test-{time.monotonic_ns()}@%h"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")
