"""The reports' kept counts (``case_counts``, ``case_closures``) stay exactly what a plain
``GROUP BY`` over the cases gives, however the cases change: created through the API and by a
survey import, walked through transitions, reopened, dismissed, moved to a compound of another
zone, given another officer, and written behind the application's back by bulk ``INSERT ...
SELECT``, ``UPDATE`` and ``DELETE``; and the reports read them."""
from __future__ import annotations

import io
import threading
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from casework import clock
from casework.extensions import db
from casework.reports.progress import progress_report
from casework.reports.queries import board_report, officers_report
from tests.test_reports import (_when, expected_board, expected_officers, expected_progress,
                                plan_campaign, three_zones)


def _expected_counts() -> Counter:
    return Counter({tuple(row[:-1]): row[-1] for row in db.session.execute(text(
        "SELECT zone_id, compound_id, coalesce(officer_id, 0), state, kind, difficulty, "
        "count(*) FROM cases GROUP BY zone_id, compound_id, coalesce(officer_id, 0), state, "
        "kind, difficulty"))})


def _expected_closures() -> Counter:
    """Computed here in Python from each finished case's time: its UTC hour."""
    closures: Counter = Counter()
    for zone_id, state, entered, officer_id in db.session.execute(text(
            "SELECT zone_id, state, state_entered_at, coalesce(officer_id, 0) FROM cases "
            "WHERE state IN ('closed', 'dismissed')")):
        hour = _when(entered).astimezone(timezone.utc).replace(minute=0, second=0,
                                                                microsecond=0)
        closures[zone_id, state, hour, officer_id] += 1
    return closures


def _kept(table: str, key: str) -> Counter:
    kept: Counter = Counter()
    for row in db.session.execute(text(f"SELECT {key}, n FROM {table} WHERE n <> 0")):
        values = list(row[:-1])
        if table == "case_closures":
            values[2] = _when(values[2])
        kept[tuple(values)] = row[-1]
    return kept


def assert_counts_exact() -> None:
    db.session.commit()
    assert _kept("case_counts", "zone_id, compound_id, officer_id, state, kind, "
                                "difficulty") == _expected_counts()
    assert _kept("case_closures", "zone_id, state, hour, officer_id") == _expected_closures()
    assert not db.session.scalar(text("SELECT count(*) FROM case_counts WHERE n < 0"))


SURVEY = ("调查编号,片区,小区,类型,地址,难度\n"
          "RC-1,ZA,新小区,违建,1号楼,2\n"
          "RC-2,ZB,新小区,配建棚厦,2号楼,4\n"
          "RC-3,ZC,另一小区,违建,3号楼,1\n")


