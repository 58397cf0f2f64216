"""Survey import (调查摸底): every row checked first, all or nothing unless bad rows are
skipped, each bad row named by line and column, and a re-import creating nothing twice."""
from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from casework.cases.history import verify_all
from casework.cases.models import Case, CaseEvent, CaseKind
from casework.extensions import db
from casework.imports import operations as import_operations
from casework.places.models import Compound

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "survey.csv"
SAMPLE_LINES = SAMPLE.read_text("utf-8").splitlines()
# The sample's deliberately bad rows: line → the column that is wrong.
BAD = {8: "片区", 9: "类型", 10: "难度", 11: "调查编号"}
GOOD_REFS = {"DC-2026-0001", "DC-2026-0002", "DC-2026-0003", "DC-2026-0004", "DC-2026-0005",
             "DC-2026-0006", "DC-2026-0011"}


def _lines(*numbers: int) -> str:
    """The sample's heading and the given lines (numbered as in the file, heading = 1)."""
    return "\n".join([SAMPLE_LINES[0]] + [SAMPLE_LINES[n - 1] for n in numbers]) + "\n"


GOOD_ONLY = _lines(2, 3, 4, 5, 6, 7, 12)


def _upload(api, data: bytes, filename: str = "survey.csv", **form):
    return api.post("/api/v1/imports", data={"file": (io.BytesIO(data), filename), **form},
                    content_type="multipart/form-data")


def _cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


@pytest.fixture
def district(make):
    zone1, zone2 = make.zone("Z1"), make.zone("Z2")
    return {"zone1": zone1, "zone2": zone2, "supervisor": make.user("supervisor"),
            "officer1": make.user("officer", [zone1])}


def test_sample_with_bad_rows_imports_nothing_and_names_each_row(api, district):
    response = _upload(api.as_(district["supervisor"]), SAMPLE.read_bytes())
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_rows"
    assert {(d["line"], d["column"]) for d in error["details"]} == set(BAD.items())
    reasons = {d["line"]: d for d in error["details"]}
    assert reasons[8]["rule"] == "unknown_zone" and "Z99" in reasons[8]["message"]
    assert reasons[11]["rule"] == "duplicate" and "Line 4" in reasons[11]["message"]
    assert _cases() == 0
    assert db.session.scalar(select(func.count()).select_from(Compound)) == 0


def test_one_bad_row_stops_the_file_and_is_named(api, district):
    response = _upload(api.as_(district["supervisor"]), _lines(2, 3, 9, 4).encode())
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    # The bad row is the file's 4th line, whatever it was in the sample.
    assert [(d["line"], d["column"], d["field"], d["rule"]) for d in details] == [
        (4, "类型", "kind", "enum")]
    assert _cases() == 0


def test_skip_invalid_imports_the_rest_and_a_second_import_creates_nothing(api, district):
    supervisor = api.as_(district["supervisor"])
    response = _upload(supervisor, SAMPLE.read_bytes(), skip_invalid="true")
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["rows"], result["valid"], result["invalid"], result["created"],
            result["already_imported"]) == (11, 7, 4, 7, 0)
    assert {(p["line"], p["column"]) for p in result["problems"]} == set(BAD.items())
    assert {(c["zone"], c["name"]) for c in result["compounds_created"]} == {
        ("Z1", "东风小区01"), ("Z1", "东风小区02"), ("Z1", "东风新村"),
        ("Z2", "新华小区01"), ("Z2", "新华小区02")}

    cases = {c.survey_ref: c for c in db.session.scalars(select(Case))}
    assert set(cases) == GOOD_REFS
    first = cases["DC-2026-0001"]
    assert (first.kind, first.compound.name, first.zone_id) == (
        CaseKind.SHED, "东风小区01", district["zone1"].id)
    assert (first.owner_name, first.owner_phone, first.owner_id_number) == (
        "测试甲", "000-0000-0001", "000000000000000001")
    assert (first.area_m2, first.difficulty, first.state.value) == (12.5, 1, "identified")
    assert cases["DC-2026-0006"].description == "简易棚，\"彩钢瓦\"顶"
    assert cases["DC-2026-0004"].owner_name is None and cases["DC-2026-0004"].difficulty == 2
    # Each case was created by the case operation: a reference and a verifiable history.
    numbers = sorted(int(c.ref.rsplit("-", 1)[1]) for c in cases.values())
    assert numbers == list(range(numbers[0], numbers[0] + 7))
    assert all(c.ref.startswith("DA-") for c in cases.values())
    events = db.session.scalars(select(CaseEvent).order_by(CaseEvent.case_id)).all()
    assert [e.trigger for e in events] == ["create"] * 7
    assert {e.actor for e in events} == {district["supervisor"].username}
    assert list(verify_all()) == []

    again = _upload(supervisor, SAMPLE.read_bytes(), skip_invalid="true").get_json()
    assert (again["created"], again["already_imported"], again["invalid"]) == (0, 7, 4)
    assert again["compounds_created"] == []
    assert _cases() == 7
    # Without skip_invalid the same file is still refused for its bad rows.
    assert _upload(supervisor, SAMPLE.read_bytes()).status_code == 422
    assert _cases() == 7


