"""The nightly job on real data: stages, determinism, incremental encoding, diff, learning."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from matcher.batch import BatchConfig, BatchInput, read_snapshot, run_nightly
from matcher.constraints import Controls
from matcher.ltr import heldout_split

CONFIG = BatchConfig(top_n=10, top_m=3, block_size=5, candidates=12)


def small_input(small_catalogue, small_companies, **kw) -> BatchInput:
    return BatchInput(list(small_catalogue.opportunities), list(small_companies), **kw)


def test_first_run_then_unchanged_run_is_identical(
    tmp_path, small_catalogue, small_companies, cache_dir
):
    work, models = tmp_path / "work", tmp_path / "models"
    first = run_nightly(
        small_input(small_catalogue, small_companies), work, models, cache_dir, CONFIG
    )
    assert list(first.stages) == ["encode", "index", "learn", "rerank", "diff"]
    assert first.diff["first_run"] and first.stages["rerank"]["blocks"] == 3
    snap = read_snapshot(first.snapshot_dir)
    assert set(snap["scenarios"]) == {"S1", "S2"}  # S3 is closed
    s1 = snap["scenarios"]["S1"]["matches"]
    assert s1[0]["company_id"] == "T01" and s1[0]["explanation"]["summary"]
    assert (work / "index" / "CURRENT.json").exists()
    second = run_nightly(
        small_input(small_catalogue, small_companies), work, models, cache_dir, CONFIG
    )
    assert second.content_hash == first.content_hash
    assert second.stages["encode"]["encoded"] == 0  # nothing changed, nothing re-encoded
    assert second.diff["entered"] == 0 and second.diff["left"] == 0
    assert second.model["skipped"] == "no feedback yet"


def test_changed_profile_is_reencoded_alone_and_the_diff_says_why(
    tmp_path, small_catalogue, small_companies, cache_dir
):
    work, models = tmp_path / "work", tmp_path / "models"
    cfg = replace(CONFIG, top_n=3)
    first = run_nightly(small_input(small_catalogue, small_companies), work, models, cache_dir, cfg)
    assert "T10" not in [
        m["company_id"] for m in read_snapshot(first.snapshot_dir)["scenarios"]["S2"]["matches"]
    ]
    changed = [
        replace(
            c, description="专注工业视觉质检：深度学习缺陷检测、AOI 光学检测设备与产线质检系统。"
        )
        if c.id == "T10"
        else c
        for c in small_companies
    ]
    result = run_nightly(
        BatchInput(list(small_catalogue.opportunities), changed), work, models, cache_dir, cfg
    )
    enc = result.stages["encode"]
    assert 0 < enc["encoded"] <= 4 and enc["cached"] > 50  # the new text and its sentences only
    s2 = result.diff["scenarios"].get("S2", {"entered": []})
    entered = {e["company_id"]: e for e in s2["entered"]}
    assert "T10" in entered and entered["T10"]["part"] in ("dense", "lexical", "keyword")


def test_controls_apply_in_the_snapshot(tmp_path, small_catalogue, small_companies, cache_dir):
    data = small_input(
        small_catalogue,
        small_companies,
        controls={"S1": Controls(pinned=("T10",), excluded=("T02",))},
    )
    result = run_nightly(data, tmp_path / "w", tmp_path / "m", cache_dir, CONFIG)
    matches = read_snapshot(result.snapshot_dir)["scenarios"]["S1"]["matches"]
    ids = [m["company_id"] for m in matches]
    assert ids[0] == "T10" and matches[0]["pinned"] and "T02" not in ids


def test_cap_limits_how_many_scenarios_a_firm_holds(
    tmp_path, small_catalogue, small_companies, cache_dir
):
    cfg = replace(CONFIG, top_n=6, max_scenarios_per_firm=1)
    result = run_nightly(
        small_input(small_catalogue, small_companies),
        tmp_path / "w",
        tmp_path / "m",
        cache_dir,
        cfg,
    )
    snap = read_snapshot(result.snapshot_dir)
    held: dict[str, int] = {}
    for row in snap["scenarios"].values():
        for m in row["matches"]:
            held[m["company_id"]] = held.get(m["company_id"], 0) + 1
    assert held and max(held.values()) == 1
    assert result.stages["rerank"]["displaced_by_cap"] > 0


PLANTED_FAMILY, PLANTED_CITY = "C01", "泉州市"


def simulated_feedback(engine, depth: int = 40) -> list[tuple[str, str, str]]:
    """Recruiters prefer firms from one city for one scenario family; elsewhere they follow
    the ranking they were shown."""
    events = []
    for st in engine.scenarios_.values():
        s = st.scenario
        if not s.is_open:
            continue
        for m in engine.match_scenario(s.id, depth):
            city = engine.companies_[m.company_id].company.city
            if s.parent_id == PLANTED_FAMILY:
                stage = (
                    "signed"
                    if city == PLANTED_CITY
                    else ("shortlisted" if m.rank <= 10 else "rejected")
                )
            else:
                stage = (
                    "visited" if m.rank <= 5 else ("shortlisted" if m.rank <= 15 else "rejected")
                )
            events.append((s.id, m.company_id, stage))
    return events


@pytest.mark.slow
def test_learns_a_planted_preference_and_moves_those_firms_up(
    tmp_path, data_catalogue, data_companies, data_engine, cache_dir
):
    work, models = tmp_path / "work", tmp_path / "models"
    cfg = BatchConfig(top_n=30, top_m=3, block_size=200)
    scen = list(data_catalogue.opportunities)
    before = run_nightly(BatchInput(scen, list(data_companies)), work, models, cache_dir, cfg)
    feedback = simulated_feedback(data_engine)
    after = run_nightly(
        BatchInput(scen, list(data_companies), feedback), work, models, cache_dir, cfg
    )
    learn = after.model
    assert learn["adopted"], learn
    assert learn["ndcg_new"] > learn["ndcg_current"]
    assert (models / after.run_id / "model.txt").exists() and (
        models / after.run_id / "CARD.md"
    ).exists()
    meta = json.loads((models / after.run_id / "model.json").read_text())
    assert f"city={PLANTED_CITY}" in meta["features"] and meta["metrics"]["heldout_pairs"] > 0

    held = heldout_split(sorted({(s, c) for s, c, _ in feedback}), cfg.ltr.heldout_share)
    city = {c.id: c.city for c in data_companies}
    targets = {(s, c) for s, c in held if s in ("S01", "S02", "S03") and city[c] == PLANTED_CITY}
    assert targets, "the split left no planted pair out"

    def rank_of(result, sid, cid, depth=60):
        row = read_snapshot(result.snapshot_dir)["scenarios"][sid]
        ids = [m["company_id"] for m in row["matches"]] + [m["company_id"] for m in row["reserve"]]
        return ids.index(cid) + 1 if cid in ids else depth

    moved = [rank_of(before, s, c) - rank_of(after, s, c) for s, c in sorted(targets)]
    assert sum(moved) > 0 and sum(1 for d in moved if d > 0) > len(moved) / 2, moved
    # the learned part is visible in the matches, and the diff names it
    s01 = read_snapshot(after.snapshot_dir)["scenarios"]["S01"]["matches"]
    assert "learned" in s01[0]["contributions"]
    parts = {e["part"] for e in after.diff["scenarios"].get("S01", {}).get("entered", [])}
    assert "learned" in parts
    # the same feedback again: the retrained model does not beat itself, the snapshot holds
    again = run_nightly(
        BatchInput(scen, list(data_companies), feedback), work, models, cache_dir, cfg
    )
    assert not again.model["adopted"] and again.model["active_model"] == after.run_id
    assert again.content_hash == after.content_hash
