"""Score ranking methods on the external labelled corpora through the ``matcher rank`` CLI.

    python -m bench.quality.run_quality [--corpus-dir DIR] [--work-dir DIR]
        [--out docs/quality_results.json]
        [--methods random,lexical,plain,plain:e5,dense:use,dense:e5,fusion]
        [--runs cn,en,xl_en_over_cn,xl_zh_over_en,context_cn,...] [--top-k 50]

Runs ``prepare`` first, then for every run x method calls, exactly as a user would:
    python -m matcher rank --companies X.csv --scenarios Q.jsonl --top-k K --output OUT.jsonl
        --method M [--encoder E] --cache-dir WORK/cache
and scores OUT.jsonl with matcher.evaluate. A method is ``NAME`` or ``NAME:ENCODER``.
For the context sets (ids ``{base}#{variant}``) it also scores each title variant alone.
Writes a JSON results file and prints markdown tables to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:
    from bench.quality import corpus as qc
    from bench.quality import prepare as prep
except ModuleNotFoundError:  # run as a file: python bench/quality/run_quality.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import corpus as qc
    from bench.quality import prepare as prep

from matcher.evaluate import evaluate_run, load_qrels_csv, load_run_jsonl

logger = logging.getLogger(__name__)

CLI_METHODS = ("fusion", "dense", "lexical", "random", "plain")
ENCODER_METHODS = ("dense", "fusion", "plain")  # methods that take ``:ENCODER``
SINGLE_METHODS = ("dense", "lexical", "plain")  # candidates for "best single method"
DEFAULT_METHODS = "random,lexical,plain,plain:e5,dense:use,dense:e5,fusion"
DEFAULT_OUT = qc.REPO_ROOT / "docs" / "quality_results.json"
NDCG_K = 10
RECALL_K = 50
METRIC_KEYS = ("ndcg_at_10", "recall_at_50", "mrr")
METRIC_LABELS = {"ndcg_at_10": "nDCG@10", "recall_at_50": "R@50", "mrr": "MRR"}


@dataclasses.dataclass(frozen=True)
class Method:
    """A ``--methods`` entry: ``dense:e5`` -> method ``dense``, encoder ``e5``."""

    spec: str
    name: str
    encoder: str | None = None

    @property
    def slug(self) -> str:
        return self.spec.replace(":", "-")


def parse_methods(text: str) -> list[Method]:
    methods = []
    for spec in (s.strip() for s in text.split(",")):
        if not spec:
            continue
        name, _, encoder = spec.partition(":")
        if name not in CLI_METHODS:
            raise ValueError(f"unknown method {name!r} in {spec!r}; expected one of {CLI_METHODS}")
        if encoder and name not in ENCODER_METHODS:
            raise ValueError(f"method {name!r} takes no encoder ({spec!r})")
        methods.append(Method(spec, name, encoder or None))
    if len({m.spec for m in methods}) != len(methods):
        raise ValueError(f"repeated method in {text!r}")
    return methods


def cli_command(
    python: str,
    method: Method,
    companies: Path,
    scenarios: Path,
    output: Path,
    top_k: int,
    cache_dir: Path,
    extra: Sequence[str] = (),
) -> list[str]:
    cmd = [
        python,
        "-m",
        "matcher",
        "rank",
        "--companies",
        str(companies),
        "--scenarios",
        str(scenarios),
        "--top-k",
        str(top_k),
        "--output",
        str(output),
        "--method",
        method.name,
    ]
    if method.encoder:
        cmd += ["--encoder", method.encoder]
    return [*cmd, "--cache-dir", str(cache_dir), *extra]


def run_cli(cmd: Sequence[str], timeout: float) -> tuple[float, int, str]:
    """Run one CLI call from the repo root; return (seconds, exit code, stderr tail)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=qc.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, -1, f"timed out after {timeout:.0f} s"
    return time.perf_counter() - start, proc.returncode, (proc.stderr or "")[-2000:]


