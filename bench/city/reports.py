"""The reports and the campaign plan on a city of a million cases (issue 10), beside the
hand-written SQL that computes the same figures from the cases themselves.

``measure(url)`` reads the city as it is (nothing is written). For the district's supervisor
(every zone) and a zone's supervisor (one zone) it times each report as the API and the pages
call it (``backlog_report(user)`` …: the queries, the Python that shapes the figures and the
model that carries them) and the campaign plan (``campaign_plan(user)``, with each zone's
reverse schedule), then one hand-written statement per figure over the cases, rows fetched
and not shaped (``bench/reports.py``'s "raw" baseline: what a report must do without the kept
counts). Each is timed ``RUNS`` times after two warm-up runs; the ``EXPLAIN (ANALYZE,
BUFFERS)`` of every statement a report sends is kept with its figure.

Target (issue 7, kept at a city's scale): p95 under 300 ms.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework .venv/bin/python -m bench.city.reports

(or with every other area: ``python -m bench.city.run --only reports``).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/reports.py's imports

from bench.city.common import (Row, StatementCounter, app_for, city_url,  # noqa: E402
                               explain_driver_sql, p, timings)

RUNS = 20
TARGET_MS = 300.0
# The campaign's figures by hand: per zone, the cases not dismissed and those closed.
CAMPAIGN_SQL = """
    SELECT zone_id, count(*), count(*) FILTER (WHERE state = 'closed')
    FROM cases {where_and} state <> 'dismissed' GROUP BY zone_id"""


def _viewers() -> dict[str, Any]:
    """The district's supervisor (no zone: every zone) and the supervisor of the zone with the
    most cases who has that zone only."""
    from casework.accounts.models import Role, User, user_zones
    from casework.extensions import db

    district = db.session.scalar(select(User).where(
        User.role == Role.SUPERVISOR, User.active,
        User.id.not_in(select(user_zones.c.user_id))).order_by(User.id).limit(1))
    lone = db.session.execute(text(
        "SELECT u.id FROM users u JOIN user_zones z ON z.user_id = u.id "
        "WHERE u.role = 'supervisor' AND u.active GROUP BY u.id HAVING count(*) = 1 "
        "ORDER BY (SELECT count(*) FROM cases WHERE zone_id = min(z.zone_id)) DESC, u.id "
        "LIMIT 1")).scalar()
    if district is None or lone is None:
        raise SystemExit("The city has no district supervisor or no zone supervisor.")
    return {"district": district, "zone": db.session.get(User, lone)}


def _plans(db, call: Callable[[], Any]) -> list[str]:
    """The plan of every statement one call sends (each explained as the driver saw it)."""
    with StatementCounter(db.engine) as counter:
        call()
    db.session.rollback()
    with db.engine.connect() as conn:
        return [statement.strip() + "\n" + explain_driver_sql(conn, statement, parameters)
                for statement, parameters in zip(counter.statements, counter.parameters)]


def measure(url: str, runs: int = RUNS) -> list[Row]:
    from reports import REPORTS, _hand_sql

    from casework.campaign.queries import campaign_plan
    from casework.extensions import db

    figures: dict[str, tuple[Callable, Callable[[int | None], str]]] = {
        name: (report, lambda zone_id, name=name: _hand_sql(name, zone_id))
        for name, report in REPORTS.items()}
    figures["campaign plan"] = (campaign_plan, lambda zone_id: CAMPAIGN_SQL.format(
        where_and=f"WHERE zone_id = {zone_id} AND" if zone_id else "WHERE"))
    app = app_for(url, CASEWORK_RING_DOORBELL=False)
    rows = []
    with app.app_context():
        viewers = _viewers()
        for viewer, user in viewers.items():
            zone_id = min(user.zone_ids) if viewer == "zone" else None
            for name, (report, hand) in figures.items():
                def ours(report=report, user=user):
                    report(user)
                    db.session.rollback()

                sql = text(hand(zone_id))

                def raw(sql=sql):
                    db.session.execute(sql).all()
                    db.session.rollback()

                value = p(timings(ours, runs), 95)
                base = p(timings(raw, runs), 95)
                label = "the district's supervisor" if viewer == "district" \
                    else "a zone's supervisor"
                rows.append(Row(
                    figure=f"{name}, {label}", value=round(value, 1), unit="ms p95",
                    baseline=round(base, 1),
                    baseline_name="hand-written SQL over the cases: "
                                  + " ".join(str(sql).split()),
                    target=f"p95 < {TARGET_MS:.0f} ms (issue 7)", met=value < TARGET_MS,
                    plans=_plans(db, lambda report=report, user=user: report(user))))
                print(f"{name:14} {viewer:9} {value:8.1f} ms  hand SQL {base:8.1f} ms",
                      file=sys.stderr, flush=True)
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    for row in measure(city_url()):
        print(f"{row.figure}: {row.value} {row.unit} (hand SQL {row.baseline}); "
              f"target {row.target}: {'met' if row.met else 'NOT met'}")


if __name__ == "__main__":
    main()
