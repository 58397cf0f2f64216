"""The case dossier (案卷): a ZIP whose own verify.py, run offline in a fresh interpreter,
confirms the history chain and the attachments, and names whatever was altered."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from casework.evidence import samples


def _verify(folder: Path) -> subprocess.CompletedProcess:
    # -I -S: no site-packages, no environment, no user files: the standard library only.
    return subprocess.run([sys.executable, "-I", "-S", "verify.py"], cwd=folder,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def worked_case(api, make):
    zone = make.zone()
    officer = make.user("officer", [zone])
    supervisor = make.user("supervisor", [zone])
    company = make.user("company")
    as_officer = api.as_(officer)
    case = as_officer.create_case(make.compound(zone), kind="illegal_structure",
                                  address="3号楼顶层", description="楼顶加盖砖混房",
                                  owner_name="测试甲", owner_phone="000-0000-0001",
                                  owner_id_number="000000000000000001", area_m2=35)
    assert as_officer.attach(case["id"], "ownership_doc", samples.pdf("测试产权证明"),
                             "proof.pdf").status_code == 201
    assert as_officer.attach(case["id"], "before_photo").status_code == 201
    assert as_officer.fire(case["id"], "verify_ownership", note="产权人身份已核实").status_code == 200
    response = as_officer.post(f"/api/v1/cases/{case['id']}/workorders", json={
        "company_id": company.company_id, "kind": "post_notice",
        "due_date": (date.today() + timedelta(days=3)).isoformat(), "note": "张贴告知书"})
    assert response.status_code == 201
    return {"case": case, "officer": officer, "supervisor": supervisor, "company": company,
            "zone": zone}


def _unzip(response, target: Path) -> Path:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    zipfile.ZipFile(io.BytesIO(response.get_data())).extractall(target)
    return target


def test_dossier_verifies_offline_and_names_an_altered_event_or_photo(api, worked_case,
                                                                      tmp_path):
    case_id = worked_case["case"]["id"]
    officer = api.as_(worked_case["officer"])
    folder = _unzip(officer.get(f"/api/v1/cases/{case_id}/dossier"), tmp_path / "dossier")

    events = officer.get(f"/api/v1/cases/{case_id}/events").get_json()["items"]
    attachments = officer.get(f"/api/v1/cases/{case_id}/attachments").get_json()["items"]
    record = json.loads((folder / "case.json").read_text("utf-8"))
    assert record["ref"] == worked_case["case"]["ref"]
    assert record["owner_name"] == "测试甲" and record["state"] == "ownership_verified"
    assert record["history"] == {"events": len(events), "head": events[-1]["hash"]}
    dossier_events = json.loads((folder / "events.json").read_text("utf-8"))
    assert [(e["seq"], e["hash"]) for e in dossier_events] == [
        (e["seq"], e["hash"]) for e in events]
    assert sorted(p.name for p in (folder / "attachments").iterdir()) == sorted(
        a["sha256"] for a in attachments)
    summary = (folder / "summary.html").read_text("utf-8")
    assert worked_case["case"]["ref"] in summary and "违建案件案卷" in summary
    assert "产权已核实" in summary and "张贴告知书" in summary and events[-1]["hash"] in summary

    passed = _verify(folder)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "OK" in passed.stdout and events[-1]["hash"] in passed.stdout

    # One character of one event's note changed: that event, and only it, is named.
    original = (folder / "events.json").read_bytes()
    altered = original.replace("产权人身份已核实".encode(), "产权人身份未核实".encode())
    assert altered != original
    (folder / "events.json").write_bytes(altered)
    failed = _verify(folder)
    seq = next(e["seq"] for e in events if e["trigger"] == "verify_ownership")
    assert failed.returncode == 1
    assert f"events.json event {seq}: altered" in failed.stdout
    assert failed.stdout.count("altered") == 2  # the heading line and that event
    (folder / "events.json").write_bytes(original)
    assert _verify(folder).returncode == 0

    # One byte of one photo changed: the file is named.
    photo = next(a for a in attachments if a["kind"] == "before_photo")
    path = folder / "attachments" / photo["sha256"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    failed = _verify(folder)
    assert failed.returncode == 1
    assert f"attachments/{photo['sha256']}: altered" in failed.stdout
    assert "events.json" not in failed.stdout


def test_a_removed_event_or_broken_json_is_named(api, worked_case, tmp_path):
    case_id = worked_case["case"]["id"]
    folder = _unzip(api.as_(worked_case["supervisor"]).get(f"/api/v1/cases/{case_id}/dossier"),
                    tmp_path / "d")
    lines = (folder / "events.json").read_text("utf-8").splitlines()
    # Drop the last event (and the comma before it): the chain no longer reaches the head.
    shortened = lines[:-3] + [lines[-3].rstrip(","), lines[-1]]
    (folder / "events.json").write_text("\n".join(shortened) + "\n", "utf-8")
    failed = _verify(folder)
    assert failed.returncode == 1 and "does not end at the head" in failed.stdout

    lines[2] = lines[2].replace('"seq": 2', '"seq": 2 2')
    (folder / "events.json").write_text("\n".join(lines) + "\n", "utf-8")
    failed = _verify(folder)
    assert failed.returncode == 1 and "events.json line 3 (event 2)" in failed.stdout


def test_only_the_zones_officers_and_supervisors_get_the_dossier(api, worked_case, make):
    path = f"/api/v1/cases/{worked_case['case']['id']}/dossier"
    outsiders = [make.user("admin"), worked_case["company"],
                 make.user("officer", [make.zone()]), make.user("supervisor", [make.zone()])]
    for user in outsiders:
        response = api.as_(user).get(path)
        assert response.status_code == 404, user.role
        assert response.get_json()["error"]["code"] == "not_found"
    assert api.as_(make.user("supervisor")).get(path).status_code == 200  # the district's
    assert api.as_(worked_case["supervisor"]).get(path).status_code == 200
    assert api.as_(worked_case["officer"]).get("/api/v1/cases/999999/dossier").status_code == 404

    log = api.as_(make.user("admin")).get("/api/v1/exports?kind=dossier").get_json()
    assert log["total"] == 2
    assert {(e["case_id"], e["personal_data"], e["format"]) for e in log["items"]} == {
        (worked_case["case"]["id"], True, "zip")}
