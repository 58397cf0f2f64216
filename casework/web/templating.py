"""What every page template may use: dates in the district's time, the vendored assets, the
translated labels of the lifecycles, and the signed-in user's unread count."""
from __future__ import annotations

from datetime import date, datetime

from urllib.parse import urlencode

from flask import Flask, current_app, request, session, url_for
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from casework import clock
from werkzeug.exceptions import HTTPException

from casework.web import labels


def page_locale() -> str:
    """The page's language: chosen with ?lang=, kept in the session; Chinese by default."""
    return session.get("lang") or "zh"

# The vendored front-end files (see casework/static/vendor/README.md), by a short name.
ASSETS = {
    "htmx": "vendor/htmx-2.0.11/htmx.min.js",
    "bootstrap.css": "vendor/bootstrap-5.3.9/bootstrap.min.css",
    "bootstrap.js": "vendor/bootstrap-5.3.9/bootstrap.bundle.min.js",
    "chart.js": "vendor/chartjs-4.6.1/chart.umd.min.js",
}


def asset(name: str) -> str:
    return url_for("static", filename=ASSETS[name])


def local_date(value: datetime | date | None, format: str = "medium") -> str:  # noqa: A002
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(clock.local_zone()).date()
    return format_date(value, format)


def deadline_date(due_at: datetime | None, format: str = "medium") -> str:  # noqa: A002
    """A deadline as the date it was given (it runs to the end of that day)."""
    return format_date(clock.deadline_day(due_at), format) if due_at is not None else ""


def local_datetime(value: datetime | None, format: str = "short") -> str:  # noqa: A002
    if value is None:
        return ""
    return format_datetime(value.astimezone(clock.local_zone()).replace(tzinfo=None), format)


def is_overdue(due_at: datetime | None) -> bool:
    return due_at is not None and due_at < clock.now()


def unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    from casework.notifications.queries import unread_count as count_of

    return count_of(current_user)


# The top navigation by role, as addresses (spec section 14); a page not built in this
# installation is left out rather than linked to a 404.
_NAVIGATION = {
    "officer": [("/today", _l("Today")), ("/cases", _l("Cases")), ("/workorders", _l("Work orders")),
                ("/imports", _l("Import"))],
    "company": [("/workorders", _l("Work orders"))],
    "supervisor": [("/dashboard", _l("Dashboard")), ("/inspection", _l("Inspection")),
                   ("/cases", _l("Cases")), ("/workorders", _l("Work orders")),
                   ("/campaign", _l("Campaign")), ("/imports", _l("Import")),
                   ("/lifecycle", _l("Lifecycle"))],
    "admin": [("/admin/users", _l("Users")), ("/admin/zones", _l("Zones")),
              ("/admin/compounds", _l("Compounds")), ("/admin/companies", _l("Companies")),
              ("/imports", _l("Import")), ("/dashboard", _l("Dashboard"))],
}


def _routed(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except HTTPException:
        return False
    return True


def nav_links() -> list[tuple[str, str]]:
    """(address, label) of the pages of the signed-in user's role, marking the current one."""
    if not current_user.is_authenticated:
        return []
    links = _NAVIGATION.get(current_user.role.value, [])
    return [(path, str(label)) for path, label in links if _routed(path)]


def url_with(**changes: object) -> str:
    """This page's address with some query arguments changed (the filters stay)."""
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = [str(value)]
    query = urlencode([(name, value) for name, values in args.items() for value in values])
    return request.path + ("?" + query if query else "")


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["deadline_date"] = deadline_date
    app.jinja_env.globals.update(
        asset=asset, is_overdue=is_overdue, unread_count=unread_count, nav_links=nav_links,
        url_with=url_with, page_locale=page_locale,
        **{name: getattr(labels, name) for name in labels.__all__})
