"""The deadline sweep (spec section 5): reminders before a deadline, an overdue notice and an
escalation once it has passed, a second escalation days later; each at most once per subject,
deadline and kind, however often the sweep runs and even when two sweeps run at once."""
from __future__ import annotations

import io
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from casework import clock
from casework.accounts.models import Company, User
from casework.cases.models import Case
from casework.deadlines import operations
from casework.deadlines.operations import SWEEP_CHUNK, sweep
from casework.evidence import samples
from casework.extensions import db
from casework.notifications.models import Channel, Notification, NotificationKind
from casework.workorders.models import WorkOrder

SWEEP_KINDS = ("reminder", "overdue", "escalation", "second_escalation")
MINUTE = timedelta(minutes=1)


def run_sweep(at: datetime) -> dict[str, int]:
    """One sweep as the periodic task runs it: sweep, then commit."""
    with clock.frozen(at):
        report = sweep()
        db.session.commit()
    db.session.expire_all()
    return report.raised


def received(channel: str = "inbox", **where: int) -> Counter:
    """Sweep notifications per (user id, kind), e.g. ``received(case_id=3)``."""
    query = (select(Notification.user_id, Notification.kind, func.count())
             .where(Notification.channel == Channel(channel),
                    Notification.kind.in_(SWEEP_KINDS))
             .group_by(Notification.user_id, Notification.kind))
    for column, value in where.items():
        query = query.where(getattr(Notification, column) == value)
    return Counter({(user_id, kind.value): n for user_id, kind, n in db.session.execute(query)})


def webhooks(company_id: int, workorder_id: int) -> Counter:
    rows = db.session.scalars(select(Notification).where(
        Notification.channel == Channel.WEBHOOK, Notification.company_id == company_id,
        Notification.workorder_id == workorder_id, Notification.kind.in_(SWEEP_KINDS)))
    return Counter(row.kind.value for row in rows)


def due_at(resource: dict) -> datetime:
    return datetime.fromisoformat(resource["due_at"])


