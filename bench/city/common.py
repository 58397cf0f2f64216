"""What every city measurement module shares: the row it reports, timing, plans, the app, and a
copy of the city for measurements that write.

A measurement module ``bench/city/<area>.py`` exposes ``measure(url: str) -> list[Row]``, where
``url`` is the SQLAlchemy URL of the generated city (migrated to the current head). A module that
writes works on a copy (``copy_database``) and drops it (``drop_database``) when done.
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CITY_SUFFIX = "city"


@dataclass
class Row:
    """One figure of the benchmark beside its baseline, measured in the same run.

    ``ratio`` is ``value / baseline`` unless the module says otherwise (for throughput, where
    higher is better, the module passes the ratio it means, e.g. ours / baseline's req/s);
    ``target`` is the issue's bound in words and ``met`` whether this run meets it; ``plans``
    holds the ``EXPLAIN (ANALYZE, BUFFERS)`` text of each statement behind the figure."""

    figure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = False  # None: a figure with no target (shown for contrast)
    plans: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline


def city_url(name: str | None = None) -> str:
    """DATABASE_URL's server with the city's database, ``casework_city`` by default."""
    url = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/casework")
                   .replace("postgres://", "postgresql://", 1)).set(drivername="postgresql+psycopg")
    return url.set(database=name or f"{url.database}_{CITY_SUFFIX}").render_as_string(
        hide_password=False)


def timings(call: Callable[[], Any], runs: int = 20, warmup: int = 2) -> list[float]:
    """Wall time of each of ``runs`` calls after ``warmup`` untimed ones, in ms."""
    for _ in range(warmup):
        call()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values``, nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def explain(conn, sql: str, params: dict | None = None) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of ``sql`` on ``conn`` (a SQLAlchemy Connection or
    Session), as text. The statement runs: explain a write inside a transaction you roll back."""
    rows = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"), params or {})
    return "\n".join(row[0] for row in rows)


def explain_driver_sql(conn, statement: str, parameters) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of a statement as the driver saw it (one that a
    ``StatementCounter`` caught, with its parameters), on a SQLAlchemy Connection."""
    rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
    return "\n".join(row[0] for row in rows)


def app_for(url: str, **config: Any):
    """A Casework app bound to the benchmark database ``url`` (uploads in a temporary folder)."""
    from casework import create_app

    settings = {"SQLALCHEMY_DATABASE_URI": url,
                "CASEWORK_UPLOAD_DIR": tempfile.mkdtemp(prefix="bench-city-uploads-")}
    settings.update(config)
    return create_app(settings)


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def copy_database(url: str, name: str) -> str:
    """A fresh copy of ``url``'s database named ``name`` (``CREATE DATABASE name TEMPLATE ...``,
    dropped first if it exists); returns its URL. Nobody may be connected to the source: close
    your engines on it (``engine.dispose()``) first."""
    source = make_url(url)
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    finally:
        admin.dispose()
    return source.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
    finally:
        admin.dispose()


def database_exists(url: str) -> bool:
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                {"name": make_url(url).database}).first() is not None
    finally:
        admin.dispose()


class StatementCounter:
    """Counts the SQL statements an engine sends while in the ``with`` block (a
    ``before_cursor_execute`` listener; an ``executemany`` counts once). With
    ``keep_parameters`` it also keeps each statement's parameters, for ``explain_driver_sql``;
    leave them out where memory is measured (a bulk insert's parameters are its rows)."""

    def __init__(self, engine, *, keep_parameters: bool = True) -> None:
        self.engine = engine
        self.keep_parameters = keep_parameters
        self.statements: list[str] = []
        self.parameters: list = []

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)
        if self.keep_parameters:
            self.parameters.append(parameters)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> "StatementCounter":
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)
