"""Casework: a workflow and case-management engine for demolishing illegal structures."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, has_request_context, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from casework.extensions import db, migrate

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=None)
    app.config.from_object("config.Config")
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    Path(app.config["CASEWORK_UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):]).parent.mkdir(
            parents=True, exist_ok=True)

    _configure_postgresql(app)
    db.init_app(app)
    from casework.accounts.throttle import limiter
    limiter.init_app(app)
    if app.config["CASEWORK_PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["CASEWORK_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    _import_models()
    _configure_sqlite(app)

    from casework.tasking import celery_init_app
    celery_init_app(app)

    from casework import settings
    settings.install(lambda: current_app.config)

    from casework.common.http import IdConverter, secure_headers
    from casework.common.requests import limit_body_size, read_body_first
    from casework.common.responses import register_error_handlers
    register_error_handlers(app)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.before_request(limit_body_size)
    app.before_request(read_body_first)
    _register_blueprints(app)
    from casework.web import init_web
    init_web(app)
    # after_request hooks run last-registered first: the commit decides the response, then
    # every response, a 409 from the commit included, gets its headers.
    app.after_request(secure_headers)
    app.after_request(_commit_or_roll_back)

    from casework.cli import register_cli
    register_cli(app)
    return app


def _import_models() -> None:
    """Every model module, so that metadata (and Alembic) sees every table."""
    from casework.accounts import models as _accounts  # noqa: F401
    from casework.campaign import models as _campaign  # noqa: F401
    from casework.cases import checkpoints as _checkpoints  # noqa: F401
    from casework.cases import counts as _counts  # noqa: F401
    from casework.cases import models as _cases  # noqa: F401
    from casework.common import models as _common  # noqa: F401
    from casework.deadlines import models as _deadlines  # noqa: F401
    from casework.evidence import models as _evidence  # noqa: F401
    from casework.exports import models as _exports  # noqa: F401
    from casework.notifications import models as _notifications  # noqa: F401
    from casework.places import models as _places  # noqa: F401
    from casework.workorders import models as _workorders  # noqa: F401


def _configure_postgresql(app: Flask) -> None:
    """JIT off for every connection (CASEWORK_POSTGRES_JIT), as a connection option: no
    statement more per connection."""
    if (not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
            or app.config["CASEWORK_POSTGRES_JIT"]):
        return
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = (connect_args.get("options", "") + " -c jit=off").strip()
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}


def _configure_sqlite(app: Flask) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    with app.app_context():
        engine: Engine = db.engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # SQLAlchemy, not the sqlite3 module, decides when transactions begin (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets the web process and the worker read while one writes; the busy timeout
        # makes a second writer wait instead of failing.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(app.config['CASEWORK_SQLITE_BUSY_MS'])}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # SQLite has no row locks: a transaction that reads then writes must hold the write
        # lock from its start, or two of them deadlock and one fails with "database is
        # locked". Taking it up front makes the second wait (busy_timeout) and then see the
        # first one's commit, as SELECT ... FOR UPDATE does on PostgreSQL. Reading requests
        # (GET, HEAD) never write, so they begin deferred and, with WAL, never wait.
        if has_request_context() and request.method in ("GET", "HEAD"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _register_blueprints(app: Flask) -> None:
    from flask import Blueprint

    from casework.accounts.api import bp as accounts_bp
    from casework.accounts.auth import authenticate_request
    from casework.campaign.api import bp as campaign_bp
    from casework.cases.api import bp as cases_bp
    from casework.dossier.api import bp as dossier_bp
    from casework.evidence.api import bp as evidence_bp
    from casework.exports.api import bp as exports_bp
    from casework.health import bp as health_bp
    from casework.imports.api import bp as imports_bp
    from casework.notices.api import bp as notices_bp
    from casework.notifications.api import bp as notifications_bp
    from casework.openapi import bp as openapi_bp
    from casework.places.api import bp as places_bp
    from casework.reports.api import bp as reports_bp
    from casework.workflow import bp as workflow_bp
    from casework.workorders.api import bp as workorders_bp

    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(authenticate_request)
    for child in (accounts_bp, places_bp, cases_bp, evidence_bp, workorders_bp,
                  notifications_bp, exports_bp, imports_bp, dossier_bp, workflow_bp,
                  openapi_bp, campaign_bp, reports_bp, notices_bp):
        api.register_blueprint(child)
    app.register_blueprint(api)
    app.register_blueprint(health_bp)


def _commit_or_roll_back(response: Response) -> Response:
    """The one commit point of a request: commit what a successful request changed, roll back
    everything else. A conflict found only at commit still answers 409, never 500."""
    from casework.common.errors import stale_version_error
    from casework.common.idempotency import replay_after_race
    from casework.common.responses import (busy_response, conflict_response, error_as_response,
                                           is_busy)
    from casework.notifications.operations import take_outbox_written

    outbox_written = take_outbox_written(db.session)
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
        if outbox_written:
            from casework.tasking import ring_doorbell
            ring_doorbell(current_app._get_current_object())
    except StaleDataError:
        db.session.rollback()
        return error_as_response(stale_version_error())
    except OperationalError as exc:
        db.session.rollback()
        if not is_busy(exc):
            raise
        return busy_response()
    except IntegrityError:
        db.session.rollback()
        replayed = replay_after_race()
        if replayed is not None:
            return replayed
        log.warning("integrity conflict at commit on %s %s", request.method, request.path)
        return conflict_response()
    return response
