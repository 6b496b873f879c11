"""Time two trees' engines with ``bench/query/run.py``, alternating, and compare medians.

Each tree runs its own copy of the benchmark (``PYTHONPATH`` = the tree) in a fresh process,
``--reps`` times, alternating B A B A…, all on the same embedding cache. The first two runs of
the tree given as ``--before`` form an A/A pair that shows the noise. Prints a Markdown table of
medians (over the repetitions of each run's p50) and writes them as JSON.

    .venv/bin/python bench/parity/ab_query.py --before /path/to/old/tree --after . \\
        --profiles 10000 --reps 5 --out docs/refactor_timing.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
METRICS = {
    "query, no filter, warm": ("recruiter_query_top20", "no filter", "warm", "p50_ms"),
    "query, no filter, cold": ("recruiter_query_top20", "no filter", "cold", "p50_ms"),
    "query, city filter, warm": ("recruiter_query_top20", "one filter (city)", "warm", "p50_ms"),
    "query, two filters, cold": (
        "recruiter_query_top20",
        "two filters (city + chain)",
        "cold",
        "p50_ms",
    ),
    "free text, cold": ("recruiter_query_top20", "free text (encode the query, cold)", "p50_ms"),
    "suggestion (new profile)": ("company_suggestion", "p50_ms"),
}


def _get(d: dict[str, Any], path: tuple[str, ...]) -> float:
    for k in path:
        d = d[k]
    return float(d)  # type: ignore[arg-type]


def one_run(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [
            sys.executable, str(tree / "bench" / "query" / "run.py"),
            "--profiles", str(args.profiles), "--repeats", str(args.repeats),
            "--new-profiles", str(args.new_profiles), "--no-recall",
            "--cache", str(args.cache), "--out", str(out),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run(cmd, check=True, env=env, cwd=tree, stdout=subprocess.DEVNULL)
        data = json.loads(out.read_text("utf-8"))
    return {name: _get(data, path) for name, path in METRICS.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, default=ROOT)
    ap.add_argument("--profiles", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3, help="bench/query/run.py --repeats")
    ap.add_argument("--new-profiles", type=int, default=30)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "query" / "cache")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for rep in range(args.reps):
        for label, tree in (("before", args.before), ("after", args.after)):
            runs[label].append(one_run(tree.resolve(), args))
            print(f"rep {rep + 1}/{args.reps} {label}: {runs[label][-1]}", file=sys.stderr)
    table: dict[str, dict[str, float]] = {}
    for name in METRICS:
        b = [r[name] for r in runs["before"]]
        a = [r[name] for r in runs["after"]]
        table[name] = {
            "before_ms": round(statistics.median(b), 3),
            "after_ms": round(statistics.median(a), 3),
            "after_over_before": round(statistics.median(a) / statistics.median(b), 3),
            "aa_second_over_first_before": round(b[1] / b[0], 3) if len(b) > 1 else float("nan"),
            "before_spread": round((max(b) - min(b)) / statistics.median(b), 3),
        }
    print("| median p50 (ms) | before | after | after/before | A/A (before run 2 / run 1) |")
    print("|---|---:|---:|---:|---:|")
    for name, row in table.items():
        print(
            f"| {name} | {row['before_ms']} | {row['after_ms']} | {row['after_over_before']} | "
            f"{row['aa_second_over_first_before']} |"
        )
    if args.out:
        result = {"profiles": args.profiles, "reps": args.reps, "metrics": table, "runs": runs}
        args.out.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
