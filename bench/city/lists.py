"""Every list and search of a city (issue 10), over HTTP in-process, beside hand-written SQL.

``measure(url)`` takes the URL of a generated city database (``casework_city``, see
``bench/city/common.py``), works on a copy of it (``casework_city_lists``: the run writes its
users' tokens; upgraded to the migrations' head if the city is older, dropped at the end), and
answers one row per figure: the p95 of
the request as a client makes it (the Flask test client with a bearer token: authentication,
the list's capped count, its page, the JSON), the p95 of a hand-written statement giving the
same page on the same data (psycopg, no ORM, JIT off like the application), their ratio, the
target (lists 100 ms, search by reference 150 ms, a two-character word 300 ms), and the
``EXPLAIN (ANALYZE, BUFFERS)`` plan of every statement behind the request.

Figures: the case list first page, a deep page by cursor and page 40,000 by OFFSET (for
contrast, no target), for the district's supervisor with each filter (state, zone, compound,
kind, officer, overdue) and for a zone's supervisor; work orders for the district, a zone's
supervisor (first and deep page), the supervisor of a zone opened today (no work orders yet)
and a company; the inbox, its unread part and a deep page; a case's history; search
by a case's reference and by a two-character word (棚厦) in address, description or owner.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework .venv/bin/python -m bench.city.lists [--url CITY] [--runs N] [--plans]

(or with every other area: ``python -m bench.city.run --only lists``).
"""
from __future__ import annotations

import argparse
import secrets
import sys
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from bench.city.common import (Row, app_for, city_url, copy_database, drop_database, p,
                               timings)

PER_PAGE = 25
LIST_TARGET_MS, REF_TARGET_MS, WORD_TARGET_MS = 100.0, 150.0, 300.0
WORD = "棚厦"


@dataclass
class Figure:
    """One request and the hand-written statement that gives the same page."""

    name: str
    user: str  # which of the city's users asks (see _people)
    path: str
    baseline_sql: str
    baseline_params: tuple = ()
    target_ms: float | None = LIST_TARGET_MS
    runs: int | None = None  # fewer for what is slow on purpose