def move_deadline(model: type[Case] | type[WorkOrder], row_id: int, at: datetime) -> None:
    """Puts a deadline where a test needs it, as time passing would."""
    db.session.execute(update(model).where(model.id == row_id).values(due_at=at)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def zone_with_staff(make):
    """A zone with an officer and two supervisors, and another zone with its own supervisor."""
    zone, other_zone = make.zone(), make.zone()
    staff = {"officer": make.user("officer", [zone]),
             "sup1": make.user("supervisor", [zone]), "sup2": make.user("supervisor", [zone]),
             "other_sup": make.user("supervisor", [other_zone])}
    return zone, staff


def test_a_passing_deadline_reminds_the_officer_then_escalates_to_each_zone_supervisor_once(
        app, api, make):
    zone, s = zone_with_staff(make)
    officer, sup1, sup2 = s["officer"], s["sup1"], s["sup2"]
    make.user("supervisor")  # a district supervisor: the zone has its own, so not asked
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
    due = due_at(case)
    officer.email = "officer@example.invalid"
    db.session.commit()
    app.config["CASEWORK_SMTP_HOST"] = "smtp.example.invalid"

    assert run_sweep(due - timedelta(hours=25)) == {}
    assert run_sweep(due - timedelta(hours=23)) == {"reminder": 1}
    assert run_sweep(due - timedelta(hours=1)) == {}
    assert run_sweep(due + MINUTE) == {"overdue": 1, "escalation": 1}
    assert run_sweep(due + timedelta(days=2)) == {}
    assert run_sweep(due + timedelta(days=3) + MINUTE) == {"second_escalation": 1}
    assert run_sweep(due + timedelta(days=3, hours=1)) == {}
    assert run_sweep(due + timedelta(days=30)) == {}

    assert received(case_id=case["id"]) == {
        (officer.id, "reminder"): 1, (officer.id, "overdue"): 1,
        (sup1.id, "escalation"): 1, (sup2.id, "escalation"): 1,
        (sup1.id, "second_escalation"): 1, (sup2.id, "second_escalation"): 1}
    assert received("email", case_id=case["id"]) == {
        (officer.id, "reminder"): 1, (officer.id, "overdue"): 1}
    inbox = api.as_(officer).get("/api/v1/notifications?kind=reminder").get_json()["items"]
    assert [(n["case_id"], case["ref"] in n["subject"]) for n in inbox] == [(case["id"], True)]
    escalation = api.as_(sup2).get("/api/v1/notifications?kind=escalation").get_json()["items"]
    assert len(escalation) == 1 and case["ref"] in escalation[0]["body"]
    assert api.as_(s["other_sup"]).get("/api/v1/notifications").get_json()["items"] == []


def test_without_an_officer_the_zone_supervisors_are_reminded_and_told_it_is_overdue(
        app, api, make):
    zone, s = zone_with_staff(make)
    case = api.as_(s["sup1"]).create_case(make.compound(zone))
    assert case["officer_id"] is None
    due = due_at(case)

    run_sweep(due - timedelta(hours=2))
    run_sweep(due + MINUTE)

    expected = {(s[who].id, kind): 1 for who in ("sup1", "sup2")
                for kind in ("reminder", "overdue", "escalation")}
    assert received(case_id=case["id"]) == expected


def test_a_zone_without_supervisors_escalates_to_the_district_supervisors(app, api, make):
    zone, other_zone = make.zone(), make.zone()
    officer = make.user("officer", [zone])
    district = make.user("supervisor")
    other_sup = make.user("supervisor", [other_zone])
    case = api.as_(officer).create_case(make.compound(zone))

    run_sweep(due_at(case) + MINUTE)

    assert received(case_id=case["id"]) == {(officer.id, "overdue"): 1,
                                            (district.id, "escalation"): 1}
    assert received(user_id=other_sup.id) == {}


def test_a_new_deadline_after_a_trigger_gets_its_own_reminder(app, api, make):
    zone, s = zone_with_staff(make)
    officer = s["officer"]
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
    first_due = due_at(case)
    run_sweep(first_due - timedelta(hours=23))
    run_sweep(first_due + MINUTE)
    assert received(case_id=case["id"])[(officer.id, "overdue")] == 1

    api.as_(officer).attach(case["id"], "ownership_doc")
    fired = api.as_(officer).fire(case["id"], "verify_ownership")
    assert fired.status_code == 200, fired.get_json()
    new_due = due_at(fired.get_json())
    assert new_due > first_due + timedelta(days=3)

    assert run_sweep(new_due - timedelta(hours=23)) == {"reminder": 1}
    assert run_sweep(new_due - timedelta(hours=22)) == {}
    # The first deadline's second escalation is moot: the case has a new deadline now.
    assert received(case_id=case["id"]) == {
        (officer.id, "reminder"): 2, (officer.id, "overdue"): 1,
        (s["sup1"].id, "escalation"): 1, (s["sup2"].id, "escalation"): 1}


def test_closed_and_dismissed_cases_are_not_swept(app, api, make):
    zone, s = zone_with_staff(make)
    officer, sup = s["officer"], s["sup1"]
    compound = make.compound(zone)
    closed = api.as_(officer).create_case(compound, owner_name="演示户主")
    api.as_(officer).attach(closed["id"], "ownership_doc")
    api.as_(officer).attach(closed["id"], "agreement")
    api.as_(officer).attach(closed["id"], "after_photo")
    deadline = (clock.local_today() + timedelta(days=10)).isoformat()
    for who, trigger, fields in [(officer, "verify_ownership", {}),
                                 (officer, "negotiate", {"deadline": deadline}),
                                 (officer, "demolish", {"method": "self"}),
                                 (sup, "close", {"note": "验收合格"})]:
        response = api.as_(who).fire(closed["id"], trigger, **fields)
        assert response.status_code == 200, response.get_json()
    dismissed = api.as_(officer).create_case(compound)
    api.as_(officer).attach(dismissed["id"], "ownership_doc")
    response = api.as_(sup).fire(dismissed["id"], "dismiss", note="合法建筑，有规划许可")
    assert response.get_json()["state"] == "dismissed"
    watched = api.as_(officer).create_case(compound)
    for case in (closed, dismissed, watched):
        make.set_due_at(case["id"], -5)  # as if each had a deadline long past

    raised = run_sweep(clock.now())

    assert raised == {"overdue": 1, "escalation": 1, "second_escalation": 1}
    assert received(case_id=closed["id"]) == {}
    assert received(case_id=dismissed["id"]) == {}
    assert received(case_id=watched["id"])[(officer.id, "overdue")] == 1


def _company_with_webhook(make):
    worker1 = make.user("company", company="演示物业甲")
    worker2 = make.user("company", company="演示物业甲")
    outsider = make.user("company", company="演示物业乙")
    company = db.session.get(Company, worker1.company_id)
    company.webhook_url = "https://hooks.example.invalid/casework"
    company.webhook_secret = "test-secret"
    db.session.commit()
    return company, worker1, worker2, outsider


def _issue(api, user: User, case_id: int, company_id: int, days: int = 2) -> dict:
    response = api.as_(user).post(f"/api/v1/cases/{case_id}/workorders", json={
        "company_id": company_id, "kind": "clear_debris",
        "due_date": (clock.local_today() + timedelta(days=days)).isoformat()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_work_orders_remind_the_company_and_escalate_to_the_zone_supervisors(app, api, make):
    zone, s = zone_with_staff(make)
    company, worker1, worker2, outsider = _company_with_webhook(make)
    case = api.as_(s["officer"]).create_case(make.compound(zone), owner_name="演示户主",
                                             owner_phone="000-0000-0001")
    make.set_due_at(case["id"], 80)  # keep the case's own deadline out of the way
    order = _issue(api, s["officer"], case["id"], company.id)
    due = due_at(order)

    for at in (due - timedelta(hours=23), due - timedelta(hours=22), due + MINUTE,
               due + timedelta(hours=5), due + timedelta(days=3) + MINUTE,
               due + timedelta(days=4)):
        run_sweep(at)

    assert received(workorder_id=order["id"]) == {
        (worker1.id, "reminder"): 1, (worker2.id, "reminder"): 1,
        (worker1.id, "overdue"): 1, (worker2.id, "overdue"): 1,
        (s["sup1"].id, "escalation"): 1, (s["sup2"].id, "escalation"): 1,
        (s["sup1"].id, "second_escalation"): 1, (s["sup2"].id, "second_escalation"): 1}
    assert webhooks(company.id, order["id"]) == {"reminder": 1, "overdue": 1}
    hook = db.session.scalar(select(Notification).where(
        Notification.channel == Channel.WEBHOOK, Notification.kind == "overdue"))
    assert hook.payload["event"] == "overdue"
    assert hook.payload["workorder"]["id"] == order["id"]
    assert "演示户主" not in str(hook.payload) and "000-0000-0001" not in str(hook.payload)
    assert received(user_id=outsider.id) == {}


def test_finished_work_orders_are_not_swept(app, api, make):
    zone, s = zone_with_staff(make)
    officer = s["officer"]
    company, worker, _, _ = _company_with_webhook(make)
    case = api.as_(officer).create_case(make.compound(zone))
    make.set_due_at(case["id"], 80)
    orders = {name: _issue(api, officer, case["id"], company.id)
              for name in ("completed", "verified", "cancelled", "open")}

    def fire(user, order_id, trigger, **fields):
        version = api.as_(user).get(f"/api/v1/workorders/{order_id}").get_json()["version"]
        response = api.as_(user).post(f"/api/v1/workorders/{order_id}/transitions", json={
            "trigger": trigger, "expected_version": version, **fields})
        assert response.status_code == 200, response.get_json()

    for name in ("completed", "verified"):
        order_id = orders[name]["id"]
        fire(worker, order_id, "accept")
        upload = api.as_(worker).post(
            f"/api/v1/workorders/{order_id}/attachments",
            data={"kind": "after_photo", "file": (io.BytesIO(samples.png(f"wo{order_id}")),
                                                  "done.png")},
            content_type="multipart/form-data")
        assert upload.status_code == 201, upload.get_json()
        fire(worker, order_id, "complete", note="已清运")
    fire(officer, orders["verified"]["id"], "verify", note="验收合格")
    fire(officer, orders["cancelled"]["id"], "cancel", note="无需清运")
    for order in orders.values():
        move_deadline(WorkOrder, order["id"], clock.now() - timedelta(days=5))

    raised = run_sweep(clock.now())

    assert raised == {"overdue": 1, "escalation": 1, "second_escalation": 1}
    for name in ("completed", "verified", "cancelled"):
        assert received(workorder_id=orders[name]["id"]) == {}, name
        assert webhooks(company.id, orders[name]["id"]) == {}, name
    assert received(workorder_id=orders["open"]["id"])[(worker.id, "overdue")] == 1


def test_a_sweep_that_dies_before_committing_leaves_nothing_and_the_next_raises_all(
        app, api, make):
    zone, s = zone_with_staff(make)
    case = api.as_(s["officer"]).create_case(make.compound(zone))
    with clock.frozen(due_at(case) + MINUTE):
        assert sweep().raised == {"overdue": 1, "escalation": 1}
        db.session.rollback()  # the worker died before its commit
    assert received(case_id=case["id"]) == {}

    assert run_sweep(due_at(case) + 2 * MINUTE) == {"overdue": 1, "escalation": 1}
    assert sum(received(case_id=case["id"]).values()) == 3


@pytest.mark.parametrize("chunk", [SWEEP_CHUNK, 1], ids=["one-chunk", "chunk-of-one"])
def test_two_sweeps_at_the_same_time_raise_each_alert_once(app, api, make, monkeypatch, chunk):
    # Read one due row at a time, the sweeps meet chunk after chunk: they claim the keys in
    # the order they read them, so neither waits for what the other waits on.
    monkeypatch.setattr(operations, "SWEEP_CHUNK", chunk)
    zone, s = zone_with_staff(make)
    officer, sup1, sup2 = s["officer"], s["sup1"], s["sup2"]
    company, worker1, worker2, _ = _company_with_webhook(make)
    compound = make.compound(zone)
    cases = [api.as_(officer).create_case(compound) for _ in range(4)]
    order = _issue(api, officer, cases[0]["id"], company.id)
    at = clock.now() + timedelta(days=1)
    # Each case at a different point: in its reminder window, just late, long late, and
    # with the same deadline as another (so the two sweeps meet on equal keys).
    for case, days_late in zip(cases, (-0.5, 1, 4, 4)):
        move_deadline(Case, case["id"], at - timedelta(days=days_late))
    move_deadline(WorkOrder, order["id"], at - timedelta(hours=1))
    case_ids = [c["id"] for c in cases]
    ids = {"officer": officer.id, "sup1": sup1.id, "sup2": sup2.id, "worker1": worker1.id,
           "worker2": worker2.id, "company": company.id}
    db.session.remove()  # the test's own session must hold no lock while the sweeps race

    barrier = threading.Barrier(2)
    reports: list[dict] = []
    errors: list[BaseException] = []

    def one_sweep() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                with clock.frozen(at):
                    report = sweep()
                    db.session.commit()
                reports.append(report.raised)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(reports) == 2
    raised = sum((Counter(r) for r in reports), Counter())
    assert raised == {"reminder": 1, "overdue": 4, "escalation": 4, "second_escalation": 2}
    assert run_sweep(at) == {}
    everyone = received()
    o, a, b = ids["officer"], ids["sup1"], ids["sup2"]
    assert everyone == {(o, "reminder"): 1, (o, "overdue"): 3, (a, "escalation"): 4,
                        (b, "escalation"): 4, (a, "second_escalation"): 2,
                        (b, "second_escalation"): 2, (ids["worker1"], "overdue"): 1,
                        (ids["worker2"], "overdue"): 1}
    assert received(case_id=case_ids[0], workorder_id=None) == {(o, "reminder"): 1}
    assert webhooks(ids["company"], order["id"]) == {"overdue": 1}


def test_a_case_whose_officer_has_left_reminds_the_zone_supervisors(api, make):
    zone = make.zone()
    officer = make.user("officer", [zone])
    chief = make.user("supervisor", [zone])
    case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
    officer.active = False
    make.set_due_at(case["id"], 0.5)
    db.session.commit()
    sweep()
    db.session.commit()
    reminded = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == NotificationKind.REMINDER, Notification.channel == Channel.INBOX)).all()
    assert reminded == [chief.id]


def test_a_sweep_reads_what_is_due_chunk_by_chunk_and_raises_each_alert_once(
        app, api, make, monkeypatch):
    monkeypatch.setattr(operations, "SWEEP_CHUNK", 2)
    zone, s = zone_with_staff(make)
    company, worker, _, _ = _company_with_webhook(make)
    compound = make.compound(zone)
    cases = [api.as_(s["officer"]).create_case(compound) for _ in range(5)]
    orders = [_issue(api, s["officer"], cases[0]["id"], company.id) for _ in range(3)]
    at = clock.now() + timedelta(days=1)
    # Three cases share a deadline, so a chunk ends between equal deadlines.
    for case, hours_late in zip(cases, (2, 2, 2, 1, -3)):
        move_deadline(Case, case["id"], at - timedelta(hours=hours_late))
    for order in orders:
        move_deadline(WorkOrder, order["id"], at - timedelta(hours=1))

    assert run_sweep(at) == {"reminder": 1, "overdue": 7, "escalation": 7}
    assert run_sweep(at) == {}
    for case in cases[:4]:
        assert received(case_id=case["id"], workorder_id=None) == {
            (s["officer"].id, "overdue"): 1, (s["sup1"].id, "escalation"): 1,
            (s["sup2"].id, "escalation"): 1}
    for order in orders:
        assert received(workorder_id=order["id"])[(worker.id, "overdue")] == 1
        assert webhooks(company.id, order["id"]) == {"overdue": 1}
