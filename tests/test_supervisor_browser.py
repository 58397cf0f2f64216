"""The supervisor's day in a real browser on the demo district: the board and the progress
chart on the desk, a demolished case inspected and closed, the case list exported as XLSX
(the file opened has the list's rows), and the dashboard's picture for the docs."""
from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import exists, func, select

from casework.cases.models import Case, CaseState
from casework.workorders.models import WorkOrder, WorkOrderState
from tests.browser import DOCS, watch

import pytest

pytestmark = pytest.mark.slow

SUPERVISOR = "sup1"


def test_the_supervisor_sees_the_board_and_the_chart_and_the_dashboard_is_pictured(
        signed_in_page, live_server):
    page = signed_in_page(SUPERVISOR, size="desk")
    log = watch(page)
    page.goto(live_server.url + "/dashboard")
    assert page.locator("main h1").first.inner_text().strip() == "指挥看板"
    tiles = page.locator("a.board-tile")
    assert tiles.count() > 0
    # Every tile says its state in words, not by colour alone, and opens its compound's cases.
    first = tiles.first
    assert first.get_attribute("href").startswith("/cases?compound=")
    assert any(word in first.inner_text() for word in ("全部完成", "准备中", "工作进行中", "无案件"))
    # Chart.js drew the progress chart from the JSON block (the canvas has a drawing).
    page.wait_for_function("() => window.Chart && Chart.getChart('progress-chart')")
    assert page.evaluate("Chart.getChart('progress-chart').data.datasets[0].data.length") > 0
    assert not log.errors
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "supervisor-dashboard.png"))
    assert (DOCS / "supervisor-dashboard.png").stat().st_size > 10_000


def _demolished_case_to_inspect(live_server) -> tuple[int, str]:
    """A demolished case of the supervisor's zones with no work still open (the close guard's
    condition); the newest, which no other browser test picks."""
    zone_ids = [zone.id for zone in live_server.user(SUPERVISOR).zones]
    open_work = exists().where(WorkOrder.case_id == Case.id,
                               WorkOrder.state.not_in([WorkOrderState.VERIFIED,
                                                       WorkOrderState.CANCELLED]))
    row = live_server.query(lambda: live_server.app.extensions["sqlalchemy"].session.execute(
        select(Case.id, Case.ref).where(Case.state == CaseState.DEMOLISHED,
                                        Case.zone_id.in_(zone_ids), ~open_work)
        .order_by(Case.id.desc()).limit(1)).first())
    assert row is not None, "the demo has no demolished case ready for inspection"
    return row[0], row[1]


def test_the_supervisor_inspects_a_demolished_case_and_closes_it(signed_in_page, live_server):
    case_id, ref = _demolished_case_to_inspect(live_server)
    page = signed_in_page(SUPERVISOR, size="desk")
    page.goto(live_server.url + "/inspection")
    card = page.locator(f"#case-{case_id}")
    assert ref in card.inner_text()
    assert "拆除前" in card.inner_text() and "拆除后" in card.inner_text()
    card.locator(f"#close-{case_id}-note").fill("现场已拆除干净，验收合格")
    with page.expect_navigation():
        card.get_by_role("button", name="验收结案").click()
    assert f"已完成：验收结案（{ref}）" in page.locator("main").inner_text()
    assert page.locator(f"#case-{case_id}").count() == 0
    assert live_server.scalar(select(Case.state).where(Case.id == case_id)) is CaseState.CLOSED


def test_the_supervisor_exports_the_case_list_as_xlsx(signed_in_page, live_server, tmp_path):
    zone_ids = [zone.id for zone in live_server.user(SUPERVISOR).zones]
    compound_id, count = live_server.query(lambda: live_server.app.extensions["sqlalchemy"]
                                           .session.execute(
        select(Case.compound_id, func.count()).where(Case.zone_id.in_(zone_ids))
        .group_by(Case.compound_id).order_by(Case.compound_id).limit(1)).first())
    page = signed_in_page(SUPERVISOR, size="desk")
    page.goto(f"{live_server.url}/cases?compound={compound_id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel（XLSX）").click()
    path = tmp_path / "cases.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "案件编号"
    assert len(rows) - 1 == count
