"""The reports (backlog, board, progress, officers): every figure the API and the command line
give is computed again here, independently, with plain SQL over the same database, for a zone
supervisor and for the district's supervisor; companies get 404; and the number of SQL
statements a report takes does not grow with the number of cases or compounds."""
from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from sqlalchemy import bindparam, event, text

from casework import clock
from casework.accounts.models import User
from casework.extensions import db
from casework.reports.progress import progress_report
from casework.reports.queries import backlog_report, board_report, officers_report
from tests.support import District

STATES = ["identified", "ownership_verified", "negotiated", "demolished", "closed", "disputed",
          "dismissed"]
OPEN = ["identified", "ownership_verified", "negotiated", "demolished", "disputed"]
REPORTS = ["backlog", "board", "progress", "officers"]


def three_zones(api, make) -> District:
    """The reports' district: zones ZA, ZB and ZC with two compounds each."""
    return District(api, make, ("ZA", "ZB", "ZC"), compounds=2)


@pytest.fixture
def district(api, make) -> District:
    d = three_zones(api, make)
    # Zone A, first compound: work under way (red); second: all done (green).
    plan_a = [("identified", 1, 0.6), ("identified", 4, 12.4), ("ownership_verified", 2, 3.5),
              ("negotiated", 3, 20.5), ("demolished", 5, 30.5), ("disputed", 2, 9.5),
              ("closed", 1, 2.5), ("closed", 2, 15.5), ("closed", 3, 40.5)]
    for n, (state, difficulty, age) in enumerate(plan_a):
        case_id = d.case_in(state, "ZA", 0, difficulty=difficulty,
                            kind="shed" if n % 2 else "illegal_structure")["id"]
        d.make.move(case_id, created_at=age + 60, state_entered_at=age)
    for state, age in (("closed", 5.5), ("closed", 26.5), ("closed", 85.5), ("dismissed", 8.5)):
        d.make.move(d.case_in(state, "ZA", 1, difficulty=2)["id"], created_at=age + 10,
                    state_entered_at=age)
    # Zone B: everything still preparing (yellow), two of them late; its second compound empty.
    for n, state in enumerate(["identified", "identified", "ownership_verified"]):
        case_id = d.case_in(state, "ZB", 0, difficulty=n + 1)["id"]
        d.make.move(case_id, created_at=14.5 + n, state_entered_at=3.5 + n)
    # Zone C: a little of everything, closures spread over the weeks.
    for state, age in (("negotiated", 4.5), ("demolished", 6.5), ("closed", 1.5), ("closed", 33.5),
                       ("closed", 48.5), ("dismissed", 20.5)):
        d.make.move(d.case_in(state, "ZC", 1, kind="shed")["id"], created_at=age + 30,
                    state_entered_at=age)
    # Deadlines: some open cases late, one final case whose old deadline has passed (not late).
    late = db.session.scalars(text(
        "SELECT id FROM cases WHERE state IN ('identified', 'negotiated', 'closed') "
        "ORDER BY id")).all()
    for case_id in late[::2]:
        d.make.set_due_at(case_id, -2.5)
    return d


# Figures computed here, with plain SQL --------------------------------------------------------

def _visible_zone_ids(user: User) -> list[int]:
    if user.role.value == "admin" or not user.zones:
        return list(db.session.scalars(text("SELECT id FROM zones ORDER BY code")))
    return list(db.session.scalars(text(
        "SELECT z.id FROM zones z JOIN user_zones uz ON uz.zone_id = z.id "
        "WHERE uz.user_id = :u ORDER BY z.code"), {"u": user.id}))


