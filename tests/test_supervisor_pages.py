"""The supervisor's desk pages (spec sections 7 and 14): the dashboard's figures are the
reports API's, figure for figure; a tile opens its compound's cases; no campaign is said in
words; a company gets the 404 page."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from casework import clock
from casework.accounts.models import User
from casework.extensions import db
from casework.places.models import Compound, Zone
from tests.support import Api
from tests.web import form_token, page_text, sign_in

FIGURE = re.compile(r'data-report="(\w+):([\w.]+)"[^>]*>([^<]*)<')


@dataclass
class Desk:
    app: object
    api: Api
    make: object
    zones: list[Zone]
    compounds: list[Compound]
    officer: User
    supervisor: User
    district: User
    cases: dict[str, dict]

    def page_client(self, user: User, lang: str | None = None) -> FlaskClient:
        client = self.app.test_client()
        sign_in(client, user, lang=lang)
        return client

    def plan_campaign(self) -> None:
        today = clock.local_today()
        body = {"name": "测试清违行动", "start": (today - timedelta(weeks=4)).isoformat(),
                "end": (today + timedelta(weeks=4)).isoformat(),
                "zones": [{"zone_id": self.zones[0].id, "target": 5}]}
        response = self.api.as_(self.district).put("/api/v1/campaign", json=body)
        assert response.status_code == 200, response.get_json()


@pytest.fixture
def desk(app, api, make) -> Desk:
    zones = [make.zone(), make.zone()]
    compounds = [make.compound(zones[0]), make.compound(zones[0]), make.compound(zones[1])]
    officer = make.user("officer", zones)
    supervisor = make.user("supervisor", [zones[0]])
    district = make.user("supervisor")
    as_officer = api.as_(officer)
    cases = {
        "new": as_officer.create_case(compounds[0], address="幸福路1号"),
        "late": as_officer.create_case(compounds[0], address="幸福路2号"),
        "demolished": as_officer.case_in(compounds[1], "demolished", address="幸福路3号"),
        "other_zone": as_officer.create_case(compounds[2], address="和平路9号"),
    }
    closed = as_officer.case_in(compounds[1], "demolished", address="幸福路4号")
    response = api.as_(supervisor).fire(closed["id"], "close", note="验收合格")
    assert response.status_code == 200, response.get_json()
    cases["closed"] = response.get_json()
    make.set_due_at(cases["late"]["id"], -2)
    make.set_due_at(cases["other_zone"]["id"], -1)
    return Desk(app, api, make, zones, compounds, officer, supervisor, district, cases)


def figures(page: str) -> list[tuple[str, str, str]]:
    return [(report, path, text.strip()) for report, path, text in FIGURE.findall(page)]


def resolve(document, path: str):
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def assert_page_equals_api(desk: Desk, user: User, page: str, query: str = "") -> set[str]:
    found = figures(page)
    answers = {}
    for report, path, text in found:
        if report not in answers:
            response = desk.api.as_(user).get(f"/api/v1/reports/{report}{query}")
            assert response.status_code == 200, response.get_json()
            answers[report] = response.get_json()
        assert text == str(resolve(answers[report], path)), (report, path, text)
    return {report for report, _, _ in found}


@pytest.mark.parametrize("who", ["supervisor", "district"])
def test_every_figure_on_the_dashboard_is_the_reports_apis(desk, who):
    desk.plan_campaign()
    user = getattr(desk, who)
    page = desk.page_client(user).get("/dashboard")
    assert page.status_code == 200
    assert assert_page_equals_api(desk, user, page.text) == {"board", "backlog", "progress",
                                                             "officers"}
    board = desk.api.as_(user).get("/api/v1/reports/board").get_json()
    # One tile per compound the user may see, each opening that compound's cases.
    tiles = re.findall(r'href="/cases\?compound=(\d+)"', page.text)
    assert sorted(map(int, tiles)) == sorted(c["id"] for c in board["compounds"])
    assert len(tiles) == (3 if who == "district" else 2)


def test_the_dashboard_narrowed_to_one_zone_is_the_reports_of_that_zone(desk):
    desk.plan_campaign()
    client = desk.page_client(desk.district)
    code = desk.zones[1].code
    page = client.get(f"/dashboard?zone={code}&lang=en")
    assert page.status_code == 200
    assert assert_page_equals_api(desk, desk.district, page.text, f"?zone={code}") == {
        "board", "backlog", "progress", "officers"}
    text = page_text(page.text)
    assert desk.cases["other_zone"]["ref"] in text and desk.cases["late"]["ref"] not in text
    assert re.findall(r'href="/cases\?compound=(\d+)"', page.text) == [str(desk.compounds[2].id)]
    assert client.get("/dashboard?zone=").status_code == 200
    assert client.get("/dashboard?zone=NOPE").status_code == 404
    # A zone supervisor's other zones do not exist for them.
    assert desk.page_client(desk.supervisor).get(f"/dashboard?zone={code}").status_code == 404


def test_a_view_of_more_compounds_than_the_board_draws_has_a_tile_per_zone(desk, monkeypatch):
    # A city's district supervisor sees tens of thousands of compounds; here the bound is
    # set below the three the district's supervisor sees, and above a zone's two.
    monkeypatch.setitem(desk.app.config, "CASEWORK_BOARD_TILES", 2)
    desk.plan_campaign()
    client = desk.page_client(desk.district)
    page = client.get("/dashboard?lang=en")
    assert page.status_code == 200
    assert "Too many compounds to show at once" in page_text(page.text)
    assert re.findall(r'href="/cases\?compound=(\d+)"', page.text) == []
    assert re.findall(r'href="/dashboard\?zone=(\w+)"', page.text) == sorted(
        zone.code for zone in desk.zones)
    # Each zone's tile carries the backlog's figures for that zone.
    assert assert_page_equals_api(desk, desk.district, page.text) == {"backlog", "progress",
                                                                      "officers"}
    assert 'data-report="backlog:zones.0.done"' in page.text

    zone_page = client.get(f"/dashboard?zone={desk.zones[0].code}").text
    assert sorted(map(int, re.findall(r'href="/cases\?compound=(\d+)"', zone_page))) == sorted(
        compound.id for compound in desk.compounds[:2])
    own = desk.page_client(desk.supervisor).get("/dashboard").text
    assert len(re.findall(r'href="/cases\?compound=(\d+)"', own)) == 2


def test_the_dashboard_marks_overdue_and_lists_the_overdue_cases(desk):
    page = desk.page_client(desk.supervisor).get("/dashboard").text
    text = page_text(page)
    late = desk.cases["late"]
    assert f'href="/cases/{late["id"]}"' in page
    assert late["ref"] in text
    # The other zone's overdue case is not this supervisor's.
    assert desk.cases["other_zone"]["ref"] not in text
    # Colour is never the only signal: every tile says its colour in words too.
    assert "工作进行中" in text or "Work under way" in text
    assert "逾期" in text


def test_with_no_campaign_the_dashboard_says_so_and_links_to_the_plan(desk):
    page = desk.page_client(desk.district).get("/dashboard")
    assert page.status_code == 200
    assert 'href="/campaign"' in page.text
    english = desk.page_client(desk.district, lang="en").get("/dashboard")
    assert "No campaign has been planned yet." in page_text(english.text)


def test_the_chart_data_is_a_json_block_not_a_script(desk):
    desk.plan_campaign()
    page = desk.page_client(desk.district).get("/dashboard").text
    assert '<script type="application/json" id="progress-data">' in page
    assert "js/dashboard.js" in page and "chart" in page
    assert not re.search(r"<script>(?!</script>)", page)


def test_a_company_gets_the_404_page_for_the_dashboard(desk):
    company = desk.make.user("company")
    page = desk.page_client(company).get("/dashboard")
    assert page.status_code == 404
    assert page.mimetype == "text/html"


# Inspection (核查) ---------------------------------------------------------------------------

def case_json(desk: Desk, case_id: int) -> dict:
    return desk.api.as_(desk.supervisor).get(f"/api/v1/cases/{case_id}").get_json()


def test_inspection_shows_before_and_after_photos_and_closes_with_the_note(desk):
    demolished = desk.cases["demolished"]
    assert desk.api.as_(desk.officer).attach(demolished["id"], "before_photo").status_code == 201
    client = desk.page_client(desk.supervisor)
    page = client.get("/inspection").text
    text = page_text(page)
    assert demolished["ref"] in text
    assert "拆除前" in text and "拆除后" in text
    photos = re.findall(rf'src="(/cases/{demolished["id"]}/attachments/\d+)"', page)
    assert len(photos) == 2  # one before, one after, side by side
    assert all(client.get(src).status_code == 200 for src in photos)
    version = case_json(desk, demolished["id"])["version"]
    response = client.post(f"/inspection/{demolished['id']}/close", data={
        "csrf_token": form_token(page), f"close-{demolished['id']}-expected_version": version,
        f"close-{demolished['id']}-note": "现场已清理干净"})
    assert response.status_code == 303
    after = case_json(desk, demolished["id"])
    assert after["state"] == "closed"
    follow = client.get(response.headers["Location"]).text
    assert f"/inspection/{demolished['id']}/close" not in follow
    assert "已完成：验收结案" in page_text(follow) or "已完成" in page_text(follow)


def test_a_close_without_a_note_is_refused_beside_the_note_and_changes_nothing(desk):
    demolished = desk.cases["demolished"]
    client = desk.page_client(desk.supervisor, lang="en")
    page = client.get("/inspection").text
    before = case_json(desk, demolished["id"])
    response = client.post(f"/inspection/{demolished['id']}/close", data={
        "csrf_token": form_token(page),
        f"close-{demolished['id']}-expected_version": before["version"],
        f"close-{demolished['id']}-note": "  "})
    assert response.status_code == 422
    assert re.search(rf'id="close-{demolished["id"]}-note-error"[^>]*>\s*An inspection note is required',
                     response.text)
    assert case_json(desk, demolished["id"]) == before


def test_reopen_needs_a_future_deadline_and_then_sets_it(desk):
    demolished = desk.cases["demolished"]
    prefix = f"reopen-{demolished['id']}-"
    client = desk.page_client(desk.supervisor, lang="en")
    page = client.get("/inspection").text
    version = case_json(desk, demolished["id"])["version"]
    refused = client.post(f"/inspection/{demolished['id']}/reopen", data={
        "csrf_token": form_token(page), prefix + "expected_version": version,
        prefix + "note": "拆除不彻底", prefix + "deadline": clock.local_today().isoformat()})
    assert refused.status_code == 422
    assert "The deadline must be a date after today." in page_text(refused.text)
    assert case_json(desk, demolished["id"])["state"] == "demolished"
    day = clock.local_today() + timedelta(days=5)
    response = client.post(f"/inspection/{demolished['id']}/reopen", data={
        "csrf_token": form_token(page), prefix + "expected_version": version,
        prefix + "note": "拆除不彻底", prefix + "deadline": day.isoformat()})
    assert response.status_code == 303
    assert case_json(desk, demolished["id"])["state"] == "negotiated"


def test_enforcement_is_approved_for_a_negotiated_case_past_its_deadline(desk, api):
    case = api.as_(desk.officer).case_in(desk.compounds[0], "negotiated")
    client = desk.page_client(desk.supervisor)
    assert f'/inspection/{case["id"]}/approve_enforcement' not in client.get("/inspection").text
    desk.make.set_due_at(case["id"], -1)
    page = client.get("/inspection").text
    assert f'/inspection/{case["id"]}/approve_enforcement' in page
    prefix = f"approve_enforcement-{case['id']}-"
    response = client.post(f"/inspection/{case['id']}/approve_enforcement", data={
        "csrf_token": form_token(page), prefix + "expected_version": case_json(desk, case["id"])["version"],
        prefix + "note": "同意强拆"})
    assert response.status_code == 303
    history = desk.api.as_(desk.supervisor).get(f"/api/v1/cases/{case['id']}/events").get_json()
    assert history["items"][-1]["trigger"] == "approve_enforcement"
    assert f'/inspection/{case["id"]}/approve_enforcement' not in client.get("/inspection").text


def desk_statements(desk: Desk, client: FlaskClient) -> tuple[int, str]:
    """How many SQL statements the inspection page takes, and the page."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/inspection").text
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), page