def test_a_large_import_is_written_in_batches_with_every_history_intact(api, district, make,
                                                                       monkeypatch):
    monkeypatch.setattr(import_operations, "BATCH_ROWS", 2)
    supervisor = api.as_(district["supervisor"])
    compound = make.compound(district["zone1"])
    first = supervisor.create_case(compound)
    assert _upload(supervisor, GOOD_ONLY.encode()).get_json()["created"] == 7
    last = supervisor.create_case(compound)
    refs = list(db.session.scalars(select(Case.ref).order_by(Case.id)))
    assert refs[0] == first["ref"] and refs[-1] == last["ref"]
    assert [int(r.rsplit("-", 1)[1]) for r in refs] == list(range(1, 10))
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 9
    assert list(verify_all()) == []


def test_dry_run_reports_and_writes_nothing(api, district):
    response = _upload(api.as_(district["supervisor"]), GOOD_ONLY.encode(), dry_run="1")
    assert response.status_code == 200
    result = response.get_json()
    assert (result["dry_run"], result["created"], result["invalid"]) == (True, 7, 0)
    assert len(result["compounds_created"]) == 5
    assert _cases() == 0
    assert db.session.scalar(select(func.count()).select_from(Compound)) == 0


def test_gb18030_and_bom_csv_import_with_chinese_intact(api, district):
    supervisor = api.as_(district["supervisor"])
    response = _upload(supervisor, GOOD_ONLY.encode("gb18030"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["created"] == 7
    names = set(db.session.scalars(select(Case.owner_name)))
    assert names == {"测试甲", "测试乙", "测试丙", None, "测试丁", "测试戊", "测试癸"}
    assert set(db.session.scalars(select(Compound.name))) >= {"东风新村", "新华小区02"}
    # The same survey saved by Excel as "CSV UTF-8" (with a byte-order mark): already there.
    again = _upload(supervisor, b"\xef\xbb\xbf" + GOOD_ONLY.encode()).get_json()
    assert (again["created"], again["already_imported"]) == (0, 7)


def test_xlsx_with_english_headings_and_numeric_cells(api, district, make):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["survey_ref", "Zone", "compound", "kind", "address", "area_m2 (m²)",
                  "difficulty", "owner_name", "owner_phone", "owner_id_number"])
    sheet.append(["X-1", "Z1", "测试小区", "shed", "1号楼", 9.5, 2, "测试甲", 10000000001,
                  "00000000000000001X"])
    sheet.append(["X-2", district["zone2"].name, "测试小区", "违建", "2号楼", 30, 5.0, None,
                  None, None])
    sheet.append([None] * 10)  # a blank line Excel leaves behind
    sheet.append(["X-3", "Z1", "测试小区", "shed", "3号楼", 4, 1, "测试乙", None,
                  110000000000000000])
    buffer = io.BytesIO()
    workbook.save(buffer)
    supervisor = api.as_(district["supervisor"])

    refused = _upload(supervisor, buffer.getvalue(), "survey.xlsx")
    assert refused.status_code == 422
    assert [(d["line"], d["column"], d["rule"]) for d in refused.get_json()["error"]["details"]] \
        == [(5, "owner_id_number", "stored_as_number")]

    response = _upload(supervisor, buffer.getvalue(), "survey.xlsx", skip_invalid="on")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["created"] == 2
    cases = {c.survey_ref: c for c in db.session.scalars(select(Case))}
    assert cases["X-1"].owner_phone == "10000000001" and cases["X-1"].area_m2 == 9.5
    assert cases["X-1"].owner_id_number == "00000000000000001X"
    assert cases["X-2"].zone_id == district["zone2"].id and cases["X-2"].difficulty == 5
    assert cases["X-2"].kind is CaseKind.ILLEGAL_STRUCTURE


def test_who_may_import_and_into_which_zones(api, district, make):
    officer = api.as_(district["officer1"])
    response = _upload(officer, GOOD_ONLY.encode())
    assert response.status_code == 422
    assert {(d["line"], d["rule"]) for d in response.get_json()["error"]["details"]} == {
        (6, "unknown_zone"), (7, "unknown_zone"), (8, "unknown_zone")}  # the Z2 rows
    assert _upload(officer, _lines(2, 3, 4, 5).encode()).get_json()["created"] == 4
    # The officer who imported is the cases' officer.
    assert set(db.session.scalars(select(Case.officer_id))) == {district["officer1"].id}

    company = api.as_(make.user("company"))
    refused = _upload(company, GOOD_ONLY.encode())
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    admin = api.as_(make.user("admin"))
    assert _upload(admin, GOOD_ONLY.encode()).get_json()["created"] == 3  # 4 already there


def test_files_that_are_not_surveys(api, district):
    supervisor = api.as_(district["supervisor"])
    headings = _upload(supervisor, "调查编号,片区,小区,产权人姓名\nA,Z1,x,y\n".encode())
    assert headings.status_code == 422
    error = headings.get_json()["error"]
    assert error["code"] == "invalid_file"
    assert {(d["line"], d["column"], d["rule"]) for d in error["details"]} == {
        (1, "产权人姓名", "unknown_column"), (1, "类型/kind", "missing_column")}
    assert _upload(supervisor, b"\xff\xfe\x00\x81garbage").get_json()["error"]["details"][0][
        "rule"] == "encoding"
    assert _upload(supervisor, b"").status_code == 422
    old_excel = _upload(supervisor, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls")
    assert old_excel.status_code == 415
    broken_xlsx = _upload(supervisor, b"PK\x03\x04 not really a workbook", "a.xlsx")
    assert broken_xlsx.status_code == 422
    assert supervisor.post("/api/v1/imports", json={"file": "x"}).status_code == 415
    no_file = supervisor.post("/api/v1/imports", data={"dry_run": "true"},
                              content_type="multipart/form-data")
    assert no_file.status_code == 422
    bad_flag = _upload(supervisor, GOOD_ONLY.encode(), skip_invalid="perhaps")
    assert bad_flag.status_code == 422
    assert bad_flag.get_json()["error"]["details"][0]["field"] == "skip_invalid"
    assert _cases() == 0


def test_import_command(runner, district):
    username = district["supervisor"].username
    refused = runner.invoke(args=["import", str(SAMPLE), "--as", username, "--quiet"])
    assert refused.exit_code == 1
    for line, column in BAD.items():
        assert f"line {line} column {column}:" in refused.output
    assert _cases() == 0

    dry = runner.invoke(args=["import", str(SAMPLE), "--as", username, "--skip-invalid",
                              "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would create 7 cases" in dry.output and _cases() == 0

    done = runner.invoke(args=["import", str(SAMPLE), "--as", username, "--skip-invalid"])
    assert done.exit_code == 0, done.output
    assert "created 7 cases" in done.output and "4 invalid (skipped)" in done.output
    assert _cases() == 7
    again = runner.invoke(args=["import", str(SAMPLE), "--as", username, "--skip-invalid"])
    assert "created 0 cases, 7 already imported" in again.output and _cases() == 7

    nobody = runner.invoke(args=["import", str(SAMPLE), "--as", "nobody"])
    assert nobody.exit_code != 0 and "nobody" in nobody.output
