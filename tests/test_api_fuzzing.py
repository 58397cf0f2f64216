"""Schemathesis against the served OpenAPI document, with every role's token: no 5xx, no
undocumented status or content type, no request valid by the document refused (but for the
rules no schema can state, listed in tests/schemathesis.toml), every answer matching its
documented schema. Coverage, fuzzing and stateful phases (the document's links), bounded."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from casework.accounts.models import User
from casework.accounts.operations import issue_token
from casework.demo import load_demo
from casework.extensions import db
from tests.servers import free_port

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = {"admin": "admin", "supervisor": "sup1", "officer": "officer1a", "company": "company1"}


@pytest.fixture
def served_demo(app):
    app.config.update(CASEWORK_RING_DOORBELL=False,
                      CASEWORK_LOGIN_LIMIT="100000 per minute",
                      CASEWORK_LOGIN_ADDRESS_LIMIT="100000 per minute")
    load_demo("fuzzing-password-1", structures=60)
    db.session.commit()
    tokens = {role: issue_token(db.session.scalar(select(User).where(User.username == name)))
              for role, name in ROLES.items()}
    db.session.commit()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", tokens
    server.shutdown()


@pytest.mark.parametrize("role", list(ROLES))
def test_the_api_answers_as_its_document_says_for_every_role(served_demo, role, tmp_path):
    base, tokens = served_demo
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG),
               "run", f"{base}/api/v1/openapi.json",
               "-H", f"Authorization: Bearer {tokens[role]}",
               # Logging out would revoke the token the rest of the run uses.
               "--exclude-path", "/api/v1/auth/logout",
               "--phases", "coverage,fuzzing,stateful", "--checks", "all",
               "--max-examples", os.environ.get("CASEWORK_FUZZ_EXAMPLES", "5"),
               "--seed", os.environ.get("CASEWORK_FUZZ_SEED", "2026"),
               "--no-color"]
    # Its cache of crashes goes to a folder of the test's own, not the repository.
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-6000:]
    assert "generated" in report and " passed" in report, report[-2000:]
