"""Evidence on a case (spec sections 2 and 9): photos and documents uploaded as multipart,
stored once per content under CASEWORK_UPLOAD_DIR, typed from their bytes, downloadable by
whoever may see the case and by nobody else."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from casework.evidence import samples
from casework.evidence.models import Attachment
from casework.extensions import db
from tests.support import Api, assert_error

DESCRIPTION = {"id", "kind", "content_type", "size", "sha256", "created_at"}


def stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["CASEWORK_UPLOAD_DIR"]).rglob("*") if p.is_file())


def attachment_rows() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Attachment))


def events(client: Api, case_id: int) -> list[dict]:
    response = client.get(f"/api/v1/cases/{case_id}/events")
    assert response.status_code == 200
    return response.get_json()["items"]


def upload(client: Api, case_id: int, kind: str | None, data: bytes | None,
           filename: str = "x.png"):
    form: dict = {}
    if kind is not None:
        form["kind"] = kind
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.post(f"/api/v1/cases/{case_id}/attachments", data=form,
                       content_type="multipart/form-data")


@pytest.fixture
def site(api: Api, make) -> SimpleNamespace:
    zone = make.zone()
    compound = make.compound(zone)
    officer = api.as_(make.user("officer", [zone]))
    case = officer.create_case(compound, owner_name="演示户主")
    other = officer.create_case(compound, owner_name="演示户主二")
    return SimpleNamespace(zone=zone, compound=compound, officer=officer, case_id=case["id"],
                           other_case_id=other["id"])


def test_an_upload_answers_201_with_what_was_stored(site):
    photo = samples.png("before")
    response = upload(site.officer, site.case_id, "before_photo", photo, "before.png")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert DESCRIPTION <= set(body)
    assert body["kind"] == "before_photo"
    assert body["content_type"] == "image/png"
    assert body["size"] == len(photo)
    assert body["sha256"] == hashlib.sha256(photo).hexdigest()
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    listed = site.officer.get(f"/api/v1/cases/{site.case_id}/attachments").get_json()["items"]
    assert listed == [body]


def test_the_file_is_stored_under_the_upload_dir_by_its_hash_and_shared_by_equal_uploads(app, site):
    photo = samples.png("shared")
    first = upload(site.officer, site.case_id, "before_photo", photo).get_json()
    second = upload(site.officer, site.other_case_id, "after_photo", photo, "again.png").get_json()
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"]
    digest = first["sha256"]
    expected = Path(app.config["CASEWORK_UPLOAD_DIR"]) / digest[:2] / digest[2:4] / digest
    assert stored_files(app) == [expected]
    assert expected.read_bytes() == photo

    other = upload(site.officer, site.case_id, "other", samples.png("different")).get_json()
    assert other["sha256"] != digest
    assert len(stored_files(app)) == 2


@pytest.mark.parametrize("data,content_type", [(samples.png("dl"), "image/png"),
                                               (samples.pdf("Casework notice"), "application/pdf")],
                         ids=["png", "pdf"])
def test_a_download_gives_back_the_same_bytes_with_their_content_type(site, data, content_type):
    created = upload(site.officer, site.case_id, "notice", data, "scan").get_json()
    response = site.officer.get(f"/api/v1/cases/{site.case_id}/attachments/{created['id']}")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.data == data


@pytest.mark.parametrize("data,filename,content_type", [
    (samples.png("named-pdf"), "report.pdf", "image/png"),
    (samples.pdf("named jpg"), "photo.jpg", "application/pdf"),
    (samples.png("no-extension"), "upload", "image/png"),
], ids=["png-named-pdf", "pdf-named-jpg", "no-extension"])
def test_the_content_type_is_judged_from_the_bytes_not_the_file_name(site, data, filename,
                                                                     content_type):
    created = upload(site.officer, site.case_id, "ownership_doc", data, filename)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["content_type"] == content_type
    attachment_id = created.get_json()["id"]
    download = site.officer.get(f"/api/v1/cases/{site.case_id}/attachments/{attachment_id}")
    assert download.mimetype == content_type


@pytest.mark.parametrize("data,filename", [
    (b"just some text, not a photo\n", "photo.jpg"),
    (b"<html><script>alert(1)</script></html>", "photo.png"),
    (b"MZ\x90\x00\x03" + b"\x00" * 64, "scan.pdf"),
], ids=["text-named-jpg", "html-named-png", "executable-named-pdf"])
def test_a_file_that_is_no_photo_or_pdf_is_415_whatever_its_name_and_nothing_is_kept(
        app, site, data, filename):
    before = events(site.officer, site.case_id)
    error = assert_error(upload(site.officer, site.case_id, "before_photo", data, filename), 415,
                         "unsupported_media_type")
    assert "image/png" in error["details"]["allowed"]
    assert attachment_rows() == 0
    assert stored_files(app) == []
    assert events(site.officer, site.case_id) == before


def test_a_file_larger_than_the_limit_is_413_and_nothing_is_kept(app, site):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    small = samples.png("small")
    assert upload(site.officer, site.case_id, "before_photo", small).status_code == 201
    before = events(site.officer, site.case_id)
    error = assert_error(upload(site.officer, site.case_id, "before_photo", small + b"\0" * 8192),
                         413, "payload_too_large")
    assert error["details"] == {"max_bytes": 4096}
    assert attachment_rows() == 1
    assert len(stored_files(app)) == 1
    assert events(site.officer, site.case_id) == before


@pytest.mark.parametrize("kind,data,expected", [
    ("before_photo", None, {"file": "required"}),
    (None, samples.png("no-kind"), {"kind": "enum"}),
    ("selfie", samples.png("bad-kind"), {"kind": "enum"}),
    ("BEFORE_PHOTO", samples.png("upper"), {"kind": "enum"}),
    ("selfie", None, {"file": "required", "kind": "enum"}),
    ("before_photo", b"", {"file": "not_empty"}),
], ids=["missing-file", "missing-kind", "unknown-kind", "kind-in-capitals", "both", "empty-file"])
def test_a_missing_file_or_a_bad_kind_is_422_listing_every_problem(app, site, kind, data, expected):
    error = assert_error(upload(site.officer, site.case_id, kind, data), 422)
    assert {d["field"]: d["rule"] for d in error["details"]} == expected
    assert attachment_rows() == 0
    assert stored_files(app) == []


@pytest.mark.parametrize("outsider", ["officer_of_another_zone", "company"])
def test_someone_who_may_not_see_the_case_gets_404_on_upload_list_and_download(
        app, api, make, site, outsider):
    created = upload(site.officer, site.case_id, "before_photo", samples.png("private")).get_json()
    user = make.user("officer", [make.zone()]) if outsider != "company" else make.user("company")
    stranger = api.as_(user)
    base = f"/api/v1/cases/{site.case_id}/attachments"

    assert_error(upload(stranger, site.case_id, "before_photo", samples.png("intruder")), 404,
                 "not_found")
    assert_error(stranger.get(base), 404, "not_found")
    assert_error(stranger.get(f"{base}/{created['id']}"), 404, "not_found")
    assert attachment_rows() == 1
    assert len(stored_files(app)) == 1


def test_an_attachment_is_found_only_under_its_own_case(site):
    created = upload(site.officer, site.case_id, "agreement", samples.pdf("agreement")).get_json()
    own = f"/api/v1/cases/{site.case_id}/attachments/{created['id']}"
    assert site.officer.get(own).status_code == 200
    other = f"/api/v1/cases/{site.other_case_id}/attachments"
    assert_error(site.officer.get(f"{other}/{created['id']}"), 404, "not_found")
    missing = f"/api/v1/cases/{site.case_id}/attachments/{created['id'] + 999}"
    assert_error(site.officer.get(missing), 404, "not_found")
    assert site.officer.get(other).get_json() == {"items": []}


def test_an_upload_is_recorded_as_an_attach_event_in_the_case_history(site):
    photo = samples.png("history")
    before = site.officer.get(f"/api/v1/cases/{site.case_id}").get_json()
    created = upload(site.officer, site.case_id, "before_photo", photo).get_json()
    history = events(site.officer, site.case_id)
    assert [e["trigger"] for e in history] == ["create", "attach"]
    attach = history[-1]
    assert attach["from_state"] == attach["to_state"] == "identified"
    assert attach["role"] == "officer"
    assert attach["prev_hash"] == history[0]["hash"]
    assert attach["data"] == {"attachment_id": created["id"], "kind": "before_photo",
                              "sha256": created["sha256"], "size": len(photo)}
    after = site.officer.get(f"/api/v1/cases/{site.case_id}").get_json()
    assert after["state"] == before["state"]


def test_the_client_file_name_never_becomes_a_storage_path(app, site):
    photo = samples.png("traversal")
    created = upload(site.officer, site.case_id, "other", photo, "../../../etc/evil.png").get_json()
    assert "/" not in created.get("filename", "")
    root = Path(app.config["CASEWORK_UPLOAD_DIR"]).resolve()
    assert [p.resolve().parent.parent.parent for p in stored_files(app)] == [root]
    assert stored_files(app)[0].name == hashlib.sha256(photo).hexdigest()
