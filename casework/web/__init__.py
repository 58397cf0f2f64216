"""The web application: server-rendered pages over the same operations as the API.

``init_web(app)`` adds what pages need and the API does not: sessions (Flask-Login), CSRF on
every form (Flask-WTF), the language of the page (Flask-Babel, Chinese unless English is asked
for), the pages' security headers and the HTML error pages."""
from __future__ import annotations

import importlib
from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from casework.web import templating
from casework.web.templating import page_locale
from casework.web.blueprints import WEB_BLUEPRINTS

LOCALES = ("zh", "en")

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def init_web(app: Flask) -> None:
    from casework.web import catalogs

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", catalogs.translation_directories())
    app.permanent_session_lifetime = timedelta(hours=app.config["CASEWORK_SESSION_HOURS"])
    login_manager.init_app(app)
    login_manager.login_view = "accounts_pages.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    # The API authenticates each request with a bearer token, not a cookie: a forged
    # cross-site request carries no token, so only pages (cookie sessions) need CSRF tokens.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_previous_request)
    app.before_request(_protect_pages)
    babel.init_app(app, locale_selector=page_locale)
    templating.init_templating(app)
    app.before_request(_remember_language)
    app.before_request(_user_for_operations)
    for path in WEB_BLUEPRINTS:
        module, _, attribute = path.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module), attribute))
    app.after_request(page_headers)


def _protect_pages() -> None:
    # A request that matched no page (404, 405) changes nothing and answers as it is.
    if (request.method in current_app.config["WTF_CSRF_METHODS"] and request.endpoint
            and not request.path.startswith("/api/")):
        csrf.protect()


def _load_user(user_id: str):
    from casework.accounts.operations import active_user

    if not user_id.isdigit() or len(user_id) > 9:
        return None
    return active_user(int(user_id))


def _remember_language() -> None:
    """``?lang=zh|en`` on any page chooses the language; the session keeps it."""
    wanted = request.args.get("lang")
    if wanted in LOCALES:
        session["lang"] = wanted



def _forget_previous_request() -> None:
    """Flask-Babel (the locale), Flask-WTF (the CSRF token) and the API (the user) keep
    per-request values in ``g``, which lives as long as the application context. A served
    request has a context of its own; a request made inside a longer one (a test, a command)
    must not inherit the previous request's language, token or user."""
    # Flask-Login keeps the signed-in user as _login_user.
    for name in ("_flask_babel", "csrf_valid", "user", "_login_user",
                 current_app.config["WTF_CSRF_FIELD_NAME"]):
        g.pop(name, None)


def _user_for_operations() -> None:
    """Operations are given their user; pages take it from the session. ``g.user`` is where
    the shared request helpers (idempotency, current_user) look for it."""
    if not request.path.startswith("/api/") and current_user.is_authenticated:
        g.user = current_user._get_current_object()


# Pages load scripts, styles and images from this server only; no inline script, no framing.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
               "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
               "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def page_headers(response):
    if response.mimetype == "text/html":
        headers = response.headers
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        # A page shows cases and owners: it is never kept by a shared cache.
        headers.setdefault("Cache-Control", "no-store")
    return response
