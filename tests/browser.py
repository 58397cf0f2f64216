"""Browser tests: the real application on the demo district, served on loopback, driven by
Debian's chromium through Playwright.

Loaded as a pytest plugin (tests/conftest.py). What a browser test gets:

- ``live_server`` (session): the app on a temp SQLite database migrated by the real Alembic
  migrations and loaded with ``casework.demo.load_demo``; ``.url``, ``.password``, ``.app``,
  ``.context()`` (an application context for queries), ``.user(username)``,
  ``.scalar(select(...))``, ``.scalars(select(...))``. The demo users: admin, district,
  sup1..sup9, officer1a/officer1b..officer9a/9b, company1..company3 (casework/demo.py);
  the data is shared by every browser test of the run: a test that changes something makes
  its own case or work order (with ``.context()`` and the operations) or picks one no other
  test touches.
- ``base_url``, ``demo_password``: the same two values on their own.
- ``chromium`` (session): the browser. ``phone_page`` (390x844) and ``desk_page``
  (1440x900): a fresh page in a context of its own, Chinese unless ``open_page(lang="en")``.
- ``open_page(size="phone"|"desk", lang="zh"|"en")``: more pages in one test (two users).
- ``signed_in_page(username, size="phone", lang=None)``: a page already signed in.
- ``sign_in(page, username, base_url=None, password=None)``: through the real /login form.
- ``watch(page)``: records the page's requests, console messages and page errors.

Chromium missing (or no Chinese font): installed with apt-get when running as root, else the
browser tests are skipped, unless CI=true or CASEWORK_REQUIRE_SERVICES is set, where that
is a failure. Playwright's own browser download is never used.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.servers import free_port, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PACKAGES = ["chromium", "fonts-wqy-microhei"]
DEMO_PASSWORD = "browser-demo-password-1"
# Enough for every role's day: each zone's officers, supervisor and the companies have cases
# and work orders in every state, and loading stays within seconds.
DEMO_STRUCTURES = int(os.environ.get("CASEWORK_BROWSER_STRUCTURES", "300"))
SIZES = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1440, "height": 900}}
LOCALES = {"zh": "zh-CN", "en": "en-US"}
TIMEOUT_MS = 15_000


def _required() -> bool:
    return os.environ.get("CI") == "true" or bool(os.environ.get("CASEWORK_REQUIRE_SERVICES"))


def _has_chinese_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    return bool(listing.stdout.strip())


def _have_everything() -> bool:
    return os.access(CHROMIUM, os.X_OK) and _has_chinese_font()


_install_tried = False


def _ensure_chromium() -> None:
    """Chromium and a Chinese font, or a skip (a failure where services are required)."""
    global _install_tried
    if not _have_everything() and not _install_tried and hasattr(os, "geteuid") \
            and os.geteuid() == 0 and shutil.which("apt-get"):
        _install_tried = True
        subprocess.run(["apt-get", "install", "-y", "-q", *PACKAGES],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    missing = [what for what, ok in ((CHROMIUM, os.access(CHROMIUM, os.X_OK)),
                                     ("a Chinese font (fc-list :lang=zh)", _has_chinese_font()))
               if not ok]
    if missing:
        reason = (f"browser tests need {' and '.join(missing)}: "
                  f"apt-get install {' '.join(PACKAGES)}")
        if _required():
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class LiveServer:
    """The served application and what a test needs to find its way in the demo data."""
    url: str
    password: str
    app: object
    server: object = field(repr=False)

    def context(self):
        """An application context for queries: ``with live_server.context(): ...``."""
        return self.app.app_context()

    def user(self, username: str):
        """The demo user (detached; read its attributes, do not change it)."""
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from casework.accounts.models import User
        from casework.extensions import db

        with self.context():
            user = db.session.scalar(select(User).where(User.username == username)
                                     .options(selectinload(User.zones)))
            if user is None:
                raise LookupError(f"no demo user {username!r}")
            db.session.expunge(user)
            return user

    def scalar(self, statement):
        """One value of a query, e.g. ``live_server.scalar(select(Case.id).where(...).limit(1))``."""
        from casework.extensions import db

        with self.context():
            return db.session.scalar(statement)

    def scalars(self, statement) -> list:
        """A query's values as a list (plain columns are safest: objects come back detached)."""
        from casework.extensions import db

        with self.context():
            return list(db.session.scalars(statement))

    def query(self, work: Callable):
        """``work()`` run in an application context; returns what it returns (plain values
        are safest: objects are detached once the context ends)."""
        with self.context():
            return work()


