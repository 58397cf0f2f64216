"""``/api/v1/cases/<id>/notice``: the deadline notice's HTML, previewed (GET) or issued (POST),
so that the district's own systems can print exactly what Casework records."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response

from casework.accounts.auth import current_user
from casework.cases.queries import get_visible_case
from casework.common.requests import json_object, query_args, validate
from casework.common.schemas import Strict
from casework.notices import document, operations

bp = Blueprint("notices", __name__)


class NoticeArgs(Strict):
    deadline: date | None = None


def with_toolbar(html: str, toolbar: str) -> str:
    """A page's controls (print, issue, back) above the document; none for the API, whose
    answer is byte for byte the document whose hash is recorded."""
    return html.replace("<body>\n", "<body>\n" + toolbar, 1) if toolbar else html


def notice_response(notice: operations.Notice, status: int = 200,
                    toolbar: str = "") -> Response:
    """The notice's HTML as issued; its number and hash also in headers, for a client that
    files them. Only the document's own style block may apply (CSP by hash)."""
    html = with_toolbar(notice.document.html, toolbar)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["X-Notice-Number"] = notice.number
    response.headers["X-Notice-SHA256"] = notice.document.sha256
    return response


def _as_api(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {document.style_hash()}; frame-ancestors 'none'")
    return response


@bp.get("/cases/<int:case_id>/notice")
def preview_notice(case_id: int):
    args = query_args(NoticeArgs)
    user = current_user()
    notice = operations.preview_notice(get_visible_case(user, case_id), user, args.deadline)
    return _as_api(notice_response(notice))


@bp.post("/cases/<int:case_id>/notice")
def issue_notice(case_id: int):
    body = validate(NoticeArgs, json_object())
    user = current_user()
    case = get_visible_case(user, case_id, for_update=True)
    notice, new = operations.issue_notice(case, user, body.deadline)
    return _as_api(notice_response(notice, 201 if new else 200))
