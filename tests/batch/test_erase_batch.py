"""A firm erased while a nightly run is in progress is never published by it; erasing a batch
folder afterwards leaves tombstones in history and nothing of the firm."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.batch import BatchConfig, BatchInput, read_snapshot, run_nightly
from matcher.batch.erase import Tombstone, erase_from_batch

CONFIG = BatchConfig(top_n=10, top_m=3, block_size=5, candidates=12)


def _holding(folder: Path, needle: str) -> list[str]:
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and needle.encode() in p.read_bytes()
    ]


@pytest.mark.parametrize("after_calls", [1, 2, 3, 4])
def test_a_firm_erased_mid_run_is_not_published(
    tmp_path, small_catalogue, small_companies, cache_dir, after_calls
):
    """``after_calls``: the erasure lands before the encode, index, learn or rerank stage."""
    t01 = next(c for c in small_companies if c.id == "T01")
    calls = {"n": 0}

    def erased(ids):
        calls["n"] += 1
        return {"T01": Tombstone.numbered(7)} if calls["n"] > after_calls and "T01" in ids else {}

    work = tmp_path / "work"
    result = run_nightly(
        BatchInput(list(small_catalogue.opportunities), list(small_companies)),
        work,
        tmp_path / "models",
        cache_dir,
        CONFIG,
        erased=erased,
    )
    snap = read_snapshot(result.snapshot_dir)
    ranked = {m["company_id"] for e in snap["scenarios"].values() for m in e["matches"]}
    assert "T01" not in ranked and ranked
    assert _holding(work, t01.name) == []
    assert _holding(work / "index", '"T01"') == []


def test_erase_from_batch_keeps_tombstones_in_history(
    tmp_path, small_catalogue, small_companies, cache_dir
):
    work = tmp_path / "work"
    data = BatchInput(list(small_catalogue.opportunities), list(small_companies))
    first = run_nightly(data, work, tmp_path / "models", cache_dir, CONFIG)
    top = read_snapshot(first.snapshot_dir)["scenarios"]["S1"]["matches"]
    assert top[0]["company_id"] == "T01"
    name = top[0]["company_name"]
    second = run_nightly(data, work, tmp_path / "models", cache_dir, CONFIG)
    assert _holding(work, name)
    report = erase_from_batch(work, {"T01": Tombstone.numbered(3)}, cache_dir)
    assert report.runs == 2 and report.snapshots == 2 and report.index_versions_erased == 1
    assert report.index_versions_removed == 1
    assert _holding(work, name) == [] and _holding(work, '"T01"') == []
    snap = read_snapshot(second.snapshot_dir)
    entry = snap["scenarios"]["S1"]["matches"][0]
    assert entry == {
        "company_id": "deleted-3",
        "company_name": "已删除企业 #3",
        "rank": 1,
        "score": top[0]["score"],
        "pinned": False,
        "scenario_id": "S1",
        "erased": True,
    }
    # the snapshot's content hash was recomputed: a third run compares with it cleanly
    third = run_nightly(
        BatchInput(
            list(small_catalogue.opportunities), [c for c in small_companies if c.id != "T01"]
        ),
        work,
        tmp_path / "models",
        cache_dir,
        CONFIG,
    )
    left = third.diff["scenarios"]["S1"]["left"]
    assert [e["name"] for e in left if e["company_id"] == "deleted-3"] == ["已删除企业 #3"]
