"""The supervisor's dashboard: the compound board, the progress chart, the backlog, the
officers' workload and the overdue cases, on one desk page.

Every figure comes from the same report functions as ``/api/v1/reports/...`` (called once
each, for the signed-in user), so the page and the API never disagree; a company user gets
the 404 page because the reports refuse it."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template, request
from pydantic import ValidationError

from casework.accounts.models import User
from casework.campaign.plan import iso_week, weeks_between
from casework.campaign.queries import zones_in_view
from casework.cases.models import Case
from casework.cases.queries import filtered_cases
from casework.cases.schemas import CaseQuery
from casework.common.errors import NotFound
from casework.extensions import db
from casework.reports.progress import progress_report
from casework.reports.queries import (STATES, backlog_report, board_report, colour_of,
                                      compounds_in_view, officers_report)
from casework.reports.schemas import BacklogOut, BoardOut, ProgressOut, ReportQuery
from casework.settings import setting
from casework.web.pages import page_user, signed_in

bp = Blueprint("reports_pages", __name__, template_folder="templates")

# The overdue list shows the longest-late cases first; the whole list is one link away.
OVERDUE_SHOWN = 25
# The chart looks ahead at most two years, however far away a slow forecast falls.
MAX_WEEKS_AHEAD = 104


def _progress(user: User, zone: str | None) -> ProgressOut | None:
    """The progress report, or None while no campaign is planned (the page says so)."""
    try:
        return progress_report(user, zone)
    except NotFound as err:
        if err.code == "no_campaign":
            return None
        raise


def _chart_data(progress: ProgressOut | None) -> dict | None:
    """What dashboard.js draws: the district's weeks so far (cumulative closed and the plan),
    then the weeks to the end date or the forecast finish, whichever is later, with the
    forecast as a line from this week's figure to the target on the forecast's week."""
    if progress is None:
        return None
    overall = progress.overall
    series = overall.series
    weeks = [week.week for week in series]
    last = max(progress.campaign.end, overall.forecast_finish or progress.campaign.end)
    if series:
        this_monday = _monday_iso(weeks[-1])
        ahead = weeks_between(this_monday + timedelta(days=7), last)[:MAX_WEEKS_AHEAD]
        weeks += [iso_week(monday) for monday in ahead]
    forecast = [None] * len(weeks)
    if series and overall.forecast_finish is not None:
        forecast[len(series) - 1] = series[-1].cumulative_done
        finish = iso_week(overall.forecast_finish)
        if finish in weeks and weeks.index(finish) >= len(series) - 1:
            forecast[weeks.index(finish)] = overall.target
    return {"weeks": weeks,
            "done": [week.cumulative_done for week in series],
            "planned": [week.planned for week in series],
            "forecast": forecast,
            "target": overall.target,
            "end": iso_week(progress.campaign.end)}


def _monday_iso(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


@bp.get("/dashboard")
@signed_in
def dashboard():
    """The whole of the user's zones, or one of them with ``?zone=CODE`` (as the reports'
    own argument: a zone the user may not see is the 404 page)."""
    user = page_user()
    zone = _zone_asked()
    backlog = backlog_report(user, zone)
    # A city's many zones: a tile per zone (from the backlog) instead of tens of thousands.
    by_zone = zone is None and compounds_in_view(user) > setting("CASEWORK_BOARD_TILES")
    board = BoardOut(compounds=[]) if by_zone else board_report(user, zone)
    officers = officers_report(user, zone)
    progress = _progress(user, zone)
    overdue = list(db.session.scalars(
        filtered_cases(user, CaseQuery(overdue=True, zone=zone))
        .order_by(None).order_by(Case.due_at, Case.id).limit(OVERDUE_SHOWN)))
    return render_template(
        "reports/dashboard.html", backlog=backlog, board=board, officers=officers,
        progress=progress, chart=_chart_data(progress), overdue=overdue,
        board_by_zone=_board_by_zone(board, backlog), states=STATES, zone=zone,
        zone_tiles=[(index, line, colour_of(line.states)) for index, line
                    in enumerate(backlog.zones)] if by_zone else [],
        zones=zones_in_view(user))


def _zone_asked() -> str | None:
    """``?zone=`` as the reports take it; blank is every zone, a code too long to be one is
    no zone at all (the 404 page, as for an unknown one)."""
    try:
        return ReportQuery(zone=request.args.get("zone") or None).zone
    except ValidationError:
        raise NotFound("No such zone.") from None


def _board_by_zone(board: BoardOut, backlog: BacklogOut) -> list[tuple]:
    """The tiles under their zone, as the wall boards hang; each keeps its index in the
    report (the page marks every figure with its place in the API's answer)."""
    tiles: dict[int, list] = {}
    for index, tile in enumerate(board.compounds):
        tiles.setdefault(tile.zone_id, []).append((index, tile))
    return [(line.zone, tiles[line.zone.id]) for line in backlog.zones if line.zone.id in tiles]
