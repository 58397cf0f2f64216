"""Generates the city (unless ``--reuse`` finds one of the same size at the current migration
head, less than two days old), runs every measurement module of ``bench/city`` (each
``<area>.py`` with a ``measure(url)``, each in a child process of its own so that its
connections and memory end with it), prints one table of every figure and rewrites the
"City scale" section of ``bench/README.md`` with the command, the machine, the date, the
generation's time, the table and the plans.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework \\
        .venv/bin/python -m bench.city.run [--cases 1000000] [--reuse] [--only lists,sweep]
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.city.common import ROOT, Row, city_url
from bench.city.generate import generate, generated

HERE = Path(__file__).resolve().parent
README = ROOT / "bench" / "README.md"
SECTION = "## City scale"
NOT_MEASUREMENTS = {"common", "generate", "run"}
REUSE_FOR = timedelta(days=2)  # the sweep's due set holds for two days after generation


def measurement_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules([str(HERE)]):
        if info.name in NOT_MEASUREMENTS or info.name.startswith("_"):
            continue
        if hasattr(importlib.import_module(f"bench.city.{info.name}"), "measure"):
            names.append(info.name)
    return sorted(names)


def migration_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def _reusable(meta: dict | None, cases: int, head: str) -> bool:
    if not meta or meta.get("cases") != cases or meta.get("head") != head:
        return False
    made = datetime.fromisoformat(meta["generated_at"])
    return datetime.now(timezone.utc) - made < REUSE_FOR


def _child(name: str, url: str, out: str) -> None:
    """In the child process: one module's measure(url), its rows written to ``out``."""
    module = importlib.import_module(f"bench.city.{name}")
    # A module that put bench/city itself on sys.path would let its neighbours shadow the
    # libraries of the same name: the measurement imports casework without it.
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
    rows = module.measure(url)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump([dataclasses.asdict(row) for row in rows], handle, ensure_ascii=False)


def run_module(name: str, url: str) -> tuple[list[Row], float, str | None]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "bench.city.run", "--child", name,
                             "--child-url", url, "--child-out", out], cwd=ROOT)
    seconds = time.perf_counter() - started
    try:
        if result.returncode != 0:
            return [], seconds, f"exited with {result.returncode} (its output is above)"
        with open(out, encoding="utf-8") as handle:
            return [Row(**row) for row in json.load(handle)], seconds, None
    finally:
        os.unlink(out)


def machine(url: str) -> dict:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
        settings = {name: conn.execute(text(f"SHOW {name}")).scalar() for name in (
            "shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather",
            "random_page_cost", "jit", "synchronous_commit", "max_connections")}
    engine.dispose()
    return {"cores": os.cpu_count(), "ram_gb": round(total_kb / 1024 / 1024, 1),
            "postgresql": version, "settings": settings}


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3g}"


def _met(met: bool | None) -> str:
    return "–" if met is None else ("yes" if met else "**no**")


def table(results: list[tuple[str, Row]]) -> list[str]:
    lines = ["| area | figure | value | baseline | ratio | target | met |",
             "| --- | --- | ---: | --- | ---: | --- | --- |"]
    for area, row in results:
        baseline = (f"{_number(row.baseline)} {row.unit} ({row.baseline_name})"
                    if row.baseline is not None else row.baseline_name or "–")
        lines.append(f"| {area} | {row.figure} | {_number(row.value)} {row.unit} | {baseline} | "
                     f"{_number(row.ratio)} | {row.target} | {_met(row.met)} |")
    return lines


def section(command: str, meta: dict, reused: bool, info: dict, started: datetime,
            results: list[tuple[str, Row]], failures: dict[str, str],
            seconds: dict[str, float]) -> str:
    settings = ", ".join(f"`{name}` {value}" for name, value in info["settings"].items())
    load = os.getloadavg()
    counts = meta["counts"]
    parts = ", ".join(f"{name} {sec} s" for name, sec in meta["parts"].items())
    out = [SECTION, "",
           "Issue 10: the figures of a city of a million cases, each beside a hand-written",
           "baseline measured in the same run. Written by `bench/city/run.py`; do not edit by hand.",
           "", "```sh", command, "```", "",
           f"Run of {started:%Y-%m-%d %H:%M} UTC on {info['cores']} cores, "
           f"{info['ram_gb']} GB RAM, PostgreSQL {info['postgresql']} ({settings}); load average "
           f"{load[0]:.1f} at the end (the machine is shared: compare ratios, not times).", "",
           f"The city (`bench/city/generate.py`, migration head {meta['head']}"
           f"{', reused from ' + meta['generated_at'] if reused else ''}): "
           f"{counts['cases']:,} cases, {counts['case_events']:,} history events, "
           f"{counts['workorders']:,} work orders, {counts['notifications']:,} inbox rows, "
           f"{counts['zones']:,} zones, {counts['compounds']:,} compounds, {counts['users']:,} "
           f"users; {meta['due_cases']:,} open cases due within the sweep's 24 hours. Generated "
           f"in **{meta['seconds']} s** ({parts}).", ""]
    out += table(results)
    out.append("")
    for area, sec in seconds.items():
        out.append(f"- `{area}`: {sec:.0f} s" + (f", **failed**: {failures[area]}"
                                                 if area in failures else ""))
    out += ["", "### Plans", ""]
    for area, row in results:
        for number, plan in enumerate(row.plans, start=1):
            label = f" ({number})" if len(row.plans) > 1 else ""
            out += [f"#### {area}: {row.figure}{label}", "", "```text", plan.rstrip(), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def write_readme(text_: str) -> None:
    current = README.read_text(encoding="utf-8")
    start = current.find(f"\n{SECTION}\n")
    if start == -1:
        README.write_text(current.rstrip() + "\n\n" + text_, encoding="utf-8")
        return
    end = current.find("\n## ", start + len(SECTION) + 2)
    tail = current[end:] if end != -1 else ""
    README.write_text(current[:start + 1] + text_ + ("\n" + tail.lstrip("\n") if tail else ""),
                      encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true",
                        help="reuse casework_city if it has this many cases at the current head")
    parser.add_argument("--only", default="", help="comma-separated modules, e.g. lists,sweep")
    parser.add_argument("--name", default=None, help="database name (default <db>_city)")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.child_url, args.child_out)
        return

    started = datetime.now(timezone.utc)
    url = city_url(args.name)
    modules = measurement_modules()
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = set(wanted) - set(modules)
        if unknown:
            raise SystemExit(f"no such measurement module: {', '.join(sorted(unknown))} "
                             f"(there are: {', '.join(modules)})")
        modules = wanted
    head = migration_head()
    meta = generated(url)
    reused = args.reuse and _reusable(meta, args.cases, head)
    if reused:
        print(f"reusing {make_url(url).database}: {meta['cases']:,} cases at {head}, "
              f"generated {meta['generated_at']}", flush=True)
    else:
        meta = generate(url, args.cases)

    results: list[tuple[str, Row]] = []
    failures: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name in modules:
        print(f"measuring {name} ...", flush=True)
        rows, seconds[name], failure = run_module(name, url)
        if failure:
            failures[name] = failure
            print(f"  {name} {failure}", flush=True)
        results += [(name, row) for row in rows]

    print("\n".join(table(results)))
    for name, failure in failures.items():
        print(f"{name}: {failure}")
    if not args.no_readme:
        command = ("DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework "
                   ".venv/bin/python -m bench.city.run " + " ".join(sys.argv[1:])).rstrip()
        write_readme(section(command, meta, reused, machine(url), started, results, failures,
                             seconds))
        print(f"wrote the City scale section of {README.relative_to(ROOT)}")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
