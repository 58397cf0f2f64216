"""The supervisor's desk pages (spec sections 7 and 14): the dashboard's figures are the
reports API's, figure for figure; a tile opens its compound's cases; no campaign is said in
words; a company gets the 404 page."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from casework import clock
from casework.accounts.models import User
from casework.places.models import Compound, Zone
from tests.support import Api
from tests.web import page_text, sign_in

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


def assert_page_equals_api(desk: Desk, user: User, page: str) -> set[str]:
    found = figures(page)
    answers = {}
    for report, path, text in found:
        if report not in answers:
            response = desk.api.as_(user).get(f"/api/v1/reports/{report}")
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
