"""Lint and type checks run as part of the suite, so CI enforces them."""

import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT


def _tool(name: str) -> list[str]:
    exe = shutil.which(name, path=str(ROOT / ".venv" / "bin")) or shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return [exe]


def test_ruff_clean():
    res = subprocess.run(
        [*_tool("ruff"), "check", "matcher", "service", "tests", "bench", "data"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_clean_on_matcher_and_service():
    res = subprocess.run(
        [*_tool("mypy"), "matcher", "service"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr


def test_no_print_outside_cli():
    offenders = []
    for path in (ROOT / "matcher").rglob("*.py"):
        if path.name in ("cli.py", "__main__.py"):
            continue
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if line.lstrip().startswith("print("):
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert not offenders, offenders
    assert sys.version_info[:2] == (3, 11)
