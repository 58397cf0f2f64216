"""``/inbox``: the signed-in user's notifications, newest first, unread marked."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from casework.common.idempotency import idempotent
from casework.common.paging import list_page
from casework.notifications import operations
from casework.notifications.queries import INBOX_ORDER, inbox_of
from casework.web.pages import done, page_number, page_user, signed_in

bp = Blueprint("notifications_pages", __name__, template_folder="templates")

PER_PAGE = 30


@bp.get("/inbox")
@signed_in
def inbox():
    unread_only = request.args.get("unread") == "1"
    page = list_page(inbox_of(page_user(), unread=True if unread_only else None), INBOX_ORDER,
                     page=page_number(), after=None, per_page=PER_PAGE, serialize=lambda row: row)
    return render_template("notifications/inbox.html", page=page, unread_only=unread_only)


@bp.post("/inbox/<int:notification_id>/read")
@signed_in
def mark_read(notification_id: int):
    row = operations.mark_read(page_user(), notification_id)
    if request.headers.get("HX-Request"):
        return render_template("notifications/_row.html", row=row)
    return done("notifications_pages.inbox", _("Marked as read."))


@bp.post("/inbox/read")
@signed_in
@idempotent
def mark_all_read():
    marked = operations.mark_all_read(page_user())
    return done("notifications_pages.inbox", _("%(count)s notifications marked as read.",
                                               count=marked))
