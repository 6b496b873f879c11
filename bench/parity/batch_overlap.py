"""Overlap@N between the nightly snapshot and the live ranking, at a size where live
retrieval is no longer exhaustive.

Builds N synthetic profiles (``bench/nightly/profiles.py``, the bundled catalogue), runs the
nightly job once (learning off), loads the index it made, and compares each scenario's top N in
the snapshot with ``match_scenario`` (whose candidates are the nearest 300 profiles and their
sentences; the batch chooses its 300 by the fused score over every firm) and, for a sample of
firms, each firm row with ``suggest`` (the same code: equal by construction). Writes
``docs/batch_overlap.json`` and prints Markdown.

    .venv/bin/python bench/parity/batch_overlap.py --profiles 100000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from matcher.batch import BatchConfig, BatchInput, read_snapshot, run_nightly  # noqa: E402
from matcher.catalogue import company_from_dict, load_catalogue  # noqa: E402
from matcher.engine import Engine  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--top-n", type=int, default=50)
    ap.add_argument("--top-m", type=int, default=5)
    ap.add_argument("--sample-firms", type=int, default=2000)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "query" / "cache")
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "overlap")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "batch_overlap.json")
    args = ap.parse_args(argv)

    scenarios = list(load_catalogue(ROOT / "data" / "scenarios.yaml").opportunities)
    companies = [company_from_dict(d) for d in synthesize(args.profiles, seed=0)]
    cfg = BatchConfig(top_n=args.top_n, top_m=args.top_m, block_size=5000, learn=False)
    start = time.perf_counter()
    result = run_nightly(
        BatchInput(scenarios, companies), args.work / "batch", args.work / "models", args.cache, cfg
    )
    run_s = time.perf_counter() - start
    snap = read_snapshot(result.snapshot_dir)
    live = Engine.load(result.index_dir, cache_dir=args.cache)

    scen_overlap, scen_same_order, score_gaps = [], 0, []
    for sid, row in sorted(snap["scenarios"].items()):
        got = [m["company_id"] for m in row["matches"]]
        want = live.match_scenario(sid, args.top_n)
        ids = [m.company_id for m in want]
        scen_overlap.append(len(set(got) & set(ids)) / max(len(ids), 1))
        scen_same_order += got == ids
        live_score = {m.company_id: m.score for m in want}
        score_gaps += [abs(m["score"] - live_score[m["company_id"]]) for m in row["matches"]
                       if m["company_id"] in live_score]  # fmt: skip
    firm_rows = {}
    with open(result.snapshot_dir / "companies.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            firm_rows[r["company_id"]] = [e["scenario_id"] for e in r["scenarios"]]
    sample = random.Random(7).sample(sorted(firm_rows), min(args.sample_firms, len(firm_rows)))
    firm_equal = sum(
        firm_rows[cid] == [m.scenario_id for m in live.suggest(cid, args.top_m, explain=False)]
        for cid in sample
    )
    out = {
        "profiles": args.profiles,
        "top_n": args.top_n,
        "top_m": args.top_m,
        "scenarios": len(scen_overlap),
        "scenario_overlap_at_n": {
            "mean": round(statistics.mean(scen_overlap), 4),
            "min": round(min(scen_overlap), 4),
        },
        "scenario_lists_identical": scen_same_order,
        "largest_score_gap_on_common_firms": round(max(score_gaps, default=0.0), 6),
        "firm_rows_checked": len(sample),
        "firm_rows_equal_to_suggest": firm_equal,
        "nightly_run_s": round(run_s, 1),
        "rerank_stage_s": result.stages["rerank"].get("seconds"),
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n", "utf-8")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
