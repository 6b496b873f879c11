"""Choose the suggestion fit threshold on the bundled dev set, on the absolute score scale.

    python -m bench.quality.calibrate [--out docs/calibration.json] [--config JSON]

Every open scenario of ``data/scenarios.yaml`` × every firm of ``data/companies.jsonl`` is
scored (``match_scenario`` over all candidates, so each pair is scored as itself: on the
``absolute`` scale a pair's score depends on that pair alone). A pair is relevant when
``data/eval/labels.csv`` grades it 1 or 2. Reported: the threshold that maximises F1 of "score
≥ t" against relevance, precision and recall there and at a few fixed thresholds, and how
many scenarios a firm would be suggested at each (median and share with none). A dev set is
small and written by our generator, so the threshold is rounded down to a multiple of 0.05
(favouring recall: a company browses its list, a missed fitting scenario costs more than one
extra) and quoted as a default, not a law.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.quality import corpus as qc  # noqa: E402
from matcher.catalogue import load_catalogue, load_companies  # noqa: E402
from matcher.config import EngineConfig, with_overrides  # noqa: E402
from matcher.engine import Engine  # noqa: E402


def pair_scores(eng: Engine, scenario_ids: Sequence[str], n: int) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for sid in scenario_ids:
        for m in eng.match_scenario(sid, top_k=n):
            out[(sid, m.company_id)] = m.score
    return out


def at(
    scores: dict[tuple[str, str], float], relevant: set[tuple[str, str]], t: float
) -> dict[str, float]:
    kept = {p for p, s in scores.items() if s >= t}
    tp = len(kept & relevant)
    prec = tp / len(kept) if kept else 1.0
    rec = tp / len(relevant) if relevant else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    per_firm: dict[str, int] = {}
    for _sid, cid in scores:
        per_firm.setdefault(cid, 0)
    for _sid, cid in kept:
        per_firm[cid] += 1
    counts = list(per_firm.values())
    return {
        "threshold": round(t, 4),
        "precision": round(prec, 4),
        "recall": round(rec, 4),
        "f1": round(f1, 4),
        "median_suggestions_per_firm": statistics.median(counts),
        "share_of_firms_with_none": round(sum(c == 0 for c in counts) / len(counts), 4),
    }


def calibrate(config: EngineConfig) -> dict[str, Any]:
    cat = load_catalogue(ROOT / "data" / "scenarios.yaml")
    firms = load_companies(ROOT / "data" / "companies.jsonl")
    eng = Engine(config).fit(cat.opportunities, firms)
    open_ids = [s.id for s in cat.opportunities if s.is_open]
    with (ROOT / "data" / "eval" / "labels.csv").open(encoding="utf-8") as fh:
        relevant = {
            (r["scenario_id"], r["company_id"])
            for r in csv.DictReader(fh)
            if int(r["grade"]) >= 1 and r["scenario_id"] in open_ids
        }
    scores = pair_scores(eng, open_ids, len(firms))
    grid = np.unique(np.round(np.array(list(scores.values())), 3))
    best = max((at(scores, relevant, float(t)) for t in grid), key=lambda r: r["f1"])
    default = float(np.floor(best["threshold"] * 20) / 20)
    rel_scores = [scores[p] for p in relevant if p in scores]
    other = [s for p, s in scores.items() if p not in relevant]
    return {
        "pairs": len(scores),
        "relevant_pairs": len(relevant),
        "share_of_firms_with_no_relevant_open_scenario": round(
            1 - len({cid for _, cid in relevant}) / len(firms), 4
        ),
        "relevant_score_median": round(statistics.median(rel_scores), 4),
        "other_score_median": round(statistics.median(other), 4),
        "best_f1": best,
        "chosen_default": at(scores, relevant, default),
        "fixed": [at(scores, relevant, t) for t in (0.2, 0.3, 0.4, 0.5)],
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--config", default="{}", help="engine settings to override (JSON)")
    args = ap.parse_args(argv)
    base = with_overrides(EngineConfig(), json.loads(args.config))
    config = replace(base, fusion=replace(base.fusion, scale="absolute"), suggest_min_score=0.0)
    return qc.report({"config": json.loads(args.config), **calibrate(config)}, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
