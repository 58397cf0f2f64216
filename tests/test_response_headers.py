"""What every response tells a browser (no sniffing, no referrer, no framing, no caching of
owners' data), and how evidence is handed out: always as a download, under its stored type,
with the name its uploader gave (Chinese included) to those who work cases and a neutral one
to companies."""
from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import quote

from casework import clock
from casework.evidence import samples
from tests.support import Api


def _assert_hardened(response, api: bool = True) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    if api:
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Cache-Control"] == "no-store"


def test_every_kind_of_api_response_carries_the_headers(api: Api, make):
    zone = make.zone()
    officer = api.as_(make.user("officer", [zone]))
    case = officer.create_case(make.compound(zone), owner_name="演示户主",
                               owner_phone="000-0000-0001")
    responses = [
        officer.get(f"/api/v1/cases/{case['id']}"),  # owners' data
        officer.get("/api/v1/cases"),
        officer.get("/api/v1/openapi.json"),
        officer.get("/api/v1/workflow/diagram.mmd"),
        officer.get("/api/v1/cases/999999"),  # 404 from a view
        officer.client.get("/api/v1/nowhere"),  # 404 from routing
        officer.client.delete("/api/v1/cases"),  # 405
        api.client.get("/api/v1/cases"),  # 401
        officer.post("/api/v1/cases", json={"kind": "shed"}),  # 422
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404, 404, 405, 401, 422]
    for response in responses:
        _assert_hardened(response)


def test_health_check_outside_the_api_carries_them_too(client):
    response = client.get("/healthz")
    _assert_hardened(response, api=False)


def _upload(client: Api, path: str, kind: str, data: bytes, filename: str):
    return client.post(path, data={"kind": kind, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_a_download_is_an_attachment_of_the_stored_type_with_its_chinese_name(api: Api, make):
    zone = make.zone()
    officer = api.as_(make.user("officer", [zone]))
    case = officer.create_case(make.compound(zone))
    name = "拆除前照片 东墙.png"
    created = _upload(officer, f"/api/v1/cases/{case['id']}/attachments", "before_photo",
                      samples.png("chinese"), name)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["filename"] == name

    response = officer.get(f"/api/v1/cases/{case['id']}/attachments/{created.get_json()['id']}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    _assert_hardened(response)


def test_a_file_name_cannot_carry_a_path_or_control_characters(api: Api, make):
    zone = make.zone()
    officer = api.as_(make.user("officer", [zone]))
    case = officer.create_case(make.compound(zone))
    created = _upload(officer, f"/api/v1/cases/{case['id']}/attachments", "other",
                      samples.png("path"), "..\\../现场/\t记录\u200e\x7f.png").get_json()
    assert created["filename"] == "记录.png"


def test_a_photo_with_html_after_its_header_is_never_served_inline(api: Api, make):
    zone = make.zone()
    officer = api.as_(make.user("officer", [zone]))
    case = officer.create_case(make.compound(zone))
    polyglot = samples.png("header")[:64] + b"<html><script>alert(document.cookie)</script></html>"
    created = _upload(officer, f"/api/v1/cases/{case['id']}/attachments", "other", polyglot,
                      "page.html")
    assert created.status_code == 201, created.get_json()
    response = officer.get(f"/api/v1/cases/{case['id']}/attachments/{created.get_json()['id']}")
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_company_never_sees_the_file_names_officers_chose(api: Api, make):
    zone = make.zone()
    officer_user = make.user("officer", [zone])
    officer = api.as_(officer_user)
    company_user = make.user("company", company="测试物业甲")
    company = api.as_(company_user)
    case = officer.create_case(make.compound(zone))
    telling = "户主000-0000-0009身份证000000000000000009.png"
    before = _upload(officer, f"/api/v1/cases/{case['id']}/attachments", "before_photo",
                     samples.png("telling"), telling).get_json()
    due = (clock.local_today() + timedelta(days=7)).isoformat()
    order = officer.post(f"/api/v1/cases/{case['id']}/workorders",
                         json={"company_id": company_user.company_id, "kind": "clear_debris",
                               "due_date": due}).get_json()
    ours = _upload(company, f"/api/v1/workorders/{order['id']}/attachments", "after_photo",
                   samples.png("ours"), "完工照片.png").get_json()
    assert ours["filename"] == "完工照片.png"

    base = f"/api/v1/workorders/{order['id']}/attachments"
    listed = {a["id"]: a for a in company.get(base).get_json()["items"]}
    assert listed[before["id"]]["filename"] == f"before_photo-{before['id']}.png"
    assert listed[ours["id"]]["filename"] == "完工照片.png"
    download = company.get(f"{base}/{before['id']}")
    assert download.status_code == 200
    assert "0009" not in download.headers["Content-Disposition"]
    assert f'filename=before_photo-{before["id"]}.png' in download.headers["Content-Disposition"]
    # Whoever works the case still sees the name given.
    assert officer.get(base).get_json()["items"][0]["filename"] == telling