def test_the_desk_reads_every_late_cards_approval_at_once(desk, api):
    """The approval badge is right per card, and the page's statements do not grow with the
    number of late cards (one query for all their approvals, as for their photos)."""
    client = desk.page_client(desk.supervisor)
    as_officer, as_supervisor = api.as_(desk.officer), api.as_(desk.supervisor)
    first = as_officer.case_in(desk.compounds[0], "negotiated")
    desk.make.set_due_at(first["id"], -1)
    few, _ = desk_statements(desk, client)
    late = [as_officer.case_in(desk.compounds[0], "negotiated") for _ in range(3)]
    for case in late:
        desk.make.set_due_at(case["id"], -1)
    response = as_supervisor.fire(late[0]["id"], "approve_enforcement", note="同意强拆")
    assert response.status_code == 200, response.get_json()
    many, page = desk_statements(desk, client)
    assert many == few
    for case in [first, *late]:
        approve = f'/inspection/{case["id"]}/approve_enforcement'
        assert (approve in page) == (case is not late[0]), case["ref"]
    assert page.count("badge text-bg-success") == 1


def test_an_officer_sees_no_inspection_buttons_and_a_post_is_refused(desk):
    demolished = desk.cases["demolished"]
    client = desk.page_client(desk.officer)
    page = client.get("/inspection")
    assert page.status_code == 200
    assert f"/inspection/{demolished['id']}/close" not in page.text
    version = case_json(desk, demolished["id"])["version"]
    response = client.post(f"/inspection/{demolished['id']}/close", data={
        "csrf_token": form_token(page.text),
        f"close-{demolished['id']}-expected_version": version,
        f"close-{demolished['id']}-note": "我来结案"})
    assert response.status_code in (404, 422)
    assert case_json(desk, demolished["id"])["state"] == "demolished"


