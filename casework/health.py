"""``GET /healthz``: liveness, with database and broker reachability."""
from __future__ import annotations

from flask import Blueprint, current_app
from kombu import Connection
from sqlalchemy import text

from casework.accounts.auth import public
from casework.extensions import db

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False


def _broker_ok() -> bool:
    try:
        with Connection(current_app.config["CELERY_BROKER_URL"], connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@bp.get("/healthz")
@public
def healthz():
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    return {"status": "ok" if healthy else "degraded", **checks}, 200 if healthy else 503
