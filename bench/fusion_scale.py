"""Fusion scale: ``floor`` (dense and lexical scaled from a floor measured on reference firms
fixed at fit) against ``candidates`` (min-max over each query's candidates, the scale before
issue 7), on the bundled labelled dev set, in one process on one fitted engine.

    .venv/bin/python bench/fusion_scale.py --out docs/fusion_scale.json

For each scale: nDCG@10, nDCG@50, recall@50 and MRR over the 28 labelled scenarios
(``data/eval``), and in how many scenarios adding one unrelated firm (latin gibberish)
reorders the firms already ranked (the property ``tests/test_properties.py`` checks on the
small fixture set), with the default candidate depth and with every firm a candidate (as
under a selective filter, whose firms are all scored). The external corpora are compared
through ``bench/quality/run_quality.py --cli-args "--fusion-scale candidates"`` (see
docs/quality.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.catalogue import load_catalogue, load_companies  # noqa: E402
from matcher.engine import Engine  # noqa: E402
from matcher.evaluate import evaluate_run, load_qrels_csv  # noqa: E402
from matcher.types import Company  # noqa: E402

STRANGERS = ("Zzq qxv blorf", "Xkcd wub wub gronk", "Qqq vvv zzz plim")


def run(engine: Engine, sids: list[str]) -> dict[str, list[str]]:
    return {sid: [m.company_id for m in engine.match_scenario(sid, top_k=50)] for sid in sids}


def reorders(engine: Engine, sids: list[str]) -> dict[str, int]:
    """Scenarios whose top 50 (without the newcomer) change order when a stranger is added."""
    before = run(engine, sids)
    out = {}
    for k, text in enumerate(STRANGERS):
        stranger = Company(id=f"ZZ-STRANGER-{k}", name=text.split()[0], description=text)
        engine.add_companies([stranger])
        try:
            after = run(engine, sids)
        finally:
            engine.remove_companies([stranger.id])
        changed = 0
        for sid in sids:
            kept = [c for c in after[sid] if c != stranger.id]
            shared = [c for c in before[sid] if c in set(kept)]
            if [c for c in kept if c in set(shared)] != shared:
                changed += 1
        out[text] = changed
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cache-dir", default=str(ROOT / "var" / "cache"))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "fusion_scale.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    catalogue = load_catalogue(ROOT / "data" / "scenarios.yaml")
    companies = load_companies(ROOT / "data" / "companies.jsonl")
    qrels = load_qrels_csv(ROOT / "data" / "eval" / "labels.csv")
    base = Engine(cache_dir=args.cache_dir).fit(catalogue.opportunities, companies)
    sids = [s for s in qrels if s in base.scenarios_]
    results: dict[str, Any] = {"firms": len(companies), "scenarios": len(sids)}
    for scale in ("candidates", "floor"):
        cfg = base.config
        cfg = replace(
            cfg,
            fusion=replace(cfg.fusion, scale=scale),
            constraints=replace(cfg.constraints, match_closed=True),
        )
        engine = Engine(cfg, encoder=base.encoder).fit(catalogue.opportunities, companies)
        ranked = run(engine, sids)
        m = evaluate_run(ranked, qrels)
        results[scale] = {
            "ndcg_at_10": round(m.ndcg_at_10, 4),
            "ndcg_at_50": round(evaluate_run(ranked, qrels, ndcg_k=50).ndcg_at_10, 4),
            "recall_at_50": round(m.recall_at_50, 4),
            "mrr": round(m.mrr, 4),
            "scenarios_reordered_by_an_unrelated_firm": reorders(engine, sids),
        }
        # Every firm a candidate, as under a selective filter (exact scoring of the firms it
        # leaves): a newcomer always joins the candidates there.
        exact = Engine(replace(cfg, candidates=10**9), encoder=base.encoder)
        exact.fit(catalogue.opportunities, companies)
        results[scale]["reordered_with_every_firm_a_candidate"] = reorders(exact, sids)
        logging.info("%s: %s", scale, results[scale])
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