def test_a_case_of_another_zone_is_the_404_page(desk):
    other = desk.cases["other_zone"]
    client = desk.page_client(desk.supervisor)
    page = client.get("/inspection").text
    response = client.post(f"/inspection/{other['id']}/close", data={
        "csrf_token": form_token(page), f"close-{other['id']}-expected_version": 1,
        f"close-{other['id']}-note": "x"})
    assert response.status_code == 404


# The lifecycle ---------------------------------------------------------------------------

def test_the_lifecycle_page_is_read_from_the_declarations(desk):
    from casework.cases.lifecycle import LIFECYCLE
    from casework.workorders.lifecycle import LIFECYCLE as WORKORDERS

    page = desk.page_client(desk.supervisor).get("/lifecycle")
    assert page.status_code == 200
    for trigger in LIFECYCLE.triggers + WORKORDERS.triggers:
        assert f'data-trigger="{trigger.name}"' in page.text
    text = page_text(page.text)
    assert "验收结案" in text or "检查并结案" in text or "核查" in text
    assert "stateDiagram" in page.text


# The campaign plan -----------------------------------------------------------------------

def campaign_form(desk: Desk, client: FlaskClient, **changes) -> tuple[str, dict]:
    page = client.get("/campaign").text
    data = {"csrf_token": form_token(page), "name": "测试清违行动",
            "start": (clock.local_today() - timedelta(days=7)).isoformat(),
            "end": (clock.local_today() + timedelta(days=60)).isoformat(),
            "expected_version": re.search(r'name="expected_version"[^>]*value="(\d*)"', page)[1]
            if re.search(r'name="expected_version"[^>]*value="(\d*)"', page) else ""}
    for n, zone in enumerate(sorted(desk.zones, key=lambda z: z.code)):
        data[f"zones-{n}-zone_id"] = str(zone.id)
        data[f"zones-{n}-target"] = ""
        data[f"zones-{n}-milestones"] = ""
    data.update(changes)
    return page, data


