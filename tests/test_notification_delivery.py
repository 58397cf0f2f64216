"""Delivering the outbox to a real SMTP server and a real webhook receiver on loopback."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, func, select

from casework import clock
from casework.accounts.models import Company
from casework.extensions import db
from casework.notifications.delivery import deliver_pending
from casework.notifications.models import (Channel, DeliveryAttempt, Notification,
                                           NotificationKind)
from tests.servers import SmtpSink, WebhookReceiver

SECRET = "whsec-test-0001"


def _attempts(notification_id: int) -> list[DeliveryAttempt]:
    return list(db.session.scalars(select(DeliveryAttempt).where(
        DeliveryAttempt.notification_id == notification_id).order_by(DeliveryAttempt.id)))


def _pending() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.channel != Channel.INBOX, Notification.sent_at.is_(None)))


def _case_that_notifies(api, make, app, smtp_port: int) -> tuple[dict, list]:
    """A case moved by its officer's supervisor: each step emails the officer; demolish and
    dispute email the zone's supervisors too."""
    app.config.update(CASEWORK_SMTP_HOST="127.0.0.1", CASEWORK_SMTP_PORT=smtp_port,
                      CASEWORK_RING_DOORBELL=False)
    zone = make.zone()
    officer = make.user("officer", [zone], email="officer@district.test")
    boss = make.user("supervisor", [zone], email="boss@district.test")
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
    api.as_(officer).attach(case["id"], "ownership_doc")
    assert api.as_(boss).fire(case["id"], "verify_ownership").status_code == 200
    assert api.as_(boss).fire(case["id"], "dispute", note="面积有异议").status_code == 200
    return case, [officer, boss]


def test_emails_wait_while_the_mail_server_is_down_and_go_once_when_it_is_back(api, make, app):
    sink = SmtpSink()
    _case_that_notifies(api, make, app, sink.port)  # the server is not running yet
    expected = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.channel == Channel.EMAIL))
    assert expected == 2  # verify_ownership → officer; dispute → officer (boss acted)

    assert deliver_pending() == 0
    assert _pending() == expected
    failed = db.session.scalars(select(Notification).where(Notification.channel == Channel.EMAIL)).all()
    assert all(n.attempts == 1 and n.last_error and n.next_attempt_at > clock.now() for n in failed)

    sink.start()
    try:
        assert deliver_pending() == 0, "a failed row must wait for its backoff"
        with clock.frozen(clock.now() + timedelta(minutes=5)):
            assert deliver_pending() == expected
            assert deliver_pending() == 0
    finally:
        sink.stop()

    assert sorted(sink.notification_ids()) == sorted(n.id for n in failed)
    assert {m["To"] for m in sink.messages} == {"officer@district.test"}
    for notification in failed:
        attempts = _attempts(notification.id)
        assert [a.ok for a in attempts] == [False, True]
        assert attempts[0].error and attempts[1].status == "250"


def test_email_carries_subject_body_and_a_stable_message_id(api, make, app):
    sink = SmtpSink().start()
    try:
        case, _ = _case_that_notifies(api, make, app, sink.port)
        assert deliver_pending() == 2
    finally:
        sink.stop()
    message = sink.messages[0]
    assert case["ref"] in message["Subject"]
    assert message["Message-ID"] == f"<notification-{message['X-Casework-Notification']}@localhost>"
    assert "演示户主" not in message.as_string(), "owners' personal data never goes out by mail"


def _company_with_hook(make, url: str, secret: str) -> Company:
    company_user = make.user("company", company="安居物业")
    company = company_user.company
    company.webhook_url, company.webhook_secret = url, secret
    db.session.commit()
    return company


