"""A transition costs a fixed, small number of SQL statements, whatever the size of the
database or the number of people told: the token, user and zones in one query; the case
locked with what its guards read; its UPDATE (with the head of its history); the event;
the notifications in one INSERT; the zone's supervisors when they are told; the
idempotency record when a key is sent. At most 7; a count, not a timing."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select

from casework import clock
from casework.cases.history import verify_all
from casework.cases.models import Case, CaseEvent
from casework.extensions import db
from casework.notifications.models import Channel, Notification

MOST = 7


@contextmanager
def statements_sent():
    """Every statement the application sends to its database. Beginning a transaction is
    left out: SQLite's BEGIN IMMEDIATE is sent as a statement, PostgreSQL's driver begins
    on its own (and neither counts its COMMIT)."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _listing(sent: list[str]) -> str:
    return "\n".join(" ".join(statement.split())[:160] for statement in sent)


def test_a_transition_that_tells_officer_and_supervisors_takes_at_most_seven_statements(
        app, api, make):
    app.config["CASEWORK_SMTP_HOST"] = "mail.invalid"  # every recipient gets an email row too
    zone = make.zone()
    officer = make.user("officer", [zone], email="officer@example.org")
    supervisor, colleague = (make.user("supervisor", [zone], email=f"s{n}@example.org")
                             for n in (1, 2))
    case = api.as_(officer).case_in(make.compound(zone), "ownership_verified")
    as_supervisor = api.as_(supervisor)
    told_ids = (officer.id, colleague.id)
    db.session.remove()  # nothing cached in the test's session

    with statements_sent() as sent:
        response = as_supervisor.post(
            f"/api/v1/cases/{case['id']}/transitions",
            json={"trigger": "dispute", "expected_version": case["version"],
                  "note": "业主对产权有异议"},
            headers={"Idempotency-Key": "dispute-1"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "disputed"
    assert len(sent) <= MOST, _listing(sent)
    # Everything the statements were for happened: the event on the chain, the officer and
    # the other supervisor told in the inbox and by email, the supervisor who acted not.
    told = db.session.execute(select(Notification.user_id, Notification.channel).where(
        Notification.case_id == case["id"], Notification.kind == "transition")).all()
    assert sorted(told) == sorted((user_id, channel) for user_id in told_ids
                                  for channel in (Channel.INBOX, Channel.EMAIL))
    last = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case["id"])
                             .order_by(CaseEvent.seq.desc()).limit(1))
    assert (last.trigger, last.to_state) == ("dispute", "disputed")
    head = db.session.execute(select(Case.history_seq, Case.history_hash)
                              .where(Case.id == case["id"])).one()
    assert tuple(head) == (last.seq, last.hash)
    assert list(verify_all()) == []

    replayed = as_supervisor.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"trigger": "dispute", "expected_version": case["version"],
              "note": "业主对产权有异议"},
        headers={"Idempotency-Key": "dispute-1"})
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.get_json() == response.get_json()
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case["id"], CaseEvent.trigger == "dispute")) == 1


def test_a_work_order_step_that_tells_the_officer_takes_at_most_seven_statements(api, make):
    zone = make.zone()
    officer = make.user("officer", [zone])
    company = make.user("company", company="测试物业")
    case = api.as_(officer).create_case(make.compound(zone), owner_name="测试业主")
    due = (clock.local_today() + timedelta(days=7)).isoformat()
    order = api.as_(officer).post(f"/api/v1/cases/{case['id']}/workorders",
                                  json={"company_id": company.company_id,
                                        "kind": "clear_debris", "due_date": due}).get_json()
    as_company = api.as_(company)
    officer_id = officer.id
    db.session.remove()

    with statements_sent() as sent:
        response = as_company.post(f"/api/v1/workorders/{order['id']}/transitions",
                                   json={"trigger": "accept", "expected_version": order["version"]},
                                   headers={"Idempotency-Key": "accept-1"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "accepted"
    assert len(sent) <= MOST, _listing(sent)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.workorder_id == order["id"], Notification.user_id == officer_id,
        Notification.kind == "transition")) == 1
    last = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case["id"])
                             .order_by(CaseEvent.seq.desc()).limit(1))
    assert last.trigger == "workorder_accept"
    assert list(verify_all()) == []
