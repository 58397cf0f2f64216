"""``/api/v1/reports/...``: the supervisors' figures (SPEC section 13), scoped like the lists;
a company user gets 404 on every one."""
from __future__ import annotations

from flask import Blueprint

from casework.accounts.auth import current_user
from casework.common.requests import query_args
from casework.reports.progress import progress_report
from casework.reports.queries import backlog_report, board_report, officers_report
from casework.reports.schemas import ReportQuery

bp = Blueprint("reports", __name__)


def _zone() -> str | None:
    return query_args(ReportQuery).zone


@bp.get("/reports/backlog")
def backlog():
    return backlog_report(current_user(), _zone()).model_dump(mode="json")


@bp.get("/reports/board")
def board():
    return board_report(current_user(), _zone()).model_dump(mode="json")


@bp.get("/reports/progress")
def progress():
    return progress_report(current_user(), _zone()).model_dump(mode="json")


@bp.get("/reports/officers")
def officers():
    return officers_report(current_user(), _zone()).model_dump(mode="json")