def _issue_workorder(api, make, company: Company) -> dict:
    zone = make.zone()
    officer = make.user("officer", [zone])
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主",
                                        owner_phone="000-0000-0001")
    due = (clock.now() + timedelta(days=5)).date().isoformat()
    response = api.as_(officer).post(f"/api/v1/cases/{case['id']}/workorders",
                                     json={"company_id": company.id, "kind": "clear_debris",
                                           "due_date": due, "note": "清运建筑垃圾"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_webhook_is_signed_and_verified_by_the_company(api, make, app):
    app.config["CASEWORK_RING_DOORBELL"] = False
    receiver = WebhookReceiver(SECRET).start()
    try:
        company = _company_with_hook(make, receiver.url, SECRET)
        order = _issue_workorder(api, make, company)
        assert deliver_pending() == 1
    finally:
        receiver.stop()
    assert receiver.rejected == []
    [delivery] = receiver.accepted
    assert delivery["event"] == "workorder_assigned"
    body = delivery["body"]
    assert body["data"]["workorder"]["id"] == order["id"]
    assert body["data"]["workorder"]["case_ref"] == order["case_ref"]
    assert "演示户主" not in str(body) and "000-0000-0001" not in str(body)
    hook = db.session.scalar(select(Notification).where(Notification.channel == Channel.WEBHOOK))
    assert delivery["delivery"] == str(hook.id)
    assert hook.sent_at is not None and [a.ok for a in _attempts(hook.id)] == [True]


def test_a_forged_signature_is_rejected_and_the_row_is_retried_with_backoff(api, make, app):
    app.config["CASEWORK_RING_DOORBELL"] = False
    receiver = WebhookReceiver(SECRET).start()
    try:
        # Casework signs with a secret the company does not hold: the receiver must refuse.
        company = _company_with_hook(make, receiver.url, "not-the-company-secret")
        _issue_workorder(api, make, company)
        assert deliver_pending() == 0
        assert len(receiver.rejected) == 1 and receiver.accepted == []
        hook = db.session.scalar(select(Notification).where(Notification.channel == Channel.WEBHOOK))
        first_retry = hook.next_attempt_at
        assert hook.sent_at is None and hook.attempts == 1 and "401" in hook.last_error

        with clock.frozen(first_retry + timedelta(seconds=1)):
            assert deliver_pending() == 0
        db.session.refresh(hook)
        # Exponential backoff: the second wait is twice the first.
        assert (hook.next_attempt_at - first_retry) > (first_retry - hook.created_at)

        company.webhook_secret = SECRET
        db.session.commit()
        with clock.frozen(hook.next_attempt_at + timedelta(seconds=1)):
            assert deliver_pending() == 1
    finally:
        receiver.stop()
    assert [a.status for a in _attempts(hook.id)] == ["401", "401", "200"]
    assert len(receiver.accepted) == 1


def test_a_receiver_error_is_retried_and_each_attempt_recorded(api, make, app):
    app.config["CASEWORK_RING_DOORBELL"] = False
    receiver = WebhookReceiver(SECRET).start()
    receiver.fail_next = 2
    try:
        company = _company_with_hook(make, receiver.url, SECRET)
        _issue_workorder(api, make, company)
        later = clock.now()
        for _ in range(3):
            later += timedelta(hours=2)
            with clock.frozen(later):
                deliver_pending()
    finally:
        receiver.stop()
    hook = db.session.scalar(select(Notification).where(Notification.channel == Channel.WEBHOOK))
    assert [a.status for a in _attempts(hook.id)] == ["500", "500", "200"]
    assert len(receiver.accepted) == 1 and hook.sent_at is not None


def test_a_row_claimed_by_a_dead_worker_is_free_after_its_lease(api, make, app):
    from casework.notifications.delivery import claim, deliver_claimed

    sink = SmtpSink().start()
    try:
        _case_that_notifies(api, make, app, sink.port)
        claimed = claim(10)  # a worker claims the rows, then stops without sending
        assert len(claimed.ids) == 2
        assert deliver_pending() == 0, "claimed rows are not another worker's before the lease ends"
        lease = app.config["CASEWORK_DELIVERY_LEASE_SECONDS"]
        with clock.frozen(clock.now() + timedelta(seconds=lease + 1)):
            assert deliver_pending() == 2
            assert deliver_claimed(claimed) == (0, False), "the stopped worker's claim is void"
    finally:
        sink.stop()
    assert sorted(sink.notification_ids()) == claimed.ids


def test_a_row_that_cannot_be_sent_is_recorded_and_does_not_stall_the_others(api, make, app):
    sink = SmtpSink().start()
    try:
        _case_that_notifies(api, make, app, sink.port)
        bad = db.session.scalar(select(Notification).where(Notification.channel == Channel.EMAIL)
                                .order_by(Notification.id).limit(1))
        bad.address = "officer@district.test\r\nBcc: someone@else.test"  # a header injection
        db.session.commit()
        assert deliver_pending() == 1
    finally:
        sink.stop()
    db.session.refresh(bad)
    assert bad.sent_at is None and bad.attempts == 1 and bad.claimed_until is None
    assert "cannot build the message" in bad.last_error
    assert [m["To"] for m in sink.messages] == ["officer@district.test"]


def test_a_redirect_is_not_an_acceptance(api, make, app):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app.config["CASEWORK_RING_DOORBELL"] = False
        company = _company_with_hook(make, f"http://127.0.0.1:{server.server_port}/hook", SECRET)
        _issue_workorder(api, make, company)
        assert deliver_pending() == 0
    finally:
        server.shutdown()
        server.server_close()
    hook = db.session.scalar(select(Notification).where(Notification.channel == Channel.WEBHOOK))
    assert hook.sent_at is None and [a.status for a in _attempts(hook.id)] == ["302"]


def test_a_send_whose_worker_died_before_recording_it_is_an_attempt_in_the_trail(api, make, app):
    """The worker takes the row and sends it, then dies before writing the outcome: the
    company got the webhook, so when the row is taken again the trail shows that attempt."""
    from casework.notifications.channels import SENDERS
    from casework.notifications.delivery import claim

    app.config["CASEWORK_RING_DOORBELL"] = False
    receiver = WebhookReceiver(SECRET).start()
    try:
        company = _company_with_hook(make, receiver.url, SECRET)
        _issue_workorder(api, make, company)
        [outgoing] = claim(10).rows
        hook_id = outgoing.id
        SENDERS[outgoing.channel](outgoing)  # delivered; the worker dies here
        lease = app.config["CASEWORK_DELIVERY_LEASE_SECONDS"]
        with clock.frozen(clock.now() + timedelta(seconds=lease + 1)):
            assert deliver_pending() == 1
    finally:
        receiver.stop()
    assert len(receiver.accepted) == 2
    attempts = _attempts(hook_id)
    assert [a.status for a in attempts] == ["interrupted", "200"]
    assert "may have received" in attempts[0].error
    hook = db.session.get(Notification, hook_id)
    db.session.refresh(hook)
    assert hook.attempts == 2 and hook.sent_at is not None and hook.sending_since is None


def _webhook_rows(company: Company, count: int) -> list[int]:
    """``count`` webhooks waiting in the outbox, as the sweep writes them for a company."""
    now = clock.now()
    rows = [Notification(channel=Channel.WEBHOOK, kind=NotificationKind.REMINDER,
                         company_id=company.id, address=company.webhook_url,
                         subject=f"Reminder {n}", body="Due soon.", payload={"n": n},
                         created_at=now, next_attempt_at=now) for n in range(count)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def test_each_delivered_webhook_costs_at_most_two_statements_and_one_commit(make, app):
    app.config["CASEWORK_RING_DOORBELL"] = False
    receiver = WebhookReceiver(SECRET).start()
    statements, commits = [], []

    def count_statement(conn, cursor, statement, parameters, context, executemany):
        if statement != "BEGIN IMMEDIATE":  # how SQLite's transactions start here, not work
            statements.append(statement)

    def count_commit(conn):
        commits.append(conn)

    try:
        company = _company_with_hook(make, receiver.url, SECRET)
        ids = _webhook_rows(company, 40)
        event.listen(db.engine, "before_cursor_execute", count_statement)
        event.listen(db.engine, "commit", count_commit)
        try:
            assert deliver_pending(batch=20) == 40
        finally:
            event.remove(db.engine, "before_cursor_execute", count_statement)
            event.remove(db.engine, "commit", count_commit)
    finally:
        receiver.stop()
    assert sorted(int(hook["delivery"]) for hook in receiver.accepted) == ids
    # Three claims (two of twenty rows, then one finding none), each at most three statements
    # (pick, mark returning what the sends need, the companies' secrets) and a commit; then
    # one statement per sent webhook on PostgreSQL, two on SQLite, and one commit.
    per_row = 1 if db.engine.dialect.name == "postgresql" else 2
    assert len(statements) <= 3 * 3 + per_row * 40
    assert len(commits) <= 3 + 40
    assert all(row.attempts == 1 and row.sent_at is not None and row.claimed_until is None
               for row in db.session.scalars(select(Notification).where(Notification.id.in_(ids))))
    assert db.session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 40
