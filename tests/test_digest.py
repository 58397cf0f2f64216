"""The morning digest (spec section 5): every active supervisor gets one a local day, counting
the structures identified and closed yesterday and those overdue now, in their zones (the whole
district for a supervisor with no zone), in their language."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from casework import clock
from casework.cases.models import Case
from casework.deadlines.operations import send_digests
from casework.extensions import db
from casework.notifications.models import Channel, Notification, NotificationKind

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def digest_at(at: datetime) -> int:
    with clock.frozen(at):
        sent = send_digests()
        db.session.commit()
    return sent


def digests_per_user() -> dict[int, int]:
    rows = db.session.execute(
        select(Notification.user_id, func.count())
        .where(Notification.kind == NotificationKind.DIGEST, Notification.channel == Channel.INBOX)
        .group_by(Notification.user_id))
    return dict(rows.all())


def make_overdue(case_id: int, at: datetime) -> None:
    db.session.execute(update(Case).where(Case.id == case_id).values(due_at=at)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def test_each_active_supervisor_gets_one_digest_per_local_day(app, make):
    zone = make.zone()
    sup_zone = make.user("supervisor", [zone])
    sup_district = make.user("supervisor")
    retired = make.user("supervisor", [zone])
    retired.active = False
    db.session.commit()
    make.user("officer", [zone])  # officers get no digest
    day = clock.local_today()

    # 07:30 in Shanghai is still the previous day in UTC; noon is the next UTC day.
    assert digest_at(local(day, 7, 30)) == 2
    assert digest_at(local(day, 12)) == 0
    assert digest_at(local(day, 23, 59)) == 0
    assert digests_per_user() == {sup_zone.id: 1, sup_district.id: 1}

    assert digest_at(local(day + timedelta(days=1), 0, 5)) == 2
    assert digest_at(local(day + timedelta(days=1), 7, 30)) == 0
    assert digests_per_user() == {sup_zone.id: 2, sup_district.id: 2}


def _fire(api, user, case_id: int, trigger: str, **fields) -> None:
    response = api.as_(user).fire(case_id, trigger, **fields)
    assert response.status_code == 200, response.get_json()


def _closed_case(api, officer, supervisor, compound, created: datetime, closed: datetime) -> dict:
    with clock.frozen(created):
        case = api.as_(officer).create_case(compound, owner_name="演示户主")
        for kind in ("ownership_doc", "agreement", "after_photo"):
            api.as_(officer).attach(case["id"], kind)
        _fire(api, officer, case["id"], "verify_ownership")
        _fire(api, officer, case["id"], "negotiate",
              deadline=(clock.local_today() + timedelta(days=10)).isoformat())
        _fire(api, officer, case["id"], "demolish", method="self")
    with clock.frozen(closed):
        _fire(api, supervisor, case["id"], "close", note="验收合格")
    return case


def _inbox_digest(api, user) -> dict:
    items = api.as_(user).get("/api/v1/notifications?kind=digest").get_json()["items"]
    assert len(items) == 1, items
    return items[0]


def test_digest_counts_yesterdays_new_and_closed_and_todays_overdue_per_zone(app, api, make):
    zone_a, zone_b = make.zone(), make.zone()
    officer_a, officer_b = make.user("officer", [zone_a]), make.user("officer", [zone_b])
    sup_a, sup_b = make.user("supervisor", [zone_a]), make.user("supervisor", [zone_b])
    district = make.user("supervisor")
    district.locale = "en"
    db.session.commit()
    compound_a, compound_b = make.compound(zone_a), make.compound(zone_b)
    yesterday = clock.local_today()
    today = yesterday + timedelta(days=1)
    before = yesterday - timedelta(days=1)

    def create(officer, compound, at: datetime) -> dict:
        with clock.frozen(at):
            return api.as_(officer).create_case(compound)

    # New yesterday: the first and last minute of the local day count, the days around do not.
    new_a1 = create(officer_a, compound_a, local(yesterday, 0, 0))
    new_a2 = create(officer_a, compound_a, local(yesterday, 23, 59))
    create(officer_a, compound_a, local(before, 23, 59))
    create(officer_a, compound_a, local(today, 6))
    new_b = create(officer_b, compound_b, local(yesterday, 9))
    late_b = create(officer_b, compound_b, local(before, 9))
    # Closed yesterday (closed, reopened for rework and closed again: still one structure),
    # and one closed the day before, which does not count.
    reworked = _closed_case(api, officer_a, sup_a, compound_a, local(before, 9),
                            local(yesterday, 10))
    with clock.frozen(local(yesterday, 11)):
        _fire(api, sup_a, reworked["id"], "reopen", note="验收不达标，重新施工",
              deadline=(yesterday + timedelta(days=5)).isoformat())
        _fire(api, officer_a, reworked["id"], "demolish", method="self")
    with clock.frozen(local(yesterday, 15)):
        _fire(api, sup_a, reworked["id"], "close", note="复验合格")
    _closed_case(api, officer_b, sup_b, compound_b, local(before, 8), local(before, 16))
    # Overdue at the time of the digest: one in zone A, two in zone B; a deadline later this
    # morning is not overdue yet, and a closed case with an old deadline is not counted.
    make_overdue(new_a1["id"], local(today, 7))
    make_overdue(new_a2["id"], local(today, 9))
    make_overdue(new_b["id"], local(yesterday, 12))
    make_overdue(late_b["id"], local(before, 12))
    make_overdue(reworked["id"], local(before, 12))

    assert digest_at(local(today, 7, 30)) == 3

    a = _inbox_digest(api, sup_a)
    assert a["subject"] == f"{yesterday.isoformat()} 工作日报：新增 2，逾期 1，结案 1"
    assert "新摸排 2 处，昨日验收结案 1 处，目前逾期 1 处" in a["body"]
    assert new_a1["ref"] in a["body"] and new_b["ref"] not in a["body"]
    assert zone_a.name in a["body"] and zone_b.name not in a["body"]

    b = _inbox_digest(api, sup_b)
    assert b["subject"] == f"{yesterday.isoformat()} 工作日报：新增 1，逾期 2，结案 0"
    assert new_b["ref"] in b["body"] and late_b["ref"] in b["body"]
    assert new_a1["ref"] not in b["body"]

    whole = _inbox_digest(api, district)
    assert whole["subject"] == f"Digest for {yesterday.isoformat()}: 3 new, 3 overdue, 1 closed"
    assert "3 structures identified, 1 closed; 3 overdue now." in whole["body"]
    assert all(c["ref"] in whole["body"] for c in (new_a1, new_b, late_b))
    assert new_a2["ref"] not in whole["body"] and reworked["ref"] not in whole["body"]
