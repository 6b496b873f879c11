"""Nightly job benchmark: a full run over N synthetic profiles, then a run with 1% changed.

    .venv/bin/python bench/nightly/run.py --profiles 100000            # USE (fast encoder)
    .venv/bin/python bench/nightly/run.py --profiles 2000 --encoder e5 # the slow one

Reports seconds per stage, peak memory (max RSS), the share of wall time spent outside model
inference, and what the incremental run costs against the full encode. Results go to
``docs/benchmarks_nightly.json`` (merged by encoder and size) and are printed as Markdown.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--encoder", default="use")
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--work", default=str(ROOT / "var" / "bench-nightly"))
    ap.add_argument("--block-size", type=int, default=5000)
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks_nightly.json"))
    ap.add_argument("--keep", action="store_true", help="reuse the work folder (warm cache)")
    ap.add_argument("--change-seed", type=int, default=1, help="which firms change, and how")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from profiles import synthesize

    from matcher.batch import BatchConfig, BatchInput, run_nightly
    from matcher.batch import job as job_mod
    from matcher.catalogue import company_from_dict, load_catalogue
    from matcher.config import EncoderConfig, EngineConfig

    work = Path(args.work) / f"{args.encoder}-{args.profiles}"
    if work.exists() and not args.keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    companies = [company_from_dict(d) for d in synthesize(args.profiles)]
    gen_s = time.perf_counter() - t
    scenarios = list(load_catalogue(ROOT / "data" / "scenarios.yaml").opportunities)

    inference = {"s": 0.0}
    original_call = job_mod.EncodeWorker.__call__

    def timed_call(self, block):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return original_call(self, block)
        finally:
            inference["s"] += time.perf_counter() - t0

    job_mod.EncodeWorker.__call__ = timed_call  # type: ignore[method-assign]
    cfg = BatchConfig(
        top_n=50,
        top_m=5,
        block_size=args.block_size,
        engine=EngineConfig(encoder=EncoderConfig(name=args.encoder)),
    )

    def one(label: str, comps: list) -> dict:  # type: ignore[type-arg]
        inference["s"] = 0.0
        t0 = time.perf_counter()
        res = run_nightly(
            BatchInput(scenarios, comps), work / "batch", work / "models", work / "cache", cfg
        )
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stages = {k: round(v["seconds"], 1) for k, v in res.stages.items()}
        out = {
            "run": label,
            "wall_s": round(wall, 1),
            "stages_s": stages,
            "encoded_texts": res.stages["encode"]["encoded"],
            "texts": res.stages["encode"]["texts"],
            "inference_s": round(inference["s"], 1),
            "outside_inference_share": round(1 - inference["s"] / wall, 3),
            "peak_rss_mb": round(peak_mb),
        }
        print(json.dumps(out, ensure_ascii=False), flush=True)
        return out

    full = one("full", companies)
    rng = random.Random(args.change_seed)
    changed = set(rng.sample(range(len(companies)), max(1, round(args.changed * len(companies)))))
    comps2 = [
        replace(
            c,
            description=c.description
            + f" 新增（{args.change_seed}）：已通过ISO 14001环境管理体系认证。",
        )
        if i in changed
        else c
        for i, c in enumerate(companies)
    ]
    incr = one(f"{args.changed:.0%} changed", comps2)
    summary = {
        "profiles": args.profiles,
        "encoder": args.encoder,
        "scenarios": len(scenarios),
        "generate_s": round(gen_s, 1),
        "cpu_count": os.cpu_count(),
        "full": full,
        "incremental": incr,
        "incremental_encode_vs_full_encode": round(
            incr["stages_s"]["encode"] / max(full["stages_s"]["encode"], 1e-9), 4
        ),
    }
    out = Path(args.out)
    all_results = json.loads(out.read_text()) if out.exists() else {}
    all_results[f"{args.encoder}-{args.profiles}"] = summary
    out.write_text(json.dumps(all_results, ensure_ascii=False, indent=1))
    stage_cols = " | ".join(full["stages_s"])
    print(f"\n| run | wall s | {stage_cols} | encoded | outside inference | peak RSS MB |")
    print("|---|---|" + "---|" * len(full["stages_s"]) + "---|---|---|")
    for r in (full, incr):
        print(
            f"| {r['run']} | {r['wall_s']} | {' | '.join(str(v) for v in r['stages_s'].values())} "
            f"| {r['encoded_texts']} | {r['outside_inference_share']:.1%} | {r['peak_rss_mb']} |"
        )
    print(f"\nincremental encode / full encode: {summary['incremental_encode_vs_full_encode']:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
