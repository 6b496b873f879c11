"""Two `matcher nightly` processes over unchanged data write byte-identical snapshots.

Each process has its own hash seed (``PYTHONHASHSEED``), so a list built by iterating a set
(whose order follows the seed) shows up as a difference; one process running twice would share
its seed and hide it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matcher.batch.job import current_pointer

from ..conftest import ROOT


def _nightly(folder: Path, cache_dir: Path, seed: int) -> Path:
    """Run ``matcher nightly`` on the bundled data in ``folder``; the snapshot folder it wrote."""
    folder.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MATCHER_") and k != "PYTHONHASHSEED"
    }
    env.update(
        PYTHONHASHSEED=str(seed),
        HF_HUB_OFFLINE="1",
        MATCHER_DATABASE_URL=f"sqlite:///{folder / 'matcher.db'}",
        MATCHER_INDEX_DIR=str(folder / "index"),
        MATCHER_CACHE_DIR=str(cache_dir),
        MATCHER_BATCH_DIR=str(folder / "batch"),
        MATCHER_MODELS_DIR=str(folder / "models"),
        MATCHER_SEED_CATALOGUE=str(ROOT / "data" / "scenarios.yaml"),
        MATCHER_SEED_COMPANIES=str(ROOT / "data" / "companies.jsonl"),
    )
    r = subprocess.run(
        [sys.executable, "-m", "matcher", "nightly"],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    snap = current_pointer(folder / "batch" / "snapshots")
    assert snap is not None and f"nightly run {snap.name}: done" in r.stdout
    return snap


@pytest.mark.slow
def test_two_processes_with_other_hash_seeds_write_identical_snapshots(
    tmp_path, cache_dir, data_engine
):
    # data_engine fills the session's embedding cache with the bundled texts, so each run
    # here encodes nothing (about 15 s each instead of a minute)
    one = _nightly(tmp_path / "seed1", cache_dir, 1)
    two = _nightly(tmp_path / "seed2", cache_dir, 2)
    for name in ("scenarios.jsonl", "companies.jsonl"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    hashes = [
        json.loads((d / "manifest.json").read_text("utf-8"))["content_hash"] for d in (one, two)
    ]
    assert hashes[0] == hashes[1]
    rows = [json.loads(x) for x in (one / "scenarios.jsonl").read_text("utf-8").splitlines()]
    terms = [m["explanation"]["matched_terms"] for r in rows for m in r["matches"]]
    # not vacuous: most matches list several terms, whose order the hash seed used to change
    assert len(rows) == 27 and sum(len(t) >= 2 for t in terms) > 300