def test_the_counts_follow_every_change_to_the_cases(api, make):
    d = three_zones(api, make)
    za, zb = d.zones["ZA"], d.zones["ZB"]
    closed = d.case_in("closed", "ZA", 0, difficulty=2)["id"]
    disputed = d.case_in("disputed", "ZA", 1, kind="illegal_structure")["id"]
    d.case_in("negotiated", "ZB", 0)
    dismissed = d.case_in("dismissed", "ZC", 1)["id"]
    assert_counts_exact()

    # Reopened, closed again at another time, dismissed: the finished hours move with them.
    supervisor = api.as_(za.supervisor)
    assert supervisor.fire(closed, "reopen", note="返工", deadline=(
        clock.local_today() + timedelta(days=5)).isoformat()).status_code == 200
    assert_counts_exact()
    d.make.move(dismissed, state_entered_at=3.2)
    d.make.move(closed, state_entered_at=0.1)
    assert_counts_exact()

    # Moved to a compound of another zone, and to another officer.
    moved = api.as_(d.chief).patch(f"/api/v1/cases/{disputed}", json={
        "compound_id": zb.compounds[1].id, "officer_id": zb.officer.id,
        "expected_version": api.as_(d.chief).get(f"/api/v1/cases/{disputed}")
        .get_json()["version"]})
    assert moved.status_code == 200, moved.get_json()
    assert_counts_exact()

    # A survey import (new compounds, several zones in one batch).
    imported = api.as_(d.chief).post(
        "/api/v1/imports", data={"file": (io.BytesIO(SURVEY.encode()), "survey.csv")},
        content_type="multipart/form-data")
    assert imported.status_code in (200, 201), imported.get_json()
    assert imported.get_json()["created"] == 3
    assert_counts_exact()

    # Behind the application's back: bulk copies, a bulk update of states, times and
    # compounds, and deletions of cases that have no history.
    db.session.execute(text(
        "INSERT INTO cases (ref, kind, zone_id, compound_id, address, description, difficulty,"
        " owner_unknown, state, state_entered_at, due_at, officer_id, created_by_id, version,"
        " created_at, updated_at) "
        "SELECT ref || '-copy', kind, zone_id, compound_id, address, description, difficulty,"
        " owner_unknown, state, state_entered_at, due_at, officer_id, created_by_id, 1,"
        " created_at, updated_at FROM cases"))
    assert_counts_exact()
    now = clock.now()
    param = now.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else now
    db.session.execute(text(
        "UPDATE cases SET state = 'closed', state_entered_at = :now, difficulty = 5 "
        "WHERE ref LIKE '%-copy' AND state = 'negotiated'"), {"now": param})
    db.session.execute(text(
        "UPDATE cases SET compound_id = :c, zone_id = :z, officer_id = NULL "
        "WHERE ref LIKE '%-copy' AND state <> 'closed'"),
        {"c": za.compounds[1].id, "z": za.zone.id})
    assert_counts_exact()
    db.session.execute(text("DELETE FROM cases WHERE ref LIKE '%-copy' AND state = 'closed'"))
    assert_counts_exact()
    db.session.execute(text("DELETE FROM cases WHERE ref LIKE '%-copy'"))
    assert_counts_exact()

    # And the reports still give what plain SQL over the cases gives.
    for user in (za.supervisor, d.chief):
        db.session.expire_all()
        assert board_report(user).model_dump(mode="json") == expected_board(user)
        assert officers_report(user).model_dump(mode="json") == expected_officers(user)


def test_hours_cut_by_a_boundary_are_counted_from_the_cases(api, make, app):
    """In a time zone whose midnight is not on a UTC hour (India, UTC+5:30), the hour a week
    or the "last 30 days" begins in is split between the figures exactly."""
    app.config["CASEWORK_TIMEZONE"] = "Asia/Kolkata"
    d = three_zones(api, make)
    body = plan_campaign(d)
    # Four closures minutes either side of the 30-day cut (seldom on a whole hour).
    for minutes in (-20, -1, 1, 20):
        d.make.move(d.case_in("closed", "ZA", 0)["id"], state_entered_at=30 + minutes / 1440)
    # Two either side of the second week's start: Monday 00:00 in Kolkata is 18:30 UTC.
    start = date.fromisoformat(body["start"])
    monday = start + timedelta(days=7 - start.weekday())
    midnight = datetime.combine(monday, time.min, ZoneInfo("Asia/Kolkata"))
    for minutes in (-10, 10):
        moment = midnight + timedelta(minutes=minutes)
        d.make.move(d.case_in("closed", "ZA", 1)["id"],
               state_entered_at=(clock.now() - moment).total_seconds() / 86400)
    assert_counts_exact()
    for user in (d.supervisor, d.chief):
        db.session.expire_all()
        assert officers_report(user).model_dump(mode="json") == expected_officers(user)
        assert progress_report(user).model_dump(mode="json") == expected_progress(user, body)


def test_concurrent_moves_across_the_same_counts_do_not_deadlock(api, make, backend,
                                                                   database_url):
    """Two transactions each moving a case into the other's compound touch the same two
    count rows in opposite directions; the triggers take the rows in key order, so the
    second waits for the first instead of deadlocking."""
    if backend != "postgresql":
        return  # SQLite runs one writer at a time
    d = three_zones(api, make)
    first = d.case_in("identified", "ZA", 0, difficulty=3, kind="shed")["id"]
    second = d.case_in("identified", "ZA", 1, difficulty=3, kind="shed")["id"]
    db.session.commit()
    compounds = [c.id for c in d.zones["ZA"].compounds]
    engine = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def move(case_id: int, compound_id: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE cases SET updated_at = updated_at WHERE id = :id"),
                             {"id": case_id})
                barrier.wait(timeout=10)
                conn.execute(text("UPDATE cases SET compound_id = :c WHERE id = :id"),
                             {"c": compound_id, "id": case_id})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=move, args=(first, compounds[1])),
               threading.Thread(target=move, args=(second, compounds[0]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert errors == []
    assert_counts_exact()