def test_the_district_sets_the_campaign_through_the_form(desk):
    client = desk.page_client(desk.district)
    page, data = campaign_form(desk, client, **{
        "zones-0-target": "4",
        "zones-0-milestones": (clock.local_today() + timedelta(days=20)).isoformat() + " 2"})
    assert "尚未制定专项行动计划" in page_text(page)
    response = client.post("/campaign", data=data)
    assert response.status_code == 303, page_text(response.text)[:800]
    plan = desk.api.as_(desk.district).get("/api/v1/campaign").get_json()
    assert plan["name"] == "测试清违行动"
    zone = next(z for z in plan["zones"] if z["zone"]["id"] == sorted(desk.zones, key=lambda z: z.code)[0].id)
    assert zone["target"] == 4 and zone["milestones"][0]["cumulative_done"] == 2
    shown = client.get("/campaign").text
    assert "制定计划" in page_text(shown)  # the change record
    assert 'value="4"' in shown


def test_a_bad_plan_is_refused_beside_its_fields(desk):
    client = desk.page_client(desk.district, lang="en")
    _, data = campaign_form(desk, client, **{
        "end": (clock.local_today() - timedelta(days=30)).isoformat(),
        "zones-0-milestones": "next week maybe"})
    response = client.post("/campaign", data=data)
    assert response.status_code == 422
    assert "Line 1: write a date" in page_text(response.text)
    _, data = campaign_form(desk, client, **{
        "end": (clock.local_today() - timedelta(days=30)).isoformat()})
    response = client.post("/campaign", data=data)
    assert response.status_code == 422
    assert re.search(r'id="end-error"[^>]*>\s*The end date must be after the start date',
                     response.text)
    assert desk.api.as_(desk.district).get("/api/v1/campaign").status_code == 404