def _when(value) -> datetime:
    """A time as the driver returns it: aware on PostgreSQL, naive UTC text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _scalar(sql: str, **params) -> int:
    statement = text(sql)
    if "zones" in params:
        statement = statement.bindparams(bindparam("zones", expanding=True))
    return int(db.session.execute(statement, params).scalar() or 0)


def _now_param():
    """Now, as a bind value the database compares with the stored times (SQLite keeps them as
    naive UTC text)."""
    return _as_param(clock.now())


def _as_param(moment: datetime):
    if db.engine.dialect.name == "sqlite":
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def expected_backlog(user: User) -> dict:
    now, now_param = clock.now(), _now_param()
    zones = []
    for zone_id in _visible_zone_ids(user):
        code, name = db.session.execute(text("SELECT code, name FROM zones WHERE id = :z"),
                                        {"z": zone_id}).one()
        figures = {"states": {s: _scalar("SELECT count(*) FROM cases WHERE zone_id = :z AND "
                                         "state = :s", z=zone_id, s=s) for s in STATES}}
        figures["open"] = sum(figures["states"][s] for s in OPEN)
        figures["done"] = figures["states"]["closed"] + figures["states"]["dismissed"]
        figures["overdue"] = _scalar(
            "SELECT count(*) FROM cases WHERE zone_id = :z AND due_at <= :now AND state NOT IN "
            "('closed', 'dismissed')", z=zone_id, now=now_param)
        oldest = {}
        for s in OPEN:
            first = db.session.execute(text("SELECT min(created_at) FROM cases WHERE zone_id = :z "
                                            "AND state = :s"), {"z": zone_id, "s": s}).scalar()
            oldest[s] = None if first is None else (now - _when(first)).days
        figures["oldest_open_days"] = oldest
        figures["by_kind"] = {k: {s: _scalar("SELECT count(*) FROM cases WHERE zone_id = :z AND "
                                             "state = :s AND kind = :k", z=zone_id, s=s, k=k)
                                  for s in STATES} for k in ("illegal_structure", "shed")}
        figures["open_by_difficulty"] = {
            str(d): _scalar("SELECT count(*) FROM cases WHERE zone_id = :z AND difficulty = :d "
                            "AND state NOT IN ('closed', 'dismissed')", z=zone_id, d=d)
            for d in range(1, 6)}
        zones.append({"zone": {"id": zone_id, "code": code, "name": name}, **figures})
    total = {
        "states": {s: sum(z["states"][s] for z in zones) for s in STATES},
        "open": sum(z["open"] for z in zones), "done": sum(z["done"] for z in zones),
        "overdue": sum(z["overdue"] for z in zones),
        "oldest_open_days": {s: max((z["oldest_open_days"][s] for z in zones
                                     if z["oldest_open_days"][s] is not None), default=None)
                             for s in OPEN},
        "by_kind": {k: {s: sum(z["by_kind"][k][s] for z in zones) for s in STATES}
                    for k in ("illegal_structure", "shed")},
        "open_by_difficulty": {d: sum(z["open_by_difficulty"][d] for z in zones)
                               for d in ("1", "2", "3", "4", "5")},
    }
    return {"zones": zones, "total": total}


def expected_board(user: User) -> dict:
    now = _now_param()
    tiles = []
    rows = db.session.execute(text(
        "SELECT c.id, c.zone_id, c.name FROM compounds c JOIN zones z ON z.id = c.zone_id "
        "ORDER BY z.code, c.name, c.id")).all()
    for compound_id, zone_id, name in rows:
        if zone_id not in _visible_zone_ids(user):
            continue
        counts = {s: _scalar("SELECT count(*) FROM cases WHERE compound_id = :c AND state = :s",
                             c=compound_id, s=s) for s in STATES}
        total = sum(counts.values())
        done = counts["closed"] + counts["dismissed"]
        preparing = counts["identified"] + counts["ownership_verified"]
        colour = ("grey" if total == 0 else "green" if done == total
                  else "yellow" if preparing == total else "red")
        tiles.append({"id": compound_id, "zone_id": zone_id, "name": name, "counts": counts,
                      "total": total, "done": done,
                      "done_pct": round(100 * done / total, 1) if total else 0.0,
                      "colour": colour,
                      "overdue": _scalar("SELECT count(*) FROM cases WHERE compound_id = :c AND "
                                         "due_at <= :now AND state NOT IN ('closed', 'dismissed')",
                                         c=compound_id, now=now)})
    return {"compounds": tiles}


def expected_officers(user: User) -> dict:
    zone_ids = _visible_zone_ids(user)
    month_ago = _as_param(clock.now() - timedelta(days=30))
    people = db.session.execute(text(
        "SELECT DISTINCT u.id, u.username, u.display_name FROM users u "
        "LEFT JOIN user_zones uz ON uz.user_id = u.id "
        "LEFT JOIN cases c ON c.officer_id = u.id "
        "WHERE (u.role = 'officer' AND uz.zone_id IN :zones) OR c.zone_id IN :zones "
        "ORDER BY u.username").bindparams(bindparam("zones", expanding=True)),
        {"zones": zone_ids}).all()
    officers = []
    for user_id, username, display_name in people:
        def count(condition: str, **params) -> int:
            return _scalar("SELECT count(*) FROM cases WHERE officer_id = :u AND zone_id IN :zones "
                           f"AND {condition}", u=user_id, zones=zone_ids, **params)
        officers.append({
            "user": {"id": user_id, "username": username, "display_name": display_name},
            "open": count("state NOT IN ('closed', 'dismissed')"),
            "overdue": count("state NOT IN ('closed', 'dismissed') AND due_at <= :now",
                             now=_now_param()),
            "done_last_30_days": count("state IN ('closed', 'dismissed') AND "
                                       "state_entered_at >= :since", since=month_ago)})
    return {"officers": officers}


def _planned(start: date, end: date, target: int, milestones: list[dict], day: date) -> int:
    length = (end - start).days + 1
    points = [(0, 0)] + [((date.fromisoformat(m["date"]) - start).days + 1, m["cumulative_done"])
                         for m in milestones] + [(length, target)]
    x = min(max((day - start).days + 1, 0), length)
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return math.floor(y0 + (y1 - y0) * (x - x0) / (x1 - x0) + 0.5)
    return target


def _progress_figures(target, closed_times, start, end, plans, tz, today, now) -> dict:
    weeks, monday = [], start - timedelta(days=start.weekday())
    while monday <= today:
        weeks.append(monday)
        monday += timedelta(days=7)
    local = [t.astimezone(tz).date() for t in closed_times]
    baseline = sum(1 for day in local if day < start)
    series, cumulative = [], baseline
    for monday in weeks:
        closed = sum(1 for day in local if day >= start and monday <= day < monday + timedelta(7))
        cumulative += closed
        year, week, _ = monday.isocalendar()
        series.append({"week": f"{year}-W{week:02d}", "closed": closed,
                       "cumulative_done": cumulative,
                       "planned": sum(_planned(start, end, t, m, monday + timedelta(6))
                                      for t, m in plans)})
    remaining = max(target - len(local), 0)
    recent = sum(1 for t in closed_times if t > now - timedelta(days=28))
    forecast = (today if remaining == 0 else None if recent == 0
                else today + timedelta(days=math.ceil(remaining * 28 / recent)))
    return {"target": target, "series": series, "recent_rate": round(recent / 4, 2),
            "forecast_finish": forecast and forecast.isoformat(),
            "needed_per_week": (0 if remaining == 0 else
                                math.ceil(remaining * 7 / ((end - today).days + 1))),
            "at_risk": remaining > 0 and (forecast is None or forecast > end)}


def expected_progress(user: User, campaign: dict) -> dict:
    tz = ZoneInfo(current_app.config["CASEWORK_TIMEZONE"])
    now = clock.now()
    today = now.astimezone(tz).date()
    start, end = date.fromisoformat(campaign["start"]), date.fromisoformat(campaign["end"])
    own = {z["zone_id"]: z for z in campaign["zones"]}
    zones, everything, all_plans = [], [], []
    for zone_id in _visible_zone_ids(user):
        code, name = db.session.execute(text("SELECT code, name FROM zones WHERE id = :z"),
                                        {"z": zone_id}).one()
        closed = [_when(t) for t in db.session.scalars(text(
            "SELECT state_entered_at FROM cases WHERE zone_id = :z AND state = 'closed'"),
            {"z": zone_id})]
        target = own.get(zone_id, {}).get("target")
        if target is None:
            target = _scalar("SELECT count(*) FROM cases WHERE zone_id = :z AND "
                             "state <> 'dismissed'", z=zone_id)
        plans = [(target, own.get(zone_id, {}).get("milestones", []))]
        zones.append({"zone": {"id": zone_id, "code": code, "name": name},
                      **_progress_figures(target, closed, start, end, plans, tz, today, now)})
        everything += closed
        all_plans += plans
    overall = _progress_figures(sum(z["target"] for z in zones), everything, start, end,
                                all_plans, tz, today, now)
    return {"campaign": {"name": campaign["name"], "start": campaign["start"],
                         "end": campaign["end"]}, "zones": zones, "overall": overall}


# The campaign the progress report is measured against ------------------------------------

def plan_campaign(d: District) -> dict:
    today = clock.local_today()
    start, end = today - timedelta(weeks=10), today + timedelta(weeks=8)
    body = {"name": "测试清违行动", "start": start.isoformat(), "end": end.isoformat(),
            "zones": [{"zone_id": d.zones["ZA"].zone.id, "target": 12,
                       "milestones": [{"date": (start + timedelta(days=30)).isoformat(),
                                       "cumulative_done": 2},
                                      {"date": (today + timedelta(days=3)).isoformat(),
                                       "cumulative_done": 9}]}]}
    response = d.api.as_(d.chief).put("/api/v1/campaign", json=body)
    assert response.status_code == 200, response.get_json()
    return body


def cli_json(runner, name: str, user: User | None, *extra: str) -> dict:
    args = ["report", name, "--format", "json", *extra]
    if user is not None:
        args += ["--as", user.username]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def viewers(d: District) -> list[User]:
    return [d.supervisor, d.chief]


# The tests ------------------------------------------------------------------------------------

def test_every_report_matches_plain_sql_for_a_zone_and_the_district(district, runner):
    assert_no_campaign(district.api.as_(district.chief).get("/api/v1/reports/progress"))
    body = plan_campaign(district)
    expected_by = {"backlog": expected_backlog, "board": expected_board,
                   "officers": expected_officers,
                   "progress": lambda user: expected_progress(user, body)}
    seen = {}
    for user in viewers(district):
        for name in REPORTS:
            expected = expected_by[name](user)
            response = district.api.as_(user).get(f"/api/v1/reports/{name}")
            assert response.status_code == 200, name
            assert response.get_json() == expected, name
            assert cli_json(runner, name, user) == expected, name
            seen[name, user.username] = expected
    zone, whole = district.supervisor.username, district.chief.username

    # The zone supervisor sees zone A only; the district all three.
    assert [z["zone"]["code"] for z in seen["backlog", zone]["zones"]] == ["ZA"]
    backlog = seen["backlog", whole]
    assert [z["zone"]["code"] for z in backlog["zones"]] == ["ZA", "ZB", "ZC"]
    # The data has what makes the figures worth checking: late work, every state.
    assert backlog["total"]["overdue"] > 0 and all(backlog["total"]["states"].values())
    # The command line without --as sees the whole district, as an admin does.
    assert cli_json(runner, "backlog", None) == backlog
    assert district.api.as_(district.admin).get("/api/v1/reports/backlog").get_json() == backlog

    colours = {tile["id"]: tile["colour"] for tile in seen["board", whole]["compounds"]}
    assert [colours[c.id] for zoned in district.zones.values() for c in zoned.compounds] == [
        "red", "green", "yellow", "grey", "grey", "red"]
    assert len(seen["board", zone]["compounds"]) == 2

    assert [o["user"]["username"] for o in seen["officers", zone]["officers"]] == [
        district.zones["ZA"].officer.username]
    officers = {o["user"]["username"]: o for o in seen["officers", whole]["officers"]}
    assert officers[district.zones["ZA"].officer.username]["done_last_30_days"] == 5

    overall = seen["progress", whole]["overall"]
    assert len(overall["series"]) == 11  # ten weeks back and the current one
    assert overall["series"][-1]["cumulative_done"] == 9
    risk = {z["zone"]["code"]: z["at_risk"] for z in seen["progress", whole]["zones"]}
    assert risk["ZB"] is True  # nothing closed, nothing recent: it will not finish at this rate


def assert_no_campaign(response) -> None:
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_campaign"


def test_a_zone_filter_and_every_output_format_give_the_same_figures(district, runner):
    plan_campaign(district)
    supervisor = district.api.as_(district.chief)
    for name in REPORTS:
        narrowed = supervisor.get(f"/api/v1/reports/{name}?zone=ZB")
        assert narrowed.status_code == 200
        assert cli_json(runner, name, None, "--zone", "ZB") == narrowed.get_json()
        hidden = district.api.as_(district.supervisor).get(f"/api/v1/reports/{name}?zone=ZB")
        assert hidden.status_code == 404
        assert supervisor.get(f"/api/v1/reports/{name}?zone=NOPE").status_code == 404
    backlog = supervisor.get("/api/v1/reports/backlog?zone=ZB").get_json()
    assert [z["zone"]["code"] for z in backlog["zones"]] == ["ZB"]
    assert backlog["total"]["states"]["identified"] == 2
    board = supervisor.get("/api/v1/reports/board?zone=ZB").get_json()
    assert {tile["zone_id"] for tile in board["compounds"]} == {district.zones["ZB"].zone.id}
    failed = runner.invoke(args=["report", "board", "--zone", "ZB", "--as",
                                 district.supervisor.username])
    assert failed.exit_code != 0 and "ZB" in failed.output

    # CSV: every figure, nested keys flattened.
    user = district.supervisor
    backlog = district.api.as_(user).get("/api/v1/reports/backlog").get_json()
    result = runner.invoke(args=["report", "backlog", "--format", "csv", "--as", user.username])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["zone"] for row in rows] == ["ZA", "ALL"]
    zone = backlog["zones"][0]
    assert int(rows[0]["overdue"]) == zone["overdue"]
    assert int(rows[0]["by_kind.shed.closed"]) == zone["by_kind"]["shed"]["closed"]
    assert int(rows[1]["open_by_difficulty.2"]) == backlog["total"]["open_by_difficulty"]["2"]
    for state in STATES:
        assert int(rows[0][f"states.{state}"]) == zone["states"][state]
    progress = supervisor.get("/api/v1/reports/progress").get_json()
    result = runner.invoke(args=["report", "progress", "--format", "csv"])
    rows = [row for row in csv.DictReader(io.StringIO(result.output)) if row["zone"] == "ALL"]
    assert [(r["week"], int(r["cumulative_done"]), int(r["planned"])) for r in rows] == [
        (w["week"], w["cumulative_done"], w["planned"]) for w in progress["overall"]["series"]]

    # Table: what a person reads at a terminal.
    officers = supervisor.get("/api/v1/reports/officers").get_json()
    table = runner.invoke(args=["report", "officers"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["username", "display_name", "open", "overdue", "done_last_30_days"]
    assert len(lines) == 2 + len(officers["officers"])
    for line, officer in zip(lines[2:], officers["officers"]):
        assert line.split() == [officer["user"]["username"], officer["user"]["display_name"],
                                str(officer["open"]), str(officer["overdue"]),
                                str(officer["done_last_30_days"])]


def test_a_company_gets_404_on_every_report(api, make):
    zone = make.zone("ZA")
    company = api.as_(make.user("company"))
    make.compound(zone)
    for name in REPORTS:
        for query in ("", "?zone=ZA"):
            response = company.get(f"/api/v1/reports/{name}{query}")
            assert response.status_code == 404, name
            assert response.get_json()["error"]["code"] == "not_found"


def test_bad_report_queries_are_422(api, make):
    supervisor = api.as_(make.user("supervisor"))
    for query in ("?zone=", "?colour=red", "?zone=" + "Z" * 21):
        response = supervisor.get(f"/api/v1/reports/backlog{query}")
        assert response.status_code == 422, query
        assert response.get_json()["error"]["details"]


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


def _statements(report, user: User) -> int:
    db.session.expire_all()
    user = db.session.get(User, user.id)
    counter = StatementCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        report(user)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return counter.count


def _grow(d: District) -> None:
    """Four times the cases, spread over more compounds, by set-based copies."""
    for zoned in d.zones.values():
        for _ in range(3):
            d.make.compound(zoned.zone)
    for n in range(2):
        db.session.execute(text(
            "INSERT INTO cases (ref, kind, zone_id, compound_id, address, description, difficulty,"
            " owner_unknown, state, state_entered_at, due_at, officer_id, created_by_id, version,"
            " created_at, updated_at) "
            "SELECT ref || :suffix, kind, zone_id, (SELECT max(id) FROM compounds m "
            "WHERE m.zone_id = c.zone_id), address, description, difficulty, owner_unknown, state,"
            " state_entered_at, due_at, officer_id, created_by_id, 1, created_at, updated_at "
            "FROM cases c"), {"suffix": f"-{n}"})
    db.session.commit()


def test_statements_per_report_do_not_grow_with_cases_or_compounds(district):
    plan_campaign(district)
    reports = [backlog_report, board_report, progress_report, officers_report]
    cases_before = _scalar("SELECT count(*) FROM cases")
    before = {(r.__name__, u.id): _statements(r, u) for r in reports for u in viewers(district)}
    _grow(district)
    assert _scalar("SELECT count(*) FROM cases") == 4 * cases_before
    after = {(r.__name__, u.id): _statements(r, u) for r in reports for u in viewers(district)}
    assert after == before
    assert max(before.values()) <= 6
