"""Erasing firms from the engine: nothing of their text in a saved copy, other firms' ranking
unchanged, and the embedding cache forgets their vectors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from matcher import Engine
from matcher.encode.cache import EmbeddingCache
from matcher.types import Company

MARKER = "ZQXMARKERZQX"  # a word no other text holds


def _files_holding(folder: Path, needle: str) -> list[str]:
    raw = needle.encode()
    lower = needle.lower().encode()
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and (raw in (data := p.read_bytes()) or lower in data)
    ]


def _engine_with(marked: Company, earlier: Company, catalogue, companies, cache_dir) -> Engine:
    engine = Engine(cache_dir=cache_dir).fit(catalogue.opportunities, companies)
    engine.add_companies([earlier])
    engine.add_companies([marked])  # an update: the earlier version's rows are left behind
    return engine


def test_erased_firm_leaves_no_text_in_the_saved_index(
    small_catalogue, small_companies, cache_dir, tmp_path
):
    marked = Company(
        id="ERASE1",
        name=f"{MARKER}标记储能有限公司",
        description=f"{MARKER} 储能变流器与电池管理系统。第二句：园区微电网能量管理平台{MARKER}。",
        city="泉州",
    )
    earlier = replace(marked, description=f"早先的简介 {MARKER}OLD 工商业储能。另一句话。")
    engine = _engine_with(marked, earlier, small_catalogue, small_companies, cache_dir)
    twin = _engine_with(marked, earlier, small_catalogue, small_companies, cache_dir)
    engine.save(tmp_path / "with")
    assert _files_holding(tmp_path / "with", MARKER)

    assert engine.erase_companies(["ERASE1"]) == 1
    twin.remove_companies(["ERASE1"])
    engine.save(tmp_path / "without")
    assert _files_holding(tmp_path / "without", MARKER) == []
    assert _files_holding(tmp_path / "without", MARKER + "OLD") == []
    loaded = Engine.load(tmp_path / "without", cache_dir=cache_dir)
    assert "ERASE1" not in loaded.companies_
    for sc in small_catalogue.opportunities:
        if not sc.is_open:
            continue
        # erasing ranks the others exactly as removing does, in memory and once saved
        want = [(m.company_id, round(m.score, 6)) for m in twin.match_scenario(sc.id, 10)]
        assert [(m.company_id, round(m.score, 6)) for m in engine.match_scenario(sc.id, 10)] == want
        assert [(m.company_id, round(m.score, 6)) for m in loaded.match_scenario(sc.id, 10)] == want
    hits = engine.match_text(f"{MARKER} 储能", top_k=5)
    assert "ERASE1" not in [m.company_id for m in hits]


def test_cache_forgets_keys_in_every_process_reading_it(tmp_path):
    folder = tmp_path / "cache"
    cache = EmbeddingCache(folder)
    for i in range(5):
        cache.put("fp", f"k{i}", np.full(4, i, dtype=np.float32))
    cache.save()
    cache.put("fp", "k5", np.ones(4, dtype=np.float32))
    cache.save()  # a segment
    other = EmbeddingCache(folder)  # another process, loaded before the erasure
    assert other.get("fp", "k1") is not None

    cache.forget("fp", ["k1", "k5"])
    assert cache.get("fp", "k1") is None and cache.get("fp", "k5") is None
    fresh = EmbeddingCache(folder)
    assert fresh.get("fp", "k1") is None and fresh.get("fp", "k0") is not None
    # the stale process saves what it holds: the erased keys do not come back
    other.put("fp", "k6", np.ones(4, dtype=np.float32))
    other.save()
    assert EmbeddingCache(folder).get("fp", "k1") is None
    cache.compact()
    stored = b"".join(p.read_bytes() for p in folder.glob("*.keys.json"))
    assert b"k1" not in stored and b"k5" not in stored and b"k0" in stored and b"k6" in stored
