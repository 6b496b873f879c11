"""The sample-data generator (data/generator) still writes the committed files byte for byte."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import ROOT

GEN = ROOT / "data" / "generator"
DATA = ROOT / "data"
OUTPUTS = [
    "companies.jsonl",
    "eval/labels.csv",
    "samples/companies_small.csv",
    "samples/scenarios_small.jsonl",
]


def _pinned_pypinyin() -> str:
    """pins.PYPINYIN, read without putting the generator's modules on sys.path."""
    spec = importlib.util.spec_from_file_location("_generator_pins", GEN / "pins.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.PYPINYIN)


def _first_difference(a: bytes, b: bytes) -> str:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if x != y:
            return f"line {n}"
    return f"length ({len(a)} vs {len(b)} bytes)"


def test_gen_extra_pins_the_generators_pypinyin():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
        "optional-dependencies"
    ]
    assert extras["gen"] == [f"pypinyin=={_pinned_pypinyin()}"]


@pytest.mark.slow
def test_generator_reproduces_the_committed_files(tmp_path: Path):
    import pypinyin

    pin = _pinned_pypinyin()
    if pypinyin.__version__ != pin:
        pytest.skip(
            f"pypinyin {pypinyin.__version__} is installed; the committed data was generated "
            f"with {pin} (pip install -e '.[gen]')"
        )
    res = subprocess.run(
        [sys.executable, str(GEN / "generate_companies.py"), "--out", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == OUTPUTS
    differ = {
        p: _first_difference((tmp_path / p).read_bytes(), (DATA / p).read_bytes())
        for p in OUTPUTS
        if (tmp_path / p).read_bytes() != (DATA / p).read_bytes()
    }
    assert not differ, f"regenerated files differ from the committed ones at {differ}"
