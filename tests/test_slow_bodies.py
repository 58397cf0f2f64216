"""A client that sends its body slowly holds no transaction, so it locks nobody out; a write
that cannot get the database in time answers 503 with Retry-After, never 500."""
from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import urllib.request

import pytest
from werkzeug.serving import make_server

from casework.cases.models import Case
from casework.extensions import db
from tests.servers import free_port
from tests.support import PASSWORD, assert_error


@pytest.fixture
def served(app):
    app.config["CASEWORK_SQLITE_BUSY_MS"] = 1000
    db.engine.dispose()  # new connections take the shorter busy timeout
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", port
    server.shutdown()


def _login(base: str, username: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login", method="POST",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_body_sent_slowly_locks_no_one_out(served, make, backend):
    base, port = served
    compound = make.compound()
    officer = make.user("officer", zones=[compound.zone])
    token = make.token(officer)
    body = json.dumps({"kind": "shed", "compound_id": compound.id, "address": "慢速请求"}).encode()
    username = officer.username
    db.session.rollback()  # this test's own session holds nothing while the server works
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall((f"POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
                 + body[:10])
    time.sleep(0.5)  # the server has the headers and waits for the rest of the body
    started = time.monotonic()
    assert _login(base, username) == 200
    assert _login(base, username) == 200
    assert time.monotonic() - started < 5
    slow.sendall(body[10:])
    answer = slow.makefile("rb").read().decode("utf-8", "replace")
    slow.close()
    assert answer.startswith("HTTP/1.1 201"), answer[:300]
    db.session.expire_all()
    assert db.session.query(Case).filter_by(address="慢速请求").count() == 1


def test_a_write_that_cannot_get_the_database_in_time_is_503_and_changes_nothing(
        app, api, make, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows, not the database")
    compound = make.compound()
    officer = api.as_(make.user("officer", zones=[compound.zone]))
    compound_id = compound.id
    app.config["CASEWORK_SQLITE_BUSY_MS"] = 200
    db.session.rollback()
    db.engine.dispose()
    blocker = sqlite3.connect(database_url[len("sqlite:///"):], isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = officer.post("/api/v1/cases", json={"kind": "shed", "compound_id": compound_id})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    error = assert_error(response, 503, "busy")
    assert response.headers["Retry-After"] == "5"
    assert "nothing was changed" in error["message"]
    assert db.session.query(Case).count() == 0
