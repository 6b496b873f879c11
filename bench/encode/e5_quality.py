"""Dense ranking quality of e5-st against e5-nano on every labelled scenario (``data/eval``).

Each of the 28 labelled opportunities, as a Chinese and as an English query (title +
description), ranks all 572 bundled profiles (name, description, products) by cosine alone:
nDCG@10 per query and the mean, per engine, plus how often a ranking differs and how close the
firms that swap places are. Only the encoder differs, so the difference is the encoder's.

    OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python bench/encode/e5_quality.py

Writes ``docs/benchmarks_encode_e5_quality.json``; ~5 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from matcher.catalogue import load_catalogue, load_companies  # noqa: E402
from matcher.encode import create_encoder  # noqa: E402
from matcher.evaluate import load_qrels_csv, ndcg_at_k  # noqa: E402

logger = logging.getLogger("bench.encode.e5_quality")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_encode_e5_quality.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    qrels = load_qrels_csv(ROOT / "data" / "eval" / "labels.csv")
    companies = load_companies(ROOT / "data" / "companies.jsonl")
    ids = [c.id for c in companies]
    passages = ["\n".join([c.name, c.description, "、".join(c.products)]) for c in companies]
    scenarios = [s for s in load_catalogue(ROOT / "data" / "scenarios.yaml").opportunities]
    scenarios = [s for s in scenarios if s.id in qrels]
    queries = [(s.id, "zh", f"{s.title_zh}\n{s.description_zh}") for s in scenarios]
    queries += [(s.id, "en", f"{s.title_en}\n{s.description_en}") for s in scenarios]
    sims: dict[str, np.ndarray] = {}
    out: dict[str, Any] = {"queries": len(queries), "firms": len(ids), "engines": {}}
    for name in ("e5-nano", "e5-st"):
        enc = create_encoder(name)
        start = time.perf_counter()
        p = enc.encode(passages, "passage")
        q = enc.encode([t for _, _, t in queries], "query")
        seconds = time.perf_counter() - start
        sims[name] = q @ p.T
        per_query = []
        for row, (sid, _, _) in zip(sims[name], queries, strict=True):
            ranked = [ids[i] for i in np.argsort(-row, kind="stable")]
            per_query.append(ndcg_at_k(ranked, qrels[sid], 10))
        out["engines"][name] = {
            "ndcg_at_10": round(float(np.mean(per_query)), 4),
            "ndcg_at_10_zh": round(float(np.mean(per_query[: len(scenarios)])), 4),
            "ndcg_at_10_en": round(float(np.mean(per_query[len(scenarios) :])), 4),
            "per_query": [round(x, 4) for x in per_query],
            "encode_seconds": round(seconds, 1),
            "fingerprint": enc.fingerprint,
        }
        logger.info(
            "%s: %s", name, {k: v for k, v in out["engines"][name].items() if k != "per_query"}
        )
    a, b = sims["e5-nano"], sims["e5-st"]
    top_a = np.argsort(-a, axis=1)[:, :10]
    top_b = np.argsort(-b, axis=1)[:, :10]
    overlap = [len(set(x) & set(y)) / 10 for x, y in zip(top_a, top_b, strict=True)]
    out["top10_overlap_mean"] = round(float(np.mean(overlap)), 4)
    out["queries_with_same_top10_order"] = int(
        sum((x == y).all() for x, y in zip(top_a, top_b, strict=True))
    )
    out["max_abs_score_difference"] = round(float(np.abs(a - b).max()), 5)
    out["ndcg_at_10_difference"] = round(
        out["engines"]["e5-st"]["ndcg_at_10"] - out["engines"]["e5-nano"]["ndcg_at_10"], 4
    )
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "engines"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
