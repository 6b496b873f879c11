"""Choose engine settings by grouped cross-validation over the real query sets.

    python -m bench.quality.cv --grid bench/quality/grid.json [--corpus-dir DIR]
        [--work-dir DIR] [--runs cn,en,...] [--out docs/quality_cv.json] [--folds 3]

Every setting in the grid (a JSON object: name → ``EngineConfig`` overrides, as
``matcher rank --config`` takes them) ranks every run through the CLI, exactly as
``run_quality`` calls it (``--method fusion``; outputs are kept per setting, so a grown grid
re-ranks only what is new). Then, per fold, the setting with the best macro mean nDCG@10 over
the runs on the *other* folds' queries is chosen, and the fold's queries are scored with it:
the out-of-fold scores are what the report and ``docs/quality.md`` quote.

Folds group what must not be split: a context query's five title variants share its fold,
which is its phrasing (``cue``, ``nocue``, ``demand_first``: a whole phrasing is held out);
any other query's fold is a seeded hash of its industry code, so a class's Chinese, English
and cross-lingual twins share one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    from bench.quality import corpus as qc
    from bench.quality import prepare as prep
    from bench.quality import run_quality as rq
except ModuleNotFoundError:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import corpus as qc
    from bench.quality import prepare as prep
    from bench.quality import run_quality as rq

from matcher.evaluate import load_qrels_csv, load_run_jsonl, ndcg_at_k

logger = logging.getLogger(__name__)

PHRASING_FOLDS = ("cue", "nocue", "demand_first")
SEED = "scenario-matcher-cv-1"


def fold_of(query: Mapping[str, Any], folds: int) -> int:
    """A query's fold: its phrasing for context queries, else a seeded hash of its class."""
    phrasing = query.get("phrasing")
    if phrasing is not None:
        if phrasing not in PHRASING_FOLDS:
            raise ValueError(f"query {query['id']}: unknown phrasing {phrasing!r}")
        return PHRASING_FOLDS.index(phrasing) % folds
    digest = hashlib.sha256(f"{SEED}:{query['industry']}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % folds


def per_query_ndcg(output: Path, qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """nDCG@10 of every judged query (0 for one missing from the output)."""
    run = load_run_jsonl(output)
    return {q: ndcg_at_k(run.get(q, []), judged, rq.NDCG_K) for q, judged in qrels.items()}


def choose(
    scores: Mapping[str, Mapping[str, Mapping[str, float]]],
    queries: Sequence[str],
    runs_of: Mapping[str, str],
) -> tuple[str, float]:
    """The setting with the best macro mean (over runs) nDCG@10 on ``queries``; ties go to the
    grid's first. ``scores``: setting → run → query → nDCG."""
    best: tuple[str, float] | None = None
    by_run: dict[str, list[str]] = {}
    for q in queries:
        by_run.setdefault(runs_of[q], []).append(q)
    for name, per_run in scores.items():
        means = [sum(per_run[r][q] for q in qs) / len(qs) for r, qs in by_run.items()]
        value = sum(means) / len(means) if means else 0.0
        if best is None or value > best[1] + 1e-12:
            best = (name, value)
    assert best is not None, "an empty grid"
    return best


def cross_validate(
    scores: Mapping[str, Mapping[str, Mapping[str, float]]],
    folds_of: Mapping[str, int],
    runs_of: Mapping[str, str],
    n_folds: int,
) -> dict[str, Any]:
    """Out-of-fold nDCG@10 per query, and the setting each fold chose."""
    chosen: list[dict[str, Any]] = []
    oof: dict[str, float] = {}
    for k in range(n_folds):
        train = [q for q, f in folds_of.items() if f != k]
        test = [q for q, f in folds_of.items() if f == k]
        if not test:
            continue
        name, train_score = choose(scores, train, runs_of)
        chosen.append({"fold": k, "setting": name, "train_ndcg": round(train_score, 4)})
        for q in test:
            oof[q] = scores[name][runs_of[q]][q]
    return {"chosen": chosen, "oof": oof}


def summarise(
    values: Mapping[str, float], runs_of: Mapping[str, str], runs: Sequence[str]
) -> dict[str, Any]:
    """Mean per run, and per title variant for the context runs."""
    out: dict[str, Any] = {}
    for run in runs:
        qs = [q for q in values if runs_of[q] == run]
        if not qs:
            continue
        row: dict[str, Any] = {"ndcg_at_10": round(sum(values[q] for q in qs) / len(qs), 4)}
        variants: dict[str, list[float]] = {}
        for q in qs:
            v = qc.variant_of(q)
            if v is not None:
                variants.setdefault(v, []).append(values[q])
        if variants:
            row["variants"] = {
                v: round(sum(variants[v]) / len(variants[v]), 4)
                for v in qc.TITLE_VARIANTS
                if v in variants
            }
        out[run] = row
    return out


def load_grid(path: Path) -> dict[str, dict[str, Any]]:
    grid = json.loads(path.read_text("utf-8"))
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"{path}: a grid is a non-empty JSON object, name → settings")
    for name, settings in grid.items():
        if not isinstance(settings, dict):
            raise ValueError(f"{path}: setting {name!r} is not a JSON object")
        if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"{path}: setting name {name!r}: use letters, digits, -, _ and .")
    return grid


