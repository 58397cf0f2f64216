"""The survey import page (spec sections 13 and 14): a dry run creates nothing and shows each
bad row of the sample survey with its line and problem in words; an import creates the cases
and a second upload of the same file none; who may import is the operation's rule."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.cases.models import Case
from casework.extensions import db
from casework.places.models import Compound
from tests.web import form_token, page_text, sign_in

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "survey.csv"
BAD_LINES = [8, 9, 10, 11]


@pytest.fixture
def desk(app, make) -> FlaskClient:
    make.zone("Z1"), make.zone("Z2")
    client = app.test_client()
    sign_in(client, make.user("supervisor"))
    return client


def upload(client: FlaskClient, data: bytes | None = None, name: str = "survey.csv",
           **choices: str):
    page = client.get("/imports").text
    body = {"csrf_token": form_token(page), **choices}
    if data is not None or name:
        body["file"] = (io.BytesIO(SAMPLE.read_bytes() if data is None else data), name)
    return client.post("/imports", data=body, content_type="multipart/form-data")


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def problem_rows(html: str) -> list[tuple[int, str]]:
    table = re.search(r'id="import-problems".*?</table>', html, re.S)
    assert table, page_text(html)[:800]
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td></tr>", table.group(0))
    return [(int(line), text) for line, text in rows]


def test_a_dry_run_creates_nothing_and_shows_the_sample_s_bad_rows_in_words(desk):
    response = upload(desk, dry_run="y", skip_invalid="y")
    assert response.status_code == 200, page_text(response.text)[:800]
    text = page_text(response.text)
    assert "试运行：未创建任何内容" in text
    assert re.search(r'id="created-count">7<', response.text)
    assert re.search(r'id="invalid-count">4<', response.text)
    rows = problem_rows(response.text)
    assert sorted({line for line, _ in rows}) == BAD_LINES
    words = dict(rows)
    assert "片区" in words[8]
    assert "违建" in words[9]
    assert words[10] == "难度须为 1 至 5 的整数。"
    assert words[11] == "第 4 行的调查编号与此相同。"
    assert count(Case) == 0 and count(Compound) == 0


def test_bad_rows_without_skipping_stop_the_file_with_the_problem_beside_it(desk):
    response = upload(desk, dry_run="y")
    assert response.status_code == 422
    error = re.search(r'id="file-error"[^>]*>([^<]+)<', response.text)
    assert error and "4 行有误，未导入任何内容" in error.group(1)
    assert sorted({line for line, _ in problem_rows(response.text)}) == BAD_LINES
    assert count(Case) == 0


def test_an_import_creates_the_cases_and_a_second_upload_none(desk):
    first = upload(desk, skip_invalid="y")
    assert first.status_code == 200, page_text(first.text)[:800]
    assert "已导入" in page_text(first.text)
    assert re.search(r'id="created-count">7<', first.text)
    assert count(Case) == 7
    again = upload(desk, skip_invalid="y")
    assert re.search(r'id="created-count">0<', again.text)
    assert re.search(r'id="already-count">7<', again.text)
    assert count(Case) == 7


def test_a_gb18030_csv_is_read(desk):
    data = SAMPLE.read_text(encoding="utf-8").encode("gb18030")
    response = upload(desk, data, dry_run="y", skip_invalid="y")
    assert response.status_code == 200
    assert re.search(r'id="created-count">7<', response.text)


def test_a_missing_or_unreadable_file_is_refused_beside_the_field(desk):
    missing = upload(desk, None, name="", dry_run="y")
    assert missing.status_code == 422
    assert re.search(r'id="file-error"[^>]*>\s*请选择调查表文件。', missing.text)
    headings = upload(desk, "foo,bar\n1,2\n".encode(), dry_run="y")
    assert headings.status_code == 422
    assert 'id="file-error"' in headings.text
    old_excel = upload(desk, b"\xd0\xcf\x11\xe0 old excel", name="survey.xls")
    assert old_excel.status_code == 422
    assert ".xlsx" in page_text(old_excel.text)
    assert count(Case) == 0


def test_the_page_links_the_sample_survey(desk):
    page = desk.get("/imports")
    assert page.status_code == 200
    assert 'href="/imports/sample.csv"' in page.text
    sample = desk.get("/imports/sample.csv")
    assert sample.status_code == 200 and sample.data == SAMPLE.read_bytes()


def test_a_company_user_gets_the_404_page(app, make):
    client = app.test_client()
    sign_in(client, make.user("company"))
    assert client.get("/imports").status_code == 404
    page = client.get("/inbox").text
    response = client.post("/imports", data={"csrf_token": form_token(page),
                                             "file": (io.BytesIO(SAMPLE.read_bytes()), "s.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 404
    assert count(Case) == 0


def test_an_upload_without_its_csrf_token_is_refused(desk):
    response = desk.post("/imports", data={"file": (io.BytesIO(SAMPLE.read_bytes()), "s.csv"),
                                           "skip_invalid": "y"},
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert count(Case) == 0