def test_a_zone_supervisor_reads_the_plan_but_may_not_set_it(desk):
    desk.plan_campaign()
    client = desk.page_client(desk.supervisor)
    page = client.get("/campaign")
    assert page.status_code == 200
    assert "测试清违行动" in page.text
    assert 'action="/campaign"' not in page.text
    response = client.post("/campaign", data={"csrf_token": form_token(page.text), "name": "改",
                                              "start": "2026-01-01", "end": "2027-01-01"})
    assert response.status_code == 404
    assert desk.api.as_(desk.district).get("/api/v1/campaign").get_json()["name"] == "测试清违行动"


# Exports -----------------------------------------------------------------------------------

def test_the_case_list_exports_as_xlsx_with_its_filters(desk):
    import io

    from openpyxl import load_workbook

    client = desk.page_client(desk.supervisor)
    response = client.get(f"/cases/export?format=xlsx&compound={desk.compounds[1].id}&state=&q=")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    refs = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert refs == {desk.cases["demolished"]["ref"], desk.cases["closed"]["ref"]}
    csv = client.get("/cases/export?format=csv&overdue=true")
    assert desk.cases["late"]["ref"] in csv.get_data(as_text=True)
    assert desk.cases["other_zone"]["ref"] not in csv.get_data(as_text=True)
    assert client.get("/cases/export?format=pdf").status_code == 422


def test_a_company_cannot_export_cases(desk):
    company = desk.make.user("company")
    assert desk.page_client(company).get("/cases/export?format=csv").status_code == 404
    assert desk.page_client(company).get("/workorders/export?format=csv").status_code == 200


def test_the_export_buttons_keep_the_lists_filters(desk, app):
    client = desk.page_client(desk.supervisor)
    page = client.get(f"/cases?compound={desk.compounds[0].id}&page=1").text
    assert f'/cases/export?format=xlsx&amp;compound={desk.compounds[0].id}"' in page


def test_the_work_order_list_has_export_buttons_with_its_filters(desk):
    import io

    from openpyxl import load_workbook

    company = desk.make.user("company")
    client = desk.page_client(company)
    page = client.get("/workorders?state=assigned").text
    assert '/workorders/export?format=xlsx&amp;state=assigned"' in page
    response = client.get("/workorders/export?format=xlsx&state=assigned")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.data)).active.max_row == 1  # the heading alone


def test_a_company_gets_the_404_page_for_inspection_and_the_campaign(desk):
    desk.plan_campaign()
    client = desk.page_client(desk.make.user("company"))
    for path in ("/inspection", "/campaign"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "测试清违行动" not in response.text


def test_the_lifecycle_is_drawn_on_the_server(desk):
    page = desk.page_client(desk.supervisor, lang="en").get("/lifecycle").text
    assert page.count("<svg") == 2
    drawing = page[page.index("<svg"):page.index("</svg>")]
    for state in ("Identified", "Demolished", "Closed", "Disputed"):
        assert f">{state}</text>" in drawing
    assert "Inspect and close" in drawing


def test_a_plan_changed_meanwhile_is_not_overwritten(desk):
    desk.plan_campaign()
    client = desk.page_client(desk.district, lang="en")
    _, data = campaign_form(desk, client, name="第二版")
    desk.api.as_(desk.district).put("/api/v1/campaign", json={
        "name": "别人改的", "start": data["start"], "end": data["end"], "zones": []})
    response = client.post("/campaign", data=data)
    assert response.status_code == 409
    assert "Someone changed the plan meanwhile" in page_text(response.text)
    assert desk.api.as_(desk.district).get("/api/v1/campaign").get_json()["name"] == "别人改的"
