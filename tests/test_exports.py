"""Exports of the lists as CSV and XLSX: the whole filtered result, Chinese intact, owners'
personal data only for officers and supervisors, and every export in the admins' log."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl
import pytest

from casework.extensions import db
from casework.exports.models import ExportLog
from sqlalchemy import select

OWNER_HEADINGS = {"产权人", "电话", "身份证号"}


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[list]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == ("application/vnd.openxmlformats-officedocument"
                                 ".spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = [list(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


@pytest.fixture
def district(api, make):
    """Two zones; zone A has 7 cases (5 sheds, 2 illegal structures), zone B has 2."""
    zone_a, zone_b = make.zone("ZA"), make.zone("ZB")
    compound_a, compound_b = make.compound(zone_a), make.compound(zone_b)
    officer = make.user("officer", [zone_a])
    supervisor = make.user("supervisor", [zone_a])
    officer_b = make.user("officer", [zone_b])
    cases = []
    for n in range(7):
        cases.append(api.as_(officer).create_case(
            compound_a, kind="shed" if n < 5 else "illegal_structure",
            address=f"测试路{n}号", description=f"=违建棚厦第{n}处，面积约{n}平方米",
            owner_name=f"测试甲{n}", owner_phone=f"000-0000-000{n}",
            owner_id_number=f"00000000000000000{n}", area_m2=10.5 + n, difficulty=1 + n % 5))
    for n in range(2):
        api.as_(officer_b).create_case(compound_b, description="别处的棚厦")
    return {"officer": officer, "supervisor": supervisor, "officer_b": officer_b,
            "cases": cases, "zone_a": zone_a, "compound_a": compound_a}


def test_csv_and_xlsx_hold_every_row_of_the_filtered_list(api, district):
    supervisor = api.as_(district["supervisor"])
    listed = supervisor.get("/api/v1/cases?kind=shed&per_page=2").get_json()
    assert listed["total"] == 5 and len(listed["items"]) == 2  # one page of the list

    for body in (_csv_rows(supervisor.get("/api/v1/cases?kind=shed&format=csv&per_page=2")),
                 _xlsx_rows(supervisor.get("/api/v1/cases?kind=shed&format=xlsx"))):
        heading, rows = body[0], body[1:]
        assert len(rows) == listed["total"]
        assert heading[:3] == ["案件编号", "类型", "片区"]
        assert OWNER_HEADINGS <= set(heading)
        column = {name: i for i, name in enumerate(heading)}
        assert {row[column["类型"]] for row in rows} == {"配建棚厦"}
        by_ref = {row[column["案件编号"]]: row for row in rows}
        assert set(by_ref) == {c["ref"] for c in district["cases"][:5]}
        first = by_ref[district["cases"][0]["ref"]]
        assert first[column["地址"]] == "测试路0号"
        assert first[column["产权人"]] == "测试甲0"
        assert first[column["状态"]] == "已摸排"
        assert first[column["小区"]] == district["compound_a"].name
        # A cell that Excel would run as a formula is defused; the text is otherwise intact.
        assert first[column["描述"]].lstrip("'") == "=违建棚厦第0处，面积约0平方米"
        assert str(first[column["电话"]]).strip() == "000-0000-0000"
        assert str(first[column["身份证号"]]).strip() == "000000000000000000"


def test_xlsx_keeps_numbers_and_times_as_cells_and_formulas_as_text(api, district):
    rows = _xlsx_rows(api.as_(district["officer"]).get("/api/v1/cases?format=xlsx&lang=en"))
    heading = rows[0]
    column = {name: i for i, name in enumerate(heading)}
    assert {"ref", "kind", "owner_name", "owner_phone", "state", "due_at"} <= set(heading)
    row = next(r for r in rows[1:] if r[column["ref"]] == district["cases"][2]["ref"])
    assert row[column["kind"]] == "shed" and row[column["state"]] == "identified"
    assert row[column["area_m2"]] == 12.5 and row[column["difficulty"]] == 3
    assert row[column["description"]] == "=违建棚厦第2处，面积约2平方米"  # text, not a formula
    assert row[column["due_at"]].date() >= date.today() + timedelta(days=5)


def test_filters_and_zones_are_respected(api, district, make):
    officer_b = api.as_(district["officer_b"])
    rows = _csv_rows(officer_b.get("/api/v1/cases?format=csv"))[1:]
    assert len(rows) == 2 and {r[0] for r in rows}.isdisjoint(c["ref"] for c in district["cases"])
    district_supervisor = api.as_(make.user("supervisor"))
    everything = _csv_rows(district_supervisor.get("/api/v1/cases?format=csv"))[1:]
    assert len(everything) == 9
    only_a = _csv_rows(district_supervisor.get("/api/v1/cases?format=csv&zone=ZA&q=测试路3"))[1:]
    assert [r[0] for r in only_a] == [district["cases"][3]["ref"]]
    none = _csv_rows(district_supervisor.get("/api/v1/cases?format=csv&state=closed"))
    assert len(none) == 1  # the heading alone


def test_export_with_personal_data_is_in_the_admins_log(api, district, make):
    supervisor = api.as_(district["supervisor"])
    assert supervisor.get("/api/v1/cases?format=xlsx&kind=shed&zone=ZA").status_code == 200
    admin = api.as_(make.user("admin"))
    log = admin.get("/api/v1/exports?personal_data=true").get_json()
    assert log["total"] == 1
    entry = log["items"][0]
    assert entry["username"] == district["supervisor"].username
    assert entry["role"] == "supervisor" and entry["kind"] == "cases"
    assert entry["format"] == "xlsx" and entry["rows"] == 5 and entry["personal_data"] is True
    assert entry["filters"] == {"kind": "shed", "zone": "ZA"}

    # An admin's export has no owners' data: logged, but not as personal data.
    body = _csv_rows(admin.get("/api/v1/cases?format=csv"))
    assert OWNER_HEADINGS.isdisjoint(body[0]) and len(body) == 10
    assert "测试甲" not in "".join("".join(r) for r in body)
    assert admin.get("/api/v1/exports?personal_data=true").get_json()["total"] == 1
    assert admin.get("/api/v1/exports").get_json()["total"] == 2


def test_only_admins_read_the_export_log(api, district, make):
    for user in (district["officer"], district["supervisor"], make.user("company")):
        response = api.as_(user).get("/api/v1/exports")
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


def test_company_exports_its_work_orders_without_owner_columns(api, district, make):
    company = make.user("company")
    officer = api.as_(district["officer"])
    for case in district["cases"][:3]:
        response = officer.post(f"/api/v1/cases/{case['id']}/workorders", json={
            "company_id": company.company_id, "kind": "clear_debris",
            "due_date": (date.today() + timedelta(days=5)).isoformat(), "note": "清运垃圾"})
        assert response.status_code == 201, response.get_json()
    other = make.user("company")
    officer.post(f"/api/v1/cases/{district['cases'][4]['id']}/workorders", json={
        "company_id": other.company_id, "kind": "post_notice",
        "due_date": (date.today() + timedelta(days=5)).isoformat()})

    as_company = api.as_(company)
    listed = as_company.get("/api/v1/workorders").get_json()
    for rows in (_csv_rows(as_company.get("/api/v1/workorders?format=csv")),
                 _xlsx_rows(as_company.get("/api/v1/workorders?format=xlsx"))):
        assert len(rows) - 1 == listed["total"] == 3
        assert OWNER_HEADINGS.isdisjoint(rows[0])
        assert rows[0][:2] == ["工单号", "案件编号"]
        assert {r[1] for r in rows[1:]} == {c["ref"] for c in district["cases"][:3]}
        assert {r[4] for r in rows[1:]} == {"清运垃圾"}
        text = repr(rows)
        assert "测试甲" not in text and "000-0000" not in text
    filtered = _csv_rows(officer.get("/api/v1/workorders?format=csv&kind=post_notice"))
    assert len(filtered) == 2
    assert as_company.get("/api/v1/cases?format=csv").status_code == 403


def test_case_history_exports(api, district):
    officer = api.as_(district["officer"])
    case = district["cases"][0]
    assert officer.attach(case["id"], "ownership_doc").status_code == 201
    events = officer.get(f"/api/v1/cases/{case['id']}/events").get_json()["items"]
    rows = _csv_rows(officer.get(f"/api/v1/cases/{case['id']}/events?format=csv"))
    assert rows[0][:3] == ["序号", "操作", "原状态"]
    assert [r[0] for r in rows[1:]] == [str(e["seq"]) for e in events]
    assert [r[1] for r in rows[1:]] == ["登记", "上传附件"]
    assert [r[-1] for r in rows[1:]] == [e["hash"] for e in events]
    english = _xlsx_rows(officer.get(f"/api/v1/cases/{case['id']}/events?format=xlsx&lang=en"))
    assert [r[1] for r in english[1:]] == ["create", "attach"]
    # Another zone's officer cannot export this history.
    other = api.as_(district["officer_b"]).get(f"/api/v1/cases/{case['id']}/events?format=csv")
    assert other.status_code == 404


def test_bad_export_arguments_are_422(api, district):
    officer = api.as_(district["officer"])
    for path in ("/api/v1/cases?format=pdf", "/api/v1/cases?format=csv&lang=fr",
                 "/api/v1/workorders?format=", "/api/v1/cases?format=csv&bogus=1",
                 f"/api/v1/cases/{district['cases'][0]['id']}/events?format=csv&state=x"):
        response = officer.get(path)
        assert response.status_code == 422, path
        assert response.get_json()["error"]["code"] == "validation_failed"
    assert db.session.scalar(select(ExportLog.id)) is None


def test_export_command_writes_the_file_and_logs_the_named_user(runner, district, tmp_path):
    target = tmp_path / "sheds.xlsx"
    result = runner.invoke(args=["export", "cases", "--format", "xlsx", "--kind", "shed",
                                 "--as", district["supervisor"].username, "-o", str(target)])
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(target, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 6 and OWNER_HEADINGS <= set(rows[0])
    entry = db.session.scalar(select(ExportLog))
    assert (entry.username, entry.rows, entry.personal_data) == (
        district["supervisor"].username, 5, True)

    anonymous = tmp_path / "all.csv"
    result = runner.invoke(args=["export", "cases", "--format", "csv", "--lang", "en",
                                 "-o", str(anonymous)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(anonymous.read_text("utf-8-sig"))))
    assert len(rows) == 10 and "owner_name" not in rows[0] and rows[0][0] == "ref"

    orders = tmp_path / "orders.csv"
    result = runner.invoke(args=["export", "workorders", "--format", "csv", "-o", str(orders)])
    assert result.exit_code == 0, result.output
    assert len(list(csv.reader(io.StringIO(orders.read_text("utf-8-sig"))))) == 1

    bad = runner.invoke(args=["export", "cases", "--format", "csv", "--as", "nobody",
                              "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0 and "nobody" in bad.output
