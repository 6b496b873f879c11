"""Write the engine inputs and graded qrels for the quality runs into a work folder.

    python -m bench.quality.prepare [CORPUS_DIR] [WORK_DIR]

Outputs (all derived from the external corpora, so WORK_DIR must stay out of git):
  cn_companies.csv, en_companies.csv   id,name,description
  scenarios/{run}.jsonl                id,title,description (from the committed query files)
  qrels/{run}.csv                      scenario_id,company_id,grade (grade 0 omitted)
  manifest.json                        corpus sizes and qrels statistics
Grades: 2 = same fine class as the query (SW L2 / GICS sub-industry), 1 = a sibling under
the same parent (SW L1 / GICS industry), 0 = anything else.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:
    from bench.quality import corpus as qc
except ModuleNotFoundError:  # run as a file: python bench/quality/prepare.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import corpus as qc

logger = logging.getLogger(__name__)


def companies_path(work_dir: Path, corpus: str) -> Path:
    return work_dir / f"{corpus}_companies.csv"


def scenarios_path(work_dir: Path, run: str) -> Path:
    return work_dir / "scenarios" / f"{run}.jsonl"


def qrels_path(work_dir: Path, run: str) -> Path:
    return work_dir / "qrels" / f"{run}.csv"


def write_companies(path: Path, firms: Sequence[qc.Firm]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "name", "description"])
        writer.writerows([f.id, f.name, f.description] for f in firms)


def build_qrels(
    queries: Sequence[dict[str, str]], firms: Sequence[qc.Firm]
) -> dict[str, dict[str, int]]:
    """Grade every firm against every query; only grades 1 and 2 are kept."""
    parents = qc.label_parents(firms)
    qrels: dict[str, dict[str, int]] = {}
    for q in queries:
        label = q["industry"]
        if label not in parents:
            logger.warning("query %s: no firm labelled %s in the corpus", q["id"], label)
        judged = {f.id: g for f in firms if (g := qc.grade(f, label, parents.get(label)))}
        qrels[q["id"]] = dict(sorted(judged.items(), key=lambda kv: (-kv[1], kv[0])))
    return qrels


def write_qrels(path: Path, qrels: dict[str, dict[str, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["scenario_id", "company_id", "grade"])
        for scenario_id, judged in qrels.items():
            writer.writerows([scenario_id, cid, g] for cid, g in judged.items())


def qrels_stats(qrels: dict[str, dict[str, int]], recall_k: int = 50) -> dict[str, float]:
    """Counts per query, plus the best Recall@k any ranking could reach (large classes)."""
    n = len(qrels) or 1
    g2 = [sum(1 for g in j.values() if g == 2) for j in qrels.values()]
    g1 = [sum(1 for g in j.values() if g == 1) for j in qrels.values()]
    ceiling = sum(min(1.0, recall_k / len(j)) for j in qrels.values() if j) / n
    return {
        "queries": len(qrels),
        "queries_with_grade2": sum(1 for c in g2 if c),
        "mean_grade2": round(sum(g2) / n, 2),
        "mean_grade1": round(sum(g1) / n, 2),
        "min_grade2": min(g2, default=0),
        "max_grade2": max(g2, default=0),
        f"recall_at_{recall_k}_ceiling": round(ceiling, 4),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare(corpus_dir: Path, work_dir: Path, queries_dir: Path = qc.QUERIES_DIR) -> dict[str, Any]:
    """Write all engine inputs and qrels; return the manifest (also saved as manifest.json).

    Paths in the manifest are relative to the repo root when the files lie beside it.
    """
    corpus_dir, work_dir = Path(corpus_dir), Path(work_dir)
    firms = {name: qc.load_firms(name, corpus_dir) for name in sorted(set(qc.RUNS.values()))}
    manifest: dict[str, Any] = {
        "corpus_dir": qc.display_path(corpus_dir),
        "inputs": {name: _sha256(corpus_dir / name) for name in (qc.CN_FILE, qc.EN_FILE)},
        "corpora": {},
        "runs": {},
    }
    for name, rows in firms.items():
        path = companies_path(work_dir, name)
        write_companies(path, rows)
        manifest["corpora"][name] = {
            "companies": qc.display_path(path),
            "firms": len(rows),
            "classes": len(qc.label_counts(rows)),
        }
    for run, corpus_name in qc.RUNS.items():
        queries = qc.read_jsonl(queries_dir / f"{run}.jsonl")
        qc.write_jsonl(
            scenarios_path(work_dir, run),
            (
                {"id": q["id"], "title": q["title"], "description": q["description"]}
                for q in queries
            ),
        )
        qrels = build_qrels(queries, firms[corpus_name])
        write_qrels(qrels_path(work_dir, run), qrels)
        manifest["runs"][run] = {
            "corpus": corpus_name,
            "companies": qc.display_path(companies_path(work_dir, corpus_name)),
            "scenarios": qc.display_path(scenarios_path(work_dir, run)),
            "qrels": qc.display_path(qrels_path(work_dir, run)),
            **qrels_stats(qrels),
        }
        logger.info("%s: %s", run, manifest["runs"][run])
    (work_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus_dir", nargs="?", type=Path, default=qc.DEFAULT_CORPUS_DIR)
    parser.add_argument("work_dir", nargs="?", type=Path, default=qc.DEFAULT_WORK_DIR)
    parser.add_argument("--queries-dir", type=Path, default=qc.QUERIES_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    prepare(args.corpus_dir, args.work_dir, args.queries_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
