"""What the pages need from the site itself: the service worker at the site's root (its scope
is where it is served from), the page shown when a page was never kept for offline use, and
the outbox of forms waiting for the network."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, send_file

from casework.web.pages import signed_in

bp = Blueprint("web_pages", __name__, template_folder="templates")


@bp.get("/sw.js")
def service_worker():
    path = Path(current_app.static_folder) / "js" / "sw.js"
    response = send_file(path, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    # The policy a worker script arrives with governs the worker's own fetches: it keeps
    # pages and files of this site, so it may fetch from this site (and nowhere else).
    response.headers["Content-Security-Policy"] = "default-src 'self'"
    return response


@bp.get("/offline")
def offline():
    return render_template("web/offline.html")


@bp.get("/outbox")
@signed_in
def outbox():
    return render_template("web/outbox.html")
