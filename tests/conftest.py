"""Test fixtures: the application on SQLite and, when configured, on PostgreSQL.

Every test that uses ``app`` (directly or through ``api``/``make``) runs once per database
backend. PostgreSQL is used when ``DATABASE_URL`` names a PostgreSQL server; ``.ci/run`` sets it,
and with ``CI=true`` an unreachable server fails the run instead of skipping.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from casework import create_app
from casework.extensions import db
from tests.contract import ContractClient
from tests.support import Api, Factory

pytest_plugins = ["tests.browser"]

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config) -> None:
    """Pages are tested in the language their catalogs give: compile them, as the setup does,
    so that a test run straight with pytest never reads a stale catalog."""
    from casework.web.catalogs import compile_all
    compile_all()


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        return None
    parsed = make_url(url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql+psycopg")
    # Tests never touch the named database itself: each run creates a sibling of its own
    # (so that runs side by side do not collide) and drops it at the end.
    name = f"{parsed.database or 'casework'}_test_{os.getpid()}"
    return parsed.set(database=name).render_as_string(hide_password=False)


POSTGRES_URL = _postgres_url()
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _drop_postgres_database(url: str, *, create: bool) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": parsed.database})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    except Exception as exc:  # noqa: BLE001 - turned into a loud failure below
        message = f"PostgreSQL at {parsed.render_as_string()} is unreachable: {exc}"
        if os.environ.get("CI") == "true" or os.environ.get("CASEWORK_REQUIRE_SERVICES"):
            pytest.exit(message, returncode=3)
        raise
    finally:
        admin.dispose()


def _migrate(url: str, upload_dir: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CASEWORK_UPLOAD_DIR": str(upload_dir),
                      "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory):
    """Each backend migrated once from empty by the real Alembic migrations."""
    base = tmp_path_factory.mktemp("databases")
    template = base / "template.db"
    _migrate(f"sqlite:///{template}", base / "uploads")
    databases = {"sqlite": str(template)}
    if POSTGRES_URL:
        _drop_postgres_database(POSTGRES_URL, create=True)
        _migrate(POSTGRES_URL, base / "uploads")
        databases["postgresql"] = POSTGRES_URL
    yield databases
    if POSTGRES_URL:
        _drop_postgres_database(POSTGRES_URL, create=False)


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [row[0] for row in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"))]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, migrated_databases, tmp_path) -> str:
    if backend == "sqlite":
        copy = tmp_path / "casework.db"
        shutil.copy(migrated_databases["sqlite"], copy)
        return f"sqlite:///{copy}"
    _empty_postgres(migrated_databases["postgresql"])
    return migrated_databases["postgresql"]


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CASEWORK_UPLOAD_DIR": str(tmp_path / "uploads"),
        "CASEWORK_AUDIT_KEY_FILE": str(tmp_path / "audit-signing.key"),
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.db'}",
        # Hashing stays real, only cheaper: many tests make many users.
        "CASEWORK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    app.test_client_class = ContractClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app) -> Factory:
    return Factory(app)


@pytest.fixture
def api(client, make) -> Api:
    return Api(client, make)
