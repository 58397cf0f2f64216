"""Helpers for page tests with Flask's test client: sign in through the real form, read a
page's CSRF token and its visible text."""
from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from tests.support import PASSWORD

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def form_token(page: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _TOKEN.search(page)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def page_text(page: str) -> str:
    """What a reader sees: the page without tags, scripts or extra white space."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def sign_in(client: FlaskClient, user, password: str = PASSWORD, lang: str | None = None):
    """Signs the client in as ``user`` through the sign-in page; returns the response."""
    page = client.get("/login" + (f"?lang={lang}" if lang else ""))
    response = client.post("/login", data={"username": user.username, "password": password,
                                           "csrf_token": form_token(page.text)})
    assert response.status_code == 303, page_text(response.text)[:500]
    return response


def post_form(client: FlaskClient, path: str, data: dict | None = None, *, page: str | None = None,
              **kwargs):
    """Posts a form the way a browser does: with the CSRF token of the page it is on
    (``page``, or the page at ``path``)."""
    page = page if page is not None else client.get(path).text
    return client.post(path, data={"csrf_token": form_token(page), **(data or {})}, **kwargs)
