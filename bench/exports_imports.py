"""Exports of a large case list, and a large survey import: time and peak memory.

Loads CASES cases (default 1,000,000) into a PostgreSQL database of its own
(``<DATABASE_URL's name>_bench_exports``) with one INSERT ... SELECT, then, each in a fresh
child process so that its peak RSS is its own:

1. ``COPY (SELECT ...) TO STDOUT WITH CSV``: the hand-written baseline, the same columns and
   joins as the export, through psycopg, written to a file;
2. the case export to CSV (``export_cases``, as a district supervisor: every column, owners'
   data included) written to a file;
3. the same export to XLSX;
4. the import of a generated survey of SURVEY_ROWS rows (default 100,000) into the same
   database, through ``import_survey`` (every row checked, then created by ``create_cases`` a
   batch at a time), committed once.

Each child reports its wall and CPU time, the rows it handled, its resident memory before and
after the task and the peak RSS of the whole process (``ru_maxrss``: the interpreter and the
Flask application included). On a machine shared with other work, CPU time is the steadier
figure.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework \\
        .venv/bin/python bench/exports_imports.py [--cases 1000000] [--survey-rows 100000] \\
        [--skip copy,csv,xlsx]    # the import alone
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from benchdb import bench_url, recreate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATES = ["identified", "ownership_verified", "negotiated", "demolished", "closed", "disputed",
          "dismissed"]




def _app(url: str):
    from casework import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url,
                       "CASEWORK_UPLOAD_DIR": tempfile.mkdtemp(prefix="bench-uploads-")})


def _load(url: str, cases: int) -> None:
    from flask_migrate import upgrade

    from casework.accounts.models import Role
    from casework.accounts.operations import create_user
    from casework.extensions import db

    app = _app(url)
    with app.app_context():
        upgrade()
        db.session.execute(text(
            "INSERT INTO zones (code, name) SELECT 'Z' || g, '片区' || g "
            "FROM generate_series(1, 9) g"))
        db.session.execute(text(
            "INSERT INTO compounds (zone_id, name, address) "
            "SELECT 1 + g % 9, '小区' || g, '测试路' || g || '号' FROM generate_series(1, 93) g"))
        creator = create_user("district", "bench-password", Role.SUPERVISOR,
                              display_name="区指挥部")
        create_user("importer", "bench-password", Role.SUPERVISOR, display_name="导入人")
        db.session.flush()
        db.session.execute(text(f"""
            INSERT INTO cases (ref, kind, zone_id, compound_id, address, description, area_m2,
                               difficulty, owner_name, owner_phone, owner_id_number,
                               owner_unknown, state, state_entered_at, due_at, officer_id,
                               created_by_id, version, created_at, updated_at)
            SELECT 'BX-2026-' || lpad(g::text, 7, '0'),
                   CASE WHEN g % 3 = 0 THEN 'illegal_structure' ELSE 'shed' END,
                   c.zone_id, c.id, g || '号楼' || (g % 6 + 1) || '单元',
                   '基准测试用的配建棚厦，编号' || g, (g % 50) + 0.5, g % 5 + 1,
                   '测试户主' || g, '000-0000-' || lpad((g % 10000)::text, 4, '0'),
                   lpad(g::text, 18, '0'), false,
                   (ARRAY{STATES!r})[g % 7 + 1],
                   now() - (g % 70) * interval '1 day',
                   now() + ((g % 30) - 10) * interval '1 day', NULL, {creator.id}, 1,
                   now() - (g % 70) * interval '1 day' - g * interval '1 millisecond', now()
            FROM generate_series(1, :n) g JOIN compounds c ON c.id = 1 + g % 93
        """), {"n": cases})
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()


def _survey(path: Path, rows: int) -> None:
    """A fictitious survey: zones Z1..Z9, 300 compounds (93 of them already known)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["调查编号", "片区", "小区", "类型", "地址", "描述", "面积", "难度", "产权人",
                         "电话", "身份证号"])
        for n in range(1, rows + 1):
            compound = n % 300 + 1
            zone = (compound % 9) + 1 if compound <= 93 else n % 9 + 1
            name = f"小区{compound}" if compound <= 93 else f"新建小区{compound}-Z{zone}"
            writer.writerow([f"BENCH-{n:07d}", f"Z{zone}", name, "违建" if n % 3 else "配建棚厦",
                             f"{n % 40 + 1}号楼", f"调查发现的棚厦{n}", n % 40 + 1.5, n % 5 + 1,
                             f"测试户主{n}", f"000-0000-{n % 10000:04d}", f"{n:018d}"])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(task: str, url: str, arg: str) -> dict:
    from sqlalchemy import select

    from casework.accounts.models import User
    from casework.extensions import db

    app = _app(url)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "district"))
        base = _current_mb()
        start, cpu_start = time.perf_counter(), time.process_time()
        if task == "copy":
            # The hand-written baseline: the export's columns and joins, as PostgreSQL's COPY.
            raw = db.engine.raw_connection()
            rows = 0
            with raw.cursor() as cursor, open(arg, "wb") as out:
                with cursor.copy(
                        "COPY (SELECT c.ref, c.kind, z.code, z.name, p.name, c.address, "
                        "c.description, c.area_m2, c.difficulty, c.state, c.state_entered_at, "
                        "c.due_at, c.due_at <= now() AND c.state NOT IN ('closed', 'dismissed'), "
                        "o.display_name, c.owner_name, c.owner_phone, c.owner_id_number, "
                        "c.owner_unknown, c.lat, c.lon, c.survey_ref, c.created_at, "
                        "c.updated_at, c.id FROM cases c JOIN zones z ON z.id = c.zone_id "
                        "JOIN compounds p ON p.id = c.compound_id "
                        "LEFT JOIN users o ON o.id = c.officer_id "
                        "ORDER BY c.created_at DESC, c.id DESC) TO STDOUT WITH CSV HEADER") as copy:
                    for block in copy:
                        out.write(block)
            raw.close()
            rows = sum(1 for _ in open(arg, "rb")) - 1
        elif task in ("csv", "xlsx"):
            from casework.cases.schemas import CaseQuery
            from casework.exports.operations import export_cases

            export = export_cases(user, CaseQuery(), task, "zh")
            db.session.commit()
            with open(arg, "wb") as out:
                for chunk in export.chunks:
                    out.write(chunk)
            rows = export.rows
        elif task == "import":
            from casework.imports.operations import import_survey
            from casework.imports.reading import SurveyFile

            importer = db.session.scalar(select(User).where(User.username == "importer"))
            outcome = import_survey(importer, SurveyFile(Path(arg).read_bytes(), "survey.csv"))
            db.session.commit()
            rows = outcome.created
            assert outcome.invalid == 0, outcome.problems[:5]
        else:
            raise SystemExit(f"unknown task {task}")
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        size = os.path.getsize(arg) if os.path.exists(arg) else 0
        db.engine.dispose()
    return {"task": task, "rows": rows, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "bytes": size, "base_rss_mb": round(base, 1), "peak_rss_mb": round(_peak_mb(), 1),
            "end_rss_mb": round(_current_mb(), 1)}


