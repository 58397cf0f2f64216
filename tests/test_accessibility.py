"""axe-core in a real browser: no serious or critical violation on the three pages the issue
names (the officer's case page, the company's work-order list, the supervisor's dashboard),
in Chinese and in English. Every folded form is opened first, so that its fields are
checked too."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from casework.cases.models import Case, CaseState
from tests.browser import sign_in

pytestmark = pytest.mark.slow

BLOCKING = ("serious", "critical")


def the_officers_case(live_server) -> str:
    officer = live_server.user("officer1a")
    case_id = live_server.scalar(
        select(Case.id).where(Case.officer_id == officer.id,
                              Case.state.in_([CaseState.NEGOTIATED, CaseState.OWNERSHIP_VERIFIED,
                                              CaseState.IDENTIFIED]))
        .order_by(Case.id).limit(1))
    return f"/cases/{case_id}"


PAGES = {
    "officer-case": ("officer1a", "phone", the_officers_case),
    "company-workorders": ("company1", "phone", lambda live: "/workorders"),
    "supervisor-dashboard": ("sup1", "desk", lambda live: "/dashboard"),
}


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']} {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']} {node['html'][:160]}")
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violation(open_page, live_server, name, lang):
    username, size, address = PAGES[name]
    page = open_page(size, lang)
    sign_in(page, username, lang=lang)
    path = address(live_server)
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert blocking == [], f"{path} ({lang}):\n{describe(blocking)}"