def _people(app) -> dict[str, Any]:
    """The users who ask, picked from the city: the district's supervisor, a zone's supervisor
    (of the zone with the most cases), the officer with the most inbox rows, the company with
    the most work orders, and the supervisor of a zone opened today (made here, on the copy:
    no work order is theirs yet, so a list that walked every work order to find a zone's would
    walk them all); with a case, its reference and a deep cursor of each list."""
    from casework.accounts.models import Role, User, user_zones
    from casework.accounts.operations import create_user, issue_token
    from casework.places.operations import create_zone
    from casework.cases.models import Case
    from casework.extensions import db
    from casework.notifications.models import Notification
    from casework.workorders.models import WorkOrder

    def one(query):
        return db.session.scalar(query)

    zoned = select(user_zones.c.user_id)
    district = one(select(User).where(User.role == Role.SUPERVISOR, User.active,
                                      User.id.not_in(zoned)).limit(1))
    lone = db.session.execute(text(
        "SELECT u.id, min(z.zone_id) FROM users u JOIN user_zones z ON z.user_id = u.id "
        "WHERE u.role = 'supervisor' AND u.active GROUP BY u.id HAVING count(*) = 1 "
        "ORDER BY (SELECT count(*) FROM cases WHERE zone_id = min(z.zone_id)) DESC "
        "LIMIT 1")).first()
    zone_supervisor, zone_id = (db.session.get(User, lone[0]), lone[1]) if lone else (None, None)
    officer_id = one(text("SELECT user_id FROM notifications WHERE channel = 'inbox' "
                          "GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"))
    company_id = one(text("SELECT company_id FROM workorders GROUP BY company_id "
                          "ORDER BY count(*) DESC LIMIT 1"))
    company_user = one(select(User).where(User.company_id == company_id, User.active).limit(1))
    new_zone = create_zone("ZNEW", "新开片区")
    newcomer = create_user("bench-new-zone", secrets.token_urlsafe(24), Role.SUPERVISOR,
                           zones=[new_zone])
    users = {"district": district, "zone": zone_supervisor,
             "officer": db.session.get(User, officer_id), "company": company_user,
             "new_zone": newcomer}
    missing = [name for name, user in users.items() if user is None]
    if missing:
        raise SystemExit(f"The city has no {', '.join(missing)} user to ask as.")
    tokens = {name: issue_token(user) for name, user in users.items()}
    db.session.commit()

    def deep(model, *where, depth: float = 0.96):
        count = db.session.scalar(select(db.func.count()).select_from(model).where(*where))
        return db.session.execute(select(model.created_at, model.id).where(*where)
                                  .order_by(model.created_at.desc(), model.id.desc())
                                  .offset(int(count * depth)).limit(1)).one()

    cases = db.session.scalar(select(db.func.count()).select_from(Case))
    middle = db.session.execute(select(Case.id, Case.ref, Case.compound_id, Case.officer_id)
                                .order_by(Case.id).offset(cases // 2).limit(1)).one()
    state = db.session.scalar(text("SELECT state FROM cases GROUP BY state "
                                   "ORDER BY count(*) DESC LIMIT 1"))
    inbox = (Notification.user_id == officer_id, Notification.channel == "inbox")
    return {
        "tokens": tokens, "zone_id": zone_id, "zone_code": one(text(
            f"SELECT code FROM zones WHERE id = {int(zone_id)}")), "cases": cases,
        "case": middle, "state": state, "officer_id": officer_id, "company_id": company_id,
        "new_zone_id": new_zone.id, "deep_zone_workorder": deep(WorkOrder,
                                                                WorkOrder.zone_id == zone_id),
        "deep_case": deep(Case), "deep_zone_case": deep(Case, Case.zone_id == zone_id),
        "deep_state_case": deep(Case, Case.state == state),
        "deep_workorder": deep(WorkOrder), "deep_inbox": deep(Notification, *inbox),
    }


def _figures(p: dict[str, Any]) -> list[Figure]:
    from casework.cases.queries import CASE_ORDER
    from casework.notifications.queries import INBOX_ORDER
    from casework.workorders.queries import WORKORDER_ORDER

    page = f"LIMIT {PER_PAGE}"
    newest = "ORDER BY created_at DESC, id DESC"
    cases = "/api/v1/cases?per_page=25"
    case = p["case"]
    deep, zone_deep, state_deep = p["deep_case"], p["deep_zone_case"], p["deep_state_case"]
    zone, state, zone_order = p["zone_id"], p["state"], p["deep_zone_workorder"]
    word = f"%{WORD}%"
    text_bigrams = "casework_bigrams(ref || ' ' || address || ' ' || description)"
    figures = [
        Figure("cases, first page", "district", cases,
               f"SELECT * FROM cases {newest} {page}"),
        Figure("cases, deep page by cursor", "district",
               f"{cases}&after={CASE_ORDER.cursor(deep)}",
               f"SELECT * FROM cases WHERE (created_at, id) < (%s, %s) {newest} {page}",
               (deep.created_at, deep.id)),
        Figure("cases, page 40,000 by OFFSET (contrast)", "district", f"{cases}&page=40000",
               f"SELECT * FROM cases WHERE (created_at, id) < (%s, %s) {newest} {page}",
               (deep.created_at, deep.id), target_ms=None, runs=5),
        Figure(f"cases, state={state}", "district", f"{cases}&state={state}",
               f"SELECT * FROM cases WHERE state = %s {newest} {page}", (state,)),
        Figure(f"cases, state={state}, deep page by cursor", "district",
               f"{cases}&state={state}&after={CASE_ORDER.cursor(state_deep)}",
               f"SELECT * FROM cases WHERE state = %s AND (created_at, id) < (%s, %s) "
               f"{newest} {page}", (state, state_deep.created_at, state_deep.id)),
        Figure("cases, zone", "district", f"{cases}&zone={p['zone_code']}",
               f"SELECT * FROM cases WHERE zone_id = %s {newest} {page}", (zone,)),
        Figure("cases, compound", "district", f"{cases}&compound={case.compound_id}",
               f"SELECT * FROM cases WHERE compound_id = %s {newest} {page}",
               (case.compound_id,)),
        Figure("cases, kind=shed", "district", f"{cases}&kind=shed",
               f"SELECT * FROM cases WHERE kind = 'shed' {newest} {page}"),
        Figure("cases, officer", "district", f"{cases}&officer={case.officer_id}",
               f"SELECT * FROM cases WHERE officer_id = %s {newest} {page}",
               (case.officer_id,)),
        Figure("cases, overdue", "district", f"{cases}&overdue=true",
               f"SELECT * FROM cases WHERE due_at <= now() AND state NOT IN "
               f"('closed', 'dismissed') {newest} {page}"),
        Figure("cases, a zone's supervisor, first page", "zone", cases,
               f"SELECT * FROM cases WHERE zone_id = %s {newest} {page}", (zone,)),
        Figure("cases, a zone's supervisor, deep page by cursor", "zone",
               f"{cases}&after={CASE_ORDER.cursor(zone_deep)}",
               f"SELECT * FROM cases WHERE zone_id = %s AND (created_at, id) < (%s, %s) "
               f"{newest} {page}", (zone, zone_deep.created_at, zone_deep.id)),
        Figure("work orders, first page", "district", "/api/v1/workorders?per_page=25",
               f"SELECT * FROM workorders {newest} {page}"),
        Figure("work orders, deep page by cursor", "district",
               f"/api/v1/workorders?per_page=25&after={WORKORDER_ORDER.cursor(p['deep_workorder'])}",
               f"SELECT * FROM workorders WHERE (created_at, id) < (%s, %s) {newest} {page}",
               (p["deep_workorder"].created_at, p["deep_workorder"].id)),
        Figure("work orders, a zone's supervisor", "zone", "/api/v1/workorders?per_page=25",
               f"SELECT * FROM workorders WHERE zone_id = %s {newest} {page}", (zone,)),
        Figure("work orders, a zone's supervisor, deep page by cursor", "zone",
               f"/api/v1/workorders?per_page=25&after={WORKORDER_ORDER.cursor(zone_order)}",
               f"SELECT * FROM workorders WHERE zone_id = %s AND (created_at, id) < (%s, %s) "
               f"{newest} {page}", (zone, zone_order.created_at, zone_order.id)),
        Figure("work orders, the supervisor of a zone opened today (none yet)", "new_zone",
               "/api/v1/workorders?per_page=25",
               f"SELECT * FROM workorders WHERE zone_id = %s {newest} {page}",
               (p["new_zone_id"],)),
        Figure("work orders, a company", "company", "/api/v1/workorders?per_page=25",
               f"SELECT * FROM workorders WHERE company_id = %s {newest} {page}",
               (p["company_id"],)),
        Figure("work orders, state=assigned", "district",
               "/api/v1/workorders?per_page=25&state=assigned",
               f"SELECT * FROM workorders WHERE state = 'assigned' {newest} {page}"),
        Figure("inbox, first page", "officer", "/api/v1/notifications?per_page=25",
               f"SELECT * FROM notifications WHERE user_id = %s AND channel = 'inbox' "
               f"{newest} {page}", (p["officer_id"],)),
        Figure("inbox, unread", "officer", "/api/v1/notifications?per_page=25&unread=true",
               f"SELECT * FROM notifications WHERE user_id = %s AND channel = 'inbox' "
               f"AND read_at IS NULL {newest} {page}", (p["officer_id"],)),
        Figure("inbox, deep page by cursor", "officer",
               f"/api/v1/notifications?per_page=25&after={INBOX_ORDER.cursor(p['deep_inbox'])}",
               f"SELECT * FROM notifications WHERE user_id = %s AND channel = 'inbox' "
               f"AND (created_at, id) < (%s, %s) {newest} {page}",
               (p["officer_id"], p["deep_inbox"].created_at, p["deep_inbox"].id)),
        Figure("a case's history", "district", f"/api/v1/cases/{case.id}/events",
               "SELECT * FROM case_events WHERE case_id = %s ORDER BY seq", (case.id,)),
        Figure("search by reference", "district", f"{cases}&q={case.ref}",
               "SELECT * FROM cases WHERE ref = %s", (case.ref,), target_ms=REF_TARGET_MS),
        Figure(f"search for a two-character word ({WORD})", "district", f"{cases}&q={WORD}",
               f"SELECT * FROM cases WHERE {text_bigrams} @> casework_bigrams(%s) AND "
               f"(address ILIKE %s OR description ILIKE %s OR owner_name ILIKE %s) "
               f"{newest} {page}", (WORD, word, word, word), target_ms=WORD_TARGET_MS),
        Figure(f"search for {WORD}, a zone's supervisor", "zone", f"{cases}&q={WORD}",
               f"SELECT * FROM cases WHERE zone_id = %s AND {text_bigrams} @> "
               f"casework_bigrams(%s) AND (address ILIKE %s OR description ILIKE %s OR "
               f"owner_name ILIKE %s) {newest} {page}", (zone, WORD, word, word, word),
               target_ms=WORD_TARGET_MS),
    ]
    return figures


def _plans(app, client, headers: dict, path: str) -> list[str]:
    """The EXPLAIN (ANALYZE, BUFFERS) plan of every SELECT the request runs."""
    from casework.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    plans = []
    with engine.connect() as conn:
        for statement, parameters in seen:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plans.append(statement.strip() + "\n" + "\n".join(row[0] for row in rows))
    return plans


def measure(url: str, runs: int = 30) -> list[Row]:
    copy_url = copy_database(url, f"{make_url(url).database}_lists")
    try:
        return _measure(copy_url, runs)
    finally:
        drop_database(copy_url)


def _measure(url: str, runs: int) -> list[Row]:
    from flask_migrate import upgrade

    from casework.extensions import db

    app = app_for(url)
    with app.app_context():
        upgrade()  # nothing to do on a city generated at the head
        people = _people(app)
    client = app.test_client()
    raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    rows = []
    try:
        with psycopg.connect(raw_url, options="-c jit=off") as raw:
            for figure in _figures(people):
                rows.append(_row(app, client, raw, people, figure, runs))
    finally:
        with app.app_context():
            db.engine.dispose()
    return rows


def _row(app, client, raw, people: dict[str, Any], figure: Figure, runs: int) -> Row:
    headers = {"Authorization": f"Bearer {people['tokens'][figure.user]}"}

    def request() -> None:
        response = client.get(figure.path, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    def baseline() -> None:
        with raw.cursor() as cursor:
            cursor.execute(figure.baseline_sql, figure.baseline_params)
            cursor.fetchall()

    count = figure.runs or runs
    value = p(timings(request, count), 95)
    base = p(timings(baseline, max(count, 10)), 95)
    target = figure.target_ms
    row = Row(figure=figure.name, value=round(value, 1), unit="ms p95", baseline=round(base, 2),
              baseline_name="hand-written SQL of the page: "
              + " ".join(figure.baseline_sql.split()),
              target=f"p95 < {target:.0f} ms" if target else "none (contrast)",
              met=value < target if target else None,
              plans=_plans(app, client, headers, figure.path))
    print(f"{figure.name:58} {value:8.1f} ms  hand SQL {base:7.2f} ms  "
          f"{'-' if target is None else ('met' if row.met else 'NOT met')}",
          file=sys.stderr, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="the city database (default: DATABASE_URL's "
                                                    "server, database casework_city)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--plans", action="store_true", help="print every statement's plan")
    args = parser.parse_args()
    for row in measure(args.url or city_url(), args.runs):
        print(f"| {row.figure} | {row.value} | {row.baseline} | {row.ratio:.1f} | {row.target} | "
              f"{'–' if row.met is None else ('yes' if row.met else 'no')} |")
        if args.plans:
            for plan in row.plans:
                print(plan, "\n")


if __name__ == "__main__":
    main()
