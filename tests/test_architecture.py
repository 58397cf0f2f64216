"""The layers of issue 6, enforced: import-linter's contracts in ``.importlinter`` hold for the
code as it is, and they do catch a stray import (checked on a copy with one added)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True,
                          text=True, env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"},
                          timeout=300)


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module, stray, contract", [
    ("cases/operations.py", "from flask import g", "No Flask below the web layer"),
    ("places/queries.py", "from casework.accounts.models import User",
     "Each folder depends only on the folders below it"),
    ("cases/models.py", "from casework.cases import queries",
     "Inside a domain: api → operations → queries → models"),
], ids=["flask-in-an-operation", "places-importing-accounts", "models-importing-queries"])
def test_a_stray_import_breaks_a_contract(tmp_path, module, stray, contract):
    shutil.copytree(ROOT / "casework", tmp_path / "casework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / "casework" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{stray}\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout
