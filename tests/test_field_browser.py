"""In the field (spec section 14, issue 9), in a real browser on the demo district: no signal
loses nothing and applies nothing twice, a refusal is explained, a phone photo is scaled down,
the notice prints with what the owner must read, and a compound's plan needs nothing from
outside."""
from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casework import clock
from casework.cases.models import Case, CaseEvent, CaseState
from casework.evidence.models import Attachment

pytestmark = pytest.mark.slow

# A zone of the demo district that the other browser tests leave alone.
OFFICER, SUPERVISOR = "officer7a", "sup7"


def _png(width: int, height: int, seed: int = 1) -> bytes:
    """A photo-sized PNG, stored without compression so that its size is a phone photo's,
    of soft gradients as a photo of a wall is (which a JPEG encoder compresses well)."""
    row = width * 3
    raw = b"".join(b"\x00" + bytes(((x // 3) + y + seed) % 256 for x in range(row))
                   for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


SMALL_PHOTO = {"name": "after.png", "mimeType": "image/png", "buffer": _png(64, 48)}


def _negotiated_cases(live_server, officer_id: int) -> list[int]:
    """The officer's negotiated cases whose deadline has not passed (demolition by the owner
    needs no approval), the newest last."""
    return live_server.scalars(
        select(Case.id).where(Case.officer_id == officer_id,
                              Case.state == CaseState.NEGOTIATED,
                              Case.due_at > clock.now() + timedelta(days=1))
        .order_by(Case.id))


def _events(live_server, case_id: int, trigger: str) -> int:
    return live_server.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.trigger == trigger))


def _open_day_with_its_worker(page) -> None:
    """The day's list, once the service worker controls the page and has kept the cases."""
    page.goto("/today")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    _until(page, "navigator.serviceWorker.controller !== null")
    page.goto("/cases/new")  # the new-case form, kept too


def _until(page, expression: str, timeout: float = 30) -> None:
    """Waits for a condition in the page. Playwright's own wait_for_function evaluates a
    string, which the pages' policy (no eval) rightly refuses, so the test polls instead."""
    import time
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"not true within {timeout} s: {expression}"
        page.wait_for_timeout(200)


def _waiting(page) -> int:
    """The count in the top bar (on a phone the bar is folded away; the count is there)."""
    return page.evaluate("""() => {
        const badge = document.querySelector('#outbox-count');
        return badge.hidden ? 0 : Number(badge.querySelector('[data-waiting]').textContent);
    }""")


def _demolish(page, case_id: int, photo: dict, note: str) -> None:
    page.goto(f"/cases/{case_id}")
    page.locator("#do-demolish").evaluate("details => { details.open = true; }")
    form = page.locator("#do-demolish form")
    form.locator("input[type=file]").set_input_files(photo)
    form.locator("input[name$=method][value=self]").check()
    form.locator("textarea[name$=note]").fill(note)
    form.locator("[type=submit]").click()


def test_offline_actions_wait_and_are_applied_exactly_once(signed_in_page, live_server):
    officer = live_server.user(OFFICER)
    case_id = _negotiated_cases(live_server, officer.id)[-1]
    page = signed_in_page(OFFICER)
    _open_day_with_its_worker(page)
    page.goto(f"/cases/{case_id}")  # opened once online: kept for later
    cases_before = live_server.scalar(select(func.count()).select_from(Case))

    page.context.set_offline(True)
    _demolish(page, case_id, SMALL_PHOTO, "业主已自行拆除（离线登记）")
    _until(page, "document.querySelector('#offline-notice') && "
                           "!document.querySelector('#offline-notice').hidden")
    page.goto("/cases/new")
    page.locator("form[data-geolocate] select[name$=kind]").select_option("shed")
    page.locator("form[data-geolocate] input[name$=address]").fill("离线登记测试楼北侧")
    page.locator("form[data-geolocate] [type=submit]").click()
    _until(page, "Number(document.querySelector('#outbox-count [data-waiting]')"
                           ".textContent) === 2")
    assert _waiting(page) == 2
    assert _events(live_server, case_id, "demolish") == 0

    page.context.set_offline(False)
    page.evaluate("window.caseworkFlush()")
    _until(page, "document.querySelector('#outbox-count').hidden")
    assert _events(live_server, case_id, "demolish") == 1
    assert live_server.scalar(select(Case.state).where(Case.id == case_id)) is CaseState.DEMOLISHED
    assert live_server.scalar(select(func.count()).select_from(Case)) == cases_before + 1
    assert live_server.scalar(select(func.count()).select_from(Case).where(
        Case.address == "离线登记测试楼北侧")) == 1
    assert live_server.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.case_id == case_id, Attachment.kind == "after_photo")) >= 1

    # Sent again (a retry after a lost answer): the server applies each key once.
    page.evaluate("window.caseworkFlush()")
    assert _events(live_server, case_id, "demolish") == 1


