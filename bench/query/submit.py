"""What adding one firm to a large index costs, in-process: the engine's update path (index,
lexical rows, duplicate groups) for a new profile, with its encoding done beforehand (as the
service does outside its write lock), against the work the update did before per addition
(regrouping every firm, stacking the whole lexical matrix), measured in the same process.

    .venv/bin/python bench/query/submit.py --index var/bench/query/http-100000/index

Needs a saved index (``bench/query/served.py`` builds one). Results: ``--out`` JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nightly.profiles import synthesize  # noqa: E402
from bench.timing import p50_p99_ms  # noqa: E402
from matcher.catalogue import company_from_dict  # noqa: E402
from matcher.engine import Engine  # noqa: E402


def measure_adds(engine: Engine, firms: int, compare: bool = True) -> dict[str, Any]:
    """Add ``firms`` new profiles one at a time (encoded beforehand); time each addition and
    (``compare``) after it the work an addition used to do (regroup all, restack the lexical
    matrix: a copy of it, which a million firms' index has no memory left for)."""
    fresh = [
        replace(company_from_dict(d), id=f"NEW{i:05d}")
        for i, d in enumerate(synthesize(firms, seed=4242))
    ]
    engine.prepare_companies(fresh)  # encoded into the cache, as the service does first
    add, regroup_all, stack_all = [], [], []
    for c in fresh:
        t = time.perf_counter()
        engine.add_companies([c])
        add.append(time.perf_counter() - t)
        if not compare:
            continue
        t = time.perf_counter()
        engine.corpus.regroup()
        regroup_all.append(time.perf_counter() - t)
        t = time.perf_counter()
        sp.vstack([engine.corpus.lex.matrix(), engine.corpus.lex.take([0])], format="csr")
        stack_all.append(time.perf_counter() - t)
    out = {"firms_before": len(engine.companies_) - len(fresh), "add_one_firm_now": p50_p99_ms(add)}
    if compare:
        out["removed_work_regroup_all"] = p50_p99_ms(regroup_all)
        out["removed_work_stack_lexical"] = p50_p99_ms(stack_all)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "query" / "cache")
    ap.add_argument("--firms", type=int, default=30)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_submit.json")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    engine = Engine.load(args.index, cache_dir=args.cache)
    results = {"load_s": round(time.perf_counter() - start, 1), **measure_adds(engine, args.firms)}
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
