"""``rank --method plain``: encoder cosine between the raw texts, checked against a hand computation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matcher.cli import main
from matcher.config import EngineConfig
from matcher.encode import create_encoder
from matcher.methods import METHODS, method_config

# Raw texts on purpose: pinyin annotations and traditional characters that the engine would
# normalise, an empty description (the name stands in) and an empty scenario description.
COMPANIES = [
    ("C1", "儲能公司", "工商業儲能(néng)系統集成與微電網"),
    ("C2", "核桃厂", "核桃炒货加工与销售"),
    ("C3", "Vision Co", "Machine vision cameras for defect detection on shoe lines."),
    ("C4", "鞋服智能工厂服务有限公司", ""),
]
SCENARIOS = [
    {"id": "S1", "title": "ignored", "description": "寻求储能系统集成、微电网能量管理企业。"},
    {"id": "S2", "title": "鞋服企业视觉检测", "description": ""},
    {"id": "S3", "title": "", "description": "Snack food processing: walnuts and nuts."},
]


@pytest.fixture()
def files(tmp_path):
    companies = tmp_path / "c.csv"
    rows = ["id,name,description"] + [f"{i},{n},{d}" for i, n, d in COMPANIES]
    companies.write_text("\n".join(rows) + "\n", "utf-8")
    scenarios = tmp_path / "s.jsonl"
    scenarios.write_text(
        "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in SCENARIOS), "utf-8"
    )
    return companies, scenarios


def _rank(tmp_path, files, cache_dir, *extra):
    out = tmp_path / "out.jsonl"
    companies, scenarios = files
    args = ["rank", "--companies", str(companies), "--scenarios", str(scenarios)]
    args += ["--output", str(out), "--method", "plain", "--cache-dir", str(cache_dir), *extra]
    assert main(args) == 0
    return [json.loads(line) for line in out.read_text("utf-8").splitlines()]


def test_plain_ranks_by_raw_cosine(tmp_path, files, cache_dir):
    lines = _rank(tmp_path, files, cache_dir, "--top-k", "4")
    enc = create_encoder("use")  # no cache: an independent hand computation
    q = enc.encode([s["description"] or s["title"] for s in SCENARIOS], role="query")
    p = enc.encode([d or n for _, n, d in COMPANIES], role="passage")
    sims = q @ p.T
    assert [x["scenario_id"] for x in lines] == ["S1", "S2", "S3"]
    for line, row in zip(lines, sims, strict=True):
        expected = sorted(zip(row, [c[0] for c in COMPANIES], strict=True), reverse=True)
        got = line["matches"]
        assert [m["company_id"] for m in got] == [cid for _, cid in expected]
        assert [m["score"] for m in got] == pytest.approx([s for s, _ in expected], abs=1e-5)
        assert all(m["parts"] == {"plain": round(m["score"], 4)} for m in got)
        assert all(m["explanation"] == "plain cosine of the raw texts (use)" for m in got)
    assert lines[0]["matches"][0]["company_id"] == "C1"
    assert lines[2]["matches"][0]["company_id"] == "C2"  # English query, Chinese walnut firm


def test_plain_top_k_and_cached_rerun(tmp_path, files, cache_dir):
    first = _rank(tmp_path, files, cache_dir, "--top-k", "2")
    assert [len(x["matches"]) for x in first] == [2, 2, 2]
    assert _rank(tmp_path, files, cache_dir, "--top-k", "2") == first


def test_plain_is_not_an_engine_config():
    assert "plain" in METHODS
    with pytest.raises(ValueError, match="bypasses the engine"):
        method_config(EngineConfig(), "plain")


def test_plain_text_is_unnormalised(tmp_path, files, cache_dir):
    """The score of C1 equals the cosine with its text as given, not a normalised one."""
    line = _rank(tmp_path, files, cache_dir, "--top-k", "4")[0]
    enc = create_encoder("use")
    q = enc.encode([SCENARIOS[0]["description"]], role="query")[0]
    raw, cleaned = enc.encode([COMPANIES[0][2], "工商业储能系统集成与微电网"], role="passage")
    score = next(m["score"] for m in line["matches"] if m["company_id"] == "C1")
    assert score == pytest.approx(float(q @ raw), abs=1e-5)
    assert abs(float(q @ cleaned) - float(q @ raw)) > 1e-3
    assert np.isfinite(score)


def test_scenario_needs_a_title_or_a_description(tmp_path):
    """One of them may be empty (S2, S3 above); both empty is one clear line, exit 2."""
    from matcher.catalogue import load_scenarios_jsonl
    from matcher.errors import DataError

    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"id": "Q", "title": "", "description": " "}) + "\n", "utf-8")
    with pytest.raises(DataError, match=r"missing or empty field\(s\) \['title', 'description'\]"):
        load_scenarios_jsonl(path)
    path.write_text(json.dumps({"id": "Q", "description": "d"}) + "\n", "utf-8")
    with pytest.raises(DataError, match=r"\['title'\]"):
        load_scenarios_jsonl(path)