def _run_child(task: str, url: str, arg: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", task, "--url", url,
                             "--arg", arg], capture_output=True, text=True, check=False)
    if output.returncode != 0:
        raise SystemExit(f"{task} failed:\n{output.stdout}\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--survey-rows", type=int, default=100_000)
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--arg")
    parser.add_argument("--skip", default="", help="comma-separated tasks to leave out")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.url, args.arg)))
        return

    url = bench_url("bench_exports")
    skip = set(filter(None, args.skip.split(",")))
    recreate(url)
    started = time.perf_counter()
    _load(url, args.cases)
    print(f"loaded {args.cases:,} cases in {time.perf_counter() - started:.1f} s", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as directory:
        out = Path(directory)
        for task, arg in (("copy", out / "copy.csv"), ("csv", out / "cases.csv"),
                          ("xlsx", out / "cases.xlsx")):
            if task in skip:
                continue
            results.append(_run_child(task, url, str(arg)))
            print(json.dumps(results[-1]), flush=True)
            Path(arg).unlink(missing_ok=True)
        if "import" not in skip:
            survey = out / "survey.csv"
            _survey(survey, args.survey_rows)
            results.append(_run_child("import", url, str(survey)))
            print(json.dumps(results[-1]), flush=True)

    print("\n| task | rows | wall time | CPU time | file | RSS before | peak RSS | RSS after |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['task']} | {r['rows']:,} | {r['seconds']:.1f} s | {r['cpu_seconds']:.1f} s | "
              f"{r['bytes'] / 1e6:.0f} MB | {r['base_rss_mb']:.0f} MB | {r['peak_rss_mb']:.0f} MB | "
              f"{r['end_rss_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