def score_output(output: Path, qrels_file: Path) -> dict[str, Any]:
    """Default metrics (relevant = grade >= 1) and strict ones (grade 2 only)."""
    run = load_run_jsonl(output)
    qrels = load_qrels_csv(qrels_file)
    unknown = sorted(set(run) - set(qrels))
    if unknown:
        logger.warning(
            "%s: %d scenario ids not in the qrels, e.g. %s", output, len(unknown), unknown[0]
        )
    default = evaluate_run(run, qrels, NDCG_K, RECALL_K)
    strict = evaluate_run(run, qrels, NDCG_K, RECALL_K, min_grade=2)
    return {
        "metrics": dataclasses.asdict(default),
        "strict": dataclasses.asdict(strict),
        "variants": variant_metrics(run, qrels),
    }


def variant_metrics(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]]
) -> dict[str, dict[str, Any]] | None:
    """Default metrics per title variant (ids ``{base}#{variant}``); None when there are none."""
    by_variant: dict[str, dict[str, dict[str, int]]] = {}
    for qid, judged in qrels.items():
        variant = qc.variant_of(qid)
        if variant is not None:
            by_variant.setdefault(variant, {})[qid] = judged
    if not by_variant:
        return None
    out = {}
    for variant in (v for v in qc.TITLE_VARIANTS if v in by_variant):
        sub = by_variant[variant]
        scored = evaluate_run({q: r for q, r in run.items() if q in sub}, sub, NDCG_K, RECALL_K)
        out[variant] = dataclasses.asdict(scored)
    return out


def ratio_rows(
    results: Sequence[dict[str, Any]], runs: Sequence[str], methods: Sequence[Method]
) -> list[dict[str, Any]]:
    """For each fusion method: its metric / the best single method's, per run and metric."""
    by_key = {(r["run"], r["method"]): r for r in results if r.get("metrics")}
    singles = [m.spec for m in methods if m.name in SINGLE_METHODS]
    rows = []
    for fusion in (m.spec for m in methods if m.name == "fusion"):
        row: dict[str, Any] = {"fusion": fusion, "runs": {}}
        for run in runs:
            cells: dict[str, Any] = {}
            for key in METRIC_KEYS:
                fused = by_key.get((run, fusion))
                scored = [
                    (by_key[(run, s)]["metrics"][key], s) for s in singles if (run, s) in by_key
                ]
                if fused is None or not scored:
                    cells[key] = None
                    continue
                best, best_method = max(scored)
                value = fused["metrics"][key]
                cells[key] = {
                    "ratio": round(value / best, 4) if best > 0 else None,
                    "best_single": best_method,
                }
            row["runs"][run] = cells
        rows.append(row)
    return rows


