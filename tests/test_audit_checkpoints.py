"""Signed checkpoints: someone with write access to the database rewrites a history and
recomputes every hash after the change; ``audit verify`` still names the case, because the
chain no longer passes through the head that a key outside the database signed."""
from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import select, text

from casework.cases.checkpoints import AuditCheckpoint
from casework.cases.history import _hash_of, recompute_chains
from casework.cases.models import CaseEvent
from casework.extensions import db
from tests.test_audit_verify import _case_with_history
from workers.schedule import beat_schedule
from workers.tasks import sign_audit_checkpoint


def _rewrite_with_new_hashes(case_id: int, seq: int, note: str) -> None:
    """What a database administrator could do: change one event, then recompute its hash and
    every later link so that the chain is whole again."""
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.seq)).all()
    db.session.expunge_all()  # edited in memory only; the rows change through _tamper
    db.session.rollback()  # and the test's own transaction must not hold SQLite's lock
    rows, prev = [], None
    for event in events:
        if event.seq == seq:
            event.note = note
        if prev is not None:
            event.prev_hash = prev
        event.hash = _hash_of(event)
        prev = event.hash
        rows.append({"id": event.id, "note": event.note, "prev_hash": event.prev_hash,
                     "hash": event.hash})
    _as_dba("UPDATE case_events SET note = :note, prev_hash = :prev_hash, hash = :hash "
            "WHERE id = :id", rows)


def _as_dba(sql: str, params: list[dict] | dict) -> None:
    """Writes behind the application's back, the append-only trigger switched off if need be."""
    with db.engine.begin() as conn:
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS case_events_no_update"))
        conn.execute(text(sql), params)
        if postgres:
            conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))


def test_a_history_rewritten_with_recomputed_hashes_fails_against_the_checkpoint(
        api, make, runner):
    good = _case_with_history(api, make)
    bad = _case_with_history(api, make)
    signed = runner.invoke(args=["audit", "checkpoint"])
    assert signed.exit_code == 0, signed.output
    assert "of 2 case histories" in signed.output

    _rewrite_with_new_hashes(bad["id"], 1, "此案从未立案")
    # The chain alone is whole again: only the signature can tell.
    assert not [chain.broken for chain in recompute_chains() if chain.broken]
    db.session.rollback()

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"ALTERED {bad['ref']} (case {bad['id']})" in result.output
    assert "signed checkpoint" in result.output
    assert good["ref"] not in result.output
    assert "1 of 2 case histories fail verification." in result.output


def test_the_next_checkpoint_does_not_bless_a_rewritten_history(api, make, runner):
    case = _case_with_history(api, make)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _rewrite_with_new_hashes(case["id"], 2, "另有其事")
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"ALTERED {case['ref']}" in result.output


def test_history_that_grows_after_the_checkpoint_verifies(api, make, runner):
    case = _case_with_history(api, make)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    zone = make.zone()
    officer = api.as_(make.user("officer", [zone]))
    officer.create_case(make.compound(zone))
    supervisor = api.as_(make.user("supervisor"))
    assert supervisor.fire(case["id"], "dispute", note="户主有异议").status_code == 200

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "(1 cases)" in result.output
    assert "All 2 case histories verify." in result.output


def test_a_checkpoint_forged_without_the_key_is_refused(api, make, runner, app, tmp_path):
    case = _case_with_history(api, make)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _rewrite_with_new_hashes(case["id"], 1, "伪造")
    # The forger signs a fresh checkpoint over the rewritten history with a key of their own.
    own_key = app.config["CASEWORK_AUDIT_KEY_FILE"]
    app.config["CASEWORK_AUDIT_KEY_FILE"] = str(tmp_path / "forger.key")
    _as_dba("DELETE FROM audit_checkpoints", {})
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    app.config["CASEWORK_AUDIT_KEY_FILE"] = own_key

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "FORGED checkpoint" in result.output


def test_an_edited_checkpoint_fails_its_signature(api, make, runner):
    case = _case_with_history(api, make)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _rewrite_with_new_hashes(case["id"], 1, "改写")
    new_head = db.session.scalar(select(CaseEvent.hash).where(CaseEvent.case_id == case["id"])
                                 .order_by(CaseEvent.seq.desc()).limit(1))
    checkpoint = db.session.scalar(select(AuditCheckpoint))
    payload = checkpoint.payload.replace(checkpoint.payload.split('"')[-2], new_head)
    assert payload != checkpoint.payload
    db.session.rollback()
    _as_dba("UPDATE audit_checkpoints SET payload = :payload", {"payload": payload})

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "signature does not match" in result.output


def test_the_key_is_made_on_first_use_for_its_owner_only_and_never_stored_in_the_database(
        api, make, runner, app):
    _case_with_history(api, make)
    key_file = Path(app.config["CASEWORK_AUDIT_KEY_FILE"])
    assert not key_file.exists()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_text()
    assert "PRIVATE KEY" in pem
    secret_line = pem.splitlines()[1]
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert not any(secret_line in str(value) for value in row), table.name
    # The same key signs the next one.
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    assert key_file.read_text() == pem
    assert len({c.key_id for c in db.session.scalars(select(AuditCheckpoint))}) == 1


def test_beat_signs_a_checkpoint_daily(api, make, app, runner):
    _case_with_history(api, make)
    entry = beat_schedule(app.config)["audit-checkpoint"]
    assert entry["task"] == sign_audit_checkpoint.name
    assert sign_audit_checkpoint.run() == 1
    db.session.rollback()
    assert db.session.scalar(select(text("count(*)")).select_from(AuditCheckpoint)) == 1
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
