"""Errors on pages: the same statuses as the API, as a page in the user's language. A page
the user may not see is the 404 page, word for word the one for a page that does not exist."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError


def _texts(status: int) -> tuple[str, str]:
    if status == 404:
        return _("Page not found"), _("There is no such page, or it is not yours to see.")
    if status == 429:
        return _("Too many attempts"), _("Too many failed sign-ins; wait a little and try again.")
    if status == 413:
        return _("File too large"), _("The file is larger than the server accepts; take a smaller photo.")
    if status == 405:
        return _("Not possible here"), _("This address does not take that kind of request.")
    if status >= 500:
        return _("Something went wrong"), _("An unexpected error occurred; it has been logged. Try again.")
    return _("The request was refused"), _("The server could not take this request.")


def error_page(status: int, exc: Exception | None = None) -> tuple[str, int]:
    title, message = _texts(status)
    if isinstance(exc, CSRFError):
        title = _("The form has expired")
        message = _("The form was not sent from this site or has expired; reload the page and "
                    "send it again.")
    return render_template("error.html", title=title, message=message), status