def markdown_table(
    results: Sequence[dict[str, Any]],
    runs: Sequence[str],
    methods: Sequence[Method],
    ratios: Sequence[dict[str, Any]],
) -> str:
    by_key = {(r["run"], r["method"]): r for r in results}
    header = ["method"] + [f"{run} {METRIC_LABELS[k]}" for run in runs for k in METRIC_KEYS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for m in methods:
        cells = [m.spec]
        for run in runs:
            r = by_key.get((run, m.spec), {})
            for key in METRIC_KEYS:
                cells.append(f"{r['metrics'][key]:.3f}" if r.get("metrics") else "error")
        lines.append("| " + " | ".join(cells) + " |")
    for row in ratios:
        cells = [f"{row['fusion']} / best single"]
        for run in runs:
            for key in METRIC_KEYS:
                cell = row["runs"][run][key]
                cells.append(
                    f"{cell['ratio']:.2f}" if cell and cell["ratio"] is not None else "n/a"
                )
        lines.append("| " + " | ".join(cells) + " |")
    lines += variant_table(by_key, runs, methods)
    lines += [
        "",
        "| method | " + " | ".join(f"{run} seconds" for run in runs) + " |",
        "|" + "---|" * (len(runs) + 1),
    ]
    for m in methods:
        secs = [by_key.get((run, m.spec), {}).get("seconds") for run in runs]
        lines.append(
            f"| {m.spec} | " + " | ".join("n/a" if s is None else f"{s:.1f}" for s in secs) + " |"
        )
    return "\n".join(lines)


def variant_table(
    by_key: dict[tuple[str, str], dict[str, Any]], runs: Sequence[str], methods: Sequence[Method]
) -> list[str]:
    """nDCG@10 per title variant, one row per (context run, method); empty without any."""
    rows = []
    for run in runs:
        for m in methods:
            variants = by_key.get((run, m.spec), {}).get("variants")
            if not variants and run not in (*qc.CONTEXT_RUNS, *qc.TWIN_RUNS):
                continue
            cells = [
                f"{variants[v]['ndcg_at_10']:.3f}" if variants and v in variants else "error"
                for v in qc.TITLE_VARIANTS
            ]
            rows.append(f"| {run} | {m.spec} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    header = "| run | method | " + " | ".join(f"title {v}" for v in qc.TITLE_VARIANTS) + " |"
    rule = "|" + "---|" * (len(qc.TITLE_VARIANTS) + 2)
    return ["", f"nDCG@{NDCG_K} per title variant:", "", header, rule, *rows]


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=qc.REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def run_all(
    corpus_dir: Path,
    work_dir: Path,
    methods: Sequence[Method],
    runs: Sequence[str],
    top_k: int,
    python: str = sys.executable,
    timeout: float = 3600.0,
    queries_dir: Path = qc.QUERIES_DIR,
    extra_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Prepare inputs, run every run x method through the CLI and score it."""
    if top_k < RECALL_K:
        logger.warning("--top-k %d is below the Recall@%d cut-off", top_k, RECALL_K)
    manifest = prep.prepare(corpus_dir, work_dir, queries_dir)
    cache_dir = qc.display_path(work_dir / "cache")
    results: list[dict[str, Any]] = []
    for run in runs:
        info = manifest["runs"][run]
        for m in methods:
            out = work_dir / "runs" / run / f"{m.slug}.jsonl"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.unlink(missing_ok=True)
            # The CLI runs from the repo root, so repo-relative paths work and keep the
            # results file free of machine-specific paths.
            cmd = cli_command(
                python,
                m,
                Path(info["companies"]),
                Path(info["scenarios"]),
                Path(qc.display_path(out)),
                top_k,
                Path(cache_dir),
                extra_args,
            )
            logger.info("%s / %s: %s", run, m.spec, " ".join(cmd))
            seconds, code, stderr = run_cli(cmd, timeout)
            record: dict[str, Any] = {
                "run": run,
                "method": m.spec,
                "command": ["python", *cmd[1:]],
                "seconds": round(seconds, 2),
                "returncode": code,
                "error": None,
                "metrics": None,
                "strict": None,
                "variants": None,
            }
            if code != 0 or not out.exists():
                record["error"] = stderr.strip() or f"exit code {code}, no output file"
                logger.error("%s / %s failed: %s", run, m.spec, record["error"][-500:])
            else:
                try:
                    record.update(score_output(out, qc.repo_path(info["qrels"])))
                except ValueError as exc:
                    record["error"] = str(exc)
                    logger.error("%s / %s: cannot score output: %s", run, m.spec, exc)
            results.append(record)
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "top_k": top_k,
        "ndcg_k": NDCG_K,
        "recall_k": RECALL_K,
        "cli_args": list(extra_args),
        "relevance": "default metrics: grade >= 1; 'strict': grade 2 only",
        "manifest": manifest,
        "results": results,
        "ratios": ratio_rows(results, runs, methods),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-dir", type=Path, default=qc.DEFAULT_CORPUS_DIR)
    parser.add_argument("--work-dir", type=Path, default=qc.DEFAULT_WORK_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--methods", default=DEFAULT_METHODS)
    parser.add_argument("--runs", default=",".join(qc.RUNS))
    parser.add_argument(
        "--queries-dir",
        type=Path,
        default=qc.QUERIES_DIR,
        help="frozen query files (default: the committed ones)",
    )
    parser.add_argument("--top-k", type=int, default=RECALL_K)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per CLI call")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the CLI")
    parser.add_argument(
        "--cli-args", default="", help="extra arguments for every CLI call, e.g. '--exact'"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        methods = parse_methods(args.methods)
    except ValueError as exc:
        parser.error(str(exc))
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    unknown = [r for r in runs if r not in qc.RUNS]
    if unknown:
        parser.error(f"unknown runs {unknown}; expected some of {list(qc.RUNS)}")
    report = run_all(
        args.corpus_dir,
        args.work_dir,
        methods,
        runs,
        args.top_k,
        args.python,
        args.timeout,
        args.queries_dir,
        shlex.split(args.cli_args),
    )
    report["command"] = ["python", "-m", "bench.quality.run_quality", *sys.argv[1:]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", args.out)
    print(markdown_table(report["results"], runs, methods, report["ratios"]))
    return 1 if any(r["error"] for r in report["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
