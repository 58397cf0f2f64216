"""``flask audit verify`` recomputes every hash chain and names altered histories."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from casework.cases.models import CaseEvent
from casework.extensions import db


def _case_with_history(api, make) -> dict:
    zone = make.zone()
    officer = make.user("officer", [zone])
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
    api.as_(officer).attach(case["id"], "ownership_doc")
    assert api.as_(officer).fire(case["id"], "verify_ownership", note="核实").status_code == 200
    return case


def _tamper(sql: str, params: dict) -> None:
    """Alters a row behind the application's back, as someone with database access could:
    the append-only trigger has to be switched off first."""
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
            conn.execute(text(sql), params)
            conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER case_events_no_update"))
            conn.execute(text(sql), params)


def test_untouched_histories_verify(api, make, runner):
    _case_with_history(api, make)
    _case_with_history(api, make)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "All 2 case histories verify." in result.output


def test_an_altered_note_is_caught_and_the_case_named(api, make, runner):
    good = _case_with_history(api, make)
    bad = _case_with_history(api, make)
    db.session.commit()
    _tamper("UPDATE case_events SET note = 'nothing happened' "
            "WHERE case_id = :case_id AND trigger = 'verify_ownership'", {"case_id": bad["id"]})

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"ALTERED {bad['ref']}" in result.output
    assert good["ref"] not in result.output
    assert "1 of 2 case histories fail verification." in result.output


def test_a_changed_actor_is_caught(api, make, runner):
    case = _case_with_history(api, make)
    db.session.commit()
    _tamper("UPDATE case_events SET actor = 'someone_else' WHERE case_id = :case_id AND seq = 1",
            {"case_id": case["id"]})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"ALTERED {case['ref']} (case {case['id']}) at event 1" in result.output


def test_a_case_state_that_disagrees_with_its_history_is_caught(api, make, runner):
    case = _case_with_history(api, make)
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET state = 'closed' WHERE id = :id"), {"id": case["id"]})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "history ends in ownership_verified" in result.output


def test_the_database_refuses_to_rewrite_history(api, make):
    case = _case_with_history(api, make)
    db.session.commit()
    with pytest.raises(Exception, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE case_events SET note = 'x' WHERE case_id = :id"),
                         {"id": case["id"]})
    with pytest.raises(Exception, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM case_events WHERE case_id = :id"), {"id": case["id"]})


def test_the_application_refuses_to_edit_an_event(api, make):
    case = _case_with_history(api, make)
    event = db.session.query(CaseEvent).filter_by(case_id=case["id"], seq=1).one()
    event.note = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
