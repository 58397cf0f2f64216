"""A compound's page draws a dot per case with a position, from nothing but this server."""
from __future__ import annotations

import re

import pytest

from casework.plans.drawing import draw
from tests.web import page_text, sign_in


def test_the_plan_has_a_dot_per_placed_case_and_counts_the_others(client, api, make):
    compound = make.compound()
    officer_user = make.user("officer", zones=[compound.zone])
    officer = api.as_(officer_user)
    placed = [officer.create_case(compound, lat=41.80 + n * 0.0003, lon=123.43 + n * 0.0004,
                                  accuracy_m=8.0) for n in range(3)]
    officer.create_case(compound)
    sign_in(client, officer_user)
    page = client.get(f"/compounds/{compound.id}")
    assert page.status_code == 200
    dots = re.findall(r'class="case-dot[^"]*" data-case="(\d+)"', page.text)
    assert sorted(map(int, dots)) == sorted(c["id"] for c in placed)
    assert "另有 1 宗案件尚无位置" in page_text(page.text)
    # Nothing is loaded from anywhere else: the only address is the SVG namespace's name.
    assert set(re.findall(r'(?:src|href)="(https?://[^"]+)"', page.text)) == set()


def test_positions_keep_their_layout_on_the_plan():
    plan = draw([(1, "A", "identified", 41.8000, 123.4300, 5.0),
                 (2, "B", "identified", 41.8000, 123.4310, 5.0),   # about 83 m east of A
                 (3, "C", "identified", 41.8009, 123.4300, None)])  # about 100 m north of A
    a, b, c = plan.dots
    assert b.x > a.x and abs(b.y - a.y) < 0.5      # east is right
    assert c.y < a.y and abs(c.x - a.x) < 0.5      # north is up
    east_m = (b.x - a.x) * plan.metres_per_px
    north_m = (a.y - c.y) * plan.metres_per_px
    assert 80 < east_m < 86 and 97 < north_m < 103
    assert 0 < plan.scale_bar_px <= plan.width


@pytest.mark.parametrize("who", ["company", "other_zone_officer"])
def test_a_compound_of_another_zone_is_the_404_page(client, make, who):
    compound = make.compound()
    outsider = (make.user("company") if who == "company"
                else make.user("officer", zones=[make.zone()]))
    sign_in(client, outsider)
    assert client.get(f"/compounds/{compound.id}").status_code == 404