_live: LiveServer | None = None


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    global _live
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from casework import create_app
    from casework.demo import load_demo
    from casework.extensions import db

    base = tmp_path_factory.mktemp("live")
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'casework.db'}",
        "CASEWORK_UPLOAD_DIR": str(base / "uploads"),
        "CASEWORK_AUDIT_KEY_FILE": str(base / "audit-signing.key"),
        "CELERY_BROKER_URL": f"sqla+sqlite:///{base / 'broker.db'}",
        "CASEWORK_RING_DOORBELL": False,
        "CASEWORK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Many tests sign in from one address; wrong passwords are tested elsewhere.
        "CASEWORK_LOGIN_LIMIT": "100000 per minute",
        "CASEWORK_LOGIN_ADDRESS_LIMIT": "100000 per minute",
    })
    with app.app_context():
        upgrade()
        load_demo(DEMO_PASSWORD, structures=DEMO_STRUCTURES)
        db.session.commit()
        db.session.remove()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="live-server")
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(url), 10, f"the live server at {url}")
    _live = LiveServer(url=url, password=DEMO_PASSWORD, app=app, server=server)
    yield _live
    _live = None
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture(scope="session")
def demo_password(live_server) -> str:
    return live_server.password


@pytest.fixture(scope="session")
def chromium():
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, live_server):
    """A factory of pages, each in a browser context of its own (own cookies, own storage),
    closed at the end of the test."""
    contexts = []

    def opener(size: str = "phone", lang: str = "zh"):
        context = chromium.new_context(viewport=SIZES[size], locale=LOCALES[lang],
                                       timezone_id="Asia/Shanghai", base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(open_page):
    return open_page("phone")


@pytest.fixture
def desk_page(open_page):
    return open_page("desk")


def sign_in(page, username: str, base_url: str | None = None, password: str | None = None,
            lang: str | None = None) -> None:
    """Signs in through the real /login form and waits for the role's start page.
    ``lang`` (zh or en) is chosen on the sign-in page first, as a user would."""
    base_url = base_url or (_live.url if _live else "")
    password = password if password is not None else (_live.password if _live else "")
    page.goto(f"{base_url}/login" + (f"?lang={lang}" if lang else ""))
    if "/login" not in page.url:
        raise AssertionError(f"already signed in: {page.url}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()
    if "/login" in page.url:
        raise AssertionError(f"{username} could not sign in: "
                             f"{page.locator('main').inner_text()[:500]}")


@pytest.fixture
def signed_in_page(open_page, live_server):
    """``signed_in_page("officer1a", size="phone", lang=None)``: a page already signed in."""

    def opener(username: str, size: str = "phone", lang: str | None = None):
        page = open_page(size, lang or "zh")
        sign_in(page, username, live_server.url, live_server.password, lang=lang)
        return page

    return opener


@dataclass
class PageLog:
    """What a page did: every request's URL, console messages by type, uncaught errors."""
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]


def watch(page) -> PageLog:
    """Starts recording; call before the first ``goto`` that matters."""
    log = PageLog()
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("console", lambda message: log.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: log.errors.append(str(error)))
    return log


@contextmanager
def same_page(page) -> Iterator[None]:
    """Waits for the navigation a click inside the block starts (a form's POST/redirect/GET)."""
    with page.expect_navigation():
        yield


DOCS = Path(__file__).resolve().parent.parent / "docs"
