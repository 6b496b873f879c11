"""Candidate depth against quality and latency: nDCG@10 on the external corpora and the
recruiter query's cold and warm p50 for several ``EngineConfig.candidates`` values.

    .venv/bin/python -m bench.hybrid.depth          # after bench.hybrid.run prepared the data

Reads the runs ``bench.hybrid.run`` prepared in ``var/bench/hybrid/data`` (and its embedding
cache). "cold" clears everything earlier queries cached about profiles and the scenario's
remembered score parts (``bench.query.run.forget_profiles``); "warm" asks the same query again.
The depth floor is ``5 × top_k`` (100 for a top 20), so depths below 100 behave as 100.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.hybrid.run import load_run, score  # noqa: E402
from bench.query.run import forget_profiles  # noqa: E402
from matcher.config import EngineConfig  # noqa: E402
from matcher.engine import Engine  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "hybrid")
    ap.add_argument("--runs", default="cn,en")
    ap.add_argument("--depths", default="300,200,100")
    args = ap.parse_args(argv)
    print("| run | candidates | nDCG@10 | R@20 | cold p50 ms | warm p50 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for run in args.runs.split(","):
        data = load_run(args.work / "data", run)
        base = Engine(EngineConfig(), cache_dir=args.work / "cache")
        base.fit(data.scenarios, data.companies)
        for depth in (int(d) for d in args.depths.split(",")):
            engine = base.reconfigured(replace(base.config, candidates=depth))
            ranked = {
                s.id: [m.company_id for m in engine.match_scenario(s.id, 20)]
                for s in data.scenarios
            }
            cold, warm = [], []
            for s in data.scenarios:
                forget_profiles(base)
                base.clear_memos()
                for out in (cold, warm):
                    start = time.perf_counter()
                    engine.match_scenario(s.id, 20)
                    out.append(time.perf_counter() - start)
            m = score(ranked, data.qrels)
            print(
                f"| {run} | {depth} | {m['ndcg_at_10']:.3f} | {m['recall_at_20']:.3f} | "
                f"{statistics.median(cold) * 1e3:.2f} | {statistics.median(warm) * 1e3:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
