"""Recruiter query and company suggestion through the whole engine, in-process.

Recruiter query: scenario → top 20 firms with dense + lexical + structured fusion and
explanations for the 20, without a filter, with one filter (city) and with two (city + chain
position), for every open scenario, repeated. Company suggestion: a new profile (not in the
index) → encode it and rank every scenario; its encoding alone is timed too, to show what the
suggestion's time is made of. Medians and p99 over all calls.

    .venv/bin/python bench/query/run.py --profiles 10000               # about 3 minutes
    .venv/bin/python bench/query/run.py --profiles 100000 --backend ivf  # encodes for ~15 min once

Embeddings are cached in ``--cache`` (default ``var/bench/query/cache``), so a rerun at the
same or a smaller size skips the encoding. Results: ``docs/benchmarks_query.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from bench.timing import p50_p99_ms  # noqa: E402
from matcher.catalogue import company_from_dict, load_catalogue  # noqa: E402
from matcher.config import EngineConfig, IndexConfig  # noqa: E402
from matcher.constraints import Filters  # noqa: E402
from matcher.engine import Engine  # noqa: E402

logger = logging.getLogger("bench.query")


def stats(times: list[float]) -> dict[str, float]:
    return {
        "calls": len(times),
        **p50_p99_ms(times),
    }


def timed_calls(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--profiles", type=int, default=10_000)
    ap.add_argument("--backend", choices=["flat", "ivf"], default="flat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--new-profiles", type=int, default=50)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "query" / "cache")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_query.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    scenarios = [s for s in load_catalogue(ROOT / "data" / "scenarios.yaml").opportunities]
    companies = [company_from_dict(d) for d in synthesize(args.profiles, seed=0)]
    config = replace(EngineConfig(), index=IndexConfig(backend=args.backend))
    engine = Engine(config, cache_dir=args.cache)
    start = time.perf_counter()
    engine.fit(scenarios, companies)
    fit_s = time.perf_counter() - start
    logger.info("fitted %d firms in %.1f s", len(companies), fit_s)

    open_ids = [s.id for s in engine.scenarios if s.is_open]
    cities = ("泉州市", "晋江市", "厦门市")
    variants = {
        "no filter": Filters(),
        "one filter (city)": Filters(city=cities[0]),
        "two filters (city + chain)": Filters(city=cities[1], chain_position="midstream"),
    }
    for sid in open_ids[:3]:  # warm-up
        engine.match_scenario(sid, 20)
    recruiter: dict[str, Any] = {}
    for name, f in variants.items():
        times: list[float] = []
        sizes = []
        for sid in open_ids:
            times += timed_calls(
                lambda sid=sid, f=f: engine.match_scenario(sid, 20, f), args.repeats
            )
            sizes.append(len(engine.match_scenario(sid, 20, f)))
        recruiter[name] = {**stats(times), "mean_results": round(statistics.mean(sizes), 1)}
        logger.info("recruiter query, %s: %s", name, recruiter[name])

    fresh = [
        replace(company_from_dict(d), id=f"NEW{i:05d}")
        for i, d in enumerate(synthesize(args.new_profiles, seed=99))
    ]
    encoder = engine.encoder.encoder  # the raw model behind the cache: a new text is never cached
    engine.suggest(fresh[0], 5)
    suggest_t, encode_t = [], []
    for c in fresh[1:]:
        texts = engine.texts_to_encode([], [c])["passage"]
        start = time.perf_counter()
        encoder.encode(texts)
        encode_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        engine.suggest(c, 5)
        suggest_t.append(time.perf_counter() - start)
    results = {
        "profiles": args.profiles,
        "scenarios_open": len(open_ids),
        "backend": args.backend,
        "fit_s": round(fit_s, 1),
        "recruiter_query_top20": recruiter,
        "company_suggestion": {
            **stats(suggest_t),
            "encode_only": stats(encode_t),
            "encode_share_of_p50": round(
                statistics.median(encode_t) / statistics.median(suggest_t), 3
            ),
        },
    }
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
