"""Every blueprint of pages, as ``"module:attribute"``: one line per domain's ``views.py``.

Named as strings so that the web layer imports a domain's views only when the application is
built, and no domain imports the web layer's list of the others."""
from __future__ import annotations

WEB_BLUEPRINTS: tuple[str, ...] = (
    "casework.web.views:bp",
    "casework.accounts.views:bp",
    "casework.notifications.views:bp",
    "casework.notices.views:bp",
    "casework.plans.views:bp",
    "casework.workorders.views:bp",
    "casework.cases.views:bp",
    "casework.reports.views:bp",
    "casework.supervision.views:bp",
    "casework.campaign.views:bp",
    "casework.exports.views:bp",
    "casework.admin.views:bp",
    "casework.imports.views:bp",
)
