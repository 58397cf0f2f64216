"""The benchmarks' own PostgreSQL database: named beside DATABASE_URL's, made anew each run."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def bench_url(suffix: str) -> str:
    """DATABASE_URL's server with a database of the benchmark's own, ``<name>_<suffix>``, so a
    run never touches the application's data."""
    url = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/casework")
                   .replace("postgres://", "postgresql://", 1)).set(drivername="postgresql+psycopg")
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def recreate(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