def test_a_refusal_after_the_network_returns_is_shown_with_its_reason(signed_in_page,
                                                                      live_server):
    from casework.accounts.models import User
    from casework.cases import operations
    from casework.cases.queries import get_visible_case
    from casework.extensions import db

    officer = live_server.user(OFFICER)
    case_id = _negotiated_cases(live_server, officer.id)[-2]
    page = signed_in_page(OFFICER)
    _open_day_with_its_worker(page)
    page.goto(f"/cases/{case_id}")
    page.context.set_offline(True)
    _demolish(page, case_id, SMALL_PHOTO, "离线时登记")
    _until(page, "Number(document.querySelector('#outbox-count [data-waiting]')"
                           ".textContent) === 1")

    def supervisor_moves_the_case():
        supervisor = db.session.scalar(select(User).where(User.username == SUPERVISOR))
        case = get_visible_case(supervisor, case_id, for_update=True)
        operations.fire_trigger(case, supervisor, "dispute", expected_version=case.version,
                                note="业主对面积提出异议")
        db.session.commit()
    live_server.query(supervisor_moves_the_case)

    page.context.set_offline(False)
    page.evaluate("window.caseworkFlush()")
    page.goto("/outbox")
    refused = page.locator("#outbox-list li[data-state=refused]")
    refused.wait_for()
    text = refused.inner_text()
    assert "服务器拒绝" in text and "已被他人更改" in text
    assert refused.locator(".outbox-reason").inner_text().strip()
    assert _events(live_server, case_id, "demolish") == 0
    assert live_server.scalar(select(Case.state).where(Case.id == case_id)) is CaseState.DISPUTED
    # Read and removed: nothing is left waiting, nothing was applied.
    refused.locator("button").click()
    page.locator("#outbox-list li").first.wait_for(state="detached")
    assert _events(live_server, case_id, "demolish") == 0


def test_an_8_mb_phone_photo_is_stored_under_1_mb_with_its_capture_time(signed_in_page,
                                                                       live_server):
    officer = live_server.user(OFFICER)
    case_id = _negotiated_cases(live_server, officer.id)[0]
    photo = _png(1700, 1650, seed=8)
    assert len(photo) > 8 * 1024 * 1024
    page = signed_in_page(OFFICER)
    page.goto(f"/cases/{case_id}")
    form = page.locator(f"form[action='/cases/{case_id}/attachments']")
    form.locator("xpath=ancestor::details").evaluate("details => { details.open = true; }")
    form.locator("select[name$=kind]").select_option("before_photo")
    form.locator("input[type=file]").set_input_files(
        {"name": "IMG_0001.png", "mimeType": "image/png", "buffer": photo})
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    stored = live_server.scalars(select(Attachment.size).where(
        Attachment.case_id == case_id).order_by(Attachment.id.desc()).limit(1))
    assert stored and stored[0] < 1024 * 1024
    taken = live_server.scalar(select(Attachment.taken_at).where(
        Attachment.case_id == case_id).order_by(Attachment.id.desc()).limit(1))
    assert taken is not None


def test_the_printed_notice_carries_owner_deadline_and_reference_and_its_hash_is_recorded(
        signed_in_page, live_server):
    from pypdf import PdfReader

    officer = live_server.user(OFFICER)
    case_id = _negotiated_cases(live_server, officer.id)[1]
    ref, owner, due_at = live_server.query(lambda: tuple(
        getattr(live_server.scalar(select(Case).where(Case.id == case_id)), name)
        for name in ("ref", "owner_name", "due_at")))
    page = signed_in_page(OFFICER)
    page.goto(f"/cases/{case_id}/notice")
    with page.expect_navigation():
        page.locator("form[method=post] [type=submit]").click()
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    deadline = live_server.query(lambda: clock.deadline_day(due_at))
    assert "限期拆除通知书" in text and ref in text
    assert owner and owner in text.replace(" ", "")
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in text.replace(" ", "")
    assert "签发并打印" not in text  # the page's controls do not print

    issued = live_server.scalars(select(CaseEvent.data).where(
        CaseEvent.case_id == case_id, CaseEvent.trigger == "notice_issued"))
    assert len(issued) == 1 and issued[0]["number"] in text
    api_copy = live_server.query(lambda: _notice_html(case_id))
    assert hashlib.sha256(api_copy.encode()).hexdigest() == issued[0]["sha256"]


def _notice_html(case_id: int) -> str:
    from casework.accounts.models import User
    from casework.cases.queries import get_visible_case
    from casework.extensions import db
    from casework.notices.operations import preview_notice

    officer = db.session.scalar(select(User).where(User.username == OFFICER))
    return preview_notice(get_visible_case(officer, case_id), officer).document.html


def test_the_compound_plan_shows_a_dot_per_placed_case_from_this_server_only(
        signed_in_page, live_server):
    from tests.browser import watch

    def placed_compound():
        from casework.extensions import db
        row = db.session.execute(
            select(Case.compound_id, func.count()).where(Case.lat.is_not(None))
            .group_by(Case.compound_id).order_by(func.count().desc()).limit(1)).first()
        return tuple(row) if row else (None, 0)
    compound_id, placed = live_server.query(placed_compound)
    assert compound_id is not None and placed > 0, "the demo district places its cases"
    page = signed_in_page("district", size="desk")
    log = watch(page)
    page.goto(f"/compounds/{compound_id}")
    assert page.locator("svg circle.case-dot").count() == placed
    outside = [url for url in log.requests
               if not url.startswith((live_server.url, "data:", "blob:"))]
    assert outside == []
