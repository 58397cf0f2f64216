"""The officer's day in a real browser on a phone (issue 8): sign in on the demo district,
record a new case with a photo from the camera, and take it from identified to demolished
through the case page's forms, each with the evidence its step asks for; a step refused is
shown beside its field. Then axe-core finds no serious or critical violation on the case
page, in Chinese and in English."""
from __future__ import annotations

import re
import struct
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework import clock
from casework.cases.models import Case
from casework.evidence.models import Attachment

pytestmark = pytest.mark.slow


def tiny_jpeg(label: str) -> bytes:
    """A real 8x8 grey baseline JPEG, written by hand (no imaging library here): one flat
    block, so the scan is a DC category 0 and an end of block. ``label`` goes into a comment
    segment, so that each photo has bytes of its own."""
    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    comment = segment(0xFE, label.encode())
    quantisation = segment(0xDB, b"\x00" + bytes([1] * 64))
    frame = segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    dc_table = segment(0xC4, b"\x00" + one_code)
    ac_table = segment(0xC4, b"\x10" + one_code)
    scan = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return (b"\xff\xd8" + comment + quantisation + frame + dc_table + ac_table + scan
            + b"\x3f" + b"\xff\xd9")


def photo(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": tiny_jpeg(name)}


def submit(page, form) -> None:
    """Sends a form as the officer does; offline.js posts it and follows the answer."""
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def open_step(page, trigger: str):
    page.locator(f"#do-{trigger} > summary").click()
    return page.locator(f"#do-{trigger} form")


def test_an_officer_records_a_case_and_takes_it_to_demolished(signed_in_page, live_server):
    page = signed_in_page("officer1a")
    assert page.url.endswith("/today")
    assert page.locator("h1").inner_text() == "今日任务"

    page.goto("/cases/new")
    form = page.locator("form[data-geolocate]")
    form.locator("select[name=kind]").select_option("shed")
    form.locator("input[name=attachment]").set_input_files(photo("before.jpg"))
    form.locator("input[name=address]").fill("浏览器测试楼1单元")
    form.locator("textarea[name=description]").fill("楼道私搭棚厦")
    form.locator("input[name=owner_name]").fill("浏览器测试户主")
    submit(page, form)
    assert re.search(r"/cases/\d+$", page.url), page.url
    case_id = int(page.url.rsplit("/", 1)[1])
    assert "已摸排" in page.locator("#case-status").inner_text()
    assert page.locator("#photos img").count() == 1

    form = open_step(page, "verify_ownership")
    form.locator("select[name$=attachment_kind]").select_option("ownership_doc")
    form.locator("input[name$=-attachment]").set_input_files(photo("deed.jpg"))
    form.locator("textarea[name$=-note]").fill("已核实房产证")
    submit(page, form)
    assert "产权已核实" in page.locator("#case-status").inner_text()

    # Negotiating without the agreement: refused beside the upload, nothing changed.
    form = open_step(page, "negotiate")
    with live_server.context():
        deadline = (clock.local_today() + timedelta(days=7)).isoformat()
    form.locator("input[name$=-deadline]").fill(deadline)
    form.locator("button[type=submit]").click()  # answered 422: the page shows the answer
    error = page.locator("#negotiate-attachment-error")
    error.wait_for()
    assert "协议" in error.inner_text() or "通知" in error.inner_text()
    assert "产权已核实" in page.locator("#case-status").inner_text()

    page.goto(f"/cases/{case_id}")
    form = open_step(page, "negotiate")
    form.locator("select[name$=attachment_kind]").select_option("agreement")
    form.locator("input[name$=-attachment]").set_input_files(photo("agreement.jpg"))
    form.locator("input[name$=-deadline]").fill(deadline)
    form.locator("textarea[name$=-note]").fill("业主同意限期自拆")
    submit(page, form)
    assert "已协商" in page.locator("#case-status").inner_text()

    form = open_step(page, "demolish")
    assert form.locator("input[name$=-attachment]").get_attribute("capture") == "environment"
    form.locator("input[name$=-attachment]").set_input_files(photo("after.jpg"))
    form.locator("label:has-text('业主自拆')").click()
    form.locator("textarea[name$=-note]").fill("业主已自行拆除")
    submit(page, form)
    assert "已拆除" in page.locator("#case-status").inner_text()
    assert page.locator("#photos img").count() == 4  # before, deed, agreement, after
    history = page.locator("#history").inner_text()
    for step in ("核实产权", "业主同意限期自拆", "业主已自行拆除"):
        assert step in history

    with live_server.context():
        from casework.extensions import db
        case = db.session.get(Case, case_id)
        assert (case.state.value, case.owner_name) == ("demolished", "浏览器测试户主")
        kinds = sorted(a.kind.value for a in db.session.scalars(
            select(Attachment).where(Attachment.case_id == case_id)))
        assert kinds == ["after_photo", "agreement", "before_photo", "ownership_doc"]

    # A thumbnail is the photo itself, served to the signed-in officer, and shown.
    first = page.locator("#photos img").first
    first.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=first.element_handle())
    assert first.evaluate("(img) => img.naturalWidth") == 8
    src = first.get_attribute("src")
    response = page.request.get(src)
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_case_page_passes_axe(signed_in_page, live_server, lang):
    from axe_playwright_python.sync_playwright import Axe

    page = signed_in_page("officer1a", lang=lang)
    page.goto("/cases?state=negotiated")
    page.locator("#case-list a").first.click()
    page.wait_for_load_state()
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    violations = [v for v in Axe().run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
