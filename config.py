"""Casework configuration, read from environment variables.

Every setting has one documented default that works on a single machine with no services
(SQLite next to the application, uploads under ``instance/uploads``). Production sets at least
``DATABASE_URL``, ``SECRET_KEY`` and ``CELERY_BROKER_URL``.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CASEWORK_INSTANCE_DIR", BASE_DIR / "instance"))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'casework.db'}"
    # Heroku-style and libpq-style URLs name the driver loosely; Casework ships psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    # Signs session cookies. The default is for a single local machine only.
    SECRET_KEY = os.environ.get("SECRET_KEY", "casework-local-development-key")

    # PostgreSQL in production, e.g. postgresql://casework@db/casework. Default: SQLite file.
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # PostgreSQL's JIT compiler: off by default. The application's queries are short, and the
    # planner's cost for a list over a million rows crosses the JIT threshold, where compiling
    # costs more than the query (set CASEWORK_POSTGRES_JIT=1 to leave the server's setting).
    CASEWORK_POSTGRES_JIT = os.environ.get("CASEWORK_POSTGRES_JIT", "") in ("1", "true", "yes")
    # The lists of cases, work orders, notifications and events count their rows exactly up to
    # this many; beyond it their total is an estimate (total_is_estimate: true).
    CASEWORK_LIST_COUNT_LIMIT = _int("CASEWORK_LIST_COUNT_LIMIT", 10_000)
    # The dashboard draws one tile per compound up to this many in view; beyond it (a city
    # of many zones) one tile per zone, each opening that zone's compounds.
    CASEWORK_BOARD_TILES = _int("CASEWORK_BOARD_TILES", 1_000)

    # Where attachments are stored, by content hash.
    CASEWORK_UPLOAD_DIR = os.environ.get("CASEWORK_UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # Largest upload accepted, in bytes (default 20 MiB: a phone photo is 2 to 8 MiB).
    MAX_CONTENT_LENGTH = _int("CASEWORK_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    # Largest body that is not a multipart upload (JSON, forms), in bytes: parsing and
    # validating costs many times its size, so it gets a limit of its own (default 1 MiB).
    CASEWORK_MAX_JSON_BYTES = _int("CASEWORK_MAX_JSON_BYTES", 1024 * 1024)

    # On SQLite, how long a write waits for another one to finish before answering 503.
    CASEWORK_SQLITE_BUSY_MS = _int("CASEWORK_SQLITE_BUSY_MS", 10_000)

    # The district's local time zone: dates given by users (deadlines) are local dates.
    CASEWORK_TIMEZONE = os.environ.get("CASEWORK_TIMEZONE", "Asia/Shanghai")

    # Default deadlines, in days, set when a case enters a state (spec section 3).
    CASEWORK_DAYS_TO_VERIFY = _int("CASEWORK_DAYS_TO_VERIFY", 7)
    CASEWORK_DAYS_TO_NEGOTIATE = _int("CASEWORK_DAYS_TO_NEGOTIATE", 14)
    CASEWORK_DAYS_TO_INSPECT = _int("CASEWORK_DAYS_TO_INSPECT", 3)
    CASEWORK_DAYS_TO_RESOLVE_DISPUTE = _int("CASEWORK_DAYS_TO_RESOLVE_DISPUTE", 30)
    # The furthest a negotiated or reopened deadline may be set, in days from today.
    CASEWORK_MAX_DEADLINE_DAYS = _int("CASEWORK_MAX_DEADLINE_DAYS", 90)

    # How passwords are hashed (werkzeug method string). The default is werkzeug's scrypt;
    # the test suite uses a cheap one so that making many users stays fast.
    CASEWORK_PASSWORD_HASH_METHOD = os.environ.get("CASEWORK_PASSWORD_HASH_METHOD", "scrypt")

    # API tokens issued at login expire this many days after issue.
    CASEWORK_TOKEN_DAYS = _int("CASEWORK_TOKEN_DAYS", 30)
    # Failed logins let through per (username, client address), and per client address over
    # all usernames, before that address waits (429); limits in Flask-Limiter's notation.
    CASEWORK_LOGIN_LIMIT = os.environ.get("CASEWORK_LOGIN_LIMIT", "5 per minute")
    CASEWORK_LOGIN_ADDRESS_LIMIT = os.environ.get("CASEWORK_LOGIN_ADDRESS_LIMIT",
                                                  "30 per 10 minutes")
    # Where those counts are kept: memory (each web process its own) or, in production,
    # Redis (redis://host:6379/1) so that every process counts together.
    RATELIMIT_STORAGE_URI = os.environ.get("CASEWORK_RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # If the counter store is down, logins go on unthrottled rather than failing.
    RATELIMIT_SWALLOW_ERRORS = True
    # A user is told (inbox) when its account saw this many failed logins, from anywhere,
    # within LOGIN_WINDOW minutes.
    CASEWORK_LOGIN_NOTICE_FAILURES = _int("CASEWORK_LOGIN_NOTICE_FAILURES", 10)
    CASEWORK_LOGIN_WINDOW_MINUTES = _int("CASEWORK_LOGIN_WINDOW_MINUTES", 15)
    # The deadline notice (限期拆除通知书): who issues it and the law it cites.
    CASEWORK_NOTICE_OFFICE = os.environ.get("CASEWORK_NOTICE_OFFICE", "区违法建设治理工作指挥部")
    CASEWORK_NOTICE_LEGAL_BASIS = os.environ.get(
        "CASEWORK_NOTICE_LEGAL_BASIS", "《中华人民共和国城乡规划法》第六十四条、第六十八条")
    # Web pages: a signed-in session lasts this many hours, then the user signs in again.
    CASEWORK_SESSION_HOURS = _int("CASEWORK_SESSION_HOURS", 12)
    SESSION_COOKIE_HTTPONLY = True
    # The cookie is written only when the session changes: a page kept offline in the
    # background, answered after the user switched language, must not bring the old one back.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_SAMESITE = "Lax"
    # Set to 1 behind HTTPS so that the session cookie is never sent in clear.
    SESSION_COOKIE_SECURE = os.environ.get("CASEWORK_SECURE_COOKIES", "") in ("1", "true", "yes")
    REMEMBER_COOKIE_DURATION = 0
    # A page's CSRF token lives as long as its session (a form left open at a site still posts).
    WTF_CSRF_TIME_LIMIT = None
    # Pages are in Chinese unless the user picks English (?lang=en).
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    # Proxies in front that set X-Forwarded-For/-Proto (1 behind nginx): without this every
    # client would share the proxy's address, and its login limit.
    CASEWORK_PROXY_COUNT = _int("CASEWORK_PROXY_COUNT", 0)

    # The Ed25519 key that signs the daily checkpoint of every case history (made on first
    # use, owner-only). Keep it off the database server: whoever can write both could forge.
    CASEWORK_AUDIT_KEY_FILE = os.environ.get("CASEWORK_AUDIT_KEY_FILE",
                                             str(INSTANCE_DIR / "audit-signing.key"))
    # When beat signs that checkpoint (local time).
    CASEWORK_CHECKPOINT_HOUR = _int("CASEWORK_CHECKPOINT_HOUR", 2)
    CASEWORK_CHECKPOINT_MINUTE = _int("CASEWORK_CHECKPOINT_MINUTE", 47)

    # Prefix of case references: DA-2026-000123.
    CASEWORK_REF_PREFIX = os.environ.get("CASEWORK_REF_PREFIX", "DA")

    # Celery broker. Default: kombu's SQLAlchemy transport on a SQLite file, no server needed.
    CELERY_BROKER_URL = os.environ.get(
        "CELERY_BROKER_URL", f"sqla+sqlite:///{INSTANCE_DIR / 'broker.db'}"
    )

    # The Celery queue Casework's tasks go to; deployments sharing one Redis use different ones.
    CASEWORK_CELERY_QUEUE = os.environ.get("CASEWORK_CELERY_QUEUE", "casework")

    # Email over SMTP. No host means no email: notifications go to the in-app inbox only.
    CASEWORK_SMTP_HOST = os.environ.get("CASEWORK_SMTP_HOST", "")
    CASEWORK_SMTP_PORT = _int("CASEWORK_SMTP_PORT", 25)
    CASEWORK_SMTP_USER = os.environ.get("CASEWORK_SMTP_USER", "")
    CASEWORK_SMTP_PASSWORD = os.environ.get("CASEWORK_SMTP_PASSWORD", "")
    CASEWORK_SMTP_STARTTLS = os.environ.get("CASEWORK_SMTP_STARTTLS", "") in ("1", "true", "yes")
    CASEWORK_SMTP_TIMEOUT_SECONDS = _int("CASEWORK_SMTP_TIMEOUT_SECONDS", 10)
    CASEWORK_MAIL_FROM = os.environ.get("CASEWORK_MAIL_FROM", "casework@localhost")
    CASEWORK_WEBHOOK_TIMEOUT_SECONDS = _int("CASEWORK_WEBHOOK_TIMEOUT_SECONDS", 10)

    # Outbox delivery: a claimed row is another worker's again after the lease; failed sends
    # are retried after BACKOFF, 2×BACKOFF, 4×BACKOFF ... (at most BACKOFF_MAX) until
    # MAX_ATTEMPTS, every attempt recorded.
    CASEWORK_DELIVERY_LEASE_SECONDS = _int("CASEWORK_DELIVERY_LEASE_SECONDS", 120)
    CASEWORK_DELIVERY_BACKOFF_SECONDS = _int("CASEWORK_DELIVERY_BACKOFF_SECONDS", 30)
    CASEWORK_DELIVERY_BACKOFF_MAX_SECONDS = _int("CASEWORK_DELIVERY_BACKOFF_MAX_SECONDS", 3600)
    CASEWORK_DELIVERY_MAX_ATTEMPTS = _int("CASEWORK_DELIVERY_MAX_ATTEMPTS", 12)

    # Deadline sweep (spec section 5).
    CASEWORK_REMINDER_HOURS = _int("CASEWORK_REMINDER_HOURS", 24)
    CASEWORK_SECOND_ESCALATION_DAYS = _int("CASEWORK_SECOND_ESCALATION_DAYS", 3)
    CASEWORK_DAYS_TO_REWORK = _int("CASEWORK_DAYS_TO_REWORK", 3)
    # How often beat runs the sweep and the outbox rescan, and when the morning digest goes.
    CASEWORK_SWEEP_INTERVAL_SECONDS = _int("CASEWORK_SWEEP_INTERVAL_SECONDS", 60)
    CASEWORK_DELIVERY_INTERVAL_SECONDS = _int("CASEWORK_DELIVERY_INTERVAL_SECONDS", 30)
    CASEWORK_DIGEST_HOUR = _int("CASEWORK_DIGEST_HOUR", 7)
    CASEWORK_DIGEST_MINUTE = _int("CASEWORK_DIGEST_MINUTE", 30)
    # After a request writes outgoing notifications, ask a worker to deliver them at once
    # (the periodic rescan delivers them anyway if this message is lost).
    CASEWORK_RING_DOORBELL = os.environ.get("CASEWORK_RING_DOORBELL", "1") not in ("0", "false", "no")

    JSON_SORT_KEYS = False