def rank_all(
    grid: Mapping[str, Mapping[str, Any]],
    runs: Sequence[str],
    manifest: Mapping[str, Any],
    work_dir: Path,
    python: str,
    timeout: float,
    extra: Sequence[str] = (),
) -> dict[str, dict[str, dict[str, float]]]:
    """Every setting × run through ``matcher rank``; setting → run → query → nDCG@10."""
    cache_dir = Path(qc.display_path(work_dir / "cache"))
    scores: dict[str, dict[str, dict[str, float]]] = {}
    total = len(grid) * len(runs)
    done = 0
    for name, settings in grid.items():
        text = json.dumps(settings, sort_keys=True, ensure_ascii=False)
        tag = hashlib.sha256(text.encode()).hexdigest()[:10]
        scores[name] = {}
        for run in runs:
            info = manifest["runs"][run]
            out = work_dir / "cv" / run / f"{name}-{tag}.jsonl"
            out.parent.mkdir(parents=True, exist_ok=True)
            done += 1
            if not out.exists():
                part = out.with_suffix(".part")
                cmd = rq.cli_command(
                    python,
                    rq.Method("fusion", "fusion"),
                    Path(info["companies"]),
                    Path(info["scenarios"]),
                    Path(qc.display_path(part)),
                    rq.RECALL_K,
                    cache_dir,
                    [*extra, "--config", text],
                )
                seconds, code, stderr = rq.run_cli(cmd, timeout)
                if code != 0:
                    raise RuntimeError(f"{name} / {run} failed ({code}): {stderr[-800:]}")
                part.rename(out)
                logger.info("[%d/%d] %s / %s ranked in %.0f s", done, total, name, run, seconds)
            scores[name][run] = per_query_ndcg(out, load_qrels_csv(qc.repo_path(info["qrels"])))
    return scores


def report_markdown(report: Mapping[str, Any], runs: Sequence[str]) -> str:
    lines = ["| setting | " + " | ".join(runs) + " | macro |", "|" + "---|" * (len(runs) + 2)]
    rows = [(n, s) for n, s in report["in_sample"].items()]
    rows.append(("**out-of-fold**", report["out_of_fold"]))
    for name, summary in rows:
        cells = [summary[r]["ndcg_at_10"] if r in summary else float("nan") for r in runs]
        macro = sum(cells) / len(cells) if cells else 0.0
        lines.append(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {macro:.3f} |")
    lines += ["", "folds: " + "; ".join(f"{c['fold']}→{c['setting']}" for c in report["chosen"])]
    lines += ["", "out-of-fold per title variant:", ""]
    lines.append("| run | " + " | ".join(qc.TITLE_VARIANTS) + " |")
    lines.append("|" + "---|" * (len(qc.TITLE_VARIANTS) + 1))
    for run in runs:
        variants = report["out_of_fold"].get(run, {}).get("variants")
        if variants:
            lines.append(
                f"| {run} | "
                + " | ".join(f"{variants.get(v, 0):.3f}" for v in qc.TITLE_VARIANTS)
                + " |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=Path, required=True)
    parser.add_argument("--corpus-dir", type=Path, default=qc.DEFAULT_CORPUS_DIR)
    parser.add_argument("--work-dir", type=Path, default=qc.DEFAULT_WORK_DIR)
    parser.add_argument("--runs", default=",".join(qc.RUNS))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="JSON report (default: none)")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    unknown = [r for r in runs if r not in qc.RUNS]
    if unknown:
        parser.error(f"unknown runs {unknown}; expected some of {list(qc.RUNS)}")
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    try:
        grid = load_grid(args.grid)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    manifest = prep.prepare(args.corpus_dir, args.work_dir, qc.QUERIES_DIR)
    scores = rank_all(grid, runs, manifest, args.work_dir, args.python, args.timeout)
    folds_of: dict[str, int] = {}
    runs_of: dict[str, str] = {}
    for run in runs:
        for q in _queries(qc.QUERIES_DIR / f"{run}.jsonl"):
            folds_of[q["id"]] = fold_of(q, args.folds)
            runs_of[q["id"]] = run
    first = next(iter(scores.values()))
    judged = {q for run in runs for q in first[run]}
    folds_of = {q: f for q, f in folds_of.items() if q in judged}
    cv = cross_validate(scores, folds_of, runs_of, args.folds)
    report = {
        "grid": grid,
        "runs": runs,
        "folds": args.folds,
        "fold_sizes": {k: sum(f == k for f in folds_of.values()) for k in range(args.folds)},
        "chosen": cv["chosen"],
        "chosen_on_all": choose(scores, list(folds_of), runs_of)[0],
        "out_of_fold": summarise(cv["oof"], runs_of, runs),
        "in_sample": {n: summarise(s_all, runs_of, runs) for n, s_all in _flat(scores).items()},
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(report_markdown(report, runs))
    print(f"\nchosen on all queries: {report['chosen_on_all']}")
    return 0


def _queries(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _flat(scores: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        n: {q: v for per_q in per_run.values() for q, v in per_q.items()}
        for n, per_run in scores.items()
    }


if __name__ == "__main__":
    sys.exit(main())
