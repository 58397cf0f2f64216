"""Print pages: the deadline notice of a case (preview, issue, print) and a work order's sheet,
as A4 documents with a few controls above them that never print."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, redirect, render_template, request, url_for

from casework.cases.queries import get_visible_case
from casework.common.errors import ApiError
from casework.notices import document, operations
from casework.notices.api import notice_response, with_toolbar
from casework.web.pages import page_user, signed_in
from casework.workorders.queries import get_visible_workorder

bp = Blueprint("notices_pages", __name__, template_folder="templates")


def _print_page(response: Response) -> Response:
    """The document's own style block, this site's scripts and forms, nothing else."""
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; style-src {document.style_hash()}; script-src 'self'; "
        "img-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'")
    return response


def _deadline_arg() -> date | None:
    raw = request.values.get("deadline", "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.get("/cases/<int:case_id>/notice")
@signed_in
def notice(case_id: int):
    user = page_user()
    case = get_visible_case(user, case_id)
    deadline = _deadline_arg()
    problems: list[str] = []
    try:
        preview = operations.preview_notice(case, user, deadline)
    except ApiError as err:
        if err.status in (403, 404):
            raise
        preview = None
        problems = _problems(err)
    toolbar = render_template("notices/_notice_toolbar.html", case=case, preview=preview,
                              problems=problems, deadline=deadline)
    if preview is None:
        return _print_page(Response(render_template("notices/_alone.html", toolbar=toolbar,
                                                    case=case),
                                    status=422 if deadline else 200, mimetype="text/html"))
    return _print_page(notice_response(preview, toolbar=toolbar))


def _problems(err: ApiError) -> list[str]:
    from casework.web.labels import problem_text
    details = err.details if isinstance(err.details, list) else []
    return [problem_text(d) for d in details if isinstance(d, dict)] or [err.message]


@bp.post("/cases/<int:case_id>/notice")
@signed_in
def issue(case_id: int):
    user = page_user()
    case = get_visible_case(user, case_id, for_update=True)
    deadline = _deadline_arg()
    notice, _new = operations.issue_notice(case, user, deadline)
    return redirect(url_for("notices_pages.notice", case_id=case.id,
                            deadline=notice.deadline.isoformat()), code=303)


@bp.get("/workorders/<int:workorder_id>/sheet")
@signed_in
def sheet(workorder_id: int):
    order = get_visible_workorder(page_user(), workorder_id)
    sheet = operations.workorder_sheet(order)
    toolbar = render_template("notices/_sheet_toolbar.html", order=order)
    return _print_page(Response(with_toolbar(sheet.html, toolbar), mimetype="text/html"))
