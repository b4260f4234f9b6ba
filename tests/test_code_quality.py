"""The import layers of DESIGN.md hold, and the code passes the linter and the type checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


def test_import_layers_hold():
    result = _run(str(BIN / "lint-imports"), "--config", str(ROOT / "pyproject.toml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing():
    result = _run(str(BIN / "ruff"), "check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    # pyproject.toml's [tool.mypy]: strict for audit, crypto, db and tenancy, normal elsewhere; its
    # cache is .mypy_cache (ignored by git). The django plugin loads bastion.settings, as the tests do.
    result = _run(str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"))
    assert result.returncode == 0 and "Success" in result.stdout, result.stdout + result.stderr
