"""Authentication on every request: the statements an authenticated API request sends, and
the time of finding a token's user with what the access rules read (zones, company), beside
one hand-written query doing the same.

For a zone supervisor (``sup1``) and the district's supervisor (``district``), with the
tokens ``bench.city.generate`` created (``city-token-<username>``):

- every statement of ``GET /api/v1/me`` (in-process, Flask's test client), counted with a
  ``before_cursor_execute`` listener: the authentication's and the view's;
- ``user_for_token(token)`` in a fresh session each time (no identity map to help), p50 and
  p95, beside one hand-written SQL statement (the token's hash to the user, its zones and its
  company) through the same pool, with its rows fetched;
- the whole request's p50, for scale.

Read-only: it works on the city itself.
"""
from __future__ import annotations

from sqlalchemy import text

from bench.city.common import (Row, StatementCounter, app_for, explain, explain_driver_sql, p,
                               timings)

USERS = ("sup1", "district")
RUNS = 200

HAND_SQL = """
    SELECT u.id, u.username, u.display_name, u.role, u.active, u.company_id, u.locale,
           z.id AS zone_id, z.code, z.name, c.id AS company, c.name AS company_name
    FROM api_tokens t
    JOIN users u ON u.id = t.user_id
    LEFT JOIN user_zones uz ON uz.user_id = u.id
    LEFT JOIN zones z ON z.id = uz.zone_id
    LEFT JOIN companies c ON c.id = u.company_id
    WHERE t.token_hash = :hash AND u.active AND (t.expires_at IS NULL OR t.expires_at > now())"""


def measure(url: str) -> list[Row]:
    from casework.accounts.operations import hash_token, user_for_token
    from casework.extensions import db

    app = app_for(url)
    client = app.test_client()
    rows: list[Row] = []
    with app.app_context():
        for username in USERS:
            token = f"city-token-{username}"
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/v1/me", headers=headers).status_code == 200, username

            with StatementCounter(db.engine) as counter:
                response = client.get("/api/v1/me", headers=headers)
            assert response.status_code == 200
            request_ms = timings(lambda: client.get("/api/v1/me", headers=headers), RUNS, 10)

            def ours() -> None:
                assert user_for_token(token) is not None
                db.session.remove()

            with StatementCounter(db.engine) as auth_counter:
                ours()
            ours_ms = timings(ours, RUNS, 10)

            def hand() -> None:
                with db.engine.connect() as conn:
                    assert conn.execute(text(HAND_SQL), {"hash": hash_token(token)}).all()

            hand_ms = timings(hand, RUNS, 10)
            with db.engine.connect() as conn:
                plans = [explain_driver_sql(conn, statement, parameters) for statement, parameters
                         in zip(auth_counter.statements, auth_counter.parameters)]
                plans.append(explain(conn, HAND_SQL, {"hash": hash_token(token)}))

            rows.append(Row(
                figure=f"statements per authenticated request (GET /api/v1/me, {username})",
                value=counter.count, unit="statements", baseline=1,
                baseline_name="one hand-written query", target="1 statement (issue 10 found 3)",
                met=counter.count <= 1))
            rows.append(Row(
                figure=f"token to user with zones and company, p50 ({username}; "
                       f"{auth_counter.count} statement(s); p95 {p(ours_ms, 95):.2f} ms; "
                       f"whole request p50 {p(request_ms, 50):.2f} ms)",
                value=p(ours_ms, 50), unit="ms", baseline=p(hand_ms, 50),
                baseline_name="hand SQL p50",
                target="1 query, p50 < 3.5 ms (issue 10 found 3 queries, ~3.5 ms)",
                met=auth_counter.count <= 1 and p(ours_ms, 50) < 3.5,
                plans=plans))
        db.session.remove()
        db.engine.dispose()
    return rows
